"""A real issue for scripts: a Hot Papers post from tests/fixtures rebuilt
through a throw-away archive (see tests/hotpapers.py)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import hotpapers  # noqa: E402

from newsletter import config  # noqa: E402
from newsletter.issues import load_issue  # noqa: E402
from newsletter.store import Archive  # noqa: E402


def real_issue(day: str = "2021-06-16", paper_count: int = 500):
    folder = Path(tempfile.mkdtemp())
    cfg = config.from_dict({}, base_dir=folder)
    parsed = hotpapers.parse((ROOT / "tests" / "fixtures" / "hotpapers" / f"{day}---Hot-Papers.md").read_text())
    with Archive(cfg.store_path) as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, paper_count)
        return load_issue(cfg, a, parsed.day), cfg
