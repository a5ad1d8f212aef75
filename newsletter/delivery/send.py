"""Delivery: the ledger-driven send loop over one or more mailers
(``smtp.py``), and the dry run that writes .eml files instead.

The ledger (table ``deliveries``) has one row per (issue, recipient). A run
claims a row atomically (queued -> sending), sends, then records the result
(sent | deferred | failed). A crash leaves at most the one in-flight row in
'sending'; the next run re-sends it when the process that claimed it is gone,
so a ``kill -9`` loses nothing and duplicates at most one message.
"""

from __future__ import annotations

import email.errors
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.files import write_atomic
from newsletter.delivery.addresses import InvalidAddress
from newsletter.delivery.message import MessageFactory, MessageSettings, Recipient
from newsletter.delivery.smtp import Deferred, Mailer, Rejected
from newsletter.delivery.editions import Editions, Skip
from newsletter.delivery.ledger import Delivery, SubscriberStore
from newsletter.models import IssueKey
from newsletter.store import Archive

EXIT_SOME_FAILED = 5


class SomeFailed(NewsletterError):
    exit_code = EXIT_SOME_FAILED


# what making one recipient's message can raise: that recipient fails alone
UNSENDABLE = (InvalidAddress, UnicodeError, ValueError, TypeError, email.errors.MessageError)


@dataclass
class DryRunSummary:
    """What a dry run wrote: one .eml per message a send would make now."""

    key: IssueKey
    subject: str
    files: list[Path] = field(default_factory=list)
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # addresses no message can be made for
    nothing: list[str] = field(default_factory=list)  # "address: why" for readers who get nothing
    skips: dict[str, int] = field(default_factory=dict)  # how many readers get nothing, by why (Skip.kind)

    def line(self) -> str:
        return (f"Dry run {self.key}: {len(self.files)} messages ({self.bytes / 1024:.0f} KiB) written"
                f"{skip_words(self.skips)}, nothing sent; subject: {self.subject}")


