"""The console entry point. ``newsletter [COMMAND...] --help`` is answered
from text generated from the Typer app (``_help_text.py``, which a test keeps
equal to what Typer prints), before Typer, Rich or any stage is imported:
help answers in the time of a bare Python start-up. Everything else goes to
the Typer app in ``cli``."""

from __future__ import annotations

import sys


GLOBAL_FLAGS = {"--quiet", "-q", "--debug"}
GLOBAL_VALUES = {"--config", "-c"}


def _without_global_options(args: list[str]) -> list[str]:
    """The arguments after the top-level options (they do not change any help
    text); anything unexpected is left for Typer to judge."""
    i = 0
    while i < len(args):
        if args[i] in GLOBAL_FLAGS or args[i].startswith("--config="):
            i += 1
        elif args[i] in GLOBAL_VALUES and i + 1 < len(args) and args[i + 1] != "--help":
            i += 2
        else:
            break
    return args[i:]


def main() -> None:
    args = _without_global_options(sys.argv[1:])
    if args and args[-1] == "--help":
        from newsletter._help_text import HELP

        text = HELP.get(" ".join(args[:-1]))
        if text is not None:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
                return
            except UnicodeEncodeError:  # a terminal that cannot show the boxes: Typer adapts
                pass
    from newsletter.cli import main as cli_main

    cli_main()
