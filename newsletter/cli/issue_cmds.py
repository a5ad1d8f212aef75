"""Commands for an issue: fetch, build, run, rank, preview, send, status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional
from urllib.parse import urlsplit

import typer

from newsletter.cli.app import (ArchivedDateOpt, DateOpt, Progressing, ReplaceOpt, StrictOpt, WeekOpt, app,
                                archived_day, config, day, given_day, open_archive, out, say, week)
from newsletter.errors import NewsletterError
from newsletter.text import collapse

if TYPE_CHECKING:
    from datetime import date

    from newsletter.config import Config
    from newsletter.delivery.send import DryRunSummary, SendSummary
    from newsletter.pipeline import RunSummary
    from newsletter.store import Archive
    from newsletter.fetch import FetchSummary
    from newsletter.weekly import WeekSummary


@app.command()
def fetch(date_: DateOpt = None, week_: WeekOpt = None, strict: StrictOpt = False, replace: ReplaceOpt = False) -> None:
    """Collect a day's (or a week's) papers from arXiv and signals from every enabled source into the archive."""
    cfg = config()
    summary: FetchSummary | WeekSummary
    with open_archive(cfg) as archive, Progressing() as reporter:
        if week_:
            from newsletter.weekly import fetch_week

            summary = fetch_week(cfg, week(week_), archive, reporter=reporter, strict=strict, replace=replace)
        else:
            from newsletter.fetch import fetch_day

            summary = fetch_day(cfg, day(date_), archive, reporter=reporter, strict=strict, replace=replace)
    say(f"Fetched {summary.line()}")


@app.command()
def enrich(date_: ArchivedDateOpt = None, week_: WeekOpt = None) -> None:
    """Fetch each hot paper's figure (and summary, when \\[summaries] is on) into the archive; 'run' does this itself."""
    from newsletter.cli.app import now

    cfg, given = config(), given_day(date_)
    with open_archive(cfg, create=False) as archive, Progressing() as reporter:
        from newsletter.seams import Seams

        seams = Seams(now=now)
        if week_:
            from newsletter.weekly import enrich_week

            summary = enrich_week(cfg, week(week_), archive, seams, reporter)
        else:
            from newsletter.enrich import enrich_day

            summary = enrich_day(cfg, archived_day(given, archive), archive, seams, reporter)
    say(f"Enriched: {summary.line()}")


@app.command()
def build(date_: ArchivedDateOpt = None, week_: WeekOpt = None) -> None:
    """Write a day's (or a week's) outputs from the archive: post, feeds, email, website (no network)."""
    cfg, given = config(), given_day(date_)
    with open_archive(cfg, create=False) as archive:
        if week_:
            from newsletter.weekly import build_week

            summary = build_week(cfg, week(week_), archive)
        else:
            from newsletter.build import build_day

            summary = build_day(cfg, archived_day(given, archive), archive)
    for path in summary.files:
        out(str(path))
    say(f"Built {summary.line()}")


@app.command()
def run(
    date_: DateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write the emails to the outbox instead of sending.")] = False,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Send the email to subscribers (when there are any).")] = True,
    strict: StrictOpt = False,
    replace: ReplaceOpt = False,
    week_: WeekOpt = None,
) -> None:
    """Fetch a day (or a week), build it, then send it to the subscribers who chose it."""
    from newsletter.pipeline import run_day, run_week

    cfg = config()
    when = week(week_) if week_ else day(date_)
    with open_archive(cfg) as archive, Progressing() as reporter:
        try:
            if week_:
                result = run_week(cfg, when, archive, reporter=reporter, strict=strict, replace=replace,
                                  send=send, dry_run=dry_run, on_progress=reporter.counter("Sending"))
            else:  # the scheduled run (no --date) catches up on mailings missed while the machine was off
                result = run_day(cfg, when, archive, reporter=reporter, strict=strict, replace=replace, send=send,
                                 dry_run=dry_run, on_progress=reporter.counter("Sending"), catching_up=date_ is None)
        except NewsletterError as exc:
            _report(cfg, archive, when, None, str(exc))
            raise
        _report(cfg, archive, when, result, "")
        from newsletter.cli.app import now
        from newsletter.report import list_health

        health = list_health(archive, now())
    for path in result.built.files:
        out(str(path))
    say(result.line())
    say(health)
    if not send:
        return
    if result.sent is None:
        say("No subscribers: nothing to send (add some with 'newsletter subscribers add').")
    else:
        report_send(result.sent)


