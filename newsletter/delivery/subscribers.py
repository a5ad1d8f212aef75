"""Managing the list by hand: adding, importing, changing and showing
subscribers, as the CLI's subscriber commands do. Lists read from CSV are
validated with line numbers, and nothing is half-done: bad lines are
reported, the rest imported.

A CSV has ``email[,name]`` per line, or a header row naming its columns:
``email``, ``name``, ``categories``, ``keywords``, ``authors``,
``max_papers``, ``frequency`` (lists inside a field are comma-separated, so
quote them)."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.delivery.ledger import Subscriber, SubscriberStore
from newsletter.delivery.addresses import InvalidAddress, check_address
from newsletter.delivery.preferences import BadPreference, Preferences, parse
from newsletter.errors import NewsletterError
from newsletter.store import Archive
from newsletter.text import collapse

PREF_COLUMNS = ("categories", "keywords", "authors", "max_papers", "frequency")
EMAIL_COLUMNS = ("email", "e-mail", "address", "email address")


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str
    prefs: Preferences | None = None


def _fields(record: list[str], header: list[str] | None) -> dict[str, str]:
    if header:
        return dict(zip(header, record))
    return {"email": record[0], "name": record[1] if len(record) > 1 else ""}


def _row(line: int, fields: dict[str, str], header: list[str] | None, allowed: list[str] | None) -> Row:
    """One line as a row; InvalidAddress or BadPreference says what is wrong."""
    address = check_address(next((fields[c] for c in EMAIL_COLUMNS if fields.get(c)), ""))
    prefs = None
    if header and any(c in header for c in PREF_COLUMNS):
        prefs = parse(categories=fields.get("categories") or "", keywords=fields.get("keywords") or "",
                      authors=fields.get("authors") or "", max_papers=fields.get("max_papers") or None,
                      frequency=fields.get("frequency") or None, allowed=allowed)
    return Row(line, address, collapse(fields.get("name") or ""), prefs)


def _skipped(record: list[str]) -> bool:
    return not record or not "".join(record).strip() or record[0].lstrip().startswith("#")


def parse_csv(text: str, allowed_categories: list[str] | None = None) -> tuple[list[Row], list[str]]:
    """The valid rows (first occurrence of each address) and one message per
    bad line, naming its line number."""
    rows: list[Row] = []
    errors: list[str] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if _skipped(record):
            continue
        if line == 1 and record[0].strip().lower() in EMAIL_COLUMNS:
            header = [c.strip().lower() for c in record]
            continue
        try:
            row = _row(line, _fields(record, header), header, allowed_categories)
        except (InvalidAddress, BadPreference) as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if row.email.lower() not in seen:
            seen.add(row.email.lower())
            rows.append(row)
    return rows, errors


@dataclass
class ListChange:
    """What adding or importing did: counts by outcome, and the lines or
    addresses refused (each with its reason)."""

    counts: dict[str, int] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)

    def line(self) -> str:
        c = self.counts
        return (f"{c.get('added', 0)} added, {c.get('resubscribed', 0)} resubscribed, "
                f"{c.get('exists', 0)} already subscribed, {len(self.invalid)} invalid")

    def import_line(self) -> str:
        c = self.counts
        return (f"{c.get('added', 0)} added, {c.get('resubscribed', 0)} resubscribed, "
                f"{c.get('exists', 0)} already subscribed, {c.get('unsubscribed', 0)} unsubscribed and "
                f"{c.get('suppressed', 0)} suppressed (bounced) left out (--resubscribe to include), "
                f"{len(self.invalid)} invalid")


def add(archive: Archive, addresses: Iterable[str], name: str, prefs: Preferences | None, now: datetime,
        ) -> ListChange:
    """Subscribe addresses with their consent (confirmed now); an unsubscribed one again."""
    change = ListChange()
    store = SubscriberStore(archive)
    for raw in addresses:
        try:
            address = check_address(raw)
        except InvalidAddress as exc:
            change.invalid.append(str(exc))
            continue
        result = store.add(address, collapse(name), now, source="cli", prefs=prefs)
        change.counts[result] = change.counts.get(result, 0) + 1
    return change


def import_csv(archive: Archive, text: str, allowed: list[str], now: datetime, *, resubscribe: bool = False
               ) -> ListChange:
    rows, errors = parse_csv(text, allowed)
    counts = SubscriberStore(archive).add_many([(r.email, r.name, r.prefs) for r in rows], now,
                                               resubscribe=resubscribe)
    return ListChange(counts, errors)


def preferences_from_options(allowed: list[str], base: Preferences | None, categories: str | None,
                             keywords: str | None, authors: str | None, max_papers: int | None,
                             frequency: str | None) -> Preferences | None:
    """Preferences from command-line options; None when none was given."""
    if all(v is None for v in (categories, keywords, authors, max_papers, frequency)):
        return None
    return parse(categories=categories, keywords=keywords, authors=authors, max_papers=max_papers,
                 frequency=frequency, allowed=allowed, base=base)


def set_preferences(archive: Archive, address: str, allowed: list[str], now: datetime, *,
                    categories: str | None = None, keywords: str | None = None, authors: str | None = None,
                    max_papers: int | None = None, frequency: str | None = None, language: str | None = None,
                    languages: list[str] | None = None) -> Subscriber:
    """Change a subscriber's preferences (options not given stay as they
    are); the subscriber as now stored. ``language`` (of the AI summaries)
    must be one of ``languages``."""
    store = SubscriberStore(archive)
    sub = store.get(address.strip())
    if sub is None:
        raise NewsletterError(f"{collapse(address)} is not a subscriber; add it with 'newsletter subscribers add'")
    prefs = preferences_from_options(allowed, sub.prefs, categories, keywords, authors, max_papers, frequency)
    if language is not None:
        prefs = parse(base=prefs or sub.prefs, language=language, languages=languages or [])
    if prefs is None:
        raise NewsletterError("nothing to set: give --categories, --keywords, --authors, --max-papers, --frequency "
                              "or --language")
    store.set_prefs(sub.email, prefs, now)
    return dataclasses.replace(sub, prefs=prefs)


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else "-"


def record(sub: Subscriber) -> list[tuple[str, str]]:
    """A subscriber's status, preferences and consent record, field by field."""
    p = sub.prefs
    return [("email", sub.email), ("name", sub.name), ("status", sub.status), ("source", sub.source),
            ("asked", _when(sub.requested_at or sub.created_at)), ("asked from", sub.requested_from or "-"),
            ("confirmed", _when(sub.confirmed_at)), ("unsubscribed", _when(sub.unsubscribed_at)),
            ("categories", ", ".join(p.categories) or "all"), ("keywords", ", ".join(p.keywords) or "-"),
            ("authors", ", ".join(p.authors) or "-"), ("max papers", str(p.max_papers or "all")),
            ("frequency", p.frequency), ("paused until", p.paused_until.isoformat() if p.paused_until else "-")]


