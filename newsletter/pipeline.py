"""The one place that wires I/O to the pure parts: fetch a day into the
archive (papers, then signals, then embeds), build its outputs from the
archive alone, and send them. The CLI only parses options and prints."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter import mailing
from newsletter.config import Config
from newsletter.errors import ArchiveError, NoMailing, NothingToPublish, SourceError
from newsletter.files import check_output_dirs, clean_stale_temps, write_atomic, write_if_changed
from newsletter.models import Issue, Paper, RankedPaper
from newsletter.rank import RankingRule, left_out_for_pdf, rank
from newsletter.sources import REGISTRY
from newsletter.sources.base import EmbedContext, NullReporter, Reporter, SearchResult, SourceContext
from newsletter.store import Archive, Collection
from newsletter.text import collapse

if TYPE_CHECKING:
    from newsletter.http import HttpClient

__all__ = ["NullReporter", "Reporter", "Seams", "fetch_day", "build_day", "load_issue", "run_day"]


@dataclass
class Seams:
    """The I/O a run uses, replaceable in tests and in the demo. ``now`` is
    the one clock every stage reads."""

    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    sleep: Callable[[float], None] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    session_factory: Callable[[], Any] | None = None

    def http(self, cfg: Config, service: str, min_interval: float = 0.0) -> HttpClient:
        from newsletter.http import HttpClient  # requests: only for runs that fetch

        h = cfg.http
        kwargs: dict[str, Any] = {}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        if self.session_factory is not None:
            kwargs["session"] = self.session_factory()
        return HttpClient(
            user_agent=h.user_agent, timeout=h.timeout, retries=h.retries, backoff=h.backoff, max_wait=h.max_wait,
            min_interval=min_interval, clock=lambda: self.now().timestamp(), service=service, **kwargs,
        )


@dataclass
class FetchSummary:
    day: date
    papers: int = 0
    arxiv_via: str = ""
    posts: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    ranked: int = 0
    embeds: int = 0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        posts = ", ".join(f"{n} {s} posts" for s, n in sorted(self.posts.items())) or "no signals"
        notes = f" ({'; '.join(self.warnings)})" if self.warnings else ""
        reqs = sum(self.requests.values())
        return (f"{self.day}: {self.papers} papers (arXiv {self.arxiv_via}), {posts}, "
                f"{self.ranked} ranked, {reqs} requests, {len(self.warnings)} warnings{notes}")


class _Run:
    """One fetch: its warnings go to the reporter, the summary and the issue's notes."""

    def __init__(self, cfg: Config, day: date, archive: Archive, seams: Seams, reporter: Reporter):
        self.cfg, self.day, self.archive, self.seams, self.reporter = cfg, day, archive, seams, reporter
        self.summary = FetchSummary(day)
        self.notes: list[str] = []

    def warn(self, msg: str) -> None:
        msg = collapse(msg)
        self.summary.warnings.append(msg)
        self.notes.append(msg)
        self.reporter.warn(msg)

    def record(self, source: str, started: datetime, status: str, note: str, requests: int, items: int) -> None:
        self.archive.record_collection(Collection(self.day, source, started, self.seams.now(), status,
                                                  collapse(note), requests, items))


