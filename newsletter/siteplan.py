"""Which website files a build writes, and their bytes. A first build (or new
templates or settings) renders everything; after that a new day renders its
own page, its neighbours', its month, its categories and the shared lists.
Nothing is written here: the build writes the plan."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter import parallel
from newsletter.config import Config
from newsletter.issues import IssueCache
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.models import Issue, Post
    from newsletter.render.site import Appearance, IssueEntry, PaperEntry, SiteRenderer

    Hits = dict[str, list[tuple[IssueEntry, PaperEntry]]]
    PageJob = tuple[date, IssueEntry | None, IssueEntry | None]

SITE_FINGERPRINT = "site_fingerprint"


def templates_dir(cfg: Config) -> str | None:
    """The operator's template folder, when set (it overrides the bundled templates)."""
    return str(cfg.templates_dir) if cfg.templates_dir else None


@dataclass
class SitePlan:
    files: dict[Path, bytes]
    fingerprint: str

    def add_feeds(self, cfg: Config, feeds: dict[str, bytes]) -> None:
        """Feeds are published on the site too; category feeds also go to ``feeds_dir``."""
        self.files.update({cfg.site_dir / "feeds" / name: data for name, data in feeds.items()})
        self.files.update({cfg.feeds_dir / name: data for name, data in feeds.items() if name.startswith("category/")})


@dataclass
class SitePrep:
    """What ``prepare_site`` decides before rendering: whether everything is
    rendered, the issues listed, each category's hits and which categories'
    pages and feeds change."""

    renderer: SiteRenderer
    fingerprint: str
    full: bool
    entries: list[IssueEntry]
    hits: Hits
    terms: list[str]

    def category_items(self) -> list[tuple[str, list[tuple[IssueEntry, PaperEntry]]]]:
        return [(t, self.hits[t]) for t in self.terms]


def _fingerprint(cfg: Config, settings: object) -> str:
    """What, when it changes, makes every page change: the settings, the
    templates, the version. A different one means a full render."""
    from newsletter import __version__
    from newsletter.render.templates import bundled_dir

    h = hashlib.sha256(repr((settings, cfg.feeds_base_url, __version__)).encode())
    for folder in [bundled_dir()] + ([cfg.templates_dir] if cfg.templates_dir else []):
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def prepare_site(cfg: Config, archive: Archive, cache: IssueCache, changed: set[date], *, full: bool = False
                 ) -> SitePrep:
    """Decide what the site's render covers; stores the changed days' entries."""
    from newsletter.render.site import IssueEntry, SiteRenderer, SiteSettings, category_hits, category_path, entry_of

    settings = SiteSettings.from_config(cfg)
    fingerprint = _fingerprint(cfg, settings)
    site = cfg.site_dir
    full = full or archive.get_meta(SITE_FINGERPRINT) != fingerprint or not (site / "index.html").exists()
    stored = archive.site_entries()
    before = {d: IssueEntry.from_json(stored[d]) for d in changed if d in stored}
    # a full render (new settings, templates or version) renders every issue
    # anyway, and refreshes every stored entry: how a title is shown may have changed
    fresh = {d: entry_of(cache.get(d)).to_json() for d in archive.issue_days()
             if full or d not in stored or d in changed}
    archive.save_site_entries(fresh)
    stored.update(fresh)
    entries = [e for e in (IssueEntry.from_json(stored[d]) for d in sorted(stored, reverse=True)) if e.papers]
    hits = category_hits(entries)
    touched = {c for e in [*before.values(), *(IssueEntry.from_json(stored[d]) for d in changed if d in stored)]
               for p in e.papers for c in p.categories}
    terms = [t for t in hits if full or t in touched or not (site / category_path(t)).exists()]
    return SitePrep(SiteRenderer(settings, templates_dir(cfg)), fingerprint, full, entries, hits, terms)


def plan_site(cfg: Config, archive: Archive, cache: IssueCache, changed: set[date], *,
              prep: SitePrep | None = None, built_weeks: tuple[str, ...] = ()) -> SitePlan:
    """The website's files that ``changed`` days make different. With
    ``prep`` (made earlier by the caller, who renders its category feeds and
    adds them with ``SitePlan.add_feeds``) no feed is rendered here; without
    it, the category feeds render on the other core meanwhile."""
    own_prep = prep is None
    prep = prep or prepare_site(cfg, archive, cache, changed)
    items = prep.category_items() if own_prep else []
    category_feeds = parallel.in_background(lambda: category_feed_files(cfg, items)) if items else parallel.done({})
    try:
        out = _site_pages(prep, cfg, archive, cache, changed, built_weeks)
    except BaseException:
        category_feeds.abandon()
        raise
    plan = SitePlan({cfg.site_dir / path: data for path, data in out.items()}, prep.fingerprint)
    plan.add_feeds(cfg, category_feeds.result())
    return plan


