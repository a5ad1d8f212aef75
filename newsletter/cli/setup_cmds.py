"""Commands that set a project up: init and demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import app, out, say, state
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.config import Config


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


@app.command()
def doctor() -> None:
    """Check the sending set-up before the first send: DNS (SPF, DKIM, DMARC alignment, MX, PTR), the signed
    unsubscribe headers, the web app's one-click unsubscribe, the SMTP login and TLS, SpamAssassin's score."""
    import os

    from newsletter.cli.app import config, now
    from newsletter.doctor import run_doctor

    cfg = config()
    checks = run_doctor(cfg, os.environ, now(), _newest_email(cfg))
    for check in checks:
        out(check.line())
    errors = sum(c.level == "error" for c in checks)
    warnings = sum(c.level == "warning" for c in checks)
    say(f"Doctor: {len(checks) - errors - warnings} ok, {warnings} warnings, {errors} errors")
    if errors:
        raise typer.Exit(1)


def _newest_email(cfg: "Config") -> bytes | None:
    """The newest archived issue's whole email, as a reader would get it (for the spam score)."""
    import os

    from newsletter.deliver import editions
    from newsletter.delivery.message import MessageFactory, MessageSettings, Recipient
    from newsletter.errors import NewsletterError
    from newsletter.issues import publishable_issue
    from newsletter.store import Archive

    if not cfg.store_path.exists():
        return None
    with Archive(cfg.store_path) as archive:
        days = archive.issue_days()
        for d in days[:5]:
            try:
                issue = publishable_issue(cfg, archive, d, "nothing to score")
            except NewsletterError:
                continue
            settings = MessageSettings.from_config(cfg, os.environ, dry_run=True)
            rendered = editions(cfg, issue).whole
            return MessageFactory(settings).make(rendered, Recipient("reader@example.org", "", "doctorcheck1"),
                                                 issue.key, issue.created_at)[0]
    return None
