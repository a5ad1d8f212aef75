"""The entry point answers --help from stored text without importing Typer,
and the stored text is what the Typer app prints."""

from __future__ import annotations

import subprocess
import sys

from newsletter import cli
from newsletter._help_text import HELP

PROBE = """
import sys
from newsletter.launch import main
sys.argv = ["newsletter", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = sorted(m for m in ("typer", "rich", "jinja2", "requests", "newsletter.cli") if m in sys.modules)
print("LOADED:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def launch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env={**cli.HELP_ENV, "PATH": "/usr/bin:/bin"}, timeout=60)


def test_stored_help_is_what_typer_prints() -> None:
    assert cli.help_texts() == HELP, "the stored --help texts are stale: run python scripts/gen_help.py"
    assert {"", "build", "send", "subscribers", "subscribers import", "signals import"} <= set(HELP)


def test_help_answers_without_importing_typer() -> None:
    for args in (["--help"], ["build", "--help"], ["subscribers", "import", "--help"]):
        r = launch(*args)
        assert r.returncode == 0
        assert r.stdout == HELP[" ".join(args[:-1])]
        assert "LOADED:\n" in r.stderr  # nothing heavy was imported
    assert "Usage: newsletter [OPTIONS] COMMAND" in launch("--help").stdout


def test_top_level_options_do_not_change_the_help() -> None:
    for args in (["--quiet", "--help"], ["-q", "--debug", "--help"], ["--config", "x.toml", "build", "--help"],
                 ["-c", "x.toml", "-q", "subscribers", "import", "--help"], ["--config=x.toml", "--help"]):
        r = launch(*args)
        key = "subscribers import" if "import" in args else "build" if "build" in args else ""
        assert r.returncode == 0 and r.stdout == HELP[key] and "LOADED:\n" in r.stderr, args


def test_anything_else_goes_to_typer() -> None:
    r = launch("--config", "--help")  # a value missing: Typer says so
    assert "typer" in r.stderr
    r = launch("nosuch", "--help")
    assert r.returncode == 2 and "No such command" in r.stderr
    r = launch("build", "--date", "2020-13-01")
    assert r.returncode != 0 and "typer" in r.stderr
