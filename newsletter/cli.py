"""The command line. It parses options, calls the library and prints; the
library's errors become one ``Error: ...`` line and an exit code, in one
place (``_Group.invoke``). Stages are imported inside the commands that use
them, so ``newsletter --help`` starts fast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from newsletter.errors import EXIT_ERROR, NewsletterError
from newsletter.text import collapse, strip_control

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.pipeline import Seams

FIRST_ARXIV_DAY = date(1991, 8, 14)


class _Group(TyperGroup):
    """Every command runs through here: expected errors are one line and an
    exit code; unexpected ones too, unless --debug (then the traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except NewsletterError as exc:
            if state.debug:
                raise
            say(f"Error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            say("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as exc:
            if type(exc).__module__.startswith("typer.") or state.debug:  # usage errors: Typer prints them
                raise
            say(f"Error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    name="newsletter",
    cls=_Group,
    help=(
        "Hot Papers: each arXiv mailing day's papers ranked by the attention they got on "
        "social media, published as a Markdown post, feeds and an email.\n\n"
        "Typical day: 'newsletter run' (fetch + build the latest mailing, then send). "
        "Exit codes: 0 ok, 1 error, 3 no arXiv mailing that day, 4 nothing reached the threshold, "
        "5 some recipients failed or were deferred."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class State:
    config_path: Optional[str] = None
    debug: bool = False
    quiet: bool = False


state = State()


@app.callback()
def _main(
    config: Annotated[Optional[str], typer.Option(
        "--config", "-c", help="Config file (default: $NEWSLETTER_CONFIG or ./newsletter.toml).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output; errors and summary only.")] = False,
) -> None:
    state.config_path = config
    state.debug = debug
    state.quiet = quiet


def say(message: str) -> None:
    """One line for the user on stderr: never wrapped, no control characters."""
    typer.echo(collapse(message), err=True)


def out(line: str) -> None:
    """A result on stdout (file paths, tab-separated rows), one per line."""
    typer.echo(strip_control(line).replace("\r", " ").replace("\n", " "))


class ProgressReporter:
    """Progress bars on stderr (when it is a terminal) and one-line warnings."""

    def __init__(self, progress: Any):
        self.progress = progress

    def start(self, label: str) -> Callable[[int], None]:
        if self.progress is None:
            return lambda n: None
        task = self.progress.add_task(label, total=None)
        return lambda n: self.progress.update(task, completed=n)

    def warn(self, message: str) -> None:
        line = f"Warning: {collapse(message)}"
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True, style="yellow")
        else:
            typer.echo(line, err=True)


def _progress() -> Any:
    import sys

    if state.quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


class _Progressing:
    """``with _Progressing() as reporter``: a live progress display if any."""

    def __enter__(self) -> ProgressReporter:
        self.progress = _progress()
        if self.progress is not None:
            self.progress.__enter__()
        return ProgressReporter(self.progress)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def _config() -> "Config":
    from newsletter import config as config_mod

    return config_mod.load(state.config_path)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _day(value: Optional[str]) -> date:
    from newsletter import mailing

    if value is None:
        return mailing.latest_mailing(_now())
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise NewsletterError(f"--date must look like YYYY-MM-DD, not {collapse(value)[:40]!r}") from None
    if day < FIRST_ARXIV_DAY:
        raise NewsletterError(f"--date {day} is before arXiv existed (August 1991); pick a later date")
    if day > _now().date() + timedelta(days=7):
        raise NewsletterError(f"--date {day} is in the future; arXiv has not announced it yet")
    return day


def _archive(cfg: "Config") -> Any:
    from newsletter.files import check_output_dirs
    from newsletter.store import Archive

    check_output_dirs({"[store] path": cfg.store_path.parent})
    return Archive(cfg.store_path)


DateOpt = Annotated[Optional[str], typer.Option(
    "--date", "-d", help="arXiv mailing date YYYY-MM-DD (default: the latest mailing).", show_default=False)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail when any signal source fails (default: skip it "
                                                           "with a warning kept on the issue).")]
WeekOpt = Annotated[Optional[str], typer.Option(
    "--week", "-w", help="The weekly issue of this date's ISO week (any date of it, or 2026-W31) instead of a day.",
    show_default=False)]


def _week(value: str) -> date:
    from newsletter import mailing

    try:
        monday = mailing.parse_week(value)
    except ValueError:
        raise NewsletterError(f"--week must be a date YYYY-MM-DD or a week YYYY-Www, not {collapse(value)[:40]!r}") \
            from None
    _day(monday.isoformat())  # the same limits as a day
    return monday


ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Replace the archived papers of the day even when "
                                                             "arXiv now answers with fewer.")]


def _fetch(cfg: "Config", day: date, seams: "Seams | None" = None, strict: bool = False, replace: bool = False) -> Any:
    from newsletter.pipeline import fetch_day

    with _archive(cfg) as archive, _Progressing() as reporter:
        return fetch_day(cfg, day, archive, seams, reporter, strict=strict, replace=replace)


def _build(cfg: "Config", day: date) -> Any:
    from newsletter.pipeline import build_day

    with _archive(cfg) as archive:
        return build_day(cfg, day, archive)


@app.command()
def fetch(date_: DateOpt = None, week: WeekOpt = None, strict: StrictOpt = False, replace: ReplaceOpt = False) -> None:
    """Collect a day's (or a week's) papers from arXiv and signals from every enabled source into the archive."""
    cfg = _config()
    if week:
        from newsletter.weekly import fetch_week

        with _archive(cfg) as archive, _Progressing() as reporter:
            ws = fetch_week(cfg, _week(week), archive, reporter=reporter, strict=strict, replace=replace)
        say(f"Fetched {ws.line()}")
        return
    summary = _fetch(cfg, _day(date_), strict=strict, replace=replace)
    say(f"Fetched {summary.line()}")


@app.command()
def build(date_: DateOpt = None, week: WeekOpt = None) -> None:
    """Write a day's (or a week's) outputs from the archive: post, feeds, email, website (no network)."""
    cfg = _config()
    if week:
        from newsletter.weekly import build_week

        with _archive(cfg) as archive:
            wb = build_week(cfg, _week(week), archive)
        for path in wb.files:
            out(str(path))
        say(f"Built {wb.line()}")
        return
    summary = _build(cfg, _day(date_))
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
    week: WeekOpt = None,
) -> None:
    """Fetch a day (or a week), build it, then send it to the subscribers who chose it."""
    from newsletter.pipeline import run_day

    cfg = _config()
    if week:
        _run_week(cfg, _week(week), send, dry_run, strict, replace)
        return
    day = _day(date_)
    with _archive(cfg) as archive, _Progressing() as reporter:
        result = run_day(cfg, day, archive, reporter=reporter, strict=strict, replace=replace, send=send,
                         dry_run=dry_run)
    for path in result.built.files:
        out(str(path))
    say(f"Done {result.fetched.line()}; {len(result.built.files)} files written")
    if not send:
        return
    if result.sent is None:
        say("No subscribers: nothing to send (add some with 'newsletter subscribers add').")
    else:
        _report_send(day, result.sent, dry_run)


