"""Commands for readers and signals: subscribers, unsubscribe, serve, signals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from newsletter.cli.app import app, config, day, now, open_archive, out, say
from newsletter.errors import NewsletterError
from newsletter.text import collapse, strip_control

if TYPE_CHECKING:
    from newsletter.delivery.bounces import Bounces
    from newsletter.store import Archive


def strip_control_keep_lines(text: str) -> str:
    """A raw message for the terminal: its lines, no control characters (no escape sequences)."""
    return "\n".join(strip_control(line) for line in text.splitlines())


def read_text(file: Path) -> str:
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
    from newsletter.fetch import import_signals

    cfg = config()
    text = read_text(file)
    with open_archive(cfg) as archive:
        summary = import_signals(archive, text, file.name, now())
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

    cfg = config()
    arxiv_id = None
    if paper:
        arxiv_id = normalize_id(paper)
        if not arxiv_id:
            raise NewsletterError(f"--paper {collapse(paper)!r} is not an arXiv id or link")
    d = day(date_) if date_ else None
    with open_archive(cfg) as archive:
        removed = archive.remove_posts(source.strip().lower(), arxiv_id, d)
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


@subscribers_app.command("add")
def subscribers_add(
    addresses: Annotated[list[str], typer.Argument(help="Email addresses.")],
    name: Annotated[str, typer.Option(help="Display name (for a single address).")] = "",
    categories: CategoriesOpt = None, keywords: KeywordsOpt = None, authors: AuthorsOpt = None,
    max_papers: MaxPapersOpt = None, frequency: FrequencyOpt = None,
) -> None:
    """Subscribe addresses (with their consent: they count as confirmed now); an unsubscribed one again."""
    from newsletter.delivery import subscribers

    cfg = config()
    prefs = subscribers.preferences_from_options(cfg.categories, None, categories, keywords, authors, max_papers,
                                                 frequency)
    with open_archive(cfg) as archive:
        change = subscribers.add(archive, addresses, name, prefs, now())
    for bad in change.invalid:
        say(f"Skipped: {bad}")
    say(change.line())
    if change.invalid:
        raise typer.Exit(1)


@subscribers_app.command("set")
def subscribers_set(
    address: Annotated[str, typer.Argument(help="The subscriber's address.")],
    categories: CategoriesOpt = None, keywords: KeywordsOpt = None, authors: AuthorsOpt = None,
    max_papers: MaxPapersOpt = None, frequency: FrequencyOpt = None,
    language: Annotated[Optional[str], typer.Option(
        "--language", help='Language of the AI summaries, one of \\[summaries] languages ("" for the issue\'s).')] = None,
) -> None:
    """Change a subscriber's preferences (options not given stay as they are; "" clears a list)."""
    from newsletter.delivery import subscribers

    cfg = config()
    with open_archive(cfg) as archive:
        sub = subscribers.set_preferences(archive, address, cfg.categories, now(), categories=categories,
                                          keywords=keywords, authors=authors, max_papers=max_papers,
                                          frequency=frequency, language=language,
                                          languages=cfg.summaries.languages if cfg.summaries.enabled else [])
    p = sub.prefs
    say(f"Set {sub.email}: {p.describe() or 'the whole issue'}, {p.max_papers or 'all'} papers, {p.frequency}"
        f"{f', summaries in {p.language}' if p.language else ''}")


@subscribers_app.command("show")
def subscribers_show(address: Annotated[str, typer.Argument(help="The subscriber's address.")]) -> None:
    """A subscriber's status, preferences and consent record (when asked, when confirmed, from where)."""
    from newsletter.delivery.subscribers import find, record

    cfg = config()
    with open_archive(cfg, create=False) as archive:
        sub = find(archive, address)
    for key, value in record(sub):
        out(f"{key}:\t{value}")


