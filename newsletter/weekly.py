"""Hot Papers of the Week: the papers of one ISO week's five mailings, ranked
by all the attention they got until ``[weekly] window_days`` after the week's
last announcement. It catches the papers noticed late: those not in their own
daily issue are marked "new this week"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from newsletter import mailing
from newsletter.config import Config
from newsletter.errors import ArchiveError, NoMailing, NothingToPublish
from newsletter.files import check_output_dirs, clean_stale_temps, write_atomic, write_if_changed
from newsletter.models import Issue, Post
from newsletter.pipeline import (FetchSummary, NullReporter, Reporter, Seams, _Run, embed_ranked, fetch_papers,
                                 fetch_signals, load_issue)
from newsletter.rank import RankingRule, rank
from newsletter.store import Archive


class WeekKey(str):
    """A week as the ledger's key ('2026-W31'), where a daily send has a date."""

    def isoformat(self) -> str:
        return str(self)


class _WeekRun(_Run):
    def record(self, *args: Any, **kwargs: Any) -> None:  # per-day collection records stay the daily fetch's
        pass


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
        run = _Run(cfg, d, archive, seams, reporter)
        try:
            papers = fetch_papers(run, replace=replace)
        except NoMailing:
            summary.days[d.isoformat()] = "no mailing (holiday?)"
            continue
        archive.save_issue(d, now, len(papers), run.notes)
        summary.days[d.isoformat()] = f"fetched {len(papers)}"
    run = _WeekRun(cfg, days[0], archive, seams, reporter)
    fetch_signals(run, mailing.week_window(days[0], cfg.weekly.window_days, now), strict=strict)
    issue = load_week(cfg, archive, day, allow_missing=True)
    run.summary.ranked = len(issue.papers)
    embed_ranked(run, list(issue.papers))
    archive.save_week(week, seams.now(), run.notes)
    summary.signals = run.summary
    return summary


def load_week(cfg: Config, archive: Archive, day: date, *, allow_missing: bool = False) -> Issue:
    """The weekly issue, entirely from the archive."""
    days = mailing.week_mailings(day)
    week = mailing.week_key(days[0])
    record = archive.week(week)
    if record is None and not allow_missing:
        raise ArchiveError(f"nothing archived for the week {week}; run 'newsletter fetch --week {days[0]}' first")
    window = mailing.week_window(days[0], cfg.weekly.window_days,
                                 record[0] if record else mailing.announced_at(days[-1]))
    papers: list[Any] = []
    dates: dict[str, date] = {}
    posts: dict[tuple[str, str], Post] = {}
    daily_ids: set[str] = set()
    for d in days:
        if archive.issue(d) is None:
            continue
        for p in archive.day_papers(d):
            papers.append(p)
            dates[p.arxiv_id] = d
        for post in archive.day_posts(d):
            key = (post.source, post.post_id)
            if key in posts:  # linking papers of two days: one post, all its links
                old = posts[key]
                post = Post(**{**old.__dict__, "arxiv_ids": tuple(sorted(set(old.arxiv_ids) | set(post.arxiv_ids)))})
            posts[key] = post
        daily_ids |= {rp.paper.arxiv_id for rp in load_issue(cfg, archive, d).papers}
    counted = [p for p in posts.values() if p.created_at is None or p.created_at <= window.end]
    w = cfg.weekly
    rule = RankingRule(min_paper_score=w.min_paper_score, min_post_score=cfg.ranking.min_post_score,
                       max_posts_per_paper=cfg.ranking.max_posts_per_paper, weights=dict(cfg.ranking.weights))
    ranked = rank(papers, counted, rule)[: w.max_papers]
    return Issue(date=days[0], title=f"{cfg.title} of the Week", created_at=record[0] if record else
                 mailing.announced_at(days[-1]), papers=tuple(ranked), paper_count=len(papers),
                 notes=record[1] if record else (), week=week,
                 paper_dates=tuple((rp.paper.arxiv_id, dates[rp.paper.arxiv_id]) for rp in ranked),
                 late=frozenset(rp.paper.arxiv_id for rp in ranked if rp.paper.arxiv_id not in daily_ids))


def post_filename(issue: Issue) -> str:
    return f"{issue.week}---Hot-Papers-of-the-Week.md"


@dataclass
class WeekBuild:
    week: str
    files: list[Path]
    ranked: int
    late: int

    def line(self) -> str:
        return f"{self.week}: {self.ranked} papers ranked ({self.late} new this week), {len(self.files)} files written"


