"""Unsubscribe tokens: the address and an HMAC of it, so the link works
without a lookup table and cannot be forged for another address."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, address: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"unsubscribe:" + address.lower().encode("utf-8"), hashlib.sha256)
    return _b64(digest.digest())


def make_token(secret: str, address: str) -> str:
    return f"{_b64(address.lower().encode('utf-8'))}.{_mac(secret, address)}"


def verify_token(secret: str, token: str) -> str | None:
    """The address a token was made for, or None if it is not genuine."""
    if not secret or not token or token.count(".") != 1 or len(token) > 1000:
        return None
    encoded, mac = token.split(".")
    try:
        address = _unb64(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, address)):
        return None
    return address
