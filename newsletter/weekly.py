"""Hot Papers of the Week: the papers of one ISO week's five mailings, ranked
by all the attention they got until ``[weekly] window_days`` after the week's
last announcement. It catches the papers noticed late: those not in their own
daily issue are marked "new this week"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter import deliver, mailing
from newsletter.build import BuildSummary, output_dirs, write_outputs
from newsletter.config import Config
from newsletter.enrich import EnrichSummary, enrich_papers, readers_languages
from newsletter.errors import ArchiveError, NoMailing, NothingToPublish
from newsletter.fetch import FetchRun, FetchSummary, embed_ranked, fetch_papers, fetch_signals
from newsletter.files import check_output_dirs
from newsletter.issues import IssueCache, load_issue, with_media
from newsletter.models import Issue, Paper, Post
from newsletter.rank import RankingRule, rank
from newsletter.seams import Seams
from newsletter.siteplan import SitePlan, media_files, plan_site, templates_dir
from newsletter.sources.base import NullReporter, Reporter
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.render.site import SiteRenderer
    from newsletter.delivery.send import DryRunSummary, SendSummary
    from newsletter.delivery.smtp import Mailer


@dataclass
class WeekSummary:
    week: str
    days: dict[str, str] = field(default_factory=dict)  # day -> "fetched N" | "archived" | "no mailing"
    signals: FetchSummary | None = None

    def line(self) -> str:
        days = ", ".join(f"{d} {s}" for d, s in self.days.items())
        return f"{self.week}: {days}; {self.signals.line() if self.signals else 'no signals'}"


def fetch_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
               reporter: Reporter | None = None, strict: bool = False, replace: bool = False) -> WeekSummary:
    """The week's papers (days not yet archived are fetched; archived ones
    reused) and ONE paged search per source over the week's window."""
    seams = seams or Seams()
    reporter = reporter or NullReporter()
    now = seams.now()
    days = mailing.week_mailings(day)
    week = mailing.week_key(days[0])
    summary = WeekSummary(week)
    if mailing.announced_at(days[0]) > now:
        raise NoMailing(f"the week {week} has no mailing announced yet")
    for d in days:
        if mailing.announced_at(d) > now:
            summary.days[d.isoformat()] = "not announced yet"
            continue
        if archive.issue(d) is not None and archive.day_paper_count(d) and not replace:
            summary.days[d.isoformat()] = "archived"
            continue
        run = FetchRun(cfg, d, archive, seams, reporter)
        try:
            papers = fetch_papers(run, replace=replace)
        except NoMailing:
            summary.days[d.isoformat()] = "no mailing (holiday?)"
            continue
        archive.save_issue(d, now, len(papers), run.notes)
        summary.days[d.isoformat()] = f"fetched {len(papers)}"
    # per-day collection records stay the daily fetches'
    run = FetchRun(cfg, days[0], archive, seams, reporter, record_collections=False)
    fetch_signals(run, mailing.week_window(days[0], cfg.weekly.window_days, now), strict=strict)
    issue = load_week(cfg, archive, day, allow_missing=True)
    run.summary.ranked = len(issue.papers)
    embed_ranked(run, list(issue.papers))
    archive.save_week(week, seams.now(), run.notes)
    summary.signals = run.summary
    return summary


@dataclass
class _WeekContents:
    """The week's archived papers (with each one's mailing day), every post
    linking them (merged when a post links papers of two days) and the papers
    that made their own daily issue."""

    papers: list[Paper] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)
    daily_ids: set[str] = field(default_factory=set)

    def add_day(self, cfg: Config, archive: Archive, d: date) -> None:
        for p in archive.day_papers(d):
            self.papers.append(p)
            self.dates[p.arxiv_id] = d
        for post in archive.day_posts(d):
            key = (post.source, post.post_id)
            if key in self.posts:
                old = self.posts[key]
                post = Post(**{**old.__dict__, "arxiv_ids": tuple(sorted(set(old.arxiv_ids) | set(post.arxiv_ids)))})
            self.posts[key] = post
        self.daily_ids |= {rp.paper.arxiv_id for rp in load_issue(cfg, archive, d).papers}

    def counted(self, until: datetime) -> list[Post]:
        return [p for p in self.posts.values() if p.created_at is None or p.created_at <= until]


