"""Bounces and complaints in, one classifier for every way they come
(a pipe or a file today; a mailbox or webhooks feed the same ``record``).

Who a bounce is about comes from VERP: every message goes out from
``bounces+HANDLE@domain`` (``[email] return_path``), and a bounce comes back
to that address, so the reader is known for certain whatever the remote
server writes in the body. A bounce naming no reader we sent to (forged,
or for an address never mailed) changes nothing and is kept for review.

What happened comes from the message: a complaint report (ARF, RFC 5965),
an auto-reply (ignored), or a delivery failure read by ``flufl.bounce``
(Mailman's detectors: RFC 3464 DSNs and the many formats real servers use),
with the DSN status code when there is one:

- a hard bounce (5.x.x: no such user or domain) suppresses the address at once;
- a soft bounce (4.x.x: mailbox full) is counted, and ``[bounces] soft_limit``
  of them within ``soft_days`` suppress it;
- a complaint unsubscribes the reader at once, recorded as a complaint.
"""

from __future__ import annotations

import email
import email.message
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from newsletter.codecs import from_iso_required, to_iso
from newsletter.delivery.ledger import Subscriber, SubscriberStore
from newsletter.schema import migrate
from newsletter.store import Archive
from newsletter.text import collapse

Kind = Literal["hard", "soft", "complaint", "none"]

MIGRATIONS = [
    """
    CREATE TABLE bounce_events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,              -- hard | soft | complaint | none
        email TEXT NOT NULL DEFAULT '',  -- the reader it was matched to ('' when none)
        status TEXT NOT NULL DEFAULT '', -- the DSN status (5.1.1) or SMTP reply code
        outcome TEXT NOT NULL,           -- what it did: suppressed, counted, unsubscribed, ignored: why
        via TEXT NOT NULL,               -- import | smtp | imap | webhook
        raw BLOB
    );
    CREATE INDEX bounce_events_by_email ON bounce_events(email, at);
    CREATE INDEX bounce_events_by_at ON bounce_events(at);
    """,
]
_STATUS = re.compile(r"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", re.I | re.M)
_AUTO_REPLY = re.compile(r"^(out of office|auto(matic)?[ -]?reply|abwesenheit|absence)", re.I)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    handles: tuple[str, ...]  # VERP tags found (the reader, for certain)
    addresses: tuple[str, ...]  # what the bounce body names (used only to cross-check)
    status: str


def _verp_handles(msg: email.message.Message, local: str) -> tuple[str, ...]:
    """Handles in ``local+HANDLE@`` addresses of the bounce's own headers and
    of any message it carries (the original's Return-Path)."""
    pattern = re.compile(rf"(?<![\w.+-]){re.escape(local)}\+([A-Za-z0-9_-]{{6,64}})@", re.I)
    found: dict[str, None] = {}
    for part in msg.walk():
        for name in ("To", "Delivered-To", "X-Original-To", "Envelope-To", "Return-Path", "X-Postfix-Sender",
                     "Original-Mail-From"):
            for value in part.get_all(name) or []:
                for m in pattern.finditer(str(value)):
                    found.setdefault(m.group(1), None)
        if part.get_content_type() in ("message/delivery-status", "message/feedback-report",
                                       "text/rfc822-headers", "text/plain"):
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(part.get_payload())
            for m in pattern.finditer(text):
                found.setdefault(m.group(1), None)
    return tuple(found)


def classify(raw: bytes, verp_local: str) -> Verdict:
    """What a message sent back to the bounce address is (pure)."""
    from flufl.bounce import all_failures

    msg = email.message_from_bytes(raw)
    handles = _verp_handles(msg, verp_local) if verp_local else ()
    if msg.get_content_type() == "multipart/report" and \
            str(msg.get_param("report-type", "")).lower() == "feedback-report":
        return Verdict("complaint", handles, (), "")
    subject = collapse(str(msg.get("Subject", "")))
    if str(msg.get("Auto-Submitted", "")).lower().startswith("auto-replied") and \
            msg.get_content_type() != "multipart/report" and _AUTO_REPLY.match(subject):
        return Verdict("none", handles, (), "")
    temporary, permanent = all_failures(msg)
    status_match = _STATUS.search(_delivery_status(msg))
    status = status_match.group(1) if status_match else ""
    addresses = tuple(a.decode("utf-8", "replace") for a in sorted(permanent | temporary))
    if permanent or status.startswith("5"):
        return Verdict("hard", handles, addresses, status)
    if temporary or status.startswith("4"):
        return Verdict("soft", handles, addresses, status)
    return Verdict("none", handles, addresses, status)


def _delivery_status(msg: email.message.Message) -> str:
    out = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            for sub in part.get_payload() if isinstance(part.get_payload(), list) else [part]:
                out.append(str(sub))
    return "\n".join(out)


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    kind: str
    email: str
    status: str
    outcome: str
    via: str
    raw: bytes


