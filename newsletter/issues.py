"""An issue as the archive holds it: the day's ranking (ranked once and
stored), the issue record, and the error that says why nothing is published.
Every stage after fetching reads issues through here, offline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from newsletter import mailing
from newsletter.config import Config
from newsletter.errors import ArchiveError, NothingToPublish
from newsletter.models import Issue, Post, RankedPaper
from newsletter.rank import RankingRule, left_out_for_pdf, rank
from newsletter.store import Archive


def load_issue(cfg: Config, archive: Archive, day: date) -> Issue:
    """The issue of a day, entirely from the archive (no network, no clock)."""
    record = archive.issue(day)
    if record is None:
        raise ArchiveError(f"nothing archived for {day}; run 'newsletter fetch --date {day}' first")
    return with_media(cfg, archive, Issue(date=day, title=cfg.title, created_at=record.created_at,
                                          papers=ranked_papers(cfg, archive, day), paper_count=record.paper_count,
                                          notes=record.notes))


def with_media(cfg: Config, archive: Archive, issue: Issue) -> Issue:
    """The issue with what the enrich stage stored for its papers: figures,
    and summaries in the issue's language when summaries are on."""
    from newsletter.enrich.store import MediaStore

    store = MediaStore(archive)
    ids = [r.paper.arxiv_id for r in issue.papers]
    s = cfg.summaries
    return replace(issue, figures=store.figures(ids),
                   summaries=store.summaries(ids, s.model, s.language) if s.enabled else {})


def publishable_issue(cfg: Config, archive: Archive, day: date, what: str) -> Issue:
    """A mailing day's issue that has ranked papers, or NothingToPublish
    saying why not and ``what`` (e.g. "nothing was written")."""
    mailing.require_mailing_day(day)
    issue = load_issue(cfg, archive, day)
    if not issue.papers:
        raise nothing_to_publish(cfg, archive, issue, what)
    return issue


def ranked_papers(cfg: Config, archive: Archive, day: date) -> tuple[RankedPaper, ...]:
    """A day's ranking, ranked once and stored: later builds, sends and
    feeds read the stored one, until anything it was made from changes (the
    archive drops it then) or the rule does (``ranking_key``)."""
    return archive.ranked_once(day, ranking_key(cfg), lambda: rank(
        archive.day_papers(day), daily_posts(cfg, archive, day), RankingRule.from_config(cfg.ranking)))


def ranking_key(cfg: Config) -> str:
    """What a stored ranking was made under: the rule, the daily window,
    and the code (a new version may rank or store differently)."""
    rule = RankingRule.from_config(cfg.ranking)
    return repr((rule.min_paper_score, rule.min_post_score, rule.max_posts_per_paper, sorted(rule.weights.items()),
                 cfg.window_hours, code_hash()))


@lru_cache(maxsize=1)
def code_hash() -> str:
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def daily_posts(cfg: Config, archive: Archive, day: date) -> list[Post]:
    """The posts that count for a day's issue: those made until ``window_hours``
    after its announcement (later ones, fetched for the weekly issue, do not
    change a daily issue after the fact)."""
    cutoff = mailing.daily_cutoff(day, cfg.window_hours)
    return [p for p in archive.day_posts(day) if p.created_at is None or p.created_at <= cutoff]


def nothing_to_publish(cfg: Config, archive: Archive, issue: Issue, what: str) -> NothingToPublish:
    """Why an issue has no paper: nothing reached the threshold, or what did had no PDF."""
    rule = RankingRule.from_config(cfg.ranking)
    no_pdf = left_out_for_pdf(archive.day_papers(issue.date), daily_posts(cfg, archive, issue.date), rule)
    threshold = f"{rule.min_paper_score:g}"
    if no_pdf:
        return NothingToPublish(f"{no_pdf} paper{'s' if no_pdf != 1 else ''} of {issue.date} reached {threshold} "
                                f"points but {'were' if no_pdf != 1 else 'was'} left out for lack of a PDF; {what}")
    return NothingToPublish(f"no paper of {issue.date} reached {threshold} points "
                            f"({issue.paper_count} papers archived); {what}")


class IssueCache:
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


@dataclass(frozen=True)
class Overview:
    """One archived issue as ``newsletter issues`` lists it."""

    key: str
    papers: int  # announced in the configured categories
    hot: str  # papers in the issue ("-" when not ranked yet)
    built: bool
    sent: str  # "12 sent", "not sent"


def issue_overview(cfg: Config, archive: Archive, limit: int) -> list[Overview]:
    """The newest ``limit`` archived days, and the archived weeks, newest
    first; read from the archive and the output folders, nothing computed."""
    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.models import IssueKey
    from newsletter.render.markdown import post_filename

    store = SubscriberStore(archive)
    key = ranking_key(cfg)

    def sent(k: IssueKey) -> str:
        n = store.counts(k).get("sent", 0)
        return f"{n} sent" if n else "not sent"

    rows = []
    for d in archive.issue_days()[:limit]:
        record = archive.issue(d)
        ranked = archive.ranked(d, key)
        rows.append(Overview(d.isoformat(), record.paper_count if record else 0,
                             str(len(ranked)) if ranked is not None else "-",
                             (cfg.posts_dir / post_filename(d)).exists(), sent(IssueKey.of_day(d))))
    for w in archive.weeks()[:limit]:
        days = mailing.week_mailings(mailing.parse_week(w))
        papers = sum(archive.day_paper_count(d) for d in days)
        built = (cfg.posts_dir / f"{w}---Hot-Papers-of-the-Week.md").exists()
        rows.append(Overview(w, papers, "-", built, sent(IssueKey.of_week(w))))
    def when(r: Overview) -> tuple[date, int]:  # a week right above its own days
        week = "W" in r.key
        return (mailing.parse_week(r.key) + timedelta(days=4) if week else date.fromisoformat(r.key), int(week))

    return sorted(rows, key=when, reverse=True)