def fetch_papers(run: _Run, *, replace: bool = False) -> list[Paper]:
    """The day's papers from arXiv into the archive (arXiv failing is fatal).
    An answer with fewer papers than the archive holds never shrinks the day
    unless ``replace``: the archive is kept and a warning says so."""
    cfg, day, archive, seams = run.cfg, run.day, run.archive, run.seams
    ax = cfg.arxiv
    http = seams.http(cfg, "arXiv", min_interval=ax.delay_seconds)
    http.retries = ax.retries
    started, now = seams.now(), seams.now()
    tick = run.reporter.start("arXiv papers")
    from newsletter.sources import arxiv as arxiv_source  # the arXiv client is only needed to fetch

    papers: list[Paper] | None = None
    if day == mailing.latest_mailing(now):
        try:
            rss_day, rss_papers = arxiv_source.fetch_rss(http, ax.rss_url, cfg.categories)
        except SourceError as exc:  # the API has the same papers: use it instead
            run.reporter.warn(collapse(f"arXiv RSS failed ({exc}); asking the API instead"))
            rss_day, rss_papers = None, []
        if rss_day == day:
            papers, run.summary.arxiv_via = rss_papers, "RSS"
    if papers is None:
        fetched = arxiv_source.fetch_api(http, ax.api_url, cfg.categories, mailing.submission_window(day),
                                         page_size=ax.page_size, max_results=ax.max_results, on_page=tick)
        papers, run.summary.arxiv_via = fetched.papers, "API"
        if fetched.bad:
            run.warn(f"arXiv: {fetched.bad} entries skipped: {', '.join(fetched.reasons)}")
    tick(len(papers))
    run.summary.requests["arxiv"] = http.request_count
    archived = archive.day_paper_count(day)
    if len(papers) < archived and not replace:
        run.warn(f"arXiv answered with {len(papers)} papers for {day} but the archive holds {archived}; "
                 "the archive was kept (fetch with --replace to replace it)")
        papers = archive.day_papers(day)
    else:
        archive.save_day_papers(day, papers)
    run.summary.papers = len(papers)
    run.record("arxiv", started, "ok", run.summary.arxiv_via, http.request_count, len(papers))
    if not papers:
        run.notes.append("arXiv announced no new papers in these categories")
        archive.save_issue(day, seams.now(), 0, run.notes)
        raise NoMailing(f"arXiv announced no new papers in {', '.join(cfg.categories)} on {day} "
                        "(a holiday?); nothing to publish")
    return papers


def fetch_signals(run: _Run, window: mailing.Window, *, strict: bool = False) -> None:
    """Every enabled source, independently: one that fails is skipped with a
    warning kept on the issue, unless ``strict``."""
    cfg, seams = run.cfg, run.seams
    for source in REGISTRY.values():
        scfg = cfg.source(source.name)
        if not scfg.enabled:
            continue
        started = seams.now()
        ctx = SourceContext(http=seams.http(cfg, source.label), config=scfg, env=seams.env, window=window,
                            day=run.day, now=seams.now, reporter=run.reporter)
        try:
            result: SearchResult = source.collect(ctx)
        except SourceError as exc:
            if strict:
                raise
            run.warn(f"{source.label} failed and was skipped: {exc}")
            run.record(source.name, started, "failed", str(exc), ctx.http.request_count, 0)
            continue
        if result.skipped:
            run.warn(f"{source.label} skipped: {result.skipped}")
            run.record(source.name, started, "skipped", result.skipped, 0, 0)
            continue
        for reason, n in sorted(result.bad.items()):
            run.warn(f"{source.label}: {n} post{'s' if n != 1 else ''} skipped: {reason}")
        run.archive.save_posts(result.posts)
        run.summary.posts[source.name] = len(result.posts)
        run.summary.requests[source.name] = result.requests
        if result.capped:
            run.warn(result.capped)
        run.record(source.name, started, "capped" if result.capped else "ok", result.capped or "",
                   result.requests, len(result.posts))


def fetch_embeds(run: _Run) -> None:
    """oEmbed HTML, only for the posts the issue will display and only from
    sources that have it; a failure leaves static quotes and one note."""
    ranked = list(ranked_papers(run.cfg, run.archive, run.day))
    run.summary.ranked = len(ranked)
    embed_ranked(run, ranked)


