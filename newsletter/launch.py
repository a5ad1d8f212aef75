"""The console entry point. ``newsletter [COMMAND...] --help`` is answered
from text generated from the Typer app (``_help_text.py``, which a test keeps
equal to what Typer prints), before Typer, Rich or any stage is imported:
help answers in the time of a bare Python start-up. Everything else goes to
the Typer app in ``cli``."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
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
