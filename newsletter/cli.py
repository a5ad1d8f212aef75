"""The command line. It parses options, wires objects, and turns the
library's errors into one ``Error: ...`` line and an exit code."""

from __future__ import annotations

import functools
import os
import sys
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
from newsletter.errors import EXIT_ERROR, NewsletterError
from newsletter.pipeline import Seams, build_day, fetch_day, load_issue
from newsletter.store import Archive

app = typer.Typer(
    name="newsletter",
    help=(
        "Hot Papers: each arXiv mailing day's papers ranked by the attention they got on "
        "social media, published as a Markdown post.\n\n"
        "Typical day: 'newsletter run' (fetch + build the latest mailing). "
        "Exit codes: 0 ok, 1 error, 3 no arXiv mailing that day, 4 nothing reached the threshold."
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


def _fetch(cfg: config_mod.Config, day: date, seams: Seams | None = None):
    with Archive(cfg.store_path) as archive:
        progress = _progress()
        reporter = ProgressReporter(progress)
        if progress:
            with progress:
                return fetch_day(cfg, day, archive, seams, reporter)
        return fetch_day(cfg, day, archive, seams, reporter)


def _build(cfg: config_mod.Config, day: date):
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        return build_day(cfg, day, archive)


@app.command()
@handle_errors
def fetch(date_: DateOpt = None) -> None:
    """Collect a day's papers (arXiv) and signals (X, Hugging Face) into the archive."""
    cfg = _config()
    summary = _fetch(cfg, _day(date_))
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
def run(date_: DateOpt = None) -> None:
    """Fetch a day, then build it."""
    cfg = _config()
    day = _day(date_)
    fetched = _fetch(cfg, day)
    built = _build(cfg, day)
    for path in built.files:
        out.print(str(path), markup=False, highlight=False)
    say(f"Done {fetched.line()}; {len(built.files)} files written")


@app.command("rank")
@handle_errors
def rank_cmd(
    date_: DateOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many papers.")] = 50,
) -> None:
    """Show a day's ranking from the archive: rank, score, figures, title."""
    cfg = _config()
    day = _day(date_)
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        issue = load_issue(cfg, archive, day)
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
    from newsletter.render.email import EmailSettings, render_email

    cfg = _config()
    day = _day(date_)
    mailing.require_mailing_day(day)
    with Archive(cfg.store_path) as archive:
        issue = load_issue(cfg, archive, day)
    templates = str(cfg.templates_dir) if cfg.templates_dir else None
    email = render_email(issue, EmailSettings.from_config(cfg), templates)
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
