"""The fetch stage: a day's papers, signals and embeds into the archive.
This is the only stage that talks to the network; everything after it reads
the archive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from newsletter import mailing
from newsletter.config import Config
from newsletter.errors import NoMailing, SourceError
from newsletter.issues import ranked_papers
from newsletter.models import Paper, RankedPaper
from newsletter.seams import Seams
from newsletter.sources import REGISTRY
from newsletter.sources.base import EmbedContext, NullReporter, Reporter, SourceContext
from newsletter.store import Archive, Collection
from newsletter.text import collapse

__all__ = ["FetchRun", "FetchSummary", "ImportSummary", "embed_ranked", "fetch_day", "fetch_papers",
           "fetch_signals", "import_signals"]


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


class FetchRun:
    """One fetch: its warnings go to the reporter, the summary and the issue's
    notes; each source's run is recorded for the day (unless
    ``record_collections`` is off, as for a week's signals)."""

    def __init__(self, cfg: Config, day: date, archive: Archive, seams: Seams, reporter: Reporter,
                 *, record_collections: bool = True):
        self.cfg, self.day, self.archive, self.seams, self.reporter = cfg, day, archive, seams, reporter
        self.record_collections = record_collections
        self.summary = FetchSummary(day)
        self.notes: list[str] = []

    def warn(self, msg: str) -> None:
        msg = collapse(msg)
        self.summary.warnings.append(msg)
        self.notes.append(msg)
        self.reporter.warn(msg)

    def record(self, source: str, started: datetime, status: str, note: str, requests: int, items: int) -> None:
        if self.record_collections:
            self.archive.record_collection(Collection(self.day, source, started, self.seams.now(), status,
                                                      collapse(note), requests, items))


def _from_arxiv(run: FetchRun) -> list[Paper]:
    """The day's papers as arXiv answers: the RSS for the latest mailing
    (falling back to the API when it fails or is of another day), the API
    for any other day."""
    cfg, day, ax = run.cfg, run.day, run.cfg.arxiv
    http = run.seams.http(cfg, "arXiv", min_interval=ax.delay_seconds, on_retry=run.reporter.retrying)
    http.retries = ax.retries
    tick = run.reporter.start("arXiv papers")
    from newsletter.sources import arxiv as arxiv_source  # the arXiv client is only needed to fetch

    papers: list[Paper] | None = None
    if day == mailing.latest_mailing(run.seams.now()):
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
    return papers


def fetch_papers(run: FetchRun, *, replace: bool = False) -> list[Paper]:
    """The day's papers from arXiv into the archive (arXiv failing is fatal).
    An answer with fewer papers than the archive holds never shrinks the day
    unless ``replace``: the archive is kept and a warning says so."""
    cfg, day, archive = run.cfg, run.day, run.archive
    started = run.seams.now()
    papers = _from_arxiv(run)
    archived = archive.day_paper_count(day)
    if len(papers) < archived and not replace:
        run.warn(f"arXiv answered with {len(papers)} papers for {day} but the archive holds {archived}; "
                 "the archive was kept (fetch with --replace to replace it)")
        papers = archive.day_papers(day)
    else:
        archive.save_day_papers(day, papers)
    run.summary.papers = len(papers)
    run.record("arxiv", started, "ok", run.summary.arxiv_via, run.summary.requests["arxiv"], len(papers))
    if not papers:
        run.notes.append("arXiv announced no new papers in these categories")
        archive.save_issue(day, run.seams.now(), 0, run.notes)
        raise NoMailing(f"arXiv announced no new papers in {', '.join(cfg.categories)} on {day} "
                        "(a holiday?); nothing to publish")
    return papers


def fetch_signals(run: FetchRun, window: mailing.Window, *, strict: bool = False) -> None:
    """Every enabled source, independently: one that fails is skipped with a
    warning kept on the issue, unless ``strict``."""
    cfg, seams = run.cfg, run.seams
    for source in REGISTRY.values():
        scfg = cfg.source(source.name)
        if not scfg.enabled:
            continue
        started = seams.now()
        ctx = SourceContext(http=seams.http(cfg, source.label, on_retry=run.reporter.retrying), config=scfg, env=seams.env, window=window,
                            day=run.day, now=seams.now, reporter=run.reporter)
        try:
            result = source.collect(ctx)
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


