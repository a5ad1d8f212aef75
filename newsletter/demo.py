"""``newsletter demo``: the whole pipeline on two recorded days, offline.

The same fetch and build code runs as for a real day; its HTTP goes through a
replay adapter serving recorded bodies (``demo_data/``, see its SOURCES.md),
its clock is pinned to just after each recording and no real keys are used.

- 2021-06-16: a real Hot Papers day, its papers and tweets (real counts and
  embeds) replayed in the arXiv API and X API formats: a full issue.
- 2026-07-31: real arXiv API and Hugging Face daily-papers answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from newsletter import config as config_mod
from newsletter.errors import NewsletterError
from newsletter.replay import Recording, replay_session

DATA = Path(__file__).parent / "demo_data"
X_DAY = date(2021, 6, 16)
X_NOW = datetime(2021, 6, 17, 7, 7, 8, tzinfo=timezone.utc)  # when the original post was made
HF_DAY = date(2026, 7, 31)
HF_NOW = datetime(2026, 8, 2, 22, 7, 14, tzinfo=timezone.utc)  # the API recording's <updated>
DAYS = (X_DAY, HF_DAY)
DEMO_MARK = "# The configuration `newsletter demo` used"  # how the demo knows its own folder

BASE = {
    "newsletter": {"title": "Hot Papers", "categories": ["cs", "eess", "math", "physics", "stat"],
                   "site_url": "https://example.org"},
    "sources": {"window_hours": 48, "hackernews": {"enabled": False}, "bluesky": {"enabled": False},
                "reddit": {"enabled": False}},
    "output": {"posts_dir": "content/posts", "feeds_dir": "feeds", "email_dir": "email", "site_dir": "site"},
    "store": {"path": "newsletter.db"},
}
# what each recorded day fetches: the sources its recording has
PER_DAY: dict[date, dict[str, Any]] = {
    X_DAY: {"sources": {"huggingface": {"enabled": False}}},
    HF_DAY: {"arxiv": {"page_size": 25, "max_results": 25}, "sources": {"window_hours": 24, "x": {"enabled": False}}},
}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def demo_config(folder: Path, day: date | None = None) -> config_mod.Config:
    data = _merge(BASE, PER_DAY[day]) if day else BASE
    return config_mod.from_dict(data, base_dir=folder)


def recordings(cfg: config_mod.Config) -> list[Recording]:
    x = cfg.source("x")
    rss = cfg.arxiv.rss_url.rstrip("/") + "/" + "+".join(cfg.categories)
    recs = [
        Recording(rss, DATA / "arxiv-rss-2026-08-01-weekend.xml", content_type="application/rss+xml"),
        Recording(cfg.source("huggingface").api_url.rstrip("/") + "/daily_papers",
                  DATA / "hf-daily-papers-2026-07-31.json", params={"date": "2026-07-31"},
                  content_type="application/json"),
        Recording(x.api_url.rstrip("/") + "/tweets/search/recent", DATA / "x-search-2021-06-16.json",
                  content_type="application/json"),
    ]
    if cfg.source("x").enabled:
        recs.append(Recording(cfg.arxiv.api_url, DATA / "arxiv-api-2021-06-16.xml", content_type="application/atom+xml"))
    else:
        recs.append(Recording(cfg.arxiv.api_url, DATA / "arxiv-api-2026-07-30.xml", content_type="application/atom+xml"))
    embeds = json.loads((DATA / "x-oembed-2021-06-16.json").read_text(encoding="utf-8"))
    recs += [Recording(x.oembed_url, None, params={"url": url}, content_type="application/json",
                       body=json.dumps({"html": html, "type": "rich", "provider_name": "Twitter"}).encode())
             for url, html in embeds.items()]
    return recs


def write_demo_toml(folder: Path) -> Path:
    """Leave the demo's config beside its outputs so ``--config demo/newsletter.toml``
    can rebuild, rank or preview the demo days."""
    lines = [
        DEMO_MARK + " (its recorded days are in newsletter.db).",
        "[newsletter]",
        'title = "Hot Papers"',
        'categories = ["cs", "eess", "math", "physics", "stat"]',
        'site_url = "https://example.org"',
        "[sources.hackernews]", "enabled = false",
        "[sources.bluesky]", "enabled = false",
        "[sources.reddit]", "enabled = false",
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
    config = folder / "newsletter.toml"
    if config.is_file() and config.read_text(encoding="utf-8", errors="replace").startswith(DEMO_MARK):
        return  # the demo's own folder: running the demo again is fine
    taken = [p.name for p in (config, folder / "newsletter.db") if p.exists()]
    if taken and not force:
        raise NewsletterError(f"{folder} already holds {' and '.join(taken)}; the demo would overwrite them. "
                              "Use another --dir (the default is ./demo), or --force")


def run(folder: Path, *, force: bool = False) -> DemoSummary:
    """Fetch and build the recorded days in ``folder``, offline."""
    from newsletter.seams import Seams
    from newsletter.build import build_day
    from newsletter.fetch import fetch_day
    from newsletter.store import Archive

    check_folder(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    write_demo_toml(folder)
    base = demo_config(folder.resolve())
    lines, files = [], []
    with Archive(base.store_path) as archive:
        for day, now in ((X_DAY, X_NOW), (HF_DAY, HF_NOW)):
            cfg = demo_config(folder.resolve(), day)
            seams = Seams(now=_clock(now), sleep=lambda s: None, env={"X_BEARER_TOKEN": "demo-replay"},
                          session_factory=session_factory(cfg))
            fetched = fetch_day(cfg, day, archive, seams)
            lines.append(fetched.line())
        for day in DAYS:
            files += build_day(base, day, archive).files
    site = base.site_dir / "index.html"
    config_path = folder / "newsletter.toml"
    return DemoSummary(files, f"Demo: {'; '.join(lines)}. {len(files)} files written under {folder}/; "
                              f"look at the site with: newsletter --config {config_path} preview "
                              f"(or open {site})")


def _clock(now: datetime) -> Any:
    return lambda: now
