"""Email services' bounce and complaint webhooks on the web app: Postmark
(basic auth or token), Mailgun (HMAC signature), Amazon SES through SNS
(signature verified against a certificate from an allowed host, the
subscription confirmed). Authenticated, or 401/403 and nothing changed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from newsletter import config as config_mod
from newsletter.delivery import subscribers
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.web import make_app
from newsletter.store import Archive

SECRET = "s3cret-s3cret-s3cret-0123456789"
ENV = {"NEWSLETTER_SECRET": SECRET, "NEWSLETTER_WEBHOOK_SECRET": "pm-hook-secret", "MAILGUN_WEBHOOK_KEY": "mg-key"}
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
NOW = datetime.now(timezone.utc)


@pytest.fixture
def site(tmp_path):
    cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"}}, base_dir=tmp_path)
    with Archive(cfg.store_path) as a:
        subscribers.add(a, ["hard@example.org", "soft@example.org", "angry@example.org", "unmailed@example.org"],
                        "", None, NOW)
        a.db.executemany("INSERT INTO deliveries (day, email, status, updated_at) VALUES ('2026-07-31', ?, 'sent', ?)",
                         [(e, NOW.isoformat()) for e in ("hard@example.org", "soft@example.org", "angry@example.org")])
    return cfg, make_app(cfg, ENV)


def post(app, path, body, headers=None, query=""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "192.0.2.9",
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    got = {}
    out = b"".join(app(environ, lambda s, h: got.setdefault("s", s)))
    return int(got["s"].split()[0]), json.loads(out)


def statuses(cfg):
    with Archive(cfg.store_path) as a:
        return {s.email: s.status for s in SubscriberStore(a).all()}


UNCHANGED = {"hard@example.org": "subscribed", "soft@example.org": "subscribed", "angry@example.org": "subscribed",
             "unmailed@example.org": "subscribed"}


# ------------------------------------------------------------ Postmark
def basic(password):
    return "Basic " + base64.b64encode(f"hook:{password}".encode()).decode()


def test_postmark_bounces_and_complaints(site):
    cfg, app = site
    auth = {"Authorization": basic("pm-hook-secret")}
    assert post(app, "/webhooks/postmark", {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1,
                                            "Email": "hard@example.org"}, auth)[0] == 200
    assert post(app, "/webhooks/postmark", {"RecordType": "SpamComplaint", "Email": "angry@example.org"},
                query="token=pm-hook-secret")[0] == 200
    code, body = post(app, "/webhooks/postmark", {"RecordType": "Bounce", "Type": "HardBounce",
                                                  "Email": "unmailed@example.org"}, auth)
    assert code == 200 and body["done"][0].startswith("ignored")  # never mailed: nothing done
    assert statuses(cfg) == {**UNCHANGED, "hard@example.org": "suppressed", "angry@example.org": "unsubscribed"}


@pytest.mark.parametrize("headers, query, code", [
    ({}, "", 401), ({"Authorization": basic("wrong")}, "", 403), ({}, "token=wrong", 403),
    ({"Authorization": "Basic !!!notbase64"}, "", 401),
])
def test_postmark_without_the_secret_is_refused(site, headers, query, code):
    cfg, app = site
    assert post(app, "/webhooks/postmark", {"RecordType": "Bounce", "Type": "HardBounce", "Email": "hard@example.org"},
                headers, query)[0] == code
    assert statuses(cfg) == UNCHANGED


# ------------------------------------------------------------- Mailgun
def mailgun(event, key="mg-key", timestamp=None):
    ts = str(int(timestamp if timestamp is not None else time.time()))
    token = "a" * 50
    sig = hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": ts, "token": token, "signature": sig}, "event-data": event}


def test_mailgun_failures_and_complaints(site):
    cfg, app = site
    assert post(app, "/webhooks/mailgun", mailgun({"event": "failed", "severity": "permanent",
                                                   "recipient": "hard@example.org",
                                                   "delivery-status": {"code": 550}}))[0] == 200
    assert post(app, "/webhooks/mailgun", mailgun({"event": "failed", "severity": "temporary",
                                                   "recipient": "soft@example.org"}))[0] == 200
    assert post(app, "/webhooks/mailgun", mailgun({"event": "complained", "recipient": "angry@example.org"}))[0] == 200
    assert statuses(cfg) == {**UNCHANGED, "hard@example.org": "suppressed", "angry@example.org": "unsubscribed"}


@pytest.mark.parametrize("body, code", [
    (mailgun({"event": "complained", "recipient": "angry@example.org"}, key="other"), 403),
    (mailgun({"event": "complained", "recipient": "angry@example.org"}, timestamp=time.time() - 3600), 403),
    ({"event-data": {"event": "complained", "recipient": "angry@example.org"}}, 401),
])
def test_mailgun_without_a_good_signature_is_refused(site, body, code):
    cfg, app = site
    assert post(app, "/webhooks/mailgun", body)[0] == code and statuses(cfg) == UNCHANGED


# ------------------------------------------------------------- SES via SNS
@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.now(timezone.utc) - timedelta(days=1))
            .not_valid_after(datetime.now(timezone.utc) + timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def sns(key, kind, message, url=CERT_URL, version="1", **extra):
    d = {"Type": kind, "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:1:ses", "Message": message,
         "Timestamp": "2026-07-31T10:00:00.000Z", "SignatureVersion": version, "SigningCertURL": url, **extra}
    order = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type") if kind != \
        "Notification" else ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    text = "".join(f"{k}\n{d[k]}\n" for k in order if k in d)
    digest = hashes.SHA256() if version == "2" else hashes.SHA1()
    d["Signature"] = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
    return d


def ses_bounce(address, kind="Permanent"):
    return json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": kind, "bouncedRecipients": [
        {"emailAddress": address, "status": "5.1.1"}]}})


@responses.activate
@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_notifications_are_verified_then_acted_on(site, signer, version):
    cfg, app = site
    key, pem = signer
    responses.get(CERT_URL, body=pem)
    assert post(app, "/webhooks/ses", sns(key, "Notification", ses_bounce("hard@example.org"), version=version))[0] \
        == 200
    complaint = json.dumps({"notificationType": "Complaint",
                            "complaint": {"complainedRecipients": [{"emailAddress": "angry@example.org"}]}})
    assert post(app, "/webhooks/ses", sns(key, "Notification", complaint, version=version))[0] == 200
    assert statuses(cfg) == {**UNCHANGED, "hard@example.org": "suppressed", "angry@example.org": "unsubscribed"}


@responses.activate
def test_ses_subscription_is_confirmed_on_an_allowed_host_only(site, signer):
    cfg, app = site
    key, pem = signer
    responses.get(CERT_URL, body=pem)
    confirm = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    responses.get(confirm, body="<ConfirmSubscriptionResponse/>")
    assert post(app, "/webhooks/ses", sns(key, "SubscriptionConfirmation", "confirm", SubscribeURL=confirm,
                                          Token="t"))[0] == 200
    assert any(c.request.url.startswith(confirm.split("?")[0]) and "ConfirmSubscription" in c.request.url
               for c in responses.calls)
    evil = "https://evil.example/?Action=ConfirmSubscription"
    assert post(app, "/webhooks/ses", sns(key, "SubscriptionConfirmation", "confirm", SubscribeURL=evil,
                                          Token="t"))[0] == 403


@responses.activate
@pytest.mark.parametrize("tamper", ["signature", "certificate host", "http", "message", "other key"])
def test_ses_messages_that_do_not_verify_are_refused(site, signer, tamper):
    cfg, app = site
    key, pem = signer
    responses.get(CERT_URL, body=pem)
    responses.get("https://evil.example/cert.pem", body=pem)
    responses.get("http://sns.us-east-1.amazonaws.com/cert.pem", body=pem)
    d = sns(key, "Notification", ses_bounce("hard@example.org"))
    if tamper == "signature":
        d["Signature"] = base64.b64encode(b"x" * 256).decode()
    elif tamper == "certificate host":
        d = sns(key, "Notification", ses_bounce("hard@example.org"), url="https://evil.example/cert.pem")
    elif tamper == "http":
        d = sns(key, "Notification", ses_bounce("hard@example.org"), url="http://sns.us-east-1.amazonaws.com/cert.pem")
    elif tamper == "message":
        d["Message"] = ses_bounce("soft@example.org")
    else:
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        d = sns(other, "Notification", ses_bounce("hard@example.org"))
    assert post(app, "/webhooks/ses", d)[0] == 403
    assert statuses(cfg) == UNCHANGED


def test_a_webhook_body_that_is_not_json_is_a_bad_request(site):
    cfg, app = site
    code, _ = post(app, "/webhooks/postmark", b"not json", {"Authorization": basic("pm-hook-secret")})
    assert code == 400 and statuses(cfg) == UNCHANGED
