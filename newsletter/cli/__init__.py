"""The command line: it parses options, calls the library and prints. Each
command imports the stages it uses when it runs, so ``newsletter --help``
and quick commands start fast."""

from newsletter.cli import issue_cmds, people_cmds, setup_cmds  # noqa: F401 - they register the commands
from newsletter.cli.app import app, main

__all__ = ["app", "main"]
