"""Double opt-in: a sign-up from the web form and its confirmation.

Each sign-up is a row of its own with a random nonce; its confirmation link
carries that nonce and works once. The rate limits (per address, per
client) are checked and the sign-up recorded in one write transaction, so
requests arriving together cannot all pass the check. A sign-up never
edits an existing reader: it may create a pending reader for a new address,
and confirming (which proves the address is theirs) subscribes them again
with their own preferences."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from newsletter.codecs import from_iso_required, to_iso
from newsletter.delivery.addresses import address_key
from newsletter.delivery.ledger import INSERT, Subscriber, SubscriberStore, new_handle
from newsletter.delivery.preferences import Preferences
from newsletter.store import Archive

CONFIRM_HOURS = 48
PER_ADDRESS_PER_DAY = 3
PER_CLIENT_PER_HOUR = 20

Confirmed = Literal["subscribed", "already", "used", "expired", "gone", "unknown"]


@dataclass(frozen=True)
class Confirmation:
    result: Confirmed
    subscriber: Subscriber | None = None


class Signups:
    def __init__(self, archive: Archive):
        self.subscribers = SubscriberStore(archive)
        self.archive, self.db = archive, archive.db

    def request(self, address: str, client: str, prefs: Preferences, now: datetime,
                then: Callable[[str], None] | None = None) -> str | None:
        """Record a sign-up and return its nonce (for the confirmation link),
        or None when the address or the client is over its limit. ``then``
        runs inside the same transaction (the confirmation goes into the
        outbox there)."""
        key = address_key(address)
        with self.archive.transaction():
            by_address = self.db.execute("SELECT count(*) FROM signups WHERE email = ? AND at >= ?",
                                         (key, to_iso(now - timedelta(days=1)))).fetchone()[0]
            by_client = self.db.execute("SELECT count(*) FROM signups WHERE client = ? AND at >= ?",
                                        (client, to_iso(now - timedelta(hours=1)))).fetchone()[0]
            if by_address >= PER_ADDRESS_PER_DAY or by_client >= PER_CLIENT_PER_HOUR:
                return None
            nonce = secrets.token_urlsafe(18)
            self.db.execute("INSERT INTO signups (email, client, at, nonce, prefs) VALUES (?,?,?,?,?)",
                            (key, client, to_iso(now), nonce, prefs.to_json()))
            if self.subscribers.get(address) is None:  # a new address: pending until confirmed
                self.db.execute(INSERT, (address, "", "pending", to_iso(now), to_iso(now), prefs.to_json(), "web",
                                         to_iso(now), client, None, key, new_handle()))
            if then is not None:
                then(nonce)
        return nonce

    def confirm(self, nonce: str, now: datetime) -> Confirmation:
        """Confirm the sign-up of ``nonce`` once; what happened, truthfully."""
        with self.archive.transaction():
            row = self.db.execute("SELECT rowid, email, client, at, used_at FROM signups WHERE nonce = ?",
                                  (nonce,)).fetchone()
            if row is None:
                return Confirmation("unknown")
            if row[4]:
                return Confirmation("used")
            if now - from_iso_required(row[3]) > timedelta(hours=CONFIRM_HOURS):
                return Confirmation("expired")
            self.db.execute("UPDATE signups SET used_at = ? WHERE rowid = ?", (to_iso(now), row[0]))
            sub = self.subscribers.get(row[1])
            if sub is None:
                return Confirmation("gone")
            if sub.status == "subscribed":
                return Confirmation("already", sub)
            self._subscribe(sub, row[3], row[2], now)
        return Confirmation("subscribed", self.subscribers.get(sub.email))

    def confirm_pending(self, address: str, now: datetime) -> Confirmation:
        """A confirmation link of the older kind (it carried the address):
        it can only confirm a reader still pending, never subscribe again one
        who unsubscribed since."""
        with self.archive.transaction():
            sub = self.subscribers.get(address)
            if sub is None:
                return Confirmation("gone")
            if sub.status != "pending":
                return Confirmation("already" if sub.status == "subscribed" else "used", sub)
            self._subscribe(sub, to_iso(sub.requested_at) or to_iso(now) or "", sub.requested_from, now)
        return Confirmation("subscribed", self.subscribers.get(sub.email))

    def _subscribe(self, sub: Subscriber, asked_at: str, asked_from: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE subscribers SET status = 'subscribed', confirmed_at = ?, unsubscribed_at = NULL, updated_at = ?, "
            "requested_at = ?, requested_from = ?, source = CASE WHEN status = 'pending' THEN 'web' ELSE source END "
            "WHERE key = ?", (to_iso(now), to_iso(now), asked_at, asked_from, address_key(sub.email)))