def embed_ranked(run: _Run, ranked: list[Any]) -> None:
    cfg, archive = run.cfg, run.archive
    for source in REGISTRY.values():
        scfg = cfg.source(source.name)
        if source.embed is None or not scfg.enabled:
            continue
        missing = [p for rp in ranked for p in rp.displayed_posts if p.source == source.name and not p.embed_html]
        if not missing:
            continue
        http = run.seams.http(cfg, f"{source.label} oEmbed")
        ctx = EmbedContext(http=http, config=scfg)
        tick = run.reporter.start(f"{source.label} embeds")
        failed: list[str] = []
        for i, post in enumerate(missing, start=1):
            try:
                html = source.embed(ctx, post)
            except SourceError as exc:
                failed.append(f"{post.url}: {exc}")
                continue
            if html:
                archive.set_embed(post.source, post.post_id, html)
                run.summary.embeds += 1
            tick(i)
        if failed:
            run.warn(f"{source.label} oEmbed failed for {len(failed)} of {len(missing)} posts (first: {failed[0]}); "
                     "static quotes are shown for them")
        run.summary.requests[f"{source.name}_oembed"] = http.request_count


def fetch_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
              reporter: Reporter | None = None, strict: bool = False, replace: bool = False) -> FetchSummary:
    """Collect a day's papers, signals and embeds into the archive (network)."""
    seams = seams or Seams()
    mailing.require_mailing_day(day)
    now = seams.now()
    if mailing.announced_at(day) > now:
        raise SourceError(f"the mailing of {day} is announced at {mailing.announced_at(day):%Y-%m-%d %H:%M} UTC; "
                          "fetch it after that")
    run = _Run(cfg, day, archive, seams, reporter or NullReporter())
    papers = fetch_papers(run, replace=replace)
    fetch_signals(run, mailing.signal_window(day, cfg.window_hours, now), strict=strict)
    fetch_embeds(run)
    archive.save_issue(day, seams.now(), len(papers), run.notes)
    ranked_papers(cfg, archive, day)  # stored again if embeds changed it: the build reads it
    return run.summary


def load_issue(cfg: Config, archive: Archive, day: date) -> Issue:
    """The issue of a day, entirely from the archive (no network, no clock)."""
    record = archive.issue(day)
    if record is None:
        raise ArchiveError(f"nothing archived for {day}; run 'newsletter fetch --date {day}' first")
    return Issue(date=day, title=cfg.title, created_at=record.created_at, papers=ranked_papers(cfg, archive, day),
                 paper_count=record.paper_count, notes=record.notes)


def ranked_papers(cfg: Config, archive: Archive, day: date) -> tuple[RankedPaper, ...]:
    """A day's ranking, ranked once and stored: later builds, sends and
    feeds read the stored one, until anything it was made from changes (the
    archive drops it then) or the rule does (``ranking_key``)."""
    key = ranking_key(cfg)
    return archive.ranked_once(day, key, lambda: rank(archive.day_papers(day), daily_posts(cfg, archive, day),
                                                       RankingRule.from_config(cfg.ranking)))


def ranking_key(cfg: Config) -> str:
    """What a stored ranking was made under: the rule, the daily window,
    and the code (a new version may rank or store differently)."""
    rule = RankingRule.from_config(cfg.ranking)
    return repr((rule.min_paper_score, rule.min_post_score, rule.max_posts_per_paper, sorted(rule.weights.items()),
                 cfg.window_hours, _code_hash()))


@lru_cache(maxsize=1)
def _code_hash() -> str:
    import hashlib

    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def daily_posts(cfg: Config, archive: Archive, day: date) -> list[Any]:
    """The posts that count for a day's issue: those made until ``window_hours``
    after its announcement (later ones, fetched for the weekly issue, do not
    change a daily issue after the fact)."""
    cutoff = mailing.daily_cutoff(day, cfg.window_hours)
    return [p for p in archive.day_posts(day) if p.created_at is None or p.created_at <= cutoff]


def _nothing(cfg: Config, archive: Archive, issue: Issue, what: str) -> NothingToPublish:
    rule = RankingRule.from_config(cfg.ranking)
    no_pdf = left_out_for_pdf(archive.day_papers(issue.date), daily_posts(cfg, archive, issue.date), rule)
    threshold = f"{rule.min_paper_score:g}"
    if no_pdf:
        return NothingToPublish(f"{no_pdf} paper{'s' if no_pdf != 1 else ''} of {issue.date} reached {threshold} "
                                f"points but {'were' if no_pdf != 1 else 'was'} left out for lack of a PDF; {what}")
    return NothingToPublish(f"no paper of {issue.date} reached {threshold} points "
                            f"({issue.paper_count} papers archived); {what}")