def load_week(cfg: Config, archive: Archive, day: date, *, allow_missing: bool = False) -> Issue:
    """The weekly issue, entirely from the archive."""
    days = mailing.week_mailings(day)
    week = mailing.week_key(days[0])
    record = archive.week(week)
    if record is None and not allow_missing:
        raise ArchiveError(f"nothing archived for the week {week}; run 'newsletter fetch --week {days[0]}' first")
    created = record[0] if record else mailing.announced_at(days[-1])
    window = mailing.week_window(days[0], cfg.weekly.window_days, created)
    week_of = _WeekContents()
    for d in days:
        if archive.issue(d) is not None:
            week_of.add_day(cfg, archive, d)
    w = cfg.weekly
    rule = RankingRule(min_paper_score=w.min_paper_score, min_post_score=cfg.ranking.min_post_score,
                       max_posts_per_paper=cfg.ranking.max_posts_per_paper, weights=dict(cfg.ranking.weights))
    ranked = rank(week_of.papers, week_of.counted(window.end), rule)[: w.max_papers]
    return with_media(cfg, archive, Issue(date=days[0], title=f"{cfg.title} of the Week", created_at=created,
                                          papers=tuple(ranked),
                 paper_count=len(week_of.papers), notes=record[1] if record else (), week=week,
                 paper_dates=tuple((rp.paper.arxiv_id, week_of.dates[rp.paper.arxiv_id]) for rp in ranked),
                 late=frozenset(rp.paper.arxiv_id for rp in ranked if rp.paper.arxiv_id not in week_of.daily_ids)))


def post_filename(issue: Issue) -> str:
    return f"{issue.week}---Hot-Papers-of-the-Week.md"


def recent_weeks(cfg: Config, archive: Archive, limit: int) -> list[Issue]:
    out = []
    for week in archive.weeks():
        issue = load_week(cfg, archive, mailing.parse_week(week))
        if issue.papers:
            out.append(issue)
            if len(out) == limit:
                break
    return out


def publishable_week(cfg: Config, archive: Archive, day: date, what: str) -> Issue:
    """The week's issue when it has ranked papers, else NothingToPublish."""
    issue = load_week(cfg, archive, day)
    if not issue.papers:
        raise NothingToPublish(f"no paper of the week {issue.week} reached {cfg.weekly.min_paper_score:g} points "
                               f"({issue.paper_count} papers archived); {what}")
    return issue


def enrich_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
                reporter: Reporter | None = None) -> EnrichSummary:
    """Figures and summaries for the week's papers that lack them (its late
    bloomers were in no daily issue)."""
    try:
        issue = load_week(cfg, archive, day)
    except (ArchiveError, NothingToPublish):
        return EnrichSummary()
    return enrich_papers(cfg, archive, [r.paper for r in issue.papers], seams, reporter, readers_languages(archive))


def build_week(cfg: Config, day: date, archive: Archive) -> BuildSummary:
    """The weekly post, email, page and feeds; everything rendered before anything is written."""
    from newsletter.render.templates import template_errors

    check_output_dirs(output_dirs(cfg))
    issue = publishable_week(cfg, archive, day, "nothing was written")
    with template_errors():
        outputs, site_files = _render_week(cfg, archive, issue)
    done = write_outputs(cfg, outputs, SitePlan(site_files, ""))
    return BuildSummary(issue.key, done.paths, len(issue.papers), late=len(issue.late), warning=done.warning)