def worker_id() -> str:
    """host:pid:nonce: unique per run, and tells whether its process still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _alive(worker: str) -> bool:
    host, _, pid = worker.rsplit(":", 1)[0].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: assume it is still at work
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


SKIP_WORDS = {"paused": "paused", "frequency": "on the other frequency (daily or weekly only)",
              "nothing": "with nothing on their topics", "gone": "no longer subscribed"}


def skip_words(skips: dict[str, int]) -> str:
    """', 1 paused, 2 with nothing on their topics': each reason counted apart."""
    return "".join(f", {skips[k]} {words}" for k, words in SKIP_WORDS.items() if skips.get(k))


@dataclass
class SendSummary:
    key: IssueKey
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    resumed: int = 0
    nothing: int = 0  # readers who get nothing today (paused, another frequency, no paper on their topics)
    skips: dict[str, int] = field(default_factory=dict)  # the same, by why (Skip.kind)
    bytes: int = 0
    connections: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.key}: {self.sent} sent, {self.deferred} deferred, {self.failed} failed"
                f"{skip_words(self.skips)}"
                f"{f', {self.resumed} resumed after a crash' if self.resumed else ''}"
                f" over {self.connections} SMTP connection{'s' if self.connections != 1 else ''}")


@dataclass
class _Shared:
    """One send, shared by its connections: what is sent and how, the
    summary, the progress, and which recipients were deferred how often (so
    retries keep their backoff)."""

    key: IssueKey
    editions: Editions
    settings: MessageSettings
    now: Callable[[], datetime]
    sleep: Callable[[float], None]
    max_attempts: int
    backoff: float
    on_progress: Callable[[int, int], None] | None
    summary: SendSummary
    total: int
    done: int
    stale: set[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    tries: dict[str, int] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)

    def count(self, **fields: int) -> None:
        """One row finished: add to the summary, move the progress on."""
        with self.lock:
            for k, v in fields.items():
                setattr(self.summary, k, getattr(self.summary, k) + v)
            self.done += 1
            done = self.done
        if self.on_progress:
            self.on_progress(done, self.total)

    def fail(self, email: str, reason: str) -> None:
        with self.lock:
            self.summary.failures.append(f"{email}: {reason}")
        self.count(failed=1)


def send_issue(archive: Archive, key: IssueKey, editions: Editions, settings: MessageSettings,
               mailer: Mailer | Sequence[Mailer], *,
               now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
               sleep: Callable[[float], None] = time.sleep, max_attempts: int = 3, backoff: float = 30.0,
               on_progress: Callable[[int, int], None] | None = None, worker: str | None = None) -> SendSummary:
    """Send each subscriber who has not had it their edition, per the ledger.
    With several mailers (``[smtp] connections``), each sends from the same
    ledger on its own connection and database handle, claiming rows
    atomically, as concurrent sends always could."""
    mailers = list(mailer) if isinstance(mailer, Sequence) else [mailer]
    store = SubscriberStore(archive)
    store.queue(key, now())
    counts = store.counts(key)
    shared = _Shared(key, editions, settings, now, sleep, max_attempts, backoff, on_progress, SendSummary(key),
                     total=sum(counts.values()),
                     done=counts.get("sent", 0) + counts.get("failed", 0) + counts.get("nothing", 0),
                     stale={w for w in store.workers_sending(key) if not _alive(w)})
    try:
        if len(mailers) == 1:
            _Connection(store, mailers[0], worker or worker_id(), shared).drain()
        else:
            _drain_in_threads(archive, mailers, shared)
    finally:
        for m in mailers:
            m.close()
    summary = shared.summary
    summary.deferred = store.counts(key).get("deferred", 0)
    summary.connections = sum(getattr(m, "connections", 0) for m in mailers)
    return summary


def _drain_in_threads(archive: Archive, mailers: list[Mailer], shared: _Shared) -> None:
    """One thread per mailer, each with its own database handle."""
    errors: list[BaseException] = []

    def run(m: Mailer) -> None:
        try:
            with Archive(archive.path) as own:
                _Connection(SubscriberStore(own), m, worker_id(), shared).drain()
        except BaseException as exc:  # reported after the others finish
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,), name=f"smtp-{i}") for i, m in enumerate(mailers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors and not shared.summary.sent:
        raise errors[0]
    for exc in errors:  # some connections failed, others sent: say so, do not lose the summary
        shared.summary.failures.append(f"a connection stopped: {exc}")


class _Connection:
    """One connection's loop: claim a row, send, record; then retry rounds."""

    def __init__(self, store: SubscriberStore, mailer: Mailer, worker: str, shared: _Shared):
        self.store, self.mailer, self.worker, self.shared = store, mailer, worker, shared
        self.factory = MessageFactory(shared.settings)

    def drain(self) -> None:
        shared = self.shared
        statuses: tuple[str, ...] = ("queued", "deferred")
        round_ = 0
        while True:
            claimed = self.store.claim(shared.key, self.worker, shared.now(), stale=shared.stale, statuses=statuses,
                                       skip=set(shared.skip))
            if claimed is not None:
                self.deliver(*claimed)
                continue
            with shared.lock:
                waiting = [e for e, n in shared.tries.items() if n < shared.max_attempts and e in shared.skip]
            if not waiting:
                return
            # a round of retries for the deferred ones, after a growing pause
            shared.sleep(shared.backoff * (2 ** round_))
            round_ += 1
            with shared.lock:
                shared.skip = {e for e, n in shared.tries.items() if n >= shared.max_attempts}
            statuses = ("deferred",)

    def deliver(self, row: Delivery, previous: str) -> None:
        shared, store, key, email = self.shared, self.store, self.shared.key, row.email
        with shared.lock:
            shared.summary.resumed += previous == "sending"  # left in flight by a run that died
            shared.tries[email] = shared.tries.get(email, 0) + 1
        sub = store.get(email)
        mine = shared.editions.for_reader(sub) if sub else Skip("gone", "no longer a subscriber")
        if sub is None or isinstance(mine, Skip):  # nothing for this reader today: recorded, not sent
            mine = mine if isinstance(mine, Skip) else Skip("gone", "no longer a subscriber")
            store.finish(key, email, "nothing", shared.now(), reply=mine.reason)
            with shared.lock:
                shared.summary.skips[mine.kind] = shared.summary.skips.get(mine.kind, 0) + 1
            shared.count(nothing=1)
            return
        try:
            data, message_id = self.factory.make(mine, Recipient(email, sub.name, sub.handle), key, shared.now())
        except UNSENDABLE as exc:  # this recipient alone: the others are sent
            reason = f"cannot make a message for this address: {exc}"
            store.finish(key, email, "failed", shared.now(), reply=reason)
            shared.fail(email, reason)
            return
        self.send(shared.settings.envelope_sender(sub.handle), email, data, message_id)

    def send(self, sender: str, email: str, data: bytes, message_id: str) -> None:
        shared, key = self.shared, self.shared.key
        try:
            reply = self.mailer.send(sender, email, data)
        except Deferred as exc:
            self.store.finish(key, email, "deferred", shared.now(), reply=str(exc))
            with shared.lock:
                shared.skip.add(email)
        except (Rejected, InvalidAddress) as exc:
            self.store.finish(key, email, "failed", shared.now(), reply=str(exc))
            if isinstance(exc, Rejected):  # a 5xx to RCPT or DATA: a hard bounce, suppressed at once
                from newsletter.delivery.bounces import Bounces
                Bounces(self.store.a).rejected(email, str(exc), shared.now())
            shared.fail(email, str(exc))
        except BaseException:
            # the connection is unusable (SendError) or we are stopped: nothing was
            # sent for this row, so it goes back to the queue
            self.store.finish(key, email, "queued", shared.now(), reply="interrupted")
            raise
        else:
            self.store.finish(key, email, "sent", shared.now(), reply=reply, message_id=message_id)
            shared.count(sent=1, bytes=len(data))


def dry_run(archive: Archive, key: IssueKey, editions: Editions, settings: MessageSettings, folder: Path,
            *, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> DryRunSummary:
    """Write every message a send would make now into ``folder`` (each
    reader's own edition); reads the ledger (to skip those already sent) but
    writes nothing to it."""
    factory = MessageFactory(settings)
    store = SubscriberStore(archive)
    done = {d.email.lower() for d in store.deliveries(key) if d.status in ("sent", "failed", "nothing")}
    summary = DryRunSummary(key, editions.subject)
    for sub in store.all("subscribed"):
        if sub.email.lower() in done:
            continue
        mine = editions.for_reader(sub)
        if isinstance(mine, Skip):
            summary.nothing.append(f"{sub.email}: {mine.reason}")
            summary.skips[mine.kind] = summary.skips.get(mine.kind, 0) + 1
            continue
        try:
            data, _ = factory.make(mine, Recipient(sub.email, sub.name, sub.handle), key, now())
        except UNSENDABLE as exc:
            summary.skipped.append(f"{sub.email}: cannot make a message for this address: {exc}")
            continue
        safe = "".join(c if c.isalnum() or c in "@._-+" else "_" for c in sub.email)
        summary.files.append(write_atomic(folder / f"{len(summary.files) + 1:04d}-{safe}.eml", data, durable=False))
        summary.bytes += len(data)
    return summary
