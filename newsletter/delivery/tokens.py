"""Signed links: the address and an HMAC over it and the link's purpose (and,
for confirmations, an expiry), so a link works without a lookup table and
cannot be forged, reused for another address or for another purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

PURPOSES = ("unsubscribe", "preferences", "confirm")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, address: str, expires: str = "") -> str:
    message = f"{purpose}:{address.lower()}" + (f":{expires}" if expires else "")
    return _b64(hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest())


def make_token(secret: str, address: str, purpose: str = "unsubscribe", expires: datetime | None = None) -> str:
    """``b64(address).mac`` or, with an expiry, ``b64(address).EPOCH.mac``."""
    assert purpose in PURPOSES
    when = str(int(expires.timestamp())) if expires else ""
    parts = [_b64(address.lower().encode("utf-8"))] + ([when] if when else []) + [_mac(secret, purpose, address, when)]
    return ".".join(parts)


def verify_token(secret: str, token: str, purpose: str = "unsubscribe", now: datetime | None = None) -> str | None:
    """The address a token was made for, or None if it is not genuine, is for
    another purpose, or has expired (tokens with an expiry need ``now``)."""
    if not secret or not token or len(token) > 1000 or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) not in (2, 3):
        return None
    encoded, mac = parts[0], parts[-1]
    when = parts[1] if len(parts) == 3 else ""
    if when and (not when.isdigit() or now is None or int(when) < now.timestamp()):
        return None
    try:
        address = _unb64(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, purpose, address, when)):
        return None
    return address