def late_paper_pages(r: SiteRenderer, archive: Archive, issue: Issue) -> dict[str, bytes]:
    """The pages of the week's late bloomers (in no daily issue, so without a
    page yet), with their charts."""
    from newsletter.render.site import WEEK_ENTRY, appearances
    from newsletter.siteplan import posts_by_paper

    where = appearances(r.s.title, [], archive.meta_with_prefix(WEEK_ENTRY))
    out: dict[str, bytes] = {}
    posts: dict[date, dict[str, list[Post]]] = {}
    for rp in issue.papers:
        day = issue.mailing_date(rp.paper.arxiv_id)
        if not issue.is_late(rp.paper.arxiv_id) or day is None:
            continue
        if day not in posts:
            posts[day] = posts_by_paper(archive, day)
        path, page = r.paper_page(issue, rp, where.get(rp.paper.arxiv_id, []), posts[day].get(rp.paper.arxiv_id, []))
        out[path] = page
    return out


def _render_week(cfg: Config, archive: Archive, issue: Issue) -> tuple[dict[Path, str | bytes], dict[Path, bytes]]:
    from newsletter.render.email import EmailSettings, render_email
    from newsletter.render.feeds import FeedSettings, render_digest_feeds
    from newsletter.render.markdown import render_post
    from newsletter.render.site import WEEK_ENTRY, SiteRenderer, SiteSettings, week_entries, week_entry

    templates = templates_dir(cfg)
    outputs: dict[Path, str | bytes] = {cfg.posts_dir / post_filename(issue): render_post(issue, templates)}
    weeks = recent_weeks(cfg, archive, cfg.feeds.issues)
    feeds = render_digest_feeds(weeks, FeedSettings.from_config(cfg), "weekly", templates)
    email = render_email(issue, EmailSettings.from_config(cfg, weekly=True), templates)
    r = SiteRenderer(SiteSettings.from_config(cfg), templates)
    archive.set_meta(WEEK_ENTRY + issue.week, week_entry(issue))  # its papers' pages list the week
    path, page = r.issue_page(issue, None, None)
    site_files = {cfg.site_dir / path: page, cfg.site_dir / "weekly" / "index.html": r.weeks_index(week_entries(weeks))}
    site_files.update({cfg.site_dir / p: d for p, d in media_files(archive, [issue]).items()})
    site_files.update({cfg.site_dir / p: d for p, d in late_paper_pages(r, archive, issue).items()})
    card, png = r.social_card(issue)
    site_files[cfg.site_dir / card] = png
    outputs.update({cfg.feeds_dir / name: data for name, data in feeds.items()})
    outputs[cfg.email_dir / f"{issue.key}.html"] = email.html
    outputs[cfg.email_dir / f"{issue.key}.txt"] = email.text
    site_files.update({cfg.site_dir / "feeds" / name: data for name, data in feeds.items()})
    stored = archive.site_entries()
    if stored:  # the front page and sitemap list the weekly issues; the papers' pages, this week
        days = {d for rp in issue.papers if (d := issue.mailing_date(rp.paper.arxiv_id)) in stored}
        plan = plan_site(cfg, archive, IssueCache(cfg, archive), days, built_weeks=(issue.week,))
        pages = {cfg.site_dir / "paper" / rp.paper.arxiv_id / "index.html" for rp in issue.papers}
        site_files.update({p: d for p, d in plan.files.items()
                           if (p.name in ("index.html", "sitemap.xml") and p.parent == cfg.site_dir) or p in pages})
    return outputs, site_files


def send_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
              mailer: Mailer | Sequence[Mailer] | None = None, on_progress: deliver.Progress | None = None
              ) -> SendSummary:
    """Send the weekly issue to the readers who chose it (weekly or both), with
    its own ledger rows (keyed by the week), so it never collides with a daily send."""
    return deliver.send(cfg, publishable_week(cfg, archive, day, "nothing to send"), archive, seams, mailer,
                        on_progress)


def dry_run_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None) -> DryRunSummary:
    return deliver.dry_run(cfg, publishable_week(cfg, archive, day, "nothing to send"), archive, seams)
