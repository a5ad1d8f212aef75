"""The command line. It parses options, wires objects, and turns the
library's errors into one ``Error: ...`` line and an exit code."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsletter import config as config_mod
from newsletter import demo as demo_mod
from newsletter import mailing
from newsletter.deliver import SendSummary, SomeFailed
from newsletter.errors import EXIT_ERROR, NewsletterError
from newsletter.message import InvalidAddress, check_address
from newsletter.pipeline import (SendOptions, Seams, build_day, fetch_day, load_issue, render_issue_email,
                                 send_day)
from newsletter.store import Archive, SubscriberStore

app = typer.Typer(
    name="newsletter",
    help=(
        "Hot Papers: each arXiv mailing day's papers ranked by the attention they got on "
        "social media, published as a Markdown post.\n\n"
        "Typical day: 'newsletter run' (fetch + build the latest mailing). "
        "Exit codes: 0 ok, 1 error, 3 no arXiv mailing that day, 4 nothing reached the threshold, "
        "5 some recipients failed or were deferred."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


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


def handle_errors(fn: Callable) -> Callable:
    """One place where expected errors become a line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NewsletterError as exc:
            if state.debug:
                raise
            err.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as exc:  # an unexpected failure: still one line, unless --debug
            if state.debug:
                raise
            err.print(f"Error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                      markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper


class ProgressReporter:
    """Progress bars and warnings on stderr."""

    def __init__(self, progress: Progress | None):
        self.progress = progress

    def start(self, label: str) -> Callable[[int], None]:
        if self.progress is None:
            return lambda n: None
        task = self.progress.add_task(label, total=None)
        return lambda n: self.progress.update(task, completed=n)

    def warn(self, message: str) -> None:
        (self.progress.console if self.progress else err).print(
            f"Warning: {message}", markup=False, highlight=False, style="yellow")


def _progress() -> Progress | None:
    if state.quiet:
        return None
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed}"), TimeElapsedColumn(), console=err, transient=True)


def say(message: str) -> None:
    """A line for the user on stderr, never re-wrapped."""
    err.print(message, markup=False, highlight=False, soft_wrap=True)


def _config() -> config_mod.Config:
    return config_mod.load(state.config_path)


def _day(value: Optional[str]) -> date:
    if value is None:
        return mailing.latest_mailing(datetime.now(timezone.utc))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise NewsletterError(f"--date must look like YYYY-MM-DD, not {value!r}") from None


DateOpt = Annotated[Optional[str], typer.Option(
    "--date", "-d", help="arXiv mailing date YYYY-MM-DD (default: the latest mailing).", show_default=False)]


StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail when any signal source fails (default: skip it "
                                                           "with a warning kept on the issue).")]


def _fetch(cfg: config_mod.Config, day: date, seams: Seams | None = None, strict: bool = False):
    with Archive(cfg.store_path) as archive:
        progress = _progress()
        reporter = ProgressReporter(progress)
        if progress:
            with progress:
                return fetch_day(cfg, day, archive, seams, reporter, strict=strict)
        return fetch_day(cfg, day, archive, seams, reporter, strict=strict)


def _build(cfg: config_mod.Config, day: date):
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        return build_day(cfg, day, archive)


@app.command()
@handle_errors
def fetch(date_: DateOpt = None, strict: StrictOpt = False) -> None:
    """Collect a day's papers (arXiv) and signals (X, Hugging Face, Hacker News, Bluesky) into the archive."""
    cfg = _config()
    summary = _fetch(cfg, _day(date_), strict=strict)
    say(f"Fetched {summary.line()}")


@app.command()
@handle_errors
def build(date_: DateOpt = None) -> None:
    """Write a day's outputs from the archive (no network)."""
    cfg = _config()
    summary = _build(cfg, _day(date_))
    for path in summary.files:
        out.print(str(path), markup=False, highlight=False)
    say(f"Built {summary.line()}")