@dataclass
class BuildSummary:
    day: date
    files: list[Path]
    ranked: int
    unchanged: int = 0
    site_index: Path | None = None

    def line(self) -> str:
        return (f"{self.day}: {self.ranked} papers ranked, {len(self.files)} files written"
                f"{f', {self.unchanged} unchanged' if self.unchanged else ''}")


def recent_issues(cfg: Config, archive: Archive, limit: int) -> list[Issue]:
    """The newest ``limit`` issues that have ranked papers, newest first."""
    issues = []
    for day in archive.issue_days():
        issue = load_issue(cfg, archive, day)
        if issue.papers:
            issues.append(issue)
            if len(issues) == limit:
                break
    return issues


def _templates(cfg: Config) -> str | None:
    return str(cfg.templates_dir) if cfg.templates_dir else None


def build_day(cfg: Config, day: date, archive: Archive) -> BuildSummary:
    """Render a day's outputs from the archive, then write them atomically.
    Output folders are checked and everything is rendered before anything is
    written, so a failure leaves the published files as they were."""
    from newsletter import parallel

    mailing.require_mailing_day(day)
    dirs = {"[output] posts_dir": cfg.posts_dir, "[output] feeds_dir": cfg.feeds_dir,
            "[output] email_dir": cfg.email_dir, "[output] site_dir": cfg.site_dir}
    check_output_dirs(dirs)
    cache = _IssueCache(cfg, archive)
    issue = cache.get(day)
    if not issue.papers:
        raise _nothing(cfg, archive, issue, "nothing was written")
    templates = _templates(cfg)
    recent = cache.recent(cfg.feeds.issues)
    from newsletter.render.templates import template_errors  # Jinja, before the fork: both sides use it

    prep = prepare_site(cfg, archive, cache, {day})
    items = prep.category_items()
    # every feed (the six, the changed categories') on the other core, while this one renders the rest
    feeds_job = parallel.in_background(lambda: (_main_feeds(cfg, recent, templates), _category_feeds(cfg, items)))
    from newsletter.render.email import EmailSettings, render_email
    from newsletter.render.markdown import post_filename, render_post

    try:
        with template_errors():
            outputs: dict[Path, str | bytes] = {cfg.posts_dir / post_filename(day): render_post(issue, templates)}
            email = render_email(issue, EmailSettings.from_config(cfg), templates)
            site = plan_site(cfg, archive, cache, {day}, {}, prep=prep)
    except BaseException:
        feeds_job.abandon()
        raise
    feeds, category_feeds = feeds_job.result()
    site.add_feeds(cfg, {**feeds, **category_feeds})
    outputs.update({cfg.feeds_dir / name: data for name, data in feeds.items()})
    outputs[cfg.email_dir / f"{day.isoformat()}.html"] = email.html
    outputs[cfg.email_dir / f"{day.isoformat()}.txt"] = email.text
    for folder in dirs.values():
        clean_stale_temps(folder)
    paths = [write_atomic(path, data) for path, data in outputs.items()]
    written = [path for path, data in site.files.items() if write_if_changed(path, data)]
    archive.set_meta(SITE_FINGERPRINT, site.fingerprint)
    return BuildSummary(day, paths + written, len(issue.papers), unchanged=len(site.files) - len(written),
                        site_index=cfg.site_dir / "index.html")


def _main_feeds(cfg: Config, recent: list[Issue], templates: str | None) -> dict[str, bytes]:
    from newsletter.render.feeds import FeedSettings, render_feeds
    from newsletter.render.templates import template_errors

    with template_errors():
        return render_feeds(recent, FeedSettings.from_config(cfg), templates)


