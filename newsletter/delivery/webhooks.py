"""Bounces and complaints from email services, on the web app:

- ``POST /webhooks/postmark``: basic auth (any user name) or ``?token=``,
  the secret in ``$[bounces] webhook_secret_env``; ``RecordType`` Bounce or
  SpamComplaint.
- ``POST /webhooks/mailgun``: the ``signature`` object, an HMAC-SHA256 of
  timestamp and token under the signing key (``$[bounces] mailgun_key_env``),
  at most 15 minutes old.
- ``POST /webhooks/ses``: Amazon SES through SNS. The message's signature is
  verified against its signing certificate, fetched only over https from a
  host in ``[bounces] sns_hosts``; a SubscriptionConfirmation is confirmed
  (its SubscribeURL on an allowed host too).

Anything not authenticated is refused with 401 or 403 and changes nothing.
What they report goes to the same classifier outcomes as bounces by mail."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from newsletter.delivery.bounces import Bounces, Kind

MAX_AGE = 15 * 60


class Refused(Exception):
    """The request is not authenticated: 401 (no credentials) or 403 (wrong ones)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Report:
    kind: Kind
    address: str
    status: str


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the body is not JSON") from None


# ------------------------------------------------------------------ Postmark
def postmark_reports(body: bytes, authorization: str, token: str, secret: str) -> list[Report]:
    if not secret:
        raise Refused(403, "no webhook secret is configured")
    given = token
    if authorization.lower().startswith("basic "):
        try:
            given = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(401, "malformed credentials") from None
    if not given:
        raise Refused(401, "credentials required")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Refused(403, "wrong credentials")
    d = _json(body)
    record, address = str(d.get("RecordType", "")), str(d.get("Email", ""))
    if record == "SpamComplaint":
        return [Report("complaint", address, "")]
    if record != "Bounce":
        return [Report("none", address, "")]
    kind: Kind = {"HardBounce": "hard", "BadEmailAddress": "hard", "SoftBounce": "soft", "Transient": "soft",
                  "DnsError": "soft", "SpamNotification": "complaint"}.get(str(d.get("Type", "")), "none")  # type: ignore[assignment]
    return [Report(kind, address, str(d.get("TypeCode", "")))]


# ------------------------------------------------------------------- Mailgun
def mailgun_reports(body: bytes, key: str, now: float | None = None) -> list[Report]:
    if not key:
        raise Refused(403, "no Mailgun signing key is configured")
    d = _json(body)
    sig = d.get("signature") if isinstance(d, dict) else None
    if not isinstance(sig, dict) or not all(isinstance(sig.get(k), str) for k in ("timestamp", "token", "signature")):
        raise Refused(401, "no signature")
    expected = hmac.new(key.encode(), (sig["timestamp"] + sig["token"]).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig["signature"]):
        raise Refused(403, "wrong signature")
    if not sig["timestamp"].isdigit() or abs((now or time.time()) - int(sig["timestamp"])) > MAX_AGE:
        raise Refused(403, "the signature is too old")
    event = d.get("event-data") or {}
    address, name = str(event.get("recipient", "")), str(event.get("event", ""))
    code = str((event.get("delivery-status") or {}).get("code", ""))
    if name == "complained":
        return [Report("complaint", address, "")]
    if name == "failed":
        return [Report("hard" if event.get("severity") == "permanent" else "soft", address, code)]
    return [Report("none", address, code)]


# ------------------------------------------------------------- Amazon SNS/SES
_SIGNED = {"Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
           "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                                        "Type"),
           "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                                       "Type")}


def _allowed(url: str, hosts: list[str]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and not parts.username and any(fnmatch.fnmatch(host, h.lower()) for h in hosts)


@lru_cache(maxsize=16)
def _certificate(url: str) -> bytes:
    import requests

    resp = requests.get(url, timeout=10)
    if resp.status_code != 200:
        raise Refused(403, f"the signing certificate could not be had (HTTP {resp.status_code})")
    return resp.content


def verify_sns(d: dict[str, Any], hosts: list[str], fetch: Callable[[str], bytes] = _certificate) -> None:
    """Raise Refused unless ``d`` is a genuine SNS message."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    kind, url = str(d.get("Type", "")), str(d.get("SigningCertURL", ""))
    if kind not in _SIGNED or not d.get("Signature"):
        raise Refused(401, "not a signed SNS message")
    if not _allowed(url, hosts) or not urlsplit(url).path.endswith(".pem"):
        raise Refused(403, "the signing certificate is not on an allowed SNS host")
    text = "".join(f"{k}\n{d[k]}\n" for k in _SIGNED[kind] if k in d and d[k] is not None)
    try:
        signature = base64.b64decode(str(d["Signature"]), validate=True)
        key = x509.load_pem_x509_certificate(fetch(url)).public_key()
    except (binascii.Error, ValueError):
        raise Refused(403, "a malformed signature or certificate") from None
    digest = hashes.SHA256() if str(d.get("SignatureVersion")) == "2" else hashes.SHA1()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(403, "the certificate's key is not RSA")
    try:
        key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), digest)
    except InvalidSignature:
        raise Refused(403, "wrong signature") from None


def ses_reports(body: bytes, hosts: list[str], confirm: Callable[[str], None],
                fetch: Callable[[str], bytes] = _certificate) -> list[Report]:
    d = _json(body)
    if not isinstance(d, dict):
        raise Refused(401, "not an SNS message")
    verify_sns(d, hosts, fetch)
    if d["Type"] == "SubscriptionConfirmation":
        url = str(d.get("SubscribeURL", ""))
        if not _allowed(url, hosts):
            raise Refused(403, "the subscription URL is not on an allowed SNS host")
        confirm(url)
        return []
    if d["Type"] != "Notification":
        return []
    message = _json(str(d.get("Message", "")).encode("utf-8"))
    kind = str(message.get("notificationType") or message.get("eventType") or "")
    if kind == "Complaint":
        recipients = (message.get("complaint") or {}).get("complainedRecipients") or []
        return [Report("complaint", str(r.get("emailAddress", "")), "") for r in recipients]
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        hard: Kind = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        return [Report(hard, str(r.get("emailAddress", "")), str(r.get("status", "")))
                for r in bounce.get("bouncedRecipients") or []]
    return []


def _get(url: str) -> None:
    import requests

    resp = requests.get(url, timeout=10)
    if resp.status_code != 200:
        raise Refused(403, f"the subscription could not be confirmed (HTTP {resp.status_code})")


def act(bounces: Bounces, reports: list[Report], raw: bytes, via: str, now: Any) -> list[str]:
    """Each report to the bounce log and its reader; what each did."""
    return [bounces.reported(r.kind, r.address, r.status, raw, now, via).outcome for r in reports if r.address]


confirm_subscription = _get
