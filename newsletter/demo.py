"""``newsletter demo``: the whole pipeline on a recorded day, offline.

The same fetch and build code runs as for a real day; its HTTP goes through a
replay adapter serving real recorded bodies (``demo_data/``), its clock is
pinned to just after the recording and no keys are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from newsletter import config as config_mod
from newsletter.errors import NewsletterError
from newsletter.replay import Recording, replay_session

DATA = Path(__file__).parent / "demo_data"
DAY = date(2026, 7, 31)
NOW = datetime(2026, 8, 2, 22, 7, 14, tzinfo=timezone.utc)  # the API recording's <updated>

DEMO_CONFIG = {
    "newsletter": {"title": "Hot Papers", "categories": ["cs.AI", "cs.LG", "cs.CL"],
                   "site_url": "https://example.org"},
    "arxiv": {"page_size": 25, "max_results": 25},
    "sources": {"window_hours": 24, "hackernews": {"enabled": False}, "bluesky": {"enabled": False}},
    "output": {"posts_dir": "content/posts", "feeds_dir": "feeds", "email_dir": "email"},
    "store": {"path": "newsletter.db"},
}


def recordings(cfg: config_mod.Config) -> list[Recording]:
    rss = cfg.arxiv.rss_url.rstrip("/") + "/" + "+".join(cfg.categories)
    return [
        Recording(rss, DATA / "arxiv-rss-2026-08-01-weekend.xml", content_type="application/rss+xml"),
        Recording(cfg.arxiv.api_url, DATA / "arxiv-api-2026-07-30.xml", content_type="application/atom+xml"),
        Recording(cfg.source("huggingface").api_url.rstrip("/") + "/daily_papers",
                  DATA / "hf-daily-papers-2026-07-31.json", params={"date": "2026-07-31"},
                  content_type="application/json"),
    ]


def demo_config(folder: Path) -> config_mod.Config:
    return config_mod.from_dict(DEMO_CONFIG, base_dir=folder)


def write_demo_toml(folder: Path) -> Path:
    """Leave the demo's config beside its outputs so ``--config demo/newsletter.toml``
    can rebuild or rank the demo day."""
    lines = [
        "# The configuration `newsletter demo` used.",
        "[newsletter]",
        'title = "Hot Papers"',
        'categories = ["cs.AI", "cs.LG", "cs.CL"]',
        "[arxiv]",
        "page_size = 25",
        "max_results = 25",
        "[sources]",
        "window_hours = 24",
        "[sources.hackernews]",
        "enabled = false",
        "[sources.bluesky]",
        "enabled = false",
        "",
    ]
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def session_factory(cfg: config_mod.Config) -> Any:
    recs = recordings(cfg)
    return lambda: replay_session(recs)


@dataclass
class DemoSummary:
    files: list[Path]
    line: str


def check_folder(folder: Path, force: bool) -> None:
    """The demo writes a config and an archive: never over a real project's."""
    if folder.exists() and not folder.is_dir():
        raise NewsletterError(f"{folder} is a file; give the demo a folder with --dir")
    taken = [p.name for p in (folder / "newsletter.toml", folder / "newsletter.db") if p.exists()]
    if taken and not force:
        raise NewsletterError(f"{folder} already holds {' and '.join(taken)}; the demo would overwrite them. "
                              "Use another --dir (the default is ./demo), or --force")


def run(folder: Path, *, force: bool = False) -> DemoSummary:
    """Fetch and build the recorded day in ``folder``, offline."""
    from newsletter.pipeline import Seams, build_day, fetch_day
    from newsletter.store import Archive

    check_folder(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = demo_config(folder.resolve())
    write_demo_toml(folder)
    seams = Seams(now=lambda: NOW, sleep=lambda s: None, env={}, session_factory=session_factory(cfg))
    with Archive(cfg.store_path) as archive:
        fetched = fetch_day(cfg, DAY, archive, seams)
        built = build_day(cfg, DAY, archive)
    return DemoSummary(built.files, f"Demo {fetched.line()}; {len(built.files)} files written under {folder}/")
