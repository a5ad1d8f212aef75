"""Subscribers and the delivery ledger, kept in the archive file under
tables of their own (``MIGRATIONS`` below, run by ``SubscriberStore``)."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from newsletter.delivery.preferences import Preferences
from newsletter.codecs import from_iso, from_iso_required, to_iso
from newsletter.delivery.addresses import address_key
from newsletter.models import IssueKey
from newsletter.schema import Step, migrate
from newsletter.store import Archive

def new_handle() -> str:
    """A reader's opaque handle: what their links carry instead of their address."""
    return secrets.token_urlsafe(12)


_STATUS_RANK = {"subscribed": 0, "pending": 1, "unsubscribed": 2}


def _keys_and_handles(db: sqlite3.Connection) -> None:
    """Each reader gets the canonical key of their address (one row per key:
    rows that differed only in non-ASCII case or form are merged, the active
    one kept) and an opaque handle for their links; a sign-up gets its own
    confirmation nonce, used once; and the time from which links carry
    handles is kept (addresses in older links are honoured for a while)."""
    db.execute("ALTER TABLE subscribers ADD COLUMN key TEXT")
    db.execute("ALTER TABLE subscribers ADD COLUMN handle TEXT")
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for rowid, email, status, created in db.execute("SELECT rowid, email, status, created_at FROM subscribers"):
        groups.setdefault(address_key(email), []).append((_STATUS_RANK.get(status, 3), created, rowid))
    for key, rows in groups.items():
        keep, *others = sorted(rows)
        db.executemany("DELETE FROM subscribers WHERE rowid = ?", [(r[2],) for r in others])
        db.execute("UPDATE subscribers SET key = ?, handle = ? WHERE rowid = ?", (key, new_handle(), keep[2]))
    db.execute("DROP INDEX IF EXISTS subscribers_nocase")
    db.execute("CREATE UNIQUE INDEX subscribers_by_key ON subscribers(key)")
    db.execute("CREATE UNIQUE INDEX subscribers_by_handle ON subscribers(handle)")
    db.execute("ALTER TABLE signups ADD COLUMN nonce TEXT")
    db.execute("ALTER TABLE signups ADD COLUMN prefs TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE signups ADD COLUMN used_at TEXT")
    db.execute("CREATE UNIQUE INDEX signups_by_nonce ON signups(nonce)")
    db.executemany("UPDATE signups SET email = ? WHERE rowid = ?",
                   [(address_key(e), r) for r, e in db.execute("SELECT rowid, email FROM signups").fetchall()])
    db.execute("CREATE TABLE subscriber_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO subscriber_settings VALUES ('opaque_links_since', ?)",
               (datetime.now(timezone.utc).isoformat(),))


# the subscriber store's tables (see schema.py): subscribers, the delivery ledger, sign-ups
MIGRATIONS: list[Step] = [
    """
    CREATE TABLE subscribers (
        email TEXT PRIMARY KEY,     -- as given; compared case-insensitively
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,       -- subscribed | unsubscribed
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX subscribers_nocase ON subscribers(lower(email));
    CREATE TABLE deliveries (
        day TEXT NOT NULL,
        email TEXT NOT NULL,
        status TEXT NOT NULL,       -- queued | sending | sent | deferred | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL DEFAULT '',
        reply TEXT NOT NULL DEFAULT '',
        claimed_by TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (day, email)
    );
    CREATE INDEX deliveries_by_status ON deliveries(day, status);
    """,
    """
    ALTER TABLE subscribers ADD COLUMN prefs TEXT NOT NULL DEFAULT '';      -- JSON (delivery/preferences.py)
    ALTER TABLE subscribers ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';  -- web | import | cli
    ALTER TABLE subscribers ADD COLUMN requested_at TEXT;                   -- consent: when asked
    ALTER TABLE subscribers ADD COLUMN requested_from TEXT NOT NULL DEFAULT '';  -- and from which client
    ALTER TABLE subscribers ADD COLUMN confirmed_at TEXT;                   -- when confirmed
    ALTER TABLE subscribers ADD COLUMN unsubscribed_at TEXT;
    CREATE TABLE signups (           -- confirmation emails sent, for rate limits
        email TEXT NOT NULL,
        client TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX signups_by_email ON signups(email, at);
    CREATE INDEX signups_by_client ON signups(client, at);
    """,
    _keys_and_handles,
]


