"""``newsletter demo``: the whole pipeline on two recorded days, offline.

The same fetch and build code runs as for a real day; its HTTP goes through a
replay adapter serving recorded bodies (``demo_data/``, see its SOURCES.md),
its clock is pinned to just after each recording and no real keys are used.

Which days, sources, settings and recorded bodies: ``demo_data/days.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter import config as config_mod
from newsletter import mailing
from newsletter.errors import NewsletterError
from newsletter.replay import Recording, replay_session
from newsletter.sources import REGISTRY

if TYPE_CHECKING:
    import requests

    from newsletter.enrich import EnrichSummary
    from newsletter.store import Archive

DATA = Path(__file__).parent / "demo_data"
DEMO_MARK = "# The configuration `newsletter demo` used"  # how the demo knows its own folder

BASE: dict[str, Any] = {
    "newsletter": {"title": "Hot Papers", "categories": ["cs", "eess", "math", "physics", "stat"],
                   "site_url": "https://example.org"},
    "output": {"posts_dir": "content/posts", "feeds_dir": "feeds", "email_dir": "email", "site_dir": "site"},
    "store": {"path": "newsletter.db"},
}


@dataclass(frozen=True)
class DemoDay:
    """One recorded day (``demo_data/days.json``): its clock, the sources its
    recordings hold, its own settings and recorded answers."""

    day: date
    now: datetime
    sources: tuple[str, ...]
    config: dict[str, Any]
    env: dict[str, str]
    recordings: tuple[dict[str, Any], ...]
    weekly: bool = False  # also a Hot Papers of the Week from this day


def demo_days() -> list[DemoDay]:
    data = json.loads((DATA / "days.json").read_text(encoding="utf-8"))
    return [DemoDay(date.fromisoformat(d["day"]), datetime.fromisoformat(d["now"]), tuple(d["sources"]), d["config"],
                    d["env"], tuple(d["recordings"]), bool(d.get("weekly"))) for d in data["days"]]


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _switches(enabled: Iterable[str]) -> dict[str, Any]:
    on = set(enabled)
    return {"sources": {name: {"enabled": name in on} for name in REGISTRY}}


def demo_config(folder: Path, day: DemoDay | None = None) -> config_mod.Config:
    """The demo's settings; for one recorded day, only the sources it recorded are on."""
    if day is None:
        data = _merge(BASE, _switches(s for d in demo_days() for s in d.sources))
    else:
        data = _merge(_merge(BASE, _switches(day.sources)), day.config)
    return config_mod.from_dict(data, base_dir=folder)


def _endpoint(cfg: config_mod.Config, path: str) -> str:
    """A configured URL by its settings path: "arxiv.api_url", "sources.NAME.api_url"."""
    parts = path.split(".")
    section: Any = cfg.source(parts[1]) if parts[0] == "sources" else getattr(cfg, parts[0])
    return str(getattr(section, parts[-1]))


def recordings(cfg: config_mod.Config, day: DemoDay) -> list[Recording]:
    recs = []
    for r in day.recordings:
        url = _endpoint(cfg, r["endpoint"])
        if "oembed" in r:
            embeds = json.loads((DATA / r["oembed"]).read_text(encoding="utf-8"))
            recs += [Recording(url, None, params={"url": u}, content_type="application/json",
                               body=json.dumps({"html": html, "type": "rich", "provider_name": r["provider"]}).encode())
                     for u, html in embeds.items()]
            continue
        path = r.get("path", "").replace("{categories}", "+".join(cfg.categories))
        recs.append(Recording(url.rstrip("/") + path if path else url, DATA / r["file"], params=r.get("params", {}),
                              content_type=r["type"]))
    return recs


def write_demo_toml(folder: Path) -> Path:
    """Leave the demo's config beside its outputs so ``--config demo/newsletter.toml``
    can rebuild, rank or preview the demo days."""
    recorded = {s for d in demo_days() for s in d.sources}
    lines = [
        DEMO_MARK + " (its recorded days are in newsletter.db).",
        "[newsletter]",
        'title = "Hot Papers"',
        'categories = ["cs", "eess", "math", "physics", "stat"]',
        'site_url = "https://example.org"',
    ]
    for name in REGISTRY:
        if name not in recorded:
            lines += [f"[sources.{name}]", "enabled = false"]
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines + [""]), encoding="utf-8")
    return path


def session_factory(cfg: config_mod.Config, day: DemoDay) -> Callable[[], requests.Session]:
    recs = recordings(cfg, day)
    return lambda: replay_session(recs)


@dataclass
class DemoSummary:
    files: list[Path]
    line: str
    next: str  # the command to try next


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
    """Fetch and build the recorded days in ``folder``, offline, and the
    weekly issue of the day marked ``weekly``."""
    from newsletter.build import build_day
    from newsletter.fetch import fetch_day
    from newsletter.seams import Seams
    from newsletter.store import Archive
    from newsletter.weekly import build_week

    check_folder(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    write_demo_toml(folder)
    base = demo_config(folder.resolve())
    lines, files = [], []
    with Archive(base.store_path) as archive:
        days = demo_days()
        for d in days:
            cfg = demo_config(folder.resolve(), d)
            seams = Seams(now=_clock(d.now), sleep=lambda s: None, env=d.env, session_factory=session_factory(cfg, d))
            line = fetch_day(cfg, d.day, archive, seams).line()
            figures = enrich_demo_day(cfg, d, archive).figures.have
            lines.append(f"{line}, {figures} figures (stand-ins)" if figures else line)
        for d in days:
            files += build_day(base, d.day, archive).files
        for d in days:
            if d.weekly:  # the week's other days were not recorded: its issue ranks this day's papers
                week = mailing.week_key(d.day)
                archive.save_week(week, d.now, [f"The demo recorded one day of this week ({d.day})."])
                files += build_week(base, d.day, archive).files
                lines.append(f"{week}: a weekly issue")
    config_path = folder / "newsletter.toml"
    return DemoSummary(files, f"Demo: {'; '.join(lines)}. {len(files)} files written under {folder}/ "
                              "(posts in content/, feeds/, email/, the website in site/)",
                       f"newsletter --config {config_path} preview")


def enrich_demo_day(cfg: config_mod.Config, d: DemoDay, archive: Archive) -> EnrichSummary:
    """The enrich stage on stand-in PDFs (``enrich/standin.py``): arXiv's HTML
    has no recording (404), so each figure is drawn from its "PDF"."""
    from newsletter.enrich import enrich_day
    from newsletter.enrich.standin import standin_pdf
    from newsletter.issues import ranked_papers
    from newsletter.seams import Seams

    pdfs = [Recording(f"{cfg.arxiv.pdf_url.rstrip('/')}/{r.paper.arxiv_id}", None, content_type="application/pdf",
                      body=standin_pdf(r.paper)) for r in ranked_papers(cfg, archive, d.day)]
    seams = Seams(now=_clock(d.now), sleep=lambda s: None, env=d.env, session_factory=lambda: replay_session(pdfs))
    return enrich_day(cfg, d.day, archive, seams)


def _clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now
