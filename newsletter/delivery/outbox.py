"""The web app's own mail (confirmations, welcomes): a request only writes a
row here, and a worker sends it, so a slow or hung mail server never holds a
request (and so never a one-click unsubscribe). The worker is a thread of
``newsletter serve``; under another WSGI server, ``newsletter outbox send``
(from cron) does the same. A failed send is tried again later, with a
growing pause, up to ``MAX_ATTEMPTS`` times."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.codecs import to_iso
from newsletter.schema import migrate
from newsletter.seams import utc_now
from newsletter.store import Archive
from newsletter.text import collapse

if TYPE_CHECKING:
    from newsletter.delivery.smtp import Mailer

MAX_ATTEMPTS = 8
STALE_MINUTES = 15  # a row left 'sending' this long by a worker that died is sent again

MIGRATIONS = [
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,             -- confirm | welcome
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        data BLOB NOT NULL,             -- the message, ready to send
        created_at TEXT NOT NULL,
        next_at TEXT NOT NULL,          -- not before
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | sent | failed
        claimed_at TEXT,
        reply TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX outbox_due ON outbox(status, next_at);
    """,
]


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    sender: str
    recipient: str
    data: bytes
    attempts: int


class Outbox:
    def __init__(self, archive: Archive, *, backoff: float = 30.0):
        self.archive, self.db, self.backoff = archive, archive.db, backoff
        migrate(self.db, archive.path, "outbox", MIGRATIONS)

    def add(self, kind: str, sender: str, recipient: str, data: bytes, now: datetime) -> None:
        """Queue a message (inside the caller's transaction, if any)."""
        self.db.execute("INSERT INTO outbox (kind, sender, recipient, data, created_at, next_at) VALUES (?,?,?,?,?,?)",
                        (kind, sender, recipient, data, to_iso(now), to_iso(now)))

    def claim(self, now: datetime) -> Item | None:
        """The next message due, taken atomically (two workers never take the same)."""
        stale = to_iso(now - timedelta(minutes=STALE_MINUTES))
        with self.archive.transaction():
            r = self.db.execute(
                "SELECT id, kind, sender, recipient, data, attempts FROM outbox WHERE (status = 'queued' AND "
                "next_at <= ?) OR (status = 'sending' AND claimed_at < ?) ORDER BY next_at, id LIMIT 1",
                (to_iso(now), stale)).fetchone()
            if r is None:
                return None
            self.db.execute("UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
                            "WHERE id = ?", (to_iso(now), r[0]))
        return Item(r[0], r[1], r[2], r[3], bytes(r[4]), r[5] + 1)

    def sent(self, item: Item, reply: str, now: datetime) -> None:
        self.db.execute("UPDATE outbox SET status = 'sent', reply = ?, next_at = ? WHERE id = ?",
                        (collapse(reply)[:300], to_iso(now), item.id))

    def failed(self, item: Item, error: str, now: datetime, *, final: bool = False) -> None:
        """Try again later (the pause doubles), or give up after MAX_ATTEMPTS or a permanent refusal."""
        if final or item.attempts >= MAX_ATTEMPTS:
            self.db.execute("UPDATE outbox SET status = 'failed', reply = ? WHERE id = ?",
                            (collapse(error)[:300], item.id))
            return
        later = now + timedelta(seconds=self.backoff * 2 ** (item.attempts - 1))
        self.db.execute("UPDATE outbox SET status = 'queued', reply = ?, next_at = ? WHERE id = ?",
                        (collapse(error)[:300], to_iso(later), item.id))

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT status, count(*) FROM outbox GROUP BY status")}

    def due(self, now: datetime) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE status = 'queued' AND next_at <= ?",
                                   (to_iso(now),)).fetchone()[0])


@dataclass
class OutboxSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"outbox: {self.sent} sent, {self.retried} to try again later, {self.failed} failed"


def send_due(path: Path, mailer: Callable[[], Mailer], now: Callable[[], datetime] = utc_now, *,
             backoff: float = 30.0) -> OutboxSummary:
    """Send every message due now over one connection (made on the first one)."""
    from newsletter.delivery.smtp import Deferred, Rejected, SendError

    summary = OutboxSummary()
    connection: Mailer | None = None
    with Archive(path) as archive:
        box = Outbox(archive, backoff=backoff)
        try:
            while (item := box.claim(now())) is not None:
                try:
                    connection = connection or mailer()
                    reply = connection.send(item.sender, item.recipient, item.data)
                except Rejected as exc:
                    box.failed(item, str(exc), now(), final=True)
                    summary.failed += 1
                except (Deferred, SendError, OSError) as exc:
                    box.failed(item, str(exc), now())
                    summary.retried += 1
                    summary.errors.append(f"{item.recipient}: {exc}")
                    if connection is not None:
                        connection.close()
                    connection = None
                    if not isinstance(exc, Deferred):
                        break  # the server is unreachable: the rest waits for the next round
                else:
                    box.sent(item, reply, now())
                    summary.sent += 1
        finally:
            if connection is not None:
                connection.close()
    return summary


class Worker:
    """``newsletter serve``'s sender: wakes when a request queues a message
    (``notify``), or every ``interval`` seconds for retries."""

    def __init__(self, path: Path, mailer: Callable[[], Mailer], *, interval: float = 30.0, backoff: float = 30.0,
                 log: Callable[[str], None] = print):
        self.path, self.mailer, self.interval, self.backoff, self.log = path, mailer, interval, backoff, log
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    def start(self) -> "Worker":
        self.thread.start()
        return self

    def notify(self) -> None:
        self.wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                summary = send_due(self.path, self.mailer, backoff=self.backoff)
                for error in summary.errors:
                    self.log(f"newsletter: outbox: {error} (tried again later)")
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                self.log(f"newsletter: outbox: {type(exc).__name__}: {exc}")
            self.wake.wait(self.interval)