def embed_ranked(run: FetchRun, ranked: list[RankedPaper]) -> None:
    """oEmbed HTML, only for the posts the issue will display and only from
    sources that have it; a failure leaves static quotes and one note."""
    cfg, archive = run.cfg, run.archive
    for source in REGISTRY.values():
        scfg = cfg.source(source.name)
        if source.embed is None or not scfg.enabled:
            continue
        # one request per post, even when a post is shown under two of the day's papers
        missing = list({p.post_id: p for rp in ranked for p in rp.displayed_posts
                        if p.source == source.name and not p.embed_html}.values())
        if not missing:
            continue
        http = run.seams.http(cfg, f"{source.label} oEmbed", on_retry=run.reporter.retrying)
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


def warn_held_papers(run: FetchRun, papers: list[Paper]) -> None:
    """Papers the day's posts link, numbered within the day's papers, in its
    categories, yet missing from it: for a past day the API is asked by
    submission time, so a paper announced later than its submission (held
    for moderation) is missed; the RSS of the current mailing has them. One
    id_list request tells their categories; each one found is a warning."""
    ids = sorted(p.arxiv_id for p in papers if "/" not in p.arxiv_id)
    if not ids:
        return
    rows = run.archive.db.execute(
        "SELECT arxiv_id, count(*) FROM post_papers WHERE arxiv_id > ? AND arxiv_id < ? AND length(arxiv_id) = ? "
        "AND arxiv_id NOT IN (SELECT arxiv_id FROM day_papers) GROUP BY arxiv_id", (ids[0], ids[-1], len(ids[0])))
    linked = dict(rows.fetchall())
    if not linked:
        return
    from newsletter.sources import arxiv as arxiv_source

    cfg = run.cfg
    http = run.seams.http(cfg, "arXiv", min_interval=cfg.arxiv.delay_seconds, on_retry=run.reporter.retrying)
    try:
        found = arxiv_source.fetch_ids(http, cfg.arxiv.api_url, sorted(linked))
    except SourceError as exc:
        run.reporter.warn(f"arXiv: could not check {len(linked)} linked papers missing from the day ({exc})")
        return
    finally:
        run.summary.requests["arxiv"] = run.summary.requests.get("arxiv", 0) + http.request_count
    for p in found:
        if p.arxiv_id in linked and arxiv_source.matches_categories(p.categories, cfg.categories):
            n = linked.get(p.arxiv_id, 0)
            run.warn(f"{n} post{'s' if n != 1 else ''} link {p.arxiv_id}, which is not in this mailing's archive "
                     "(arXiv announced it on another day, likely held for moderation)")


def fetch_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
              reporter: Reporter | None = None, strict: bool = False, replace: bool = False) -> FetchSummary:
    """Collect a day's papers, signals and embeds into the archive (network)."""
    seams = seams or Seams()
    mailing.require_mailing_day(day)
    now = seams.now()
    if mailing.announced_at(day) > now:
        raise SourceError(f"the mailing of {day} is announced at {mailing.announced_at(day):%Y-%m-%d %H:%M} UTC; "
                          "fetch it after that")
    run = FetchRun(cfg, day, archive, seams, reporter or NullReporter())
    papers = fetch_papers(run, replace=replace)
    fetch_signals(run, mailing.signal_window(day, cfg.window_hours, now), strict=strict)
    if run.summary.arxiv_via == "API" and run.summary.posts:
        warn_held_papers(run, papers)
    ranked = list(ranked_papers(cfg, archive, day))
    run.summary.ranked = len(ranked)
    embed_ranked(run, ranked)
    archive.save_issue(day, seams.now(), len(papers), run.notes)
    ranked_papers(cfg, archive, day)  # stored again if embeds changed it: the build reads it
    return run.summary


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