class _IssueCache:
    """Each issue loaded (and ranked) at most once per build."""

    def __init__(self, cfg: Config, archive: Archive):
        self.cfg, self.archive = cfg, archive
        self.issues: dict[date, Issue] = {}

    def get(self, day: date) -> Issue:
        if day not in self.issues:
            self.issues[day] = load_issue(self.cfg, self.archive, day)
        return self.issues[day]

    def recent(self, limit: int) -> list[Issue]:
        """The newest ``limit`` issues that have ranked papers, newest first."""
        out = []
        for day in self.archive.issue_days():
            issue = self.get(day)
            if issue.papers:
                out.append(issue)
                if len(out) == limit:
                    break
        return out


SITE_FINGERPRINT = "site_fingerprint"
_FORKED: dict[str, Any] = {}  # what forked renderers inherit (the loaded issues, the renderer)


def _render_chunk(jobs: list[Any]) -> list[tuple[str, bytes]]:
    r, cache = _FORKED["renderer"], _FORKED["cache"]
    return [r.issue_page(cache.issues[d], prev, next_) for d, prev, next_ in jobs]


def _issue_pages(r: Any, cache: _IssueCache, jobs: list[Any]) -> dict[str, bytes]:
    """Issue pages; a first build of a large archive renders them on every
    core (forked workers inherit the loaded issues, so nothing is re-read)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < 200 or workers < 2:
        return dict(_render_chunk_with(r, cache, jobs))
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return dict(_render_chunk_with(r, cache, jobs))
    chunks = [jobs[i::workers] for i in range(workers)]
    _FORKED.update(renderer=r, cache=cache)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return {path: data for part in pool.map(_render_chunk, chunks) for path, data in part}
    finally:
        _FORKED.clear()


def _render_chunk_with(r: Any, cache: _IssueCache, jobs: list[Any]) -> list[tuple[str, bytes]]:
    return [r.issue_page(cache.issues[d], prev, next_) for d, prev, next_ in jobs]


@dataclass
class SitePlan:
    files: dict[Path, bytes]
    fingerprint: str

    def add_feeds(self, cfg: Config, feeds: dict[str, bytes]) -> None:
        """Feeds are published on the site too; category feeds also go to ``feeds_dir``."""
        self.files.update({cfg.site_dir / "feeds" / name: data for name, data in feeds.items()})
        self.files.update({cfg.feeds_dir / name: data for name, data in feeds.items() if name.startswith("category/")})


def _site_fingerprint(cfg: Config, settings: Any) -> str:
    """What, when it changes, makes every page change: the settings, the
    templates, the version. A different one means a full render."""
    import hashlib

    from newsletter import __version__
    from newsletter.render.templates import bundled_dir

    h = hashlib.sha256(repr((settings, cfg.feeds_base_url, __version__)).encode())
    for folder in [bundled_dir()] + ([cfg.templates_dir] if cfg.templates_dir else []):
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


@dataclass
class SitePrep:
    """What ``plan_site`` decides before rendering: whether everything is
    rendered, the issues listed, each category's hits and which categories'
    pages and feeds change."""

    renderer: Any
    fingerprint: str
    full: bool
    entries: list[Any]
    hits: dict[str, Any]
    terms: list[str]

    def category_items(self) -> list[tuple[str, Any]]:
        return [(t, self.hits[t]) for t in self.terms]


def prepare_site(cfg: Config, archive: Archive, cache: _IssueCache, changed: set[date], *, full: bool = False
                 ) -> SitePrep:
    from newsletter.render.site import IssueEntry, SiteRenderer, SiteSettings, category_hits, category_path, entry_of

    settings = SiteSettings.from_config(cfg)
    fingerprint = _site_fingerprint(cfg, settings)
    site = cfg.site_dir
    full = full or archive.get_meta(SITE_FINGERPRINT) != fingerprint or not (site / "index.html").exists()
    stored = archive.site_entries()
    before = {d: IssueEntry.from_json(stored[d]) for d in changed if d in stored}
    fresh = {d: entry_of(cache.get(d)).to_json() for d in archive.issue_days() if d not in stored or d in changed}
    archive.save_site_entries(fresh)
    stored.update(fresh)
    entries = [e for e in (IssueEntry.from_json(stored[d]) for d in sorted(stored, reverse=True)) if e.papers]
    hits = category_hits(entries)
    touched = {c for e in [*before.values(), *(IssueEntry.from_json(stored[d]) for d in changed if d in stored)]
               for p in e.papers for c in p.categories}
    terms = [t for t in hits if full or t in touched or not (site / category_path(t)).exists()]
    return SitePrep(SiteRenderer(settings, _templates(cfg)), fingerprint, full, entries, hits, terms)


def plan_site(cfg: Config, archive: Archive, cache: _IssueCache, changed: set[date],
              feeds: dict[str, bytes], *, full: bool = False, built_weeks: tuple[str, ...] = (),
              prep: SitePrep | None = None) -> SitePlan:
    """The website's files that ``changed`` days make different: those days'
    pages and their neighbours', the index, their months, their categories
    (pages and feeds), the shared lists. A first build, or new templates or
    settings, render everything. Nothing is written here. ``feeds`` are
    copied in; with ``prep`` (made earlier by the caller, who renders its
    category feeds and adds them with ``SitePlan.add_feeds``) no feed is
    rendered here."""
    from newsletter import parallel

    own_prep = prep is None
    prep = prep or prepare_site(cfg, archive, cache, changed, full=full)
    items = prep.category_items() if own_prep else []
    category_feeds = parallel.in_background(lambda: _category_feeds(cfg, items)) if items else parallel.done({})
    out: dict[str, bytes] = {}
    try:
        _site_pages(prep.renderer, cfg, archive, cache, changed, prep.full, built_weeks, prep.entries, prep.hits,
                    prep.terms, out)
    except BaseException:
        category_feeds.abandon()
        raise
    feeds = {**feeds, **category_feeds.result()}
    site = cfg.site_dir
    plan = SitePlan({site / path: data for path, data in out.items()}, prep.fingerprint)
    plan.add_feeds(cfg, feeds)
    return plan


def _site_pages(r: Any, cfg: Config, archive: Archive, cache: _IssueCache, changed: set[date], full: bool,
                built_weeks: tuple[str, ...], entries: list[Any], hits: dict[str, Any], terms: list[str],
                out: dict[str, bytes]) -> None:
    """The pages ``plan_site`` decided on, into ``out`` (path -> bytes)."""
    from newsletter.render.site import STATIC, IssueEntry, by_year, category_path, month_key, months

    site = cfg.site_dir
    days = [e.day for e in entries]
    pages = set(days) if full else {d for d in days if d in changed or not (site / f"{IssueEntry(d, ()).slug}").is_dir()}
    for d in list(pages):
        i = days.index(d)
        pages.update(days[max(0, i - 1): i + 2])  # the neighbours' previous/next links
    jobs = []
    for d in sorted(pages):
        i = days.index(d)
        cache.get(d)
        jobs.append((d, entries[i + 1] if i + 1 < len(entries) else None, entries[i - 1] if i > 0 else None))
    out.update(_issue_pages(r, cache, jobs))
    weeks = archive.weeks()
    weeks = [w for w in weeks if (site / "weekly" / w / "index.html").exists() or w in built_weeks]
    out["index.html"] = r.index(cache.get(days[0]) if days else None, entries, weeks)
    out["archive/index.html"] = r.archive(entries)
    for key, month_entries in months(entries).items():
        if full or any(month_key(d) == key for d in changed) or not (site / "archive" / key).is_dir():
            path, data = r.month(key, month_entries)
            out[path] = data
    changed_years = {d.year for d in changed}
    for term in terms:
        path, data = r.category(term, hits[term])
        out[path] = data
        for year, year_hits in by_year(hits[term]).items():
            year_page = site / category_path(term).replace("index.html", f"{year}/index.html")
            if full or year in changed_years or not year_page.exists():
                path, data = r.category_year(term, year, year_hits)
                out[path] = data
    out["category/index.html"] = r.categories(hits)
    out["subscribe/index.html"] = r.subscribe()
    out["404.html"] = r.not_found()
    out["sitemap.xml"] = r.sitemap(entries, hits, weeks)
    out["robots.txt"] = r.robots()
    out["search.json"] = r.search_index(entries)
    for name in STATIC:
        out[name] = r.static(name)


def _category_feeds(cfg: Config, items: list[tuple[str, Any]]) -> dict[str, bytes]:
    if not items:
        return {}
    from newsletter.render.feeds import FeedSettings, render_category_feeds

    fs = FeedSettings.from_config(cfg)
    out: dict[str, bytes] = {}
    for term, term_hits in items:
        out.update(render_category_feeds(term, term_hits, fs))
    return out


# ---------------------------------------------------------------- delivery
def render_issue_email(cfg: Config, archive: Archive, day: date) -> Any:
    from newsletter.render.email import EmailSettings, render_email

    from newsletter.render.templates import template_errors

    mailing.require_mailing_day(day)
    issue = load_issue(cfg, archive, day)
    if not issue.papers:
        raise _nothing(cfg, archive, issue, "nothing to send")
    with template_errors():
        return render_email(issue, EmailSettings.from_config(cfg), _templates(cfg))


def reader_editions(cfg: Config, issue: Issue) -> Callable[[Any], Any]:
    """Each reader's email of ``issue``: the whole issue for readers without
    topics, their selection otherwise, nothing (a reason) when their topics
    leave nothing or they paused or chose the weekly issue only. Rendered once
    per distinct selection, not once per reader."""
    from newsletter.delivery.preferences import Preferences, select
    from newsletter.render.email import EmailSettings, render_email
    from newsletter.render.templates import template_errors

    weekly = bool(issue.week)
    settings = EmailSettings.from_config(cfg, weekly=weekly)
    templates = _templates(cfg)
    with template_errors():
        whole = render_email(issue, settings, templates)
    selections: dict[Preferences, Any] = {}
    rendered: dict[tuple[tuple[str, ...], str], Any] = {}

    def edition(sub: Any) -> Any:
        p: Preferences = sub.prefs
        if p.paused_until and issue.date < p.paused_until:
            return f"paused until {p.paused_until.isoformat()}"
        if p.frequency == "weekly" and not weekly:
            return "gets the weekly issue only"
        if p.frequency == "daily" and weekly:
            return "gets the daily issue only"
        if not p.filters and p.max_papers is None:
            return whole
        if p not in selections:
            selections[p] = select(issue, p, settings.max_papers)
        papers = selections[p]
        if not papers:
            return f"nothing today on {p.describe()}"
        key = (tuple(rp.paper.arxiv_id for rp in papers), p.describe())
        if key not in rendered:
            with template_errors():
                rendered[key] = render_email(issue, settings, templates, papers=papers, filtered_by=p.describe())
        return rendered[key]

    edition.subject = whole.subject  # type: ignore[attr-defined]
    return edition


def _editions(cfg: Config, archive: Archive, day: date) -> Callable[[Any], Any]:
    mailing.require_mailing_day(day)
    issue = load_issue(cfg, archive, day)
    if not issue.papers:
        raise _nothing(cfg, archive, issue, "nothing to send")
    return reader_editions(cfg, issue)


def smtp_mailer(cfg: Config, env: Mapping[str, str]) -> Any:
    from newsletter.delivery.send import SMTPMailer
    from newsletter.errors import ConfigError

    password = env.get(cfg.smtp.password_env, "")
    if cfg.smtp.username and not password:
        raise ConfigError(f"[smtp] username is set but ${cfg.smtp.password_env} is empty; export the password")
    return SMTPMailer(cfg.smtp, password)


def smtp_mailers(cfg: Config, env: Mapping[str, str]) -> list[Any]:
    """``[smtp] connections`` mailers sharing one pacer: the rate is the relay's."""
    from newsletter.delivery.send import SMTPMailer
    from newsletter.pacing import Pacer

    first = smtp_mailer(cfg, env)
    if cfg.smtp.connections == 1:
        return [first]
    pacer = Pacer(1.0 / cfg.smtp.rate if cfg.smtp.rate > 0 else 0.0)
    first.pacer = pacer
    return [first] + [SMTPMailer(cfg.smtp, first.password, pacer=pacer) for _ in range(cfg.smtp.connections - 1)]


