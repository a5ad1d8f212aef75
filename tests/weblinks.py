"""Links as the app makes them, for tests: a reader's token from their
handle, and the reader a token names."""

from __future__ import annotations

from pathlib import Path

from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.tokens import _b64, _mac, make_token, read_token
from newsletter.store import Archive


def token_for(store_path: Path, address: str, secret: str, purpose: str = "unsubscribe") -> str:
    with Archive(store_path) as a:
        sub = SubscriberStore(a).get(address)
    assert sub is not None, f"{address} is not on the list"
    return make_token(secret, sub.handle, purpose)


def address_of(store_path: Path, token: str, secret: str, purpose: str = "unsubscribe") -> str | None:
    t = read_token(secret, token, purpose)
    if t is None or t.handle is None:
        return None
    with Archive(store_path) as a:
        sub = SubscriberStore(a).by_handle(t.handle)
    return sub.email if sub else None


def legacy_token(secret: str, address: str, purpose: str = "unsubscribe", expires=None) -> str:
    """A link as versions before handles made it: the address, base64, in the link."""
    when = str(int(expires.timestamp())) if expires else ""
    message = f"{purpose}:{address.lower()}" + (f":{when}" if when else "")
    return ".".join([_b64(address.lower().encode("utf-8"))] + ([when] if when else []) + [_mac(secret, message)])