UNDO_DAYS = 30  # an unsubscribe can be undone without a new confirmation for this long


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str
    status: str  # pending | subscribed | unsubscribed | suppressed (bounced)
    created_at: datetime
    updated_at: datetime
    prefs: Preferences = field(default_factory=Preferences)
    source: str = "cli"
    requested_at: datetime | None = None
    requested_from: str = ""
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    handle: str = ""  # what the reader's links carry (opaque: no address in it)


@dataclass(frozen=True)
class Delivery:
    key: IssueKey
    email: str
    status: str
    attempts: int
    message_id: str
    reply: str
    claimed_by: str
    updated_at: datetime


def _subscriber(r: Any) -> Subscriber:
    return Subscriber(r["email"], r["name"], r["status"], from_iso_required(r["created_at"]), from_iso_required(r["updated_at"]),
                      Preferences.from_json(r["prefs"]), r["source"], from_iso(r["requested_at"]), r["requested_from"],
                      from_iso(r["confirmed_at"]), from_iso(r["unsubscribed_at"]), r["handle"])


INSERT = ("INSERT INTO subscribers (email, name, status, created_at, updated_at, note, prefs, source, requested_at, "
          "requested_from, confirmed_at, key, handle) VALUES (?,?,?,?,?,'',?,?,?,?,?,?,?)")


def _delivery(r: Any) -> Delivery:
    return Delivery(IssueKey.parse(r["day"]), r["email"], r["status"], r["attempts"], r["message_id"],
                    r["reply"], r["claimed_by"], from_iso_required(r["updated_at"]))


