"""Subscribers and the delivery ledger, kept in the archive file (its tables
are created by the archive's migrations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from newsletter.store import Archive, _dt_req, _iso


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    day: date
    email: str
    status: str
    attempts: int
    message_id: str
    reply: str
    claimed_by: str
    updated_at: datetime


def _subscriber(r) -> Subscriber:
    return Subscriber(r["email"], r["name"], r["status"], _dt_req(r["created_at"]), _dt_req(r["updated_at"]))


def _delivery(r) -> Delivery:
    return Delivery(date.fromisoformat(r["day"]), r["email"], r["status"], r["attempts"], r["message_id"],
                    r["reply"], r["claimed_by"], _dt_req(r["updated_at"]))


class SubscriberStore:
    """Subscribers and the delivery ledger, in the same archive file."""

    def __init__(self, archive: Archive):
        self.a = archive
        self.db = archive.db

    # ------------------------------------------------------- subscribers
    def get(self, email: str) -> Subscriber | None:
        r = self.db.execute("SELECT * FROM subscribers WHERE lower(email) = lower(?)", (email,)).fetchone()
        return _subscriber(r) if r else None

    def add(self, email: str, name: str, now: datetime, *, resubscribe: bool = True) -> str:
        """'added', 'resubscribed', 'exists' or 'unsubscribed' (left alone)."""
        with self.a.transaction():
            current = self.get(email)
            if current is None:
                self.db.execute("INSERT INTO subscribers VALUES (?,?,?,?,?,'')",
                                (email, name, "subscribed", _iso(now), _iso(now)))
                return "added"
            if current.status == "subscribed":
                if name and not current.name:
                    self.db.execute("UPDATE subscribers SET name = ? WHERE lower(email) = lower(?)", (name, email))
                return "exists"
            if not resubscribe:
                return "unsubscribed"
            self.db.execute("UPDATE subscribers SET status = 'subscribed', updated_at = ? WHERE lower(email) = lower(?)",
                            (_iso(now), email))
            return "resubscribed"

    def add_many(self, rows: list[tuple[str, str]], now: datetime, *, resubscribe: bool = False) -> dict[str, int]:
        """``add`` for many (email, name) rows in one transaction; counts by result."""
        results: dict[str, int] = {}
        with self.a.transaction():
            existing = {r[0].lower(): r[1] for r in self.db.execute("SELECT email, status FROM subscribers")}
            new, again = [], []
            for email, name in rows:
                status = existing.get(email.lower())
                if status is None:
                    new.append((email, name, "subscribed", _iso(now), _iso(now)))
                    existing[email.lower()] = "subscribed"
                    key = "added"
                elif status == "subscribed":
                    key = "exists"
                elif resubscribe:
                    again.append((_iso(now), email))
                    existing[email.lower()] = "subscribed"
                    key = "resubscribed"
                else:
                    key = "unsubscribed"
                results[key] = results.get(key, 0) + 1
            self.db.executemany("INSERT INTO subscribers VALUES (?,?,?,?,?,'')", new)
            self.db.executemany("UPDATE subscribers SET status = 'subscribed', updated_at = ? "
                                "WHERE lower(email) = lower(?)", again)
        return results

    def set_status(self, email: str, status: str, now: datetime) -> bool:
        cur = self.db.execute(
            "UPDATE subscribers SET status = ?, updated_at = ? WHERE lower(email) = lower(?) AND status != ?",
            (status, _iso(now), email, status))
        return cur.rowcount > 0

    def remove(self, email: str) -> bool:
        return self.db.execute("DELETE FROM subscribers WHERE lower(email) = lower(?)", (email,)).rowcount > 0

    def has_subscribers(self) -> bool:
        return self.db.execute("SELECT 1 FROM subscribers WHERE status = 'subscribed' LIMIT 1").fetchone() is not None

    def pending(self, day: date) -> tuple[int, int]:
        """(subscribers, of whom not yet sent or failed for ``day``)."""
        row = self.db.execute(
            """SELECT count(*), sum(CASE WHEN d.status IN ('sent', 'failed') THEN 0 ELSE 1 END)
            FROM subscribers s LEFT JOIN deliveries d ON d.day = ? AND lower(d.email) = lower(s.email)
            WHERE s.status = 'subscribed'""", (day.isoformat(),)).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def all(self, status: str | None = None) -> list[Subscriber]:
        if status:
            rows = self.db.execute("SELECT * FROM subscribers WHERE status = ? ORDER BY lower(email)", (status,))
        else:
            rows = self.db.execute("SELECT * FROM subscribers ORDER BY lower(email)")
        return [_subscriber(r) for r in rows]

    # ------------------------------------------------------------ ledger
    def queue(self, day: date, now: datetime) -> int:
        """A queued row for every current subscriber without one for ``day``."""
        cur = self.db.execute(
            """INSERT OR IGNORE INTO deliveries (day, email, status, updated_at)
            SELECT ?, email, 'queued', ? FROM subscribers WHERE status = 'subscribed'""",
            (day.isoformat(), _iso(now)))
        return cur.rowcount

    def claim(self, day: date, worker: str, now: datetime, *, stale: "set[str] | frozenset[str]" = frozenset(),
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
                    AND lower(email) IN (SELECT lower(email) FROM subscribers WHERE status = 'subscribed')
                    ORDER BY email LIMIT 1""",
                (day.isoformat(), *statuses, *sorted(stale), *sorted(skip))).fetchone()
            if row is None:
                return None
            r = self.db.execute(
                """UPDATE deliveries SET status = 'sending', claimed_by = ?, attempts = attempts + 1, updated_at = ?
                WHERE rowid = ? RETURNING *""", (worker, _iso(now), row[0])).fetchone()
        return _delivery(r), row[1]

    def finish(self, day: date, email: str, status: str, now: datetime, *, reply: str = "", message_id: str = "") -> None:
        self.db.execute(
            """UPDATE deliveries SET status = ?, reply = ?, message_id = CASE WHEN ? != '' THEN ? ELSE message_id END,
            updated_at = ? WHERE day = ? AND email = ?""",
            (status, reply[:500], message_id, message_id, _iso(now), day.isoformat(), email))

    def workers_sending(self, day: date) -> set[str]:
        rows = self.db.execute("SELECT DISTINCT claimed_by FROM deliveries WHERE day = ? AND status = 'sending'",
                               (day.isoformat(),))
        return {r[0] for r in rows}

    def deliveries(self, day: date) -> list[Delivery]:
        rows = self.db.execute("SELECT * FROM deliveries WHERE day = ? ORDER BY email", (day.isoformat(),))
        return [_delivery(r) for r in rows]

    def counts(self, day: date) -> dict[str, int]:
        rows = self.db.execute("SELECT status, count(*) FROM deliveries WHERE day = ? GROUP BY status",
                               (day.isoformat(),))
        return {r[0]: r[1] for r in rows}