def recent_weeks(cfg: Config, archive: Archive, limit: int) -> list[Issue]:
    out = []
    for week in archive.weeks():
        issue = load_week(cfg, archive, mailing.parse_week(week))
        if issue.papers:
            out.append(issue)
            if len(out) == limit:
                break
    return out


def build_week(cfg: Config, day: date, archive: Archive) -> WeekBuild:
    """The weekly post, email, page and feeds; everything rendered before anything is written."""
    from newsletter.pipeline import _templates
    from newsletter.render.email import EmailSettings, render_email
    from newsletter.render.feeds import FeedSettings, render_digest_feeds
    from newsletter.render.markdown import render_post
    from newsletter.render.site import SiteRenderer, SiteSettings, week_entries
    from newsletter.render.templates import template_errors

    dirs = {"[output] posts_dir": cfg.posts_dir, "[output] feeds_dir": cfg.feeds_dir,
            "[output] email_dir": cfg.email_dir, "[output] site_dir": cfg.site_dir}
    check_output_dirs(dirs)
    issue = load_week(cfg, archive, day)
    if not issue.papers:
        raise NothingToPublish(f"no paper of the week {issue.week} reached {cfg.weekly.min_paper_score:g} points "
                               f"({issue.paper_count} papers archived); nothing was written")
    templates = _templates(cfg)
    with template_errors():
        outputs: dict[Path, str | bytes] = {cfg.posts_dir / post_filename(issue): render_post(issue, templates)}
        weeks = recent_weeks(cfg, archive, cfg.feeds.issues)
        feeds = render_digest_feeds(weeks, FeedSettings.from_config(cfg), "weekly", templates)
        email = render_email(issue, EmailSettings.from_config(cfg, weekly=True), templates)
        r = SiteRenderer(SiteSettings.from_config(cfg), templates)
        path, page = r.issue_page(issue, None, None)
        site_files = {cfg.site_dir / path: page,
                      cfg.site_dir / "weekly" / "index.html": r.weeks_index(week_entries(weeks))}
    outputs.update({cfg.feeds_dir / name: data for name, data in feeds.items()})
    outputs[cfg.email_dir / f"{issue.week}.html"] = email.html
    outputs[cfg.email_dir / f"{issue.week}.txt"] = email.text
    site_files.update({cfg.site_dir / "feeds" / name: data for name, data in feeds.items()})
    if archive.site_entries():  # the front page and sitemap list the weekly issues too
        from newsletter.pipeline import _IssueCache, plan_site
        with template_errors():
            plan = plan_site(cfg, archive, _IssueCache(cfg, archive), set(), {}, built_weeks=(issue.week,))
        site_files.update({p: d for p, d in plan.files.items()
                           if p.name in ("index.html", "sitemap.xml") and p.parent == cfg.site_dir})
    for folder in dirs.values():
        clean_stale_temps(folder)
    paths = [write_atomic(p, data) for p, data in outputs.items()]
    paths += [p for p, data in site_files.items() if write_if_changed(p, data)]
    return WeekBuild(issue.week, paths, len(issue.papers), len(issue.late))


def week_editions(cfg: Config, archive: Archive, day: date) -> tuple[Issue, Any]:
    """Each weekly reader's email (daily-only readers get none)."""
    from newsletter.pipeline import reader_editions

    issue = load_week(cfg, archive, day)
    if not issue.papers:
        raise NothingToPublish(f"no paper of the week {issue.week} reached {cfg.weekly.min_paper_score:g} points; "
                               "nothing to send")
    return issue, reader_editions(cfg, issue)


def send_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None, mailer: Any = None,
              on_progress: Any = None) -> Any:
    """Send the weekly issue to the readers who chose it (weekly or both), with
    its own ledger rows (keyed by the week), so it never collides with a daily send."""
    import time

    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import send_issue
    from newsletter.pipeline import smtp_mailers

    seams = seams or Seams()
    issue, editions = week_editions(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    mailer = mailer or smtp_mailers(cfg, seams.env)
    return send_issue(archive, WeekKey(issue.week), editions, settings, mailer, now=seams.now,  # type: ignore[arg-type]
                      sleep=seams.sleep or time.sleep, max_attempts=cfg.delivery.max_attempts,
                      backoff=cfg.delivery.retry_backoff, on_progress=on_progress)


def dry_run_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None) -> Any:
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import dry_run

    seams = seams or Seams()
    issue, editions = week_editions(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    folder = cfg.resolve(cfg.delivery.outbox) / issue.week
    return dry_run(archive, WeekKey(issue.week), editions, settings, folder, now=seams.now,  # type: ignore[arg-type]
                   subject=getattr(editions, "subject", ""))