@app.command()
@handle_errors
def run(
    date_: DateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write the emails to the outbox instead of sending.")] = False,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Send the email to subscribers (when there are any).")] = True,
    strict: StrictOpt = False,
) -> None:
    """Fetch a day, build it, then send it to the subscribers."""
    cfg = _config()
    day = _day(date_)
    fetched = _fetch(cfg, day, strict=strict)
    built = _build(cfg, day)
    for path in built.files:
        out.print(str(path), markup=False, highlight=False)
    say(f"Done {fetched.line()}; {len(built.files)} files written")
    if send:
        with Archive(cfg.store_path) as archive:
            has_subscribers = bool(SubscriberStore(archive).all("subscribed"))
        if has_subscribers:
            _send(cfg, day, SendOptions(dry_run=dry_run))
        else:
            say("No subscribers: nothing to send (add some with 'newsletter subscribers add').")


def _from_archive(cfg: config_mod.Config, day: date, read):
    """``read(cfg, archive, day)`` for a mailing day, with the archive open."""
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        return read(cfg, archive, day)


@app.command("rank")
@handle_errors
def rank_cmd(
    date_: DateOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many papers.")] = 50,
) -> None:
    """Show a day's ranking from the archive: rank, score, figures, title."""
    cfg, day = _config(), _day(date_)
    issue = _from_archive(cfg, day, load_issue)
    table = Table(title=f"{cfg.title} {day}: {len(issue.papers)} of {issue.paper_count} papers ranked")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("figures")
    table.add_column("arXiv")
    table.add_column("title")
    for rp in issue.papers[:limit]:
        figs = "; ".join(
            f"{f.source} " + " ".join(f"{k} {v}" for k, v in sorted(f.totals.items()) if k != "posts")
            for f in rp.figures)
        table.add_row(str(rp.rank), str(rp.score), figs, rp.paper.arxiv_id, rp.paper.title)
    out.print(table)
    for note in issue.notes:
        out.print(f"note: {note}", markup=False, highlight=False)


@app.command()
@handle_errors
def preview(
    date_: DateOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8025,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser if there is one.")] = True,
) -> None:
    """Serve a day's email on 127.0.0.1 (HTML at /, text at /text) until Ctrl-C."""
    import webbrowser

    from newsletter.preview import make_server

    cfg, day = _config(), _day(date_)
    email = _from_archive(cfg, day, render_issue_email)
    try:
        server = make_server(email, port)
    except OSError as exc:
        raise NewsletterError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port 0") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    say(f"Previewing {day}: {url} (text part at {url}text); Ctrl-C to stop")
    out.print(url, markup=False, highlight=False)
    if open_browser:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _send(cfg: config_mod.Config, day: date, options: SendOptions) -> None:
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        progress = _progress()
        if options.dry_run or options.to or progress is None:
            result = send_day(cfg, day, archive, options)
        else:
            with progress:
                task = progress.add_task("Sending", total=None)
                result = send_day(cfg, day, archive, options,
                                  on_progress=lambda n, total: progress.update(task, completed=n, total=total))
    if options.dry_run:
        mailer, size = result
        for path in mailer.files:
            out.print(str(path), markup=False, highlight=False)
        say(f"Dry run {day}: {len(mailer.files)} messages ({size / 1024:.0f} KiB) written, nothing sent; "
            f"subject: {mailer.subject}")
        return
    if options.to:
        say(f"Sent one copy of {day} to {options.to} ({result}); the ledger is unchanged")
        return
    summary: SendSummary = result
    for failure in summary.failures:
        say(f"Failed: {failure}")
    say(f"Sent {summary.line()}")
    if summary.failed or summary.deferred:
        raise SomeFailed(f"{summary.failed} failed, {summary.deferred} deferred; "
                         f"'newsletter send --date {day}' retries the deferred ones")