def _run_week(cfg: "Config", monday: date, send: bool, dry_run: bool, strict: bool, replace: bool) -> None:
    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.weekly import build_week, dry_run_week, fetch_week, send_week

    with _archive(cfg) as archive, _Progressing() as reporter:
        fetched = fetch_week(cfg, monday, archive, reporter=reporter, strict=strict, replace=replace)
        built = build_week(cfg, monday, archive)
        result = None
        if send and SubscriberStore(archive).has_subscribers():
            result = dry_run_week(cfg, monday, archive) if dry_run else send_week(cfg, monday, archive)
    for path in built.files:
        out(str(path))
    say(f"Done {fetched.line()}; {built.line()}")
    if send and result is None:
        say("No subscribers: nothing to send.")
    elif result is not None:
        _report_send(built.week, result, dry_run)  # type: ignore[arg-type]


@app.command("rank")
def rank_cmd(
    date_: DateOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many papers.", min=1)] = 50,
) -> None:
    """Show a day's ranking from the archive: rank, score, figures, title."""
    from rich.console import Console
    from rich.table import Table

    from newsletter import mailing
    from newsletter.pipeline import load_issue

    cfg, day = _config(), _day(date_)
    mailing.require_mailing_day(day)
    with _archive(cfg) as archive:
        issue = load_issue(cfg, archive, day)
    table = Table(title=f"{collapse(cfg.title)} {day}: {len(issue.papers)} of {issue.paper_count} papers ranked")
    for col, justify in (("#", "right"), ("score", "right"), ("figures", "left"), ("arXiv", "left"), ("title", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for rp in issue.papers[:limit]:
        figs = "; ".join(
            f"{f.source} " + " ".join(f"{k} {v}" for k, v in sorted(f.totals.items()) if k != "posts")
            for f in rp.figures)
        table.add_row(str(rp.rank), str(rp.score), collapse(figs), rp.paper.arxiv_id, collapse(rp.paper.title))
    console = Console()
    console.print(table, markup=False, highlight=False)
    for note in issue.notes:
        out(f"note: {note}")


@app.command()
def preview(
    date_: DateOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).", min=0, max=65535)] = 8025,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser if there is one.")] = True,
) -> None:
    """Serve the website (site_dir) and a day's email (/email/, text at /email/text) on 127.0.0.1 until Ctrl-C."""
    import webbrowser

    from newsletter.pipeline import render_issue_email
    from newsletter.preview import make_server

    cfg = _config()
    with _archive(cfg) as archive:
        day = _day(date_) if date_ else next(iter(archive.site_entries_days()), None)
        email = render_issue_email(cfg, archive, day) if day else None
    if email is None and not (cfg.site_dir / "index.html").exists():
        raise NewsletterError("nothing to preview yet: run 'newsletter build' (or 'newsletter demo') first")
    try:
        server = make_server(email, port, cfg.site_dir, prefix=urlsplit(cfg.site_url).path)
    except OSError as exc:
        raise NewsletterError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port 0") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    say(f"Previewing the site at {url}" + (f" and the email of {day} at {url}email/ (text at {url}email/text)"
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