def _site_pages(prep: SitePrep, cfg: Config, archive: Archive, cache: IssueCache, changed: set[date],
                built_weeks: tuple[str, ...]) -> dict[str, bytes]:
    """The pages ``plan_site`` decided on (path -> bytes)."""
    from newsletter.render.icons import icon_files
    from newsletter.render.site import STATIC, WEEK_ENTRY, appearances

    r, site, entries = prep.renderer, cfg.site_dir, prep.entries
    jobs = _page_jobs(prep, site, cache, changed)
    posts = {d: posts_by_paper(archive, d) for d, _, _ in jobs}
    cards = {d for d, _, _ in jobs if d in changed or not (site / "card" / f"{d.isoformat()}.png").exists()}
    where = appearances(r.s.title, entries, archive.meta_with_prefix(WEEK_ENTRY))
    out = issue_pages(r, cache, jobs, posts, where, cards)
    out.update(media_files(archive, [cache.issues[d] for d, _, _ in jobs]))
    weeks = [w for w in archive.weeks() if (site / "weekly" / w / "index.html").exists() or w in built_weeks]
    out["index.html"] = r.index(cache.get(entries[0].day) if entries else None, entries, weeks)
    out["archive/index.html"] = r.archive(entries)
    out.update(_month_pages(prep, site, changed))
    out.update(_category_pages(prep, site, changed))
    out["category/index.html"] = r.categories(prep.hits)
    out["subscribe/index.html"] = r.subscribe()
    out["404.html"] = r.not_found()
    out["sitemap.xml"] = r.sitemap(entries, prep.hits, weeks)
    out["robots.txt"] = r.robots()
    out["search/index.html"] = r.search()
    for name in STATIC:
        out[name] = r.static(name)
    if prep.full or not (site / "favicon.ico").exists():  # drawn (0.08 s): only when the site is made afresh
        out.update(icon_files(r.s.title, r.s.description))
    return out


def _page_jobs(prep: SitePrep, site: Path, cache: IssueCache, changed: set[date]) -> list[PageJob]:
    """The issue pages to render (changed days and their neighbours, whose
    previous/next links change), each with its neighbours' entries; their
    issues are loaded here, before any fork."""
    entries = prep.entries
    days = [e.day for e in entries]
    pages = set(days) if prep.full else {d for d in days if d in changed or not (site / entries[days.index(d)].slug)
                                         .is_dir()}
    for d in list(pages):
        i = days.index(d)
        pages.update(days[max(0, i - 1): i + 2])
    jobs: list[PageJob] = []
    for d in sorted(pages):
        i = days.index(d)
        cache.get(d)
        jobs.append((d, entries[i + 1] if i + 1 < len(entries) else None, entries[i - 1] if i > 0 else None))
    return jobs


def media_files(archive: Archive, issues: Iterable[Issue]) -> dict[str, bytes]:
    """The figures the rendered issues show, as the enrich stage stored them."""
    from newsletter.enrich.store import MediaStore

    return MediaStore(archive).figure_files(f for issue in issues for f in issue.figures.values())


def posts_by_paper(archive: Archive, day: date) -> dict[str, list[Post]]:
    """Every archived post on a day's papers, by paper (for the charts)."""
    out: dict[str, list[Post]] = {}
    for post in archive.day_posts(day):
        for arxiv_id in post.arxiv_ids:
            out.setdefault(arxiv_id, []).append(post)
    return out


def issue_pages(r: SiteRenderer, cache: IssueCache, jobs: list[PageJob], posts: dict[date, dict[str, list[Post]]],
                where: dict[str, list[Appearance]], cards: set[date]) -> dict[str, bytes]:
    """Issue pages, their papers' pages and (for ``cards``) their social
    cards; a first build of a large archive renders them on every core."""
    def render(chunk: list[PageJob]) -> list[tuple[str, bytes]]:
        out = []
        for d, prev, next_ in chunk:
            issue, day_posts = cache.issues[d], posts[d]
            out.append(r.issue_page(issue, prev, next_, day_posts))
            if d in cards:
                out.append(r.social_card(issue))
            out += [r.paper_page(issue, rp, where.get(rp.paper.arxiv_id, []), day_posts.get(rp.paper.arxiv_id, []))
                    for rp in issue.papers]
        return out

    return dict(parallel.map_forked(render, jobs))


def _month_pages(prep: SitePrep, site: Path, changed: set[date]) -> dict[str, bytes]:
    from newsletter.render.site import month_key, months

    out = {}
    for key, month_entries in months(prep.entries).items():
        if prep.full or any(month_key(d) == key for d in changed) or not (site / "archive" / key).is_dir():
            path, data = prep.renderer.month(key, month_entries)
            out[path] = data
    return out


def _category_pages(prep: SitePrep, site: Path, changed: set[date]) -> dict[str, bytes]:
    from newsletter.render.site import by_year, category_path

    out = {}
    changed_years = {d.year for d in changed}
    for term in prep.terms:
        path, data = prep.renderer.category(term, prep.hits[term])
        out[path] = data
        for year, year_hits in by_year(prep.hits[term]).items():
            year_page = site / category_path(term).replace("index.html", f"{year}/index.html")
            if prep.full or year in changed_years or not year_page.exists():
                path, data = prep.renderer.category_year(term, year, year_hits)
                out[path] = data
    return out


def category_feed_files(cfg: Config, items: list[tuple[str, list[tuple[IssueEntry, PaperEntry]]]]
                        ) -> dict[str, bytes]:
    """Each listed category's Atom/RSS feeds, by path under ``feeds/``."""
    if not items:
        return {}
    from newsletter.render.feeds import FeedSettings, render_category_feeds

    fs = FeedSettings.from_config(cfg)
    out: dict[str, bytes] = {}
    for term, term_hits in items:
        out.update(render_category_feeds(term, term_hits, fs))
    return out