@app.command("send")
@handle_errors
def send_cmd(
    date_: DateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write each message to {outbox}/{date}/ as .eml; "
                                          "no connection, no ledger change.")] = False,
    to: Annotated[Optional[str], typer.Option("--to", help="Send one copy to this address, outside the ledger.")] = None,
) -> None:
    """Send a built day's email to every subscriber who has not had it (resumes after a crash)."""
    cfg = _config()
    _send(cfg, _day(date_), SendOptions(dry_run=dry_run, to=to))


@app.command()
@handle_errors
def status(date_: DateOpt = None) -> None:
    """Delivery counts for a day: sent, queued, deferred, failed."""
    cfg = _config()
    day = _day(date_)
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        counts = store.counts(day)
        subscribed = len(store.all("subscribed"))
        rows = store.deliveries(day)
    table = Table(title=f"Delivery of {day}")
    for col in ("status", "count"):
        table.add_column(col)
    for key in ("sent", "sending", "queued", "deferred", "failed"):
        table.add_row(key, str(counts.get(key, 0)))
    out.print(table)
    for r in rows:
        if r.status in ("failed", "deferred"):
            out.print(f"{r.status}: {r.email}: {r.reply}", markup=False, highlight=False)
    pending = subscribed - counts.get("sent", 0) - counts.get("failed", 0)
    say(f"{day}: {counts.get('sent', 0)} sent, {max(pending, 0)} of {subscribed} subscribers still to send")


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsletterError(f"cannot read {file}: {exc}") from None


signals_app = typer.Typer(help="Signals from other sources, from files.", no_args_is_help=True)
app.add_typer(signals_app, name="signals")


@signals_app.command("import")
@handle_errors
def signals_import(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSON list: arxiv, source, score "
                                              "[, post_id, url, author, text, created_at, other numeric figures].")],
) -> None:
    """Import signals for any source; they count for every archived day that has the paper."""
    from newsletter.sources.imported import parse

    cfg = _config()
    text = _read_text(file)
    posts, errors = parse(text, file.name, _now())
    with Archive(cfg.store_path) as archive:
        archive.save_posts(posts)
        known = {r[0] for r in archive.db.execute("SELECT arxiv_id FROM day_papers")}
    for e in errors:
        say(f"{file}: {e}")
    matched = sum(1 for p in posts if set(p.arxiv_ids) & known)
    sources = ", ".join(sorted({p.source for p in posts})) or "none"
    say(f"Imported {file}: {len(posts)} signals ({sources}), {matched} for archived papers, {len(errors)} invalid")
    if errors:
        raise typer.Exit(1)