class SubscriberStore:
    """Subscribers and the delivery ledger, in the same archive file."""

    def __init__(self, archive: Archive):
        self.a = archive
        self.db = archive.db
        migrate(self.db, archive.path, "subscribers", MIGRATIONS)

    # ------------------------------------------------------- subscribers
    def get(self, email: str) -> Subscriber | None:
        """The reader with this address, in any of its spellings (``address_key``)."""
        r = self.db.execute("SELECT * FROM subscribers WHERE key = ?", (address_key(email),)).fetchone()
        return _subscriber(r) if r else None

    def by_handle(self, handle: str) -> Subscriber | None:
        """The reader a link's handle belongs to."""
        r = self.db.execute("SELECT * FROM subscribers WHERE handle = ?", (handle,)).fetchone()
        return _subscriber(r) if r else None

    def setting(self, name: str) -> str | None:
        r = self.db.execute("SELECT value FROM subscriber_settings WHERE name = ?", (name,)).fetchone()
        return str(r[0]) if r else None

    def add(self, email: str, name: str, now: datetime, *, resubscribe: bool = True, source: str = "cli",
            prefs: Preferences | None = None) -> str:
        """'added', 'resubscribed', 'exists' or 'unsubscribed' (left alone).
        The operator adds with the reader's consent: asked and confirmed now."""
        with self.a.transaction():
            current = self.get(email)
            if current is None:
                self.db.execute(INSERT, (email, name, "subscribed", to_iso(now), to_iso(now),
                                         (prefs or Preferences()).to_json(), source, to_iso(now), "", to_iso(now),
                                         address_key(email), new_handle()))
                return "added"
            if prefs is not None:
                self.set_prefs(email, prefs, now)
            if current.status == "subscribed":
                if name and not current.name:
                    self.db.execute("UPDATE subscribers SET name = ? WHERE key = ?", (name, address_key(email)))
                return "exists"
            if not resubscribe and current.status == "unsubscribed":
                return "unsubscribed"
            self.db.execute("UPDATE subscribers SET status = 'subscribed', updated_at = ?, confirmed_at = ?, "
                            "unsubscribed_at = NULL, source = ? WHERE key = ?",
                            (to_iso(now), to_iso(now), source, address_key(email)))
            return "resubscribed"

    def set_prefs(self, email: str, prefs: Preferences, now: datetime) -> bool:
        cur = self.db.execute("UPDATE subscribers SET prefs = ?, updated_at = ? WHERE key = ?",
                              (prefs.to_json(), to_iso(now), address_key(email)))
        return cur.rowcount > 0

    def can_undo(self, sub: Subscriber, now: datetime) -> bool:
        return (sub.status == "unsubscribed" and sub.unsubscribed_at is not None
                and now - sub.unsubscribed_at <= timedelta(days=UNDO_DAYS))

    def add_many(self, rows: list[tuple[str, str]] | list[tuple[str, str, Preferences | None]], now: datetime, *,
                 resubscribe: bool = False, source: str = "import") -> dict[str, int]:
        """``add`` for many (email, name) rows in one transaction; counts by result."""
        results: dict[str, int] = {}
        stamp = to_iso(now)
        as_json: dict[Preferences, str] = {}  # most rows share a few preference sets

        def prefs_json(p: Preferences) -> str:
            if p not in as_json:
                as_json[p] = p.to_json()
            return as_json[p]

        with self.a.transaction():
            existing = {r[0]: r[1] for r in self.db.execute("SELECT key, status FROM subscribers")}
            new, again = [], []
            prefs_updates = []
            for row in rows:
                email, name = row[0], row[1]
                prefs = row[2] if len(row) > 2 else None
                key = address_key(email)
                if prefs is not None and key in existing:
                    prefs_updates.append((prefs_json(prefs), key))
                status = existing.get(key)
                if status is None:
                    new.append((email, name, "subscribed", stamp, stamp, prefs_json(prefs or Preferences()),
                                source, stamp, "", stamp, key, new_handle()))
                    existing[key] = "subscribed"
                    result = "added"
                elif status in ("subscribed", "pending"):
                    result = "exists"
                elif status == "suppressed" and not resubscribe:
                    result = "suppressed"
                elif resubscribe:
                    again.append((stamp, key))
                    existing[key] = "subscribed"
                    result = "resubscribed"
                else:
                    result = "unsubscribed"
                results[result] = results.get(result, 0) + 1
            self.db.executemany(INSERT, new)
            self.db.executemany("UPDATE subscribers SET status = 'subscribed', updated_at = ?, unsubscribed_at = NULL "
                                "WHERE key = ?", again)
            self.db.executemany("UPDATE subscribers SET prefs = ? WHERE key = ?", prefs_updates)
        return results

    def set_status(self, email: str, status: str, now: datetime) -> bool:
        """Change the reader's status; False when there is no such reader or
        the status was already that (nothing changed)."""
        cur = self.db.execute(
            "UPDATE subscribers SET status = ?, updated_at = ?, "
            "unsubscribed_at = CASE WHEN ? = 'unsubscribed' THEN ? ELSE unsubscribed_at END "
            "WHERE key = ? AND status != ?",
            (status, to_iso(now), status, to_iso(now), address_key(email), status))
        return cur.rowcount > 0

    def remove(self, email: str) -> bool:
        return self.db.execute("DELETE FROM subscribers WHERE key = ?", (address_key(email),)).rowcount > 0

    def summary_languages(self) -> set[str]:
        """The summary languages the subscribed readers chose."""
        rows = self.db.execute("SELECT DISTINCT json_extract(prefs, '$.language') FROM subscribers "
                               "WHERE status = 'subscribed' AND prefs LIKE '%\"language\"%' AND json_valid(prefs)")
        return {str(r[0]) for r in rows if r[0]}

    def has_subscribers(self) -> bool:
        return self.db.execute("SELECT 1 FROM subscribers WHERE status = 'subscribed' LIMIT 1").fetchone() is not None

    def pending(self, key: IssueKey) -> tuple[int, int]:
        """(subscribers, of whom not yet sent or failed for ``day``)."""
        row = self.db.execute(
            """SELECT count(*), sum(CASE WHEN d.status IN ('sent', 'failed', 'nothing') THEN 0 ELSE 1 END)
            FROM subscribers s LEFT JOIN deliveries d ON d.day = ? AND d.email = s.email
            WHERE s.status = 'subscribed'""", (str(key),)).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def all(self, status: str | None = None) -> list[Subscriber]:
        if status:
            rows = self.db.execute("SELECT * FROM subscribers WHERE status = ? ORDER BY key", (status,))
        else:
            rows = self.db.execute("SELECT * FROM subscribers ORDER BY key")
        return [_subscriber(r) for r in rows]

    # ------------------------------------------------------------ ledger
    def queue(self, key: IssueKey, now: datetime) -> int:
        """A queued row for every current subscriber without one for ``day``."""
        cur = self.db.execute(
            """INSERT OR IGNORE INTO deliveries (day, email, status, updated_at)
            SELECT ?, email, 'queued', ? FROM subscribers WHERE status = 'subscribed'""",
            (str(key), to_iso(now)))
        return cur.rowcount

    def claim(self, key: IssueKey, worker: str, now: datetime, *, stale: "set[str] | frozenset[str]" = frozenset(),
              statuses: tuple[str, ...] = ("queued", "deferred"),
              skip: "set[str] | frozenset[str]" = frozenset()) -> tuple[Delivery, str] | None:
        """Atomically take the next row to send (rows in ``statuses``, and rows
        left 'sending' by a worker that is gone: ``stale``), so that two runs
        at once never take the same row."""
        stale_q = ",".join("?" * len(stale)) or "''"
        status_q = ",".join("?" * len(statuses))
        skip_q = ",".join("?" * len(skip)) or "''"
        with self.a.transaction():
            row = self.db.execute(
                f"""SELECT rowid, status FROM deliveries WHERE day = ? AND (status IN ({status_q})
                    OR (status = 'sending' AND claimed_by IN ({stale_q})))
                    AND email NOT IN ({skip_q})
                    AND email IN (SELECT email FROM subscribers WHERE status = 'subscribed')
                    ORDER BY email LIMIT 1""",
                (str(key), *statuses, *sorted(stale), *sorted(skip))).fetchone()
            if row is None:
                return None
            r = self.db.execute(
                """UPDATE deliveries SET status = 'sending', claimed_by = ?, attempts = attempts + 1, updated_at = ?
                WHERE rowid = ? RETURNING *""", (worker, to_iso(now), row[0])).fetchone()
        return _delivery(r), row[1]

    def finish(self, key: IssueKey, email: str, status: str, now: datetime, *, reply: str = "", message_id: str = "") -> None:
        self.db.execute(
            """UPDATE deliveries SET status = ?, reply = ?, message_id = CASE WHEN ? != '' THEN ? ELSE message_id END,
            updated_at = ? WHERE day = ? AND email = ?""",
            (status, reply[:500], message_id, message_id, to_iso(now), str(key), email))

    def workers_sending(self, key: IssueKey) -> set[str]:
        rows = self.db.execute("SELECT DISTINCT claimed_by FROM deliveries WHERE day = ? AND status = 'sending'",
                               (str(key),))
        return {r[0] for r in rows}

    def deliveries(self, key: IssueKey) -> list[Delivery]:
        rows = self.db.execute("SELECT * FROM deliveries WHERE day = ? ORDER BY email", (str(key),))
        return [_delivery(r) for r in rows]

    def sent_since(self, since: datetime) -> int:
        """Messages sent (every issue) since ``since``: what complaint rates are rates of."""
        return int(self.db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent' AND updated_at >= ?",
                                   (to_iso(since),)).fetchone()[0])

    def counts(self, key: IssueKey) -> dict[str, int]:
        rows = self.db.execute("SELECT status, count(*) FROM deliveries WHERE day = ? GROUP BY status",
                               (str(key),))
        return {r[0]: r[1] for r in rows}