def _report_send(day: date, result: Any, dry_run: bool) -> None:
    from newsletter.delivery.send import SomeFailed

    if dry_run:
        mailer, size = result
        for path in mailer.files:
            out(str(path))
        for skipped in mailer.skipped:
            say(f"Skipped: {skipped}")
        say(f"Dry run {day}: {len(mailer.files)} messages ({size / 1024:.0f} KiB) written"
            f"{f', {len(mailer.nothing)} readers with nothing on their topics' if mailer.nothing else ''}, nothing sent; "
            f"subject: {mailer.subject}")
        return
    for failure in result.failures:
        say(f"Failed: {failure}")
    say(f"Sent {result.line()}")
    if result.failed or result.deferred:
        raise SomeFailed(f"{result.failed} failed, {result.deferred} deferred; "
                         f"'newsletter send --date {day}' retries the deferred ones")


@app.command("send")
def send_cmd(
    date_: DateOpt = None,
    week: WeekOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write each message to {outbox}/{date}/ as .eml; "
                                          "no connection, no ledger change.")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Send one copy to this address, outside the ledger.")] = None,
) -> None:
    """Send a built day's email to every subscriber who has not had it (resumes after a crash)."""
    from newsletter import pipeline

    cfg = _config()
    if week:
        from newsletter.weekly import dry_run_week, send_week

        monday = _week(week)
        with _archive(cfg) as archive:
            result = dry_run_week(cfg, monday, archive) if dry_run else send_week(cfg, monday, archive)
        _report_send(result.day if not dry_run else monday, result, dry_run)
        return
    day = _day(date_)
    with _archive(cfg) as archive:
        if dry_run:
            _report_send(day, pipeline.dry_run_day(cfg, day, archive), True)
        elif to:
            reply = pipeline.send_copy(cfg, day, archive, to)
            say(f"Sent one copy of {day} to {to} ({reply}); the ledger is unchanged")
        else:
            with _Progressing() as reporter:
                progress = reporter.progress
                on_progress = None
                if progress is not None:
                    task = progress.add_task("Sending", total=None)
                    on_progress = lambda n, total: progress.update(task, completed=n, total=total)  # noqa: E731
                result = pipeline.send_day(cfg, day, archive, on_progress=on_progress)
            _report_send(day, result, False)


