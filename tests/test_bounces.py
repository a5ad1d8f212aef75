"""Bounces and complaints: real shapes of returned mail (RFC 3464 DSNs from
Postfix, Exchange and Gmail, Exim's and Yahoo's own formats, an ARF
complaint, an auto-reply, a forged bounce), classified by flufl.bounce and
the standard library, matched to readers by VERP, and acted on."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter import config as config_mod
from newsletter.cli import app
from newsletter.delivery import subscribers
from newsletter.delivery.bounces import Bounces, classify
from newsletter.delivery.ledger import SubscriberStore
from newsletter.store import Archive

CORPUS = Path(__file__).parent / "fixtures" / "bounces"
NOW = datetime(2021, 6, 17, 12, tzinfo=timezone.utc)


def raw(name: str, handle: str = "HANDLE") -> bytes:
    return (CORPUS / name).read_bytes().replace(b"HANDLE", handle.encode())


@pytest.mark.parametrize("name, kind, status, address", [
    ("postfix-5.1.1.eml", "hard", "5.1.1", "gone@example.net"),
    ("exchange-5.1.10.eml", "hard", "5.1.10", "nobody@contoso.example"),
    ("exim-permanent.eml", "hard", "", "gone@example.com"),
    ("yahoo-nonstandard.eml", "hard", "", "closed@yahoo.example"),
    ("gmail-mailbox-full.eml", "soft", "4.2.2", "full@gmail.example"),
    ("arf-complaint.eml", "complaint", "", None),
    ("out-of-office.eml", "none", "", None),
])
def test_each_shape_is_classified(name, kind, status, address):
    v = classify(raw(name, "AbCd1234_-xyZ"), "bounces")
    assert v.kind == kind and v.status == status
    assert v.handles == ("AbCd1234_-xyZ",)  # VERP names the reader, whatever the body says
    if address:
        assert address in v.addresses


def store(tmp_path):
    a = Archive(tmp_path / "n.db")
    subscribers.add(a, ["reader@example.org", "other@example.org"], "", None, NOW)
    return a, SubscriberStore(a).get("reader@example.org").handle


def status_of(a, address):
    return SubscriberStore(a).get(address).status


@pytest.mark.parametrize("name, status, outcome", [
    ("postfix-5.1.1.eml", "suppressed", "suppressed"), ("exchange-5.1.10.eml", "suppressed", "suppressed"),
    ("exim-permanent.eml", "suppressed", "suppressed"), ("yahoo-nonstandard.eml", "suppressed", "suppressed"),
    ("arf-complaint.eml", "unsubscribed", "unsubscribed"), ("out-of-office.eml", "subscribed", "ignored"),
    ("gmail-mailbox-full.eml", "subscribed", "counted"),
])
def test_a_bounce_acts_on_the_reader_it_names(tmp_path, name, status, outcome):
    a, handle = store(tmp_path)
    with a:
        event = Bounces(a).record(raw(name, handle), "bounces", NOW)
        assert status_of(a, "reader@example.org") == status and event.outcome.startswith(outcome)
        assert status_of(a, "other@example.org") == "subscribed"  # nobody else
        assert Bounces(a).event(event.id).raw == raw(name, handle)  # kept for review


def test_soft_bounces_suppress_after_the_limit_within_the_period(tmp_path):
    a, handle = store(tmp_path)
    with a:
        b = Bounces(a, soft_limit=3, soft_days=14)
        b.record(raw("gmail-mailbox-full.eml", handle), "bounces", NOW - timedelta(days=20))  # too old to count
        b.record(raw("gmail-mailbox-full.eml", handle), "bounces", NOW - timedelta(days=10))
        assert status_of(a, "reader@example.org") == "subscribed"
        e = b.record(raw("gmail-mailbox-full.eml", handle), "bounces", NOW - timedelta(days=1))
        assert e.outcome == "counted: soft bounce 2 of 3 within 14 days"
        e = b.record(raw("gmail-mailbox-full.eml", handle), "bounces", NOW)
        assert e.outcome == "suppressed: 3 soft bounces within 14 days"
        assert status_of(a, "reader@example.org") == "suppressed"


def test_forged_bounces_change_nothing(tmp_path):
    a, _ = store(tmp_path)
    with a:
        e = Bounces(a).record(raw("postfix-5.1.1.eml", "NotAReaderHandle"), "bounces", NOW)
        assert e.outcome.startswith("ignored") and e.email == ""
        e = Bounces(a).record(raw("forged-never-sent.eml"), "bounces", NOW)  # names an address, no VERP tag
        assert e.outcome.startswith("ignored")
        assert {s.status for s in SubscriberStore(a).all()} == {"subscribed"}


def test_without_verp_a_bounce_counts_only_for_an_address_we_mailed(tmp_path):
    a, _ = store(tmp_path)
    with a:
        forged = raw("forged-never-sent.eml").replace(b"victim@example.org", b"reader@example.org")
        assert Bounces(a).record(forged, "", NOW).outcome.startswith("ignored")  # never sent to
        a.db.execute("INSERT INTO deliveries (day, email, status, updated_at) VALUES "
                     "('2021-06-16', 'reader@example.org', 'sent', '2021-06-16T10:00:00+00:00')")
        assert Bounces(a).record(forged, "", NOW).outcome.startswith("suppressed")


def cli_config(tmp_path):
    path = tmp_path / "newsletter.toml"
    path.write_text('[email]\nreturn_path = "bounces@hot.example.org"\n')
    return path


def test_the_command_line_imports_lists_shows_and_undoes(tmp_path, monkeypatch):
    path = cli_config(tmp_path)
    with Archive(tmp_path / "newsletter.db") as a:
        subscribers.add(a, ["reader@example.org"], "", None, NOW)
        handle = SubscriberStore(a).get("reader@example.org").handle
    (tmp_path / "b.eml").write_bytes(raw("postfix-5.1.1.eml", handle))
    r = CliRunner().invoke(app, ["--config", str(path), "bounces", "import", str(tmp_path / "b.eml")])
    assert r.exit_code == 0 and "1 hard bounces" in r.output and "reader@example.org" in r.output
    r = CliRunner().invoke(app, ["--config", str(path), "bounces", "import", "-"],
                           input=raw("out-of-office.eml", handle))
    assert r.exit_code == 0 and "1 not bounces" in r.output
    r = CliRunner().invoke(app, ["--config", str(path), "bounces", "list", "--address", "READER@example.org"])
    assert r.exit_code == 0 and "\thard\treader@example.org\t5.1.1\tsuppressed" in r.output
    r = CliRunner().invoke(app, ["--config", str(path), "bounces", "show", "1"])
    assert r.exit_code == 0 and "Final-Recipient: rfc822; gone@example.net" in r.output
    r = CliRunner().invoke(app, ["--config", str(path), "bounces", "show", "99"])
    assert r.exit_code == 1 and "no bounce event 99" in r.output
    (tmp_path / "list.csv").write_text("email\nreader@example.org\n")
    r = CliRunner().invoke(app, ["--config", str(path), "subscribers", "import", str(tmp_path / "list.csv")])
    assert "1 suppressed (bounced) left out" in r.output  # an import does not bring it back
    r = CliRunner().invoke(app, ["--config", str(path), "subscribers", "unsuppress", "reader@example.org"])
    assert r.exit_code == 0 and "subscribed again" in r.output
    r = CliRunner().invoke(app, ["--config", str(path), "subscribers", "unsuppress", "reader@example.org"])
    assert r.exit_code == 1 and "not suppressed" in r.output


def test_a_complaint_rate_over_a_tenth_of_a_percent_is_a_warning(tmp_path):
    path = cli_config(tmp_path)
    now = datetime.now(timezone.utc)
    with Archive(tmp_path / "newsletter.db") as a:
        subscribers.add(a, ["reader@example.org"], "", None, now)
        handle = SubscriberStore(a).get("reader@example.org").handle
        a.db.executemany("INSERT INTO deliveries (day, email, status, updated_at) VALUES (?, ?, 'sent', ?)",
                         [("2026-07-31", f"r{i}@example.org", now.isoformat()) for i in range(500)])
        a.save_issue(datetime(2026, 7, 31).date(), now, 1)
        Bounces(a).record(raw("arf-complaint.eml", handle), "bounces", now)
    r = CliRunner().invoke(app, ["--config", str(path), "status"])
    assert "1 complaints (0.20% of 500 sent)" in r.output and "Warning: over 0.1%" in r.output


def test_messages_go_out_from_their_readers_verp_address_with_a_feedback_id(tmp_path):
    from test_deliver import DAY, ENV, SECRET, prepare, send  # noqa: F401
    from newsletter.delivery.message import MessageSettings
    cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"},
                                "email": {"from": "Hot Papers <papers@hot.example.org>",
                                          "return_path": "bounces@hot.example.org"}}, base_dir=tmp_path)
    s = MessageSettings.from_config(cfg, ENV)
    assert s.envelope_sender("AbC_12-x") == "bounces+AbC_12-x@hot.example.org"
    prepare(cfg, ["reader@example.org"])
    (eml,) = send(cfg, dry_run=True).files
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["Feedback-ID"] == "20210826:daily:hotpapers:hot.example.org"
    with pytest.raises(config_mod.ConfigError, match="return_path"):
        MessageSettings.from_config(config_mod.from_dict({"email": {"return_path": "bounces+x@hot.example.org"}}),
                                    ENV)


def test_the_envelope_sender_is_the_readers_verp_address_on_the_wire(tmp_path):
    from smtpserver import Server, make_cert
    from test_deliver import DAY, ENV, prepare
    from newsletter.deliver import send_day
    from newsletter.seams import Seams
    cert = make_cert(tmp_path)
    with Server(*cert) as server:
        cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"},
                                    "email": {"from": "Hot Papers <papers@hot.example.org>",
                                              "return_path": "bounces@hot.example.org"},
                                    "smtp": {"host": "127.0.0.1", "port": server.port, "security": "starttls",
                                             "username": "mailer", "ca_file": str(cert[0])}}, base_dir=tmp_path)
        prepare(cfg, ["reader@example.org"])
        with Archive(cfg.store_path) as a:
            handle = SubscriberStore(a).get("reader@example.org").handle
            summary = send_day(cfg, DAY, a, Seams(env=ENV, sleep=lambda s: None))
        assert summary.sent == 1
        assert server.handler.senders["reader@example.org"] == f"bounces+{handle}@hot.example.org"
