"""DKIM signing (RFC 6376), rsa-sha256 with relaxed/relaxed
canonicalisation, the RSA operation done by ``cryptography`` (OpenSSL): a
fraction of a millisecond a message where dkimpy's pure-Python RSA takes
about 9 ms. Tests verify every signature with dkimpy."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_WSP = re.compile(rb"[ \t]+")
_WSP_RUN = re.compile(rb"\t[ \t]*| [ \t]+")  # what relaxed canonicalisation changes: a tab, or 2+ blanks
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")


@lru_cache(maxsize=4)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the DKIM key is not an RSA private key")
    return key


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: whitespace runs to one space, none at line ends, no
    empty lines at the end, one CRLF after the last line."""
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if b"\t" in body or b"  " in body:  # quoted-printable bodies (ours) have neither: no pass over them
        body = _WSP_RUN.sub(b" ", body)
    if b" \r\n" in body or b"\t\r\n" in body:
        body = _TRAILING_WSP.sub(b"\r\n", body)
    body = body.rstrip(b"\r\n")
    return body + b"\r\n" if body else b""


def relaxed_header(name: bytes, value: bytes) -> bytes:
    """RFC 6376 3.4.2: lower-case name, value unfolded, whitespace runs to one
    space, none around the colon or at the end."""
    value = _WSP.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip().lower() + b":" + value


def _headers(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, value) in order, continuation lines joined (folding kept)."""
    out: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + b"\r\n" + line)
        elif b":" in line:
            name, _, value = line.partition(b":")
            out.append((name, value))
    return out


def sign(message: bytes, selector: str, domain: str, key_pem: bytes, sign_headers: list[bytes],
         now: float | None = None) -> bytes:
    """The message with a DKIM-Signature header in front. ``sign_headers``
    are signed when present (the last instance of each, as RFC 6376 5.4.2)."""
    head, sep, body = message.partition(b"\r\n\r\n")
    headers = _headers(head)
    present = {n.strip().lower() for n, _ in headers}
    names = [h.lower() for h in sign_headers if h.lower() in present]
    bh = base64.b64encode(hashlib.sha256(relaxed_body(body if sep else b"")).digest())
    stamp = int(now if now is not None else time.time())
    tags = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s={selector}; t={stamp}; "
            f"h={':'.join(n.decode() for n in names)}; bh={bh.decode()}; b=").encode()
    signed = b""
    for name in names:
        value = next(v for n, v in reversed(headers) if n.strip().lower() == name)
        signed += relaxed_header(name, value) + b"\r\n"
    signed += relaxed_header(b"DKIM-Signature", b" " + tags)
    b = _private_key(key_pem).sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return b"DKIM-Signature: " + tags + base64.b64encode(b) + b"\r\n" + message