def send_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None, mailer: Any = None,
             on_progress: Callable[[int, int], None] | None = None) -> Any:
    """Send a day's email to every subscriber who has not had it (the ledger)."""
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import send_issue

    seams = seams or Seams()
    editions = _editions(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    mailer = mailer or smtp_mailers(cfg, seams.env)
    return send_issue(archive, day, editions, settings, mailer, now=seams.now, sleep=seams.sleep or time.sleep,
                      max_attempts=cfg.delivery.max_attempts, backoff=cfg.delivery.retry_backoff,
                      on_progress=on_progress)


def dry_run_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None) -> Any:
    """Write every message a send would make now as .eml files; sends nothing."""
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import dry_run

    seams = seams or Seams()
    editions = _editions(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    folder = cfg.resolve(cfg.delivery.outbox) / day.isoformat()
    return dry_run(archive, day, editions, settings, folder, now=seams.now,
                   subject=getattr(editions, "subject", ""))


def send_copy(cfg: Config, day: date, archive: Archive, to: str, seams: Seams | None = None,
              mailer: Any = None) -> str:
    """One copy of a day's email to one address, outside the ledger."""
    from newsletter.delivery.message import MessageFactory, MessageSettings, check_address

    seams = seams or Seams()
    rendered = render_issue_email(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    address = check_address(to)
    mailer = mailer or smtp_mailer(cfg, seams.env)
    data, _ = MessageFactory(settings).make(rendered, address, "", day, seams.now())
    try:
        return str(mailer.send(settings.from_address, address, data))
    finally:
        mailer.close()


@dataclass
class RunSummary:
    fetched: FetchSummary
    built: BuildSummary
    sent: Any = None  # SendSummary, DryRun, or None when there was no one to send to


def run_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None, reporter: Reporter | None = None,
            *, strict: bool = False, replace: bool = False, send: bool = True, dry_run: bool = False,
            on_progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """The daily job: fetch, build, then send when there are subscribers."""
    from newsletter.delivery.ledger import SubscriberStore

    seams = seams or Seams()
    fetched = fetch_day(cfg, day, archive, seams, reporter, strict=strict, replace=replace)
    built = build_day(cfg, day, archive)
    summary = RunSummary(fetched, built)
    if send and SubscriberStore(archive).has_subscribers():
        summary.sent = (dry_run_day(cfg, day, archive, seams) if dry_run
                        else send_day(cfg, day, archive, seams, on_progress=on_progress))
    return summary


# ---------------------------------------------------------------- signals
@dataclass
class ImportSummary:
    posts: int
    sources: list[str]
    matched: int
    errors: list[str]

    def line(self, name: str) -> str:
        return (f"Imported {name}: {self.posts} signals ({', '.join(self.sources) or 'none'}), "
                f"{self.matched} for archived papers, {len(self.errors)} invalid")


def import_signals(archive: Archive, text: str, filename: str, now: datetime) -> ImportSummary:
    """Signals from a CSV/JSON file into the archive; bad records are listed, the rest kept."""
    from newsletter.sources.imported import parse

    posts, errors = parse(text, filename, now)
    archive.save_posts(posts)
    known = archive.archived_paper_ids()
    matched = sum(1 for p in posts if set(p.arxiv_ids) & known)
    return ImportSummary(len(posts), sorted({p.source for p in posts}), matched, errors)