class Bounces:
    """The bounce log and what it does to readers."""

    def __init__(self, archive: Archive, *, soft_limit: int = 5, soft_days: int = 14):
        self.archive, self.db = archive, archive.db
        self.subscribers = SubscriberStore(archive)
        self.soft_limit, self.soft_days = soft_limit, soft_days
        migrate(self.db, archive.path, "bounces", MIGRATIONS)

    def record(self, raw: bytes, verp_local: str, now: datetime, via: str = "import") -> Event:
        """Classify a returned message, act on it, and keep it for review."""
        verdict = classify(raw, verp_local)
        sub = self._reader(verdict)
        if verdict.kind == "none":
            outcome = "ignored: not a bounce (an auto-reply or a notice)"
        elif sub is None:
            outcome = "ignored: it names no reader this list mailed (forged, or for another sender)"
        else:
            outcome = self._act(verdict.kind, sub, now)
        return self._log(now, verdict.kind, sub.email if sub else "", verdict.status, outcome, via, raw)

    def reported(self, kind: Kind, address: str, status: str, raw: bytes, now: datetime, via: str) -> Event:
        """A bounce or complaint an email service reported for an address (a
        webhook): acted on only for a reader this list has mailed."""
        sub = self.subscribers.get(address)
        mailed = sub is not None and self.db.execute(
            "SELECT 1 FROM deliveries WHERE email = ? AND status = 'sent' LIMIT 1", (sub.email,)).fetchone()
        if kind == "none":
            outcome = "ignored: not a bounce (an auto-reply or a notice)"
        elif sub is None or not mailed:
            outcome = "ignored: it names no reader this list mailed"
        else:
            outcome = self._act(kind, sub, now)
        return self._log(now, kind, sub.email if sub and mailed else "", status, outcome, via, raw)

    def rejected(self, address: str, reply: str, now: datetime) -> Event | None:
        """A 5xx to RCPT or DATA while sending: a hard bounce, at once."""
        sub = self.subscribers.get(address)
        if sub is None:
            return None
        return self._log(now, "hard", sub.email, reply.split(" ", 1)[0], self._act("hard", sub, now), "smtp",
                         reply.encode("utf-8", "replace"))

    def _reader(self, verdict: Verdict) -> Subscriber | None:
        """The reader the VERP tag names; without one (no return_path set), the
        address the bounce names, only if this list has really mailed it."""
        for handle in verdict.handles:
            sub = self.subscribers.by_handle(handle)
            if sub is not None:
                return sub
        if verdict.handles:
            return None  # a tag that is no reader's: forged
        for address in verdict.addresses:
            sub = self.subscribers.get(address)
            if sub is not None and self.db.execute("SELECT 1 FROM deliveries WHERE email = ? AND status = 'sent' "
                                                   "LIMIT 1", (sub.email,)).fetchone():
                return sub
        return None

    def _act(self, kind: str, sub: Subscriber, now: datetime) -> str:
        if kind == "complaint":
            self.subscribers.set_status(sub.email, "unsubscribed", now)
            return "unsubscribed: the reader reported the list as spam"
        if kind == "hard":
            self.subscribers.set_status(sub.email, "suppressed", now)
            return "suppressed: the address does not take mail"
        since = to_iso(now - timedelta(days=self.soft_days))
        soft = 1 + int(self.db.execute("SELECT count(*) FROM bounce_events WHERE email = ? AND kind = 'soft' "
                                       "AND at >= ?", (sub.email, since)).fetchone()[0])
        if soft >= self.soft_limit:
            self.subscribers.set_status(sub.email, "suppressed", now)
            return f"suppressed: {soft} soft bounces within {self.soft_days} days"
        return f"counted: soft bounce {soft} of {self.soft_limit} within {self.soft_days} days"

    def _log(self, now: datetime, kind: str, address: str, status: str, outcome: str, via: str,
             raw: bytes) -> Event:
        cur = self.db.execute("INSERT INTO bounce_events (at, kind, email, status, outcome, via, raw) "
                              "VALUES (?,?,?,?,?,?,?)", (to_iso(now), kind, address, status, outcome, via, raw))
        return Event(int(cur.lastrowid or 0), now, kind, address, status, outcome, via, raw)

    def events(self, address: str | None = None, limit: int = 100) -> list[Event]:
        q, args = "SELECT * FROM bounce_events", []
        if address:
            sub = self.subscribers.get(address)
            q, args = q + " WHERE email = ?", [sub.email if sub else address]
        rows = self.db.execute(q + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_event(r) for r in rows]

    def event(self, event_id: int) -> Event | None:
        r = self.db.execute("SELECT * FROM bounce_events WHERE id = ?", (event_id,)).fetchone()
        return _event(r) if r else None

    def recent_counts(self, now: datetime, days: int = 30) -> dict[str, int]:
        rows = self.db.execute("SELECT kind, count(*) FROM bounce_events WHERE at >= ? AND email != '' "
                               "GROUP BY kind", (to_iso(now - timedelta(days=days)),))
        return {r[0]: r[1] for r in rows}


def _event(r: sqlite3.Row) -> Event:
    return Event(int(r["id"]), from_iso_required(r["at"]), str(r["kind"]), str(r["email"]), str(r["status"]),
                 str(r["outcome"]), str(r["via"]), bytes(r["raw"] or b""))