@app.command()
def status(date_: DateOpt = None) -> None:
    """Delivery counts for a day: sent, queued, deferred, failed."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg, day = _config(), _day(date_)
    with _archive(cfg) as archive:
        store = SubscriberStore(archive)
        counts = store.counts(day)
        subscribed, pending = store.pending(day)
        rows = store.deliveries(day)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Delivery of {day}")
    for col in ("status", "count"):
        table.add_column(col)
    for key in ("sent", "sending", "queued", "deferred", "failed", "nothing"):
        table.add_row(key, str(counts.get(key, 0)))
    Console().print(table)
    for r in rows:
        if r.status in ("failed", "deferred", "nothing"):
            out(f"{r.status}: {r.email}: {r.reply}")
    say(f"{day}: {counts.get('sent', 0)} sent, {pending} of {subscribed} subscribers still to send")


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsletterError(f"cannot read {file}: {exc}") from None


signals_app = typer.Typer(help="Signals from other sources, from files.", no_args_is_help=True)
app.add_typer(signals_app, name="signals")


@signals_app.command("import")
def signals_import(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSON list: arxiv, source, score "
                                              "[, post_id, url, author, text, created_at, other numeric figures].")],
) -> None:
    """Import signals for any source; they count for every archived day that has the paper."""
    from newsletter.pipeline import import_signals

    cfg = _config()
    text = _read_text(file)
    with _archive(cfg) as archive:
        summary = import_signals(archive, text, file.name, _now())
    for e in summary.errors:
        say(f"{file}: {e}")
    say(summary.line(str(file)))
    if summary.errors:
        raise typer.Exit(1)


@signals_app.command("remove")
def signals_remove(
    source: Annotated[str, typer.Argument(help="The source name, e.g. 'mastodon'.")],
    paper: Annotated[Optional[str], typer.Option("--paper", help="Only signals linking this arXiv id.")] = None,
    date_: Annotated[Optional[str], typer.Option("--date", help="Only signals for papers of this mailing day.")] = None,
) -> None:
    """Remove signals of a source from the archive (then 'newsletter build' the days again)."""
    from newsletter.links import normalize_id

    cfg = _config()
    arxiv_id = None
    if paper:
        arxiv_id = normalize_id(paper)
        if not arxiv_id:
            raise NewsletterError(f"--paper {collapse(paper)!r} is not an arXiv id or link")
    day = _day(date_) if date_ else None
    with _archive(cfg) as archive:
        removed = archive.remove_posts(source.strip().lower(), arxiv_id, day)
    say(f"Removed {removed} {collapse(source)} signal{'s' if removed != 1 else ''}")


subscribers_app = typer.Typer(help="Manage subscribers (kept in the archive).", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")


CategoriesOpt = Annotated[Optional[str], typer.Option(
    "--categories", help="Comma-separated arXiv categories, e.g. cs.LG,cs.CV ('cs' = all of cs).")]
KeywordsOpt = Annotated[Optional[str], typer.Option(
    "--keywords", help='Comma-separated words or phrases, e.g. "diffusion, RLHF".')]
AuthorsOpt = Annotated[Optional[str], typer.Option("--authors", help="Comma-separated author names.")]
MaxPapersOpt = Annotated[Optional[int], typer.Option("--max-papers", help="Papers per email: 5, 10 or 20.")]
FrequencyOpt = Annotated[Optional[str], typer.Option("--frequency", help="daily, weekly or both.")]


def _prefs(cfg: "Config", base: Any, categories: Optional[str], keywords: Optional[str], authors: Optional[str],
           max_papers: Optional[int], frequency: Optional[str]) -> Any:
    from newsletter.delivery.preferences import BadPreference, parse

    if all(v is None for v in (categories, keywords, authors, max_papers, frequency)):
        return None
    try:
        return parse(categories=categories, keywords=keywords, authors=authors, max_papers=max_papers,
                     frequency=frequency, allowed=cfg.categories, base=base)
    except BadPreference as exc:
        raise NewsletterError(f"{exc}") from None


@subscribers_app.command("add")
def subscribers_add(
    addresses: Annotated[list[str], typer.Argument(help="Email addresses.")],
    name: Annotated[str, typer.Option(help="Display name (for a single address).")] = "",
    categories: CategoriesOpt = None, keywords: KeywordsOpt = None, authors: AuthorsOpt = None,
    max_papers: MaxPapersOpt = None, frequency: FrequencyOpt = None,
) -> None:
    """Subscribe addresses (with their consent: they count as confirmed now); an unsubscribed one again."""
    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.delivery.message import InvalidAddress, check_address

    cfg = _config()
    prefs = _prefs(cfg, None, categories, keywords, authors, max_papers, frequency)
    bad = []
    results: dict[str, int] = {}
    with _archive(cfg) as archive:
        store = SubscriberStore(archive)
        for raw in addresses:
            try:
                address = check_address(raw)
            except InvalidAddress as exc:
                bad.append(str(exc))
                continue
            r = store.add(address, collapse(name), _now(), source="cli", prefs=prefs)
            results[r] = results.get(r, 0) + 1
    for b in bad:
        say(f"Skipped: {b}")
    say(f"{results.get('added', 0)} added, {results.get('resubscribed', 0)} resubscribed, "
        f"{results.get('exists', 0)} already subscribed, {len(bad)} invalid")
    if bad:
        raise typer.Exit(1)


@subscribers_app.command("set")
def subscribers_set(
    address: Annotated[str, typer.Argument(help="The subscriber's address.")],
    categories: CategoriesOpt = None, keywords: KeywordsOpt = None, authors: AuthorsOpt = None,
    max_papers: MaxPapersOpt = None, frequency: FrequencyOpt = None,
) -> None:
    """Change a subscriber's preferences (options not given stay as they are; "" clears a list)."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg = _config()
    with _archive(cfg) as archive:
        store = SubscriberStore(archive)
        sub = store.get(address.strip())
        if sub is None:
            raise NewsletterError(f"{collapse(address)} is not a subscriber; add it with 'newsletter subscribers add'")
        prefs = _prefs(cfg, sub.prefs, categories, keywords, authors, max_papers, frequency)
        if prefs is None:
            raise NewsletterError("nothing to set: give --categories, --keywords, --authors, --max-papers "
                                  "or --frequency")
        store.set_prefs(sub.email, prefs, _now())
    say(f"Set {sub.email}: {prefs.describe() or 'the whole issue'}, "
        f"{prefs.max_papers or 'all'} papers, {prefs.frequency}")