@subscribers_app.command("remove")
def subscribers_remove(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Delete subscribers from the archive altogether (use 'unsubscribe' to keep a record)."""
    from newsletter.delivery.subscribers import remove

    cfg = config()
    with open_archive(cfg) as archive:
        removed = remove(archive, addresses)
    say(f"{removed} removed, {len(addresses) - removed} not found")


@subscribers_app.command("list")
def subscribers_list(
    all_: Annotated[bool, typer.Option("--all", help="Include unsubscribed addresses.")] = False,
) -> None:
    """List subscribers (email, name, status) as tab-separated lines."""
    from newsletter.delivery.subscribers import listing

    cfg = config()
    with open_archive(cfg, create=False) as archive:
        subs = listing(archive, everyone=all_)
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
    from newsletter.delivery.subscribers import import_csv

    cfg = config()
    text = read_text(file)
    with open_archive(cfg) as archive:
        change = import_csv(archive, text, cfg.categories, now(), resubscribe=resubscribe)
    for e in change.invalid:
        say(f"{file}: {e}")
    say(f"Imported {file}: {change.import_line()}")
    if change.invalid:
        raise typer.Exit(1)


@app.command()
def unsubscribe(addresses: Annotated[list[str], typer.Argument(help="Email addresses.")]) -> None:
    """Unsubscribe addresses by hand (e.g. for mailto: requests); they stay on record."""
    from newsletter.delivery.subscribers import unsubscribe as unsubscribe_addresses

    cfg = config()
    with open_archive(cfg) as archive:
        done = unsubscribe_addresses(archive, addresses, now())
    say(f"{done} unsubscribed, {len(addresses) - done} not subscribed")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Run the readers' web app (subscribe, confirm, preferences, unsubscribe) with waitress."""
    from newsletter.delivery.web import make_server

    cfg = config()
    server = make_server(cfg, host, port)
    say(f"Serving the readers' web app (subscribe, confirm, preferences, unsubscribe) on "
        f"http://{host}:{server.effective_port}/; Ctrl-C to stop")
    try:
        server.run()
    finally:
        server.close()


outbox_app = typer.Typer(help="The web app's own mail (confirmations), queued by requests.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("send")
def outbox_send() -> None:
    """Send the confirmations that are due (for a web app run under another WSGI server; 'serve' does it itself)."""
    from newsletter.deliver import smtp_mailer
    from newsletter.delivery.outbox import send_due
    from newsletter.delivery.send import SomeFailed

    cfg = config()
    open_archive(cfg).close()  # the store's folder is checked, as for every command
    summary = send_due(cfg.store_path, lambda: smtp_mailer(cfg, os.environ), backoff=cfg.web.outbox_retry)
    for error in summary.errors:
        say(f"Deferred: {error}")
    say(summary.line())
    if summary.retried or summary.failed:
        raise SomeFailed(f"{summary.retried} to try again later, {summary.failed} failed; "
                         "run 'newsletter outbox send' again later")


@subscribers_app.command("unsuppress")
def subscribers_unsuppress(address: Annotated[str, typer.Argument(help="The suppressed address.")]) -> None:
    """Subscribe again an address a bounce suppressed by mistake (see 'newsletter bounces list')."""
    from newsletter.delivery.subscribers import unsuppress

    cfg = config()
    with open_archive(cfg, create=False) as archive:
        sub = unsuppress(archive, address, now())
    say(f"{sub.email} is subscribed again")


bounces_app = typer.Typer(help="Bounces and complaints: what came back, and what it did.", no_args_is_help=True)
app.add_typer(bounces_app, name="bounces")


def _bounces(archive: "Archive") -> "Bounces":
    from newsletter.delivery.bounces import Bounces

    cfg = config()
    return Bounces(archive, soft_limit=cfg.bounces.soft_limit, soft_days=cfg.bounces.soft_days)


@bounces_app.command("import")
def bounces_import(
    files: Annotated[list[str], typer.Argument(help="Raw messages (one per file), or - for one on stdin "
                                                    "(a Postfix pipe transport, procmail).")],
) -> None:
    """Classify returned messages (hard, soft, complaint, not a bounce) and act on them."""
    import sys

    cfg = config()
    local = cfg.email.return_path.rpartition("@")[0]
    counts: dict[str, int] = {}
    with open_archive(cfg, create=False) as archive:
        bounces = _bounces(archive)
        for name in files:
            try:
                raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            except OSError as exc:
                raise NewsletterError(f"cannot read {name}: {exc.strerror}") from None
            event = bounces.record(raw, local, now(), via="import")
            counts[event.kind] = counts.get(event.kind, 0) + 1
            out(f"{event.id}\t{event.kind}\t{event.email or '-'}\t{event.outcome}")
    say(f"{len(files)} messages: {counts.get('hard', 0)} hard bounces, {counts.get('soft', 0)} soft, "
        f"{counts.get('complaint', 0)} complaints, {counts.get('none', 0)} not bounces")


@bounces_app.command("list")
def bounces_list(
    address: Annotated[Optional[str], typer.Option("--address", help="Only this reader's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
) -> None:
    """The bounce log, newest first: id, time, kind, reader, status code, what it did."""
    cfg = config()
    with open_archive(cfg, create=False) as archive:
        events = _bounces(archive).events(address, limit)
    for e in events:
        out(f"{e.id}\t{e.at:%Y-%m-%d %H:%M}\t{e.kind}\t{e.email or '-'}\t{e.status or '-'}\t{e.outcome}")
    say(f"{len(events)} event{'s' if len(events) != 1 else ''}")


@bounces_app.command("show")
def bounces_show(event_id: Annotated[int, typer.Argument(help="The id from 'bounces list'.")]) -> None:
    """One event and the raw message it came from."""
    cfg = config()
    with open_archive(cfg, create=False) as archive:
        e = _bounces(archive).event(event_id)
    if e is None:
        raise NewsletterError(f"there is no bounce event {event_id}; 'newsletter bounces list' shows them")
    for key, value in (("id", str(e.id)), ("at", e.at.isoformat()), ("kind", e.kind), ("reader", e.email or "-"),
                       ("status", e.status or "-"), ("outcome", e.outcome), ("via", e.via)):
        out(f"{key}:\t{value}")
    typer.echo("")
    typer.echo(strip_control_keep_lines(e.raw.decode("utf-8", "replace")))


@bounces_app.command("fetch")
def bounces_fetch() -> None:
    """Read the bounce mailbox (the imap_* settings of \\[bounces]), act on each message, move it to the processed folder."""
    from newsletter.delivery.mailbox import fetch_bounces

    cfg = config()
    with open_archive(cfg, create=False) as archive:
        summary = fetch_bounces(cfg, archive, os.environ, now())
    say(summary.line())
