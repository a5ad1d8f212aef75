"""The daily and weekly jobs: fetch, then build, then send when there are
subscribers. Each stage is its own module (fetch, build, deliver; weekly
for the week's issue; enrich for the hot papers' figures and summaries);
this one only wires them in order: fetch, enrich, build, send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from newsletter import deliver, mailing
from newsletter.build import BuildSummary, build_day
from newsletter.config import Config
from newsletter.enrich import EnrichSummary, enrich_day
from newsletter.errors import NoMailing, NothingToPublish
from newsletter.fetch import FetchSummary, fetch_day
from newsletter.issues import load_issue
from newsletter.models import Issue
from newsletter.seams import Seams
from newsletter.sources.base import Reporter
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.delivery.send import DryRunSummary, SendSummary
    from newsletter.weekly import WeekSummary


@dataclass
class RunSummary:
    fetched: FetchSummary | WeekSummary
    built: BuildSummary
    sent: SendSummary | DryRunSummary | None = None  # None: there was no one to send to
    caught_up: list[str] = field(default_factory=list)  # "2026-07-29 built", "2026-07-30 no mailing"...
    enriched: EnrichSummary | None = None

    def line(self) -> str:
        caught = f"; caught up {', '.join(self.caught_up)} (not sent)" if self.caught_up else ""
        enriched = f"; {self.enriched.line()}" if self.enriched else ""
        return f"Done {self.fetched.line()}{enriched}; {self.built.line()}{caught}"


def missed_days(cfg: Config, archive: Archive, day: date) -> list[date]:
    """The mailing days between the newest archived issue and ``day`` that the
    archive lacks (the machine was off), the newest ``[run] catch_up_days``."""
    archived = archive.issue_days()
    if not archived or cfg.run.catch_up_days == 0:
        return []
    missed: list[date] = []
    d = day - timedelta(days=1)
    while d > archived[0] and len(missed) < cfg.run.catch_up_days:
        if mailing.is_mailing_day(d):
            missed.append(d)
        d -= timedelta(days=1)
    return sorted(missed)


def catch_up(cfg: Config, archive: Archive, day: date, seams: Seams, reporter: Reporter | None,
             *, strict: bool = False) -> list[str]:
    """Fetch and build each missed mailing before ``day``, so the site, feeds
    and archive have no holes; nothing is sent for them."""
    done = []
    for d in missed_days(cfg, archive, day):
        try:
            fetch_day(cfg, d, archive, seams, reporter, strict=strict)
            enrich_day(cfg, d, archive, seams, reporter)
            build_day(cfg, d, archive)
            done.append(f"{d} built")
        except NoMailing:
            done.append(f"{d} no mailing")
        except NothingToPublish:
            done.append(f"{d} nothing hot")
    return done


def _then_send(cfg: Config, archive: Archive, seams: Seams, summary: RunSummary, issue: Callable[[], Issue],
               send: bool, dry_run: bool, on_progress: Callable[[int, int], None] | None) -> RunSummary:
    """The job's last step: send the built issue when there are subscribers."""
    from newsletter.delivery.ledger import SubscriberStore

    if send and SubscriberStore(archive).has_subscribers():
        summary.sent = (deliver.dry_run(cfg, issue(), archive, seams) if dry_run
                        else deliver.send(cfg, issue(), archive, seams, on_progress=on_progress))
    return summary


def run_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None, reporter: Reporter | None = None,
            *, strict: bool = False, replace: bool = False, send: bool = True, dry_run: bool = False,
            on_progress: Callable[[int, int], None] | None = None, catching_up: bool = False) -> RunSummary:
    """The daily job: fetch, build, then send when there are subscribers.
    ``catching_up`` first fetches and builds the mailings missed since the
    newest archived issue (the cron job of a machine that was off)."""
    seams = seams or Seams()
    caught = catch_up(cfg, archive, day, seams, reporter, strict=strict) if catching_up else []
    fetched = fetch_day(cfg, day, archive, seams, reporter, strict=strict, replace=replace)
    enriched = enrich_day(cfg, day, archive, seams, reporter)
    summary = RunSummary(fetched, build_day(cfg, day, archive), caught_up=caught, enriched=enriched)
    return _then_send(cfg, archive, seams, summary, lambda: load_issue(cfg, archive, day), send, dry_run, on_progress)


def run_week(cfg: Config, day: date, archive: Archive, seams: Seams | None = None, reporter: Reporter | None = None,
             *, strict: bool = False, replace: bool = False, send: bool = True, dry_run: bool = False,
             on_progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """The weekly job: the week's fetch, its build, then its send to the
    readers who chose the weekly issue."""
    from newsletter.weekly import build_week, enrich_week, fetch_week, load_week

    seams = seams or Seams()
    fetched = fetch_week(cfg, day, archive, seams, reporter, strict=strict, replace=replace)
    enriched = enrich_week(cfg, day, archive, seams, reporter)
    summary = RunSummary(fetched, build_week(cfg, day, archive), enriched=enriched)
    return _then_send(cfg, archive, seams, summary, lambda: load_week(cfg, archive, day), send, dry_run, on_progress)
