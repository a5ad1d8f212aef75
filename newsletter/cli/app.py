"""The Typer app and what every command shares: the top-level options, one
place that turns the library's errors into an ``Error: ...`` line and an
exit code, output helpers, progress bars, and the date options."""

from __future__ import annotations

import calendar
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from newsletter.errors import EXIT_ERROR, NewsletterError
from newsletter.text import collapse, strip_control

if TYPE_CHECKING:
    from rich.progress import Progress

    from newsletter.config import Config
    from newsletter.store import Archive

FIRST_ARXIV_DAY = date(1991, 8, 14)
EXIT_CODES = ("Exit codes: 0 ok, 1 error, 2 wrong usage (an unknown option or a missing argument), "
              "3 no arXiv mailing that day, 4 nothing reached the threshold, "
              "5 some recipients failed or were deferred, 130 interrupted.")


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
            if type(exc).__module__.startswith(("typer.", "click.")) or state.debug:  # usage errors: Typer prints them
                raise
            say(f"Error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    name="newsletter",
    cls=_Group,
    help=(
        "Hot Papers: each arXiv mailing day's papers ranked by the attention they got on "
        "social media, published as a Markdown post, feeds, a website and an email.\n\n"
        "Typical day: 'newsletter run' (fetch + build the latest mailing, then send). " + EXIT_CODES
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

    def __init__(self, progress: Progress | None):
        self.progress = progress

    def start(self, label: str) -> Callable[[int], None]:
        progress = self.progress
        if progress is None:
            return lambda n: None
        task = progress.add_task(label, total=None)
        return lambda n: progress.update(task, completed=n)

    def counter(self, label: str) -> Callable[[int, int], None] | None:
        """A bar with a total (sending), or None without a display."""
        progress = self.progress
        if progress is None:
            return None
        task = progress.add_task(label, total=None)
        return lambda n, total: progress.update(task, completed=n, total=total)

    def retrying(self, message: str) -> None:
        """A retry's wait, on the progress line (or one line on stderr without a display)."""
        if self.progress is not None:
            self.progress.console.print(collapse(message), markup=False, highlight=False, style="dim")
        elif not state.quiet:
            typer.echo(collapse(message), err=True)

    def warn(self, message: str) -> None:
        line = f"Warning: {collapse(message)}"
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True, style="yellow")
        else:
            typer.echo(line, err=True)


class Progressing:
    """``with Progressing() as reporter``: a live progress display on a terminal."""

    def __enter__(self) -> ProgressReporter:
        self.progress: Progress | None = None
        if not state.quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed}"), TimeElapsedColumn(),
                                     console=Console(stderr=True), transient=True)
            self.progress.__enter__()
        return ProgressReporter(self.progress)

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def config() -> Config:
    from newsletter import config as config_mod

    return config_mod.load(state.config_path)


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_date(value: str, option: str = "--date") -> date:
    """A date as typed, or one line saying what is wrong with it."""
    text = value.strip()
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    if m is None:
        raise NewsletterError(f"{option} must look like YYYY-MM-DD, not {collapse(value)[:40]!r}")
    year, month, dom = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        raise NewsletterError(f"{option} {text}: there is no month {month}; months go from 01 to 12")
    try:
        return date(year, month, dom)
    except ValueError:
        days = calendar.monthrange(year, month)[1] if year >= 1 else 31
        raise NewsletterError(f"{option} {text}: {calendar.month_name[month]} {year} has {days} days, "
                              f"so there is no day {dom}") from None


def day(value: Optional[str]) -> date:
    """The --date option of commands that fetch: the latest mailing when not given."""
    from newsletter import mailing

    if value is None:
        return mailing.latest_mailing(now())
    d = parse_date(value)
    if d < FIRST_ARXIV_DAY:
        raise NewsletterError(f"--date {d} is before arXiv existed (August 1991); pick a later date")
    if d > now().date() + timedelta(days=7):
        raise NewsletterError(f"--date {d} is in the future; arXiv has not announced it yet")
    return d


def given_day(value: Optional[str]) -> date | None:
    """A --date as given (checked before anything is opened), or None."""
    return day(value) if value is not None else None


def archived_day(given: date | None, archive: Archive) -> date:
    """The --date of commands that read the archive: the newest archived
    issue when not given."""
    if given is not None:
        return given
    days = archive.issue_days()
    if not days:
        raise NewsletterError(f"nothing is archived in {archive.path} yet: run 'newsletter fetch' "
                              "(or 'newsletter demo' to try it)")
    return days[0]


def week(value: str) -> date:
    """The --week option: the Monday of the week (any date of it, or 2026-W31)."""
    from newsletter import mailing

    if re.fullmatch(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*", value):
        monday = mailing.parse_week(parse_date(value, "--week").isoformat())
    else:
        try:
            monday = mailing.parse_week(value)
        except ValueError:
            raise NewsletterError(f"--week must be a date YYYY-MM-DD or a week YYYY-Www such as 2026-W31, "
                                  f"not {collapse(value)[:40]!r}") from None
    day(monday.isoformat())  # the same limits as a day
    return monday


def open_archive(cfg: Config, *, create: bool = True) -> Archive:
    """The archive; commands that only read it (``create=False``) never make
    one where there is none."""
    from newsletter.files import check_output_dirs
    from newsletter.store import Archive

    check_output_dirs({"[store] path": cfg.store_path.parent})
    if not create and not cfg.store_path.exists():
        raise NewsletterError(f"there is no archive at {cfg.store_path} yet: run 'newsletter fetch' "
                              "(or 'newsletter demo' to try it)")
    return Archive(cfg.store_path)


DateOpt = Annotated[Optional[str], typer.Option(
    "--date", "-d", help="arXiv mailing date YYYY-MM-DD (default: the latest mailing).", show_default=False)]
ArchivedDateOpt = Annotated[Optional[str], typer.Option(
    "--date", "-d", help="arXiv mailing date YYYY-MM-DD (default: the newest archived issue).", show_default=False)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail when any signal source fails (default: skip it "
                                                           "with a warning kept on the issue).")]
WeekOpt = Annotated[Optional[str], typer.Option(
    "--week", "-w", help="The weekly issue of this date's ISO week (any date of it, or 2026-W31) instead of a day.",
    show_default=False)]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Replace the archived papers of the day even when "
                                                             "arXiv now answers with fewer.")]


def main() -> None:
    app(prog_name="newsletter")