def unsuppress(archive: Archive, address: str, now: datetime) -> Subscriber:
    """Undo a suppression that was a false positive: the reader is subscribed again."""
    sub = find(archive, address)
    if sub.status != "suppressed":
        raise NewsletterError(f"{sub.email} is {sub.status}, not suppressed; nothing to undo")
    SubscriberStore(archive).set_status(sub.email, "subscribed", now)
    return dataclasses.replace(sub, status="subscribed")


def find(archive: Archive, address: str) -> Subscriber:
    """The subscriber with this address (any case), or an error saying it is not on the list."""
    sub = SubscriberStore(archive).get(address.strip())
    if sub is None:
        raise NewsletterError(f"{collapse(address)} is not on the list")
    return sub


def listing(archive: Archive, *, everyone: bool = False) -> list[Subscriber]:
    """The subscribers (with ``everyone``, also the pending and unsubscribed)."""
    return SubscriberStore(archive).all(None if everyone else "subscribed")


def unsubscribe(archive: Archive, addresses: Iterable[str], now: datetime) -> int:
    """Unsubscribe by hand (a mailto: request); they stay on record. How many were subscribed."""
    store = SubscriberStore(archive)
    return sum(store.set_status(a.strip(), "unsubscribed", now) for a in addresses)


def remove(archive: Archive, addresses: Iterable[str]) -> int:
    """Delete addresses altogether (consent record and all). How many there were."""
    store = SubscriberStore(archive)
    return sum(store.remove(a.strip()) for a in addresses)
