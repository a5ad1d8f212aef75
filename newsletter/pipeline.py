"""The one place that wires I/O to the pure parts: fetch a day into the
archive, then build its outputs from the archive alone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Protocol

from newsletter import deliver, mailing
from newsletter.config import Config
from newsletter.errors import ArchiveError, ConfigError, NoMailing, NothingToPublish, SourceError
from newsletter.files import write_atomic
from newsletter.http import HttpClient
from newsletter.message import MessageSettings, check_address, compose, to_bytes
from newsletter.models import Issue
from newsletter.rank import RankingRule, rank
from newsletter.render.common import source_label
from newsletter.render.email import EmailSettings, render_email
from newsletter.render.feeds import FeedSettings, render_feeds
from newsletter.render.markdown import post_filename, render_post
from newsletter.sources import arxiv as arxiv_source
from newsletter.sources import bluesky as bsky_source
from newsletter.sources import hackernews as hn_source
from newsletter.sources import huggingface as hf_source
from newsletter.sources import x as x_source
from newsletter.store import Archive, Collection


class Reporter(Protocol):
    def start(self, label: str) -> Callable[[int], None]: ...
    def warn(self, message: str) -> None: ...


class NullReporter:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def start(self, label: str) -> Callable[[int], None]:
        return lambda n: None

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class Seams:
    """The I/O a run uses, replaceable in tests and in the demo."""

    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    sleep: Callable[[float], None] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    session_factory: Callable[[], object] | None = None

    def http(self, cfg: Config, service: str, min_interval: float = 0.0) -> HttpClient:
        h = cfg.http
        kwargs = {}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        if self.session_factory is not None:
            kwargs["session"] = self.session_factory()
        return HttpClient(
            user_agent=h["user_agent"], timeout=float(h["timeout"]), retries=int(h["retries"]),
            backoff=float(h["backoff"]), max_wait=float(h["max_wait"]), min_interval=min_interval,
            clock=lambda: self.now().timestamp(), service=service, **kwargs,
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


@dataclass
class Outcome:
    """What one signal source brought back."""

    posts: list = field(default_factory=list)
    requests: int = 0
    capped: str | None = None
    skipped: str | None = None  # why the source did not run (no credentials)


def collect_x(cfg: Config, seams: Seams, day: date, window, now: datetime, reporter: Reporter) -> Outcome:
    xcfg = cfg.x
    token = seams.env.get(xcfg.token_env, "").strip()
    if not token:
        return Outcome(skipped=f"${xcfg.token_env} is not set")
    r = x_source.search_posts(seams.http(cfg, "X"), xcfg, token, window, now, clock=seams.now,
                              on_page=reporter.start("X posts"))
    return Outcome(r.posts, r.requests, r.capped)


def collect_huggingface(cfg: Config, seams: Seams, day: date, window, now: datetime, reporter: Reporter) -> Outcome:
    hcfg = cfg.huggingface
    days = hf_source.days_in(window, day)
    posts, n, capped = hf_source.fetch_daily_papers(seams.http(cfg, "Hugging Face"), hcfg, days, clock=seams.now)
    return Outcome(posts, n, capped)


def collect_hackernews(cfg: Config, seams: Seams, day: date, window, now: datetime, reporter: Reporter) -> Outcome:
    c = cfg.source("hackernews")
    r = hn_source.search(seams.http(cfg, "Hacker News"), c["api_url"], list(c["queries"]), window,
                         max_requests=int(c["max_requests"]), clock=seams.now)
    return Outcome(r.posts, r.requests, r.capped)


def collect_bluesky(cfg: Config, seams: Seams, day: date, window, now: datetime, reporter: Reporter) -> Outcome:
    c = cfg.source("bluesky")
    handle, password = seams.env.get(c["handle_env"], "").strip(), seams.env.get(c["password_env"], "").strip()
    if not (handle and password):
        return Outcome(skipped=f"${c['handle_env']} and ${c['password_env']} are not set")
    http = seams.http(cfg, "Bluesky")
    token = bsky_source.login(http, c["api_url"], handle, password)
    r = bsky_source.search(http, c["api_url"], token, c["query"], window, max_requests=int(c["max_requests"]) - 1,
                           clock=seams.now)
    return Outcome(r.posts, r.requests + 1, r.capped)


COLLECTORS = {"x": collect_x, "huggingface": collect_huggingface, "hackernews": collect_hackernews,
              "bluesky": collect_bluesky}


def fetch_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
              reporter: Reporter | None = None, strict: bool = False) -> FetchSummary:
    """Collect a day's papers and signals into the archive (network). Signal
    sources are independent: one that fails is skipped with a warning kept on
    the issue, unless ``strict``. arXiv failing is always fatal."""
    seams = seams or Seams()
    reporter = reporter or NullReporter()
    mailing.require_mailing_day(day)
    summary = FetchSummary(day)
    now = seams.now()
    if mailing.announced_at(day) > now:
        raise SourceError(f"the mailing of {day} is announced at {mailing.announced_at(day):%Y-%m-%d %H:%M} UTC; "
                          "fetch it after that")
    notes: list[str] = []

    def warn(msg: str) -> None:
        summary.warnings.append(msg)
        notes.append(msg)
        reporter.warn(msg)

    # -- arXiv: fatal when it fails
    ax = cfg.arxiv
    http = seams.http(cfg, "arXiv", min_interval=float(ax["delay_seconds"]))
    http.retries = int(ax["retries"])
    papers = None
    started = seams.now()
    tick = reporter.start("arXiv papers")
    if day == mailing.latest_mailing(now):
        try:
            rss_day, rss_papers = arxiv_source.fetch_rss(http, ax["rss_url"], cfg.categories)
        except SourceError as exc:  # the API has the same papers: use it instead
            reporter.warn(f"arXiv RSS failed ({exc}); asking the API instead")
            rss_day, rss_papers = None, []
        if rss_day == day:
            papers, summary.arxiv_via = rss_papers, "RSS"
    if papers is None:
        papers = arxiv_source.fetch_api(
            http, ax["api_url"], cfg.categories, mailing.submission_window(day),
            page_size=int(ax["page_size"]), max_results=int(ax["max_results"]), on_page=tick,
        )
        summary.arxiv_via = "API"
    tick(len(papers))
    archive.save_day_papers(day, papers)
    summary.papers = len(papers)
    summary.requests["arxiv"] = http.request_count
    archive.record_collection(Collection(day, "arxiv", started, seams.now(), "ok", summary.arxiv_via,
                                         http.request_count, len(papers)))

    if not papers:
        notes.append("arXiv announced no new papers in these categories")
        archive.save_issue(day, seams.now(), 0, notes)
        raise NoMailing(f"arXiv announced no new papers in {', '.join(cfg.categories)} on {day} "
                        "(a holiday?); nothing to publish")

    window = mailing.signal_window(day, cfg.window_hours, now)
    for name, collect in COLLECTORS.items():
        if not cfg.source(name)["enabled"]:
            continue
        started = seams.now()
        try:
            outcome = collect(cfg, seams, day, window, now, reporter)
        except SourceError as exc:
            if strict:
                raise
            warn(f"{source_label(name)} failed and was skipped: {exc}")
            archive.record_collection(Collection(day, name, started, seams.now(), "failed", str(exc), 0, 0))
            continue
        if outcome.skipped:
            warn(f"{source_label(name)} skipped: {outcome.skipped}")
            archive.record_collection(Collection(day, name, started, seams.now(), "skipped", outcome.skipped, 0, 0))
            continue
        archive.save_posts(outcome.posts)
        summary.posts[name] = len(outcome.posts)
        summary.requests[name] = outcome.requests
        if outcome.capped:
            warn(outcome.capped)
        archive.record_collection(Collection(day, name, started, seams.now(), "capped" if outcome.capped else "ok",
                                             outcome.capped or "", outcome.requests, len(outcome.posts)))

    # -- oEmbed, only for the posts the issue will display
    ranked = rank(archive.day_papers(day), archive.day_posts(day), RankingRule.from_config(cfg.ranking))
    summary.ranked = len(ranked)
    xcfg = cfg.x
    if xcfg.enabled and seams.env.get(xcfg.token_env, "").strip():
        ohttp = seams.http(cfg, "X oEmbed")
        missing = [p for rp in ranked for p in rp.displayed_posts if p.source == "x" and not p.embed_html]
        tick = reporter.start("X embeds")
        failed: list[str] = []
        for i, post in enumerate(missing, start=1):
            try:
                html = x_source.fetch_oembed(ohttp, xcfg.oembed_url, post)
            except SourceError as exc:
                failed.append(f"{post.url}: {exc}")
                continue
            if html:
                archive.set_embed(post.source, post.post_id, html)
                summary.embeds += 1
            tick(i)
        if failed:
            warn(f"X oEmbed failed for {len(failed)} of {len(missing)} posts (first: {failed[0]}); "
                 "static quotes are shown for them")
        summary.requests["x_oembed"] = ohttp.request_count
    archive.save_issue(day, seams.now(), len(papers), notes)
    return summary


def load_issue(cfg: Config, archive: Archive, day: date) -> Issue:
    """The issue of a day, entirely from the archive (no network, no clock)."""
    record = archive.issue(day)
    if record is None:
        raise ArchiveError(f"nothing archived for {day}; run 'newsletter fetch --date {day}' first")
    ranked = rank(archive.day_papers(day), archive.day_posts(day), RankingRule.from_config(cfg.ranking))
    return Issue(date=day, title=cfg.title, created_at=record.created_at, papers=tuple(ranked),
                 paper_count=record.paper_count, notes=record.notes)


@dataclass
class BuildSummary:
    day: date
    files: list[Path]
    ranked: int

    def line(self) -> str:
        return f"{self.day}: {self.ranked} papers ranked, {len(self.files)} files written"


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


def build_day(cfg: Config, day: date, archive: Archive) -> BuildSummary:
    """Render a day's outputs from the archive, then write them atomically.
    Everything is rendered before anything is written, so a failure leaves
    the previously published files as they were."""
    issue = load_issue(cfg, archive, day)
    if not issue.papers:
        raise NothingToPublish(
            f"no paper of {day} reached {cfg.ranking['min_paper_score']} points "
            f"({issue.paper_count} papers archived); nothing was written"
        )
    templates = str(cfg.templates_dir) if cfg.templates_dir else None
    outputs: dict[Path, str | bytes] = {cfg.posts_dir / post_filename(day): render_post(issue, templates)}
    feeds = render_feeds(recent_issues(cfg, archive, int(cfg.feeds["issues"])),
                         FeedSettings.from_config(cfg), templates)
    outputs.update({cfg.feeds_dir / name: data for name, data in feeds.items()})
    email = render_email(issue, EmailSettings.from_config(cfg), templates)
    outputs[cfg.email_dir / f"{day.isoformat()}.html"] = email.html
    outputs[cfg.email_dir / f"{day.isoformat()}.txt"] = email.text
    paths = [write_atomic(path, data) for path, data in outputs.items()]
    return BuildSummary(day, paths, len(issue.papers))


# ---------------------------------------------------------------- delivery
@dataclass
class SendOptions:
    dry_run: bool = False
    to: str | None = None


def render_issue_email(cfg: Config, archive: Archive, day: date):
    issue = load_issue(cfg, archive, day)
    if not issue.papers:
        raise NothingToPublish(f"no paper of {day} reached {cfg.ranking['min_paper_score']} points; nothing to send")
    templates = str(cfg.templates_dir) if cfg.templates_dir else None
    return render_email(issue, EmailSettings.from_config(cfg), templates)


def smtp_mailer(cfg: Config, env: Mapping[str, str]):
    password = env.get(cfg.smtp["password_env"], "")
    if cfg.smtp["username"] and not password:
        raise ConfigError(f"[smtp] username is set but ${cfg.smtp['password_env']} is empty; export the password")
    return deliver.SMTPMailer(cfg.smtp, password)


def send_day(cfg: Config, day: date, archive: Archive, options: SendOptions, seams: Seams | None = None,
             mailer=None, on_progress=None):
    """Send (or dry-run) a day's email to its subscribers; see deliver.py."""
    seams = seams or Seams()
    mailing.require_mailing_day(day)
    rendered = render_issue_email(cfg, archive, day)
    settings = MessageSettings.from_config(cfg, seams.env)
    if options.dry_run:
        folder = cfg.resolve(cfg.delivery["outbox"]) / day.isoformat()
        return deliver.dry_run(archive, day, rendered, settings, folder, now=seams.now)
    mailer = mailer or smtp_mailer(cfg, seams.env)
    if options.to:
        address = check_address(options.to)
        data = to_bytes(compose(rendered, address, "", settings, day, seams.now()), settings.dkim)
        try:
            return mailer.send(settings.from_address, address, data)
        finally:
            mailer.close()
    return deliver.send_issue(archive, day, rendered, settings, mailer, now=seams.now,
                              sleep=seams.sleep or time.sleep, max_attempts=cfg.delivery["max_attempts"],
                              backoff=float(cfg.delivery["retry_backoff"]), on_progress=on_progress)
