"""Signed links. A link carries an opaque handle (a reader's, or a sign-up's
nonce), its purpose and, for confirmations, an expiry, under an HMAC: it
cannot be forged or used for another purpose, and no access log, proxy or
link scanner on its way learns the reader's address.

Links sent before handles existed carried the address itself
(``b64(address)[.EPOCH].mac``); ``read_token`` still reads them, and the web
app honours them for a while (see ``delivery/web.py``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

PURPOSES = ("unsubscribe", "preferences", "confirm")
VERSION = "h1"


@dataclass(frozen=True)
class Token:
    """What a genuine link names: a handle, or (an older link) an address."""

    handle: str | None = None
    address: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest())


def make_token(secret: str, handle: str, purpose: str = "unsubscribe", expires: datetime | None = None) -> str:
    """``h1.HANDLE.mac`` or, with an expiry, ``h1.HANDLE.EPOCH.mac``."""
    assert purpose in PURPOSES and handle and "." not in handle
    when = str(int(expires.timestamp())) if expires else ""
    mac = _mac(secret, f"{VERSION}:{purpose}:{handle}:{when}")
    return ".".join([VERSION, handle] + ([when] if when else []) + [mac])


def _expired(when: str, now: datetime | None) -> bool:
    return bool(when) and (not when.isdigit() or len(when) > 12 or now is None or int(when) < now.timestamp())


def read_token(secret: str, token: str, purpose: str = "unsubscribe", now: datetime | None = None) -> Token | None:
    """What a link names, or None if it is not genuine, is for another
    purpose, or has expired (links with an expiry need ``now``)."""
    if not secret or not token or len(token) > 1000 or not token.isascii():
        return None
    parts = token.split(".")
    if parts[0] == VERSION and len(parts) in (3, 4):
        handle, mac = parts[1], parts[-1]
        when = parts[2] if len(parts) == 4 else ""
        if not handle or _expired(when, now):
            return None
        good = _mac(secret, f"{VERSION}:{purpose}:{handle}:{when}")
        return Token(handle=handle) if hmac.compare_digest(mac, good) else None
    return _legacy(secret, parts, purpose, now)


def _legacy(secret: str, parts: list[str], purpose: str, now: datetime | None) -> Token | None:
    if len(parts) not in (2, 3):
        return None
    encoded, mac = parts[0], parts[-1]
    when = parts[1] if len(parts) == 3 else ""
    if _expired(when, now):
        return None
    try:
        address = _unb64(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    message = f"{purpose}:{address.lower()}" + (f":{when}" if when else "")
    return Token(address=address) if hmac.compare_digest(mac, _mac(secret, message)) else None