@subscribers_app.command("show")
def subscribers_show(address: Annotated[str, typer.Argument(help="The subscriber's address.")]) -> None:
    """A subscriber's status, preferences and consent record (when asked, when confirmed, from where)."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg = _config()
    with _archive(cfg) as archive:
        sub = SubscriberStore(archive).get(address.strip())
    if sub is None:
        raise NewsletterError(f"{collapse(address)} is not on the list")
    p = sub.prefs

    def when(t: Any) -> str:
        return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else "-"

    for key, value in (("email", sub.email), ("name", sub.name), ("status", sub.status),
                       ("source", sub.source), ("asked", when(sub.requested_at or sub.created_at)),
                       ("asked from", sub.requested_from or "-"), ("confirmed", when(sub.confirmed_at)),
                       ("unsubscribed", when(sub.unsubscribed_at)),
                       ("categories", ", ".join(p.categories) or "all"), ("keywords", ", ".join(p.keywords) or "-"),
                       ("authors", ", ".join(p.authors) or "-"), ("max papers", str(p.max_papers or "all")),
                       ("frequency", p.frequency),
                       ("paused until", p.paused_until.isoformat() if p.paused_until else "-")):
        out(f"{key}:\t{value}")


@subscribers_app.command("remove")
def subscribers_remove(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Delete subscribers from the archive altogether (use 'unsubscribe' to keep a record)."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg = _config()
    with _archive(cfg) as archive:
        store = SubscriberStore(archive)
        removed = sum(store.remove(a.strip()) for a in addresses)
    say(f"{removed} removed, {len(addresses) - removed} not found")


@subscribers_app.command("list")
def subscribers_list(
    all_: Annotated[bool, typer.Option("--all", help="Include unsubscribed addresses.")] = False,
) -> None:
    """List subscribers (email, name, status) as tab-separated lines."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg = _config()
    with _archive(cfg) as archive:
        subs = SubscriberStore(archive).all(None if all_ else "subscribed")
    for s in subs:
        out(f"{s.email}\t{s.name}\t{s.status}")
    say(f"{len(subs)} {'addresses' if all_ else 'subscribers'}")


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV file: email[,name] per line, or a header row naming columns "
                                              "email, name, categories, keywords, authors, max_papers, frequency.")],
    resubscribe: Annotated[bool, typer.Option("--resubscribe", help="Subscribe again addresses that unsubscribed.")] = False,
) -> None:
    """Import subscribers from CSV: bad lines are reported with their numbers, the rest imported."""
    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.delivery.subscribers import parse_csv

    cfg = _config()
    text = _read_text(file)
    rows, errors = parse_csv(text, cfg.categories)
    with _archive(cfg) as archive:
        results = SubscriberStore(archive).add_many([(r.email, r.name, r.prefs) for r in rows], _now(),
                                                    resubscribe=resubscribe)
    for e in errors:
        say(f"{file}: {e}")
    say(f"Imported {file}: {results.get('added', 0)} added, {results.get('resubscribed', 0)} resubscribed, "
        f"{results.get('exists', 0)} already subscribed, {results.get('unsubscribed', 0)} unsubscribed and left out "
        f"(--resubscribe to include), {len(errors)} invalid")
    if errors:
        raise typer.Exit(1)