def _report(cfg: Config, archive: Archive, when: date, result: RunSummary | None, error: str) -> None:
    """The operator's report ([report] to / webhook_url), when one is configured."""
    if not (cfg.report.to or cfg.report.webhook_url):
        return
    from newsletter.cli.app import now
    from newsletter.report import deliver_report, run_report
    from newsletter.seams import Seams

    for line in deliver_report(cfg, run_report(cfg, archive, when, result, error, now()), Seams()):
        say(line)


@app.command("rank")
def rank_cmd(
    date_: ArchivedDateOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many papers.", min=1)] = 50,
) -> None:
    """Show a day's ranking from the archive: rank, score, figures, title."""
    from rich.console import Console
    from rich.table import Table

    from newsletter import mailing
    from newsletter.issues import load_issue

    cfg, given = config(), given_day(date_)
    with open_archive(cfg, create=False) as archive:
        d = archived_day(given, archive)
        mailing.require_mailing_day(d)
        issue = load_issue(cfg, archive, d)
    table = Table(title=f"{collapse(cfg.title)} {d}: {len(issue.papers)} of {issue.paper_count} papers ranked")
    for col in ("#", "score"):
        table.add_column(col, justify="right")
    for col in ("figures", "arXiv", "title"):
        table.add_column(col, justify="left")
    for rp in issue.papers[:limit]:
        figs = "; ".join(
            f"{f.source} " + " ".join(f"{k} {v}" for k, v in sorted(f.totals.items()) if k != "posts")
            for f in rp.figures)
        table.add_row(str(rp.rank), str(rp.score), collapse(figs), rp.paper.arxiv_id, collapse(rp.paper.title))
    Console().print(table, markup=False, highlight=False)
    for note in issue.notes:
        out(f"note: {note}")


@app.command()
def preview(
    date_: ArchivedDateOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).", min=0, max=65535)] = 8765,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser if there is one.")] = True,
) -> None:
    """Serve the website (site_dir) and a day's email (/email/, text at /email/text) on 127.0.0.1 until Ctrl-C."""
    import webbrowser

    from newsletter.deliver import render_issue_email
    from newsletter.preview import make_server

    cfg, given = config(), given_day(date_)
    with open_archive(cfg, create=False) as archive:
        d = given or next(iter(archive.site_entries_days()), None)
        email = render_issue_email(cfg, archive, d) if d else None
    if email is None and not (cfg.site_dir / "index.html").exists():
        raise NewsletterError("nothing to preview yet: run 'newsletter build' (or 'newsletter demo') first")
    try:
        server = make_server(email, port, cfg.site_dir, prefix=urlsplit(cfg.site_url).path)
    except OSError as exc:
        raise NewsletterError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port 0") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    say(f"Previewing the site at {url}" + (f" and the email of {d} at {url}email/ (text at {url}email/text)"
                                              if email else "") + "; Ctrl-C to stop")
    out(url)
    if open_browser:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass
    try:
        server.serve_forever()
    finally:
        server.server_close()


def report_send(result: SendSummary | DryRunSummary) -> None:
    """A send's or a dry run's files, failures and summary line; exit code 5
    when some recipients failed or were deferred."""
    from newsletter.delivery.send import DryRunSummary, SomeFailed

    if isinstance(result, DryRunSummary):
        for path in result.files:
            out(str(path))
        for skipped in result.skipped:
            say(f"Skipped: {skipped}")
        say(result.line())
        return
    for failure in result.failures:
        say(f"Failed: {failure}")
    say(f"Sent {result.line()}")
    if result.failed or result.deferred:
        option = f"--week {result.key}" if result.key.is_week else f"--date {result.key}"
        raise SomeFailed(f"{result.failed} failed, {result.deferred} deferred; "
                         f"'newsletter send {option}' retries the deferred ones")


