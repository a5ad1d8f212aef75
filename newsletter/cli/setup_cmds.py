"""Commands that set a project up: init and demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import app, out, say, state
from newsletter.errors import NewsletterError


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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every file written.")] = False,
) -> None:
    """Run the whole pipeline offline on recorded days, writing under ./demo/ (--verbose lists every file)."""
    from newsletter import demo as demo_mod

    summary = demo_mod.run(folder, force=force)
    if verbose:
        for path in summary.files:
            out(str(path))
    say(summary.line)
    say(f"Next: {summary.next}  (serves the site and the email on 127.0.0.1)")