@app.command()
def unsubscribe(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Unsubscribe addresses by hand (e.g. for mailto: requests); they stay on record."""
    from newsletter.delivery.ledger import SubscriberStore

    cfg = _config()
    with _archive(cfg) as archive:
        store = SubscriberStore(archive)
        done = sum(store.set_status(a.strip(), "unsubscribed", _now()) for a in addresses)
    say(f"{done} unsubscribed, {len(addresses) - done} not subscribed")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Run the web app (unsubscribe endpoint) with waitress, a production WSGI server."""
    from newsletter.delivery.web import make_server

    cfg = _config()
    server = make_server(cfg, host, port)
    say(f"Serving the unsubscribe endpoint on http://{host}:{server.effective_port}/unsubscribe; Ctrl-C to stop")
    try:
        server.run()
    finally:
        server.close()


@app.command()
def init(force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write a commented config file (at --config, or ./newsletter.toml)."""
    from newsletter import config as config_mod
    from newsletter.files import write_atomic

    path, _ = config_mod.find_config_path(state.config_path)
    if path.exists() and not force:
        raise NewsletterError(f"{path} already exists; use --force to overwrite it")
    write_atomic(path, config_mod.default_toml())
    say(f"Wrote {path}; edit it, set $X_BEARER_TOKEN if you have one, then run 'newsletter run'.")


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where to write the demo.")] = Path("demo"),
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that already holds a config or "
                                                         "an archive (the demo's day is added to it).")] = False,
) -> None:
    """Run the whole pipeline offline on recorded days, writing under ./demo/."""
    from newsletter import demo as demo_mod

    summary = demo_mod.run(folder, force=force)
    for path in summary.files:
        out(str(path))
    say(summary.line)


def main() -> None:
    app(prog_name="newsletter")


HELP_ENV = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def help_texts() -> dict[str, str]:
    """Every command's ``--help`` as Typer prints it 80 columns wide without
    colour, keyed by command path ("" for the top level, "subscribers import").
    ``scripts/gen_help.py`` stores them for ``newsletter.launch``."""
    from typer.main import get_command
    from typer.testing import CliRunner

    paths: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        paths.append(path)
        if hasattr(cmd, "commands"):  # a group
            for name, sub in cmd.commands.items():
                if not sub.hidden:
                    walk(sub, [*path, name])

    walk(get_command(app), [])
    runner = CliRunner()
    texts = {}
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], prog_name="newsletter", env=HELP_ENV)
        if result.exit_code != 0:
            raise RuntimeError(f"'newsletter {' '.join(path)} --help' exited {result.exit_code}: {result.output}")
        texts[" ".join(path)] = result.stdout
    return texts


if __name__ == "__main__":
    main()