@app.command("send")
def send_cmd(
    date_: ArchivedDateOpt = None,
    week_: WeekOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write each message to {outbox}/{date}/ as .eml; "
                                          "no connection, no ledger change.")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Send one copy to this address, outside the ledger.")] = None,
) -> None:
    """Send a built day's email to every subscriber who has not had it (resumes after a crash)."""
    from newsletter import deliver
    from newsletter.issues import publishable_issue

    cfg, given = config(), given_day(date_)
    with open_archive(cfg, create=False) as archive, Progressing() as reporter:
        if week_:
            from newsletter.weekly import publishable_week

            issue = publishable_week(cfg, archive, week(week_), "nothing to send")
        else:
            issue = publishable_issue(cfg, archive, archived_day(given, archive), "nothing to send")
        if to:
            reply = deliver.send_copy(cfg, issue, archive, to)
            say(f"Sent one copy of {issue.key} to {to} ({reply}); the ledger is unchanged")
            return
        result = (deliver.dry_run(cfg, issue, archive) if dry_run
                  else deliver.send(cfg, issue, archive, on_progress=reporter.counter("Sending")))
    report_send(result)


@app.command()
def status(date_: ArchivedDateOpt = None, week_: WeekOpt = None) -> None:
    """Delivery counts for a day (or a week): sent, queued, deferred, failed, nothing; and the web app's outbox."""
    from rich.console import Console
    from rich.table import Table

    from newsletter import mailing
    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.cli.app import now
    from newsletter.delivery.outbox import Outbox
    from newsletter.models import IssueKey
    from newsletter.report import list_health

    cfg, given = config(), given_day(date_)
    monday = week(week_) if week_ else None
    with open_archive(cfg, create=False) as archive:
        key = (IssueKey.of_week(mailing.week_key(monday)) if monday
               else IssueKey.of_day(archived_day(given, archive)))
        store = SubscriberStore(archive)
        counts = store.counts(key)
        subscribed, pending = store.pending(key)
        rows = store.deliveries(key)
        queue = Outbox(archive).counts()
        health = list_health(archive, now())
    table = Table(title=f"Delivery of {key}")
    for col in ("status", "count"):
        table.add_column(col)
    for k in ("sent", "sending", "queued", "deferred", "failed", "nothing"):
        table.add_row(k, str(counts.get(k, 0)))
    Console().print(table)
    for r in rows:
        if r.status in ("failed", "deferred", "nothing"):
            out(f"{r.status}: {r.email}: {r.reply}")
    if queue.get("queued") or queue.get("failed") or queue.get("sending"):
        say(f"Web app outbox: {queue.get('queued', 0) + queue.get('sending', 0)} confirmations waiting, "
            f"{queue.get('failed', 0)} failed ('newsletter serve' sends them, or 'newsletter outbox send')")
    say(health)
    say(f"{key}: {counts.get('sent', 0)} sent, {pending} of {subscribed} subscribers still to send")


@app.command("issues")
def issues_cmd(
    limit: Annotated[int, typer.Option(help="Show at most this many days (newest first).", min=1)] = 30,
) -> None:
    """The archived days and weeks: papers announced, hot papers, whether each was built and sent."""
    from newsletter.issues import issue_overview

    cfg = config()
    with open_archive(cfg, create=False) as archive:
        rows = issue_overview(cfg, archive, limit)
    for r in rows:
        out("\t".join((r.key, str(r.papers), r.hot, "built" if r.built else "not built", r.sent)))
    say(f"{len(rows)} issue{'s' if len(rows) != 1 else ''} archived" + (" (newest first; --limit for more)"
                                                                        if len(rows) == limit else ""))