subscribers_app = typer.Typer(help="Manage subscribers (kept in the archive).", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@subscribers_app.command("add")
@handle_errors
def subscribers_add(
    addresses: Annotated[list[str], typer.Argument(help="Email addresses.")],
    name: Annotated[str, typer.Option(help="Display name (for a single address).")] = "",
) -> None:
    """Subscribe addresses (an unsubscribed address is subscribed again)."""
    cfg = _config()
    bad = []
    results: dict[str, int] = {}
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        for raw in addresses:
            try:
                address = check_address(raw)
            except InvalidAddress as exc:
                bad.append(str(exc))
                continue
            r = store.add(address, name, _now())
            results[r] = results.get(r, 0) + 1
    for b in bad:
        say(f"Skipped: {b}")
    say(f"{results.get('added', 0)} added, {results.get('resubscribed', 0)} resubscribed, "
        f"{results.get('exists', 0)} already subscribed, {len(bad)} invalid")
    if bad:
        raise typer.Exit(1)


@subscribers_app.command("remove")
@handle_errors
def subscribers_remove(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Delete subscribers from the archive altogether (use 'unsubscribe' to keep a record)."""
    cfg = _config()
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        removed = sum(store.remove(a.strip()) for a in addresses)
    say(f"{removed} removed, {len(addresses) - removed} not found")


@subscribers_app.command("list")
@handle_errors
def subscribers_list(
    all_: Annotated[bool, typer.Option("--all", help="Include unsubscribed addresses.")] = False,
) -> None:
    """List subscribers (email, name, status) as tab-separated lines."""
    cfg = _config()
    with Archive(cfg.store_path) as archive:
        subs = SubscriberStore(archive).all(None if all_ else "subscribed")
    for s in subs:
        typer.echo(f"{s.email}\t{s.name}\t{s.status}")
    say(f"{len(subs)} {'addresses' if all_ else 'subscribers'}")


@subscribers_app.command("import")
@handle_errors
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV file: email[,name] per line; a header row is optional.")],
    resubscribe: Annotated[bool, typer.Option("--resubscribe", help="Subscribe again addresses that unsubscribed.")] = False,
) -> None:
    """Import subscribers from CSV: bad lines are reported with their numbers, the rest imported."""
    from newsletter.subscribers import parse_csv

    cfg = _config()
    text = _read_text(file)
    rows, errors = parse_csv(text)
    results: dict[str, int] = {}
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        for row in rows:
            r = store.add(row.email, row.name, _now(), resubscribe=resubscribe)
            results[r] = results.get(r, 0) + 1
    for e in errors:
        say(f"{file}: {e}")
    say(f"Imported {file}: {results.get('added', 0)} added, {results.get('resubscribed', 0)} resubscribed, "
        f"{results.get('exists', 0)} already subscribed, {results.get('unsubscribed', 0)} unsubscribed and left out "
        f"(--resubscribe to include), {len(errors)} invalid")
    if errors:
        raise typer.Exit(1)


@app.command()
@handle_errors
def unsubscribe(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Unsubscribe addresses by hand (e.g. for mailto: requests); they stay on record."""
    cfg = _config()
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        done = sum(store.set_status(a.strip(), "unsubscribed", _now()) for a in addresses)
    say(f"{done} unsubscribed, {len(addresses) - done} not subscribed")


@app.command()
@handle_errors
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Run the unsubscribe endpoint (newsletter.web:app) with the standard library's WSGI server."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from newsletter.web import make_app

    cfg = _config()
    if not os.environ.get(cfg.delivery["secret_env"]):
        raise NewsletterError(f"${cfg.delivery['secret_env']} is not set; the endpoint cannot check tokens without it")

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            err.print(f"{self.address_string()} {format % args}", markup=False, highlight=False)

    try:
        server = make_server(host, port, make_app(cfg), handler_class=Quiet)
    except OSError as exc:
        raise NewsletterError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    say(f"Serving the unsubscribe endpoint on http://{host}:{server.server_port}/unsubscribe; Ctrl-C to stop")
    try:
        server.serve_forever()
    finally:
        server.server_close()


@app.command()
@handle_errors
def init(force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write a commented config file (at --config, or ./newsletter.toml)."""
    path, _ = config_mod.find_config_path(state.config_path)
    if path.exists() and not force:
        raise NewsletterError(f"{path} already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_mod.DEFAULT_TOML, encoding="utf-8")
    say(f"Wrote {path}; edit it, set $X_BEARER_TOKEN if you have one, then run 'newsletter run'.")


@app.command()
@handle_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where to write the demo.")] = Path("demo"),
) -> None:
    """Run the whole pipeline offline on a recorded day (2026-07-31), writing under ./demo/."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = demo_mod.demo_config(folder.resolve())
    demo_mod.write_demo_toml(folder)
    seams = Seams(now=lambda: demo_mod.NOW, sleep=lambda s: None, env={},
                  session_factory=demo_mod.session_factory(cfg))
    fetched = _fetch(cfg, demo_mod.DAY, seams)
    built = _build(cfg, demo_mod.DAY)
    for path in built.files:
        out.print(str(path), markup=False, highlight=False)
    say(f"Demo {fetched.line()}; {len(built.files)} files written under {folder}/")


def main() -> None:
    app(prog_name="newsletter")


if __name__ == "__main__":
    main()
