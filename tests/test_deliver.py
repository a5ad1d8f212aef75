"""Delivery against a real SMTP server on 127.0.0.1 (aiosmtpd, STARTTLS with a
certificate made here and verified by the client, AUTH), the ledger, dry runs,
the unsubscribe endpoint over real HTTP, and a sender killed with SIGKILL."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hotpapers
import smtpserver
from conftest import FIXTURES
from newsletter import config as config_mod
from newsletter.cli import app
from newsletter.delivery.smtp import SendError
from newsletter.errors import ConfigError
from newsletter.seams import Seams
from newsletter.deliver import dry_run_day, send_copy, send_day
from newsletter.delivery.ledger import SubscriberStore
from newsletter.issues import load_issue
from newsletter.models import IssueKey
from newsletter.store import Archive
from weblinks import address_of, token_for
from smtpserver import PASSWORD, USER, Faults, Server

DAY = date(2021, 8, 26)
SECRET = "s3cret-s3cret-s3cret-0123456789"
ENV = {"SMTP_PASSWORD": PASSWORD, "NEWSLETTER_SECRET": SECRET}
NOW = datetime(2021, 8, 27, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    return smtpserver.make_cert(tmp_path_factory.mktemp("tls"))


def config(tmp_path: Path, port: int, cert_file: Path, **smtp) -> config_mod.Config:
    data = {
        "newsletter": {"site_url": "https://hot.example.org"},
        "email": {"from": "Hot Papers <papers@hot.example.org>", "reply_to": "editor@hot.example.org"},
        "delivery": {"unsubscribe_mailto": "unsubscribe@hot.example.org", "retry_backoff": 0.0},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER,
                 "ca_file": str(cert_file), "timeout": 10.0, **smtp},
    }
    return config_mod.from_dict(data, base_dir=tmp_path)


def prepare(cfg, addresses) -> None:
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-08-26---Hot-Papers.md").read_text())
    with Archive(cfg.store_path) as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, 120)
        store = SubscriberStore(a)
        for addr in addresses:
            store.add(addr, f"Reader {addr.split('@')[0]}", NOW)


def send(cfg, env=ENV, dry_run=False, to=None):
    seams = Seams(now=lambda: NOW, env=env, sleep=lambda s: None)
    with Archive(cfg.store_path) as a:
        if dry_run:
            return dry_run_day(cfg, DAY, a, seams)
        if to:
            return send_copy(cfg, load_issue(cfg, a, DAY), a, to, seams)
        return send_day(cfg, DAY, a, seams)


def ledger(cfg):
    with Archive(cfg.store_path) as a:
        return {d.email: d for d in SubscriberStore(a).deliveries(DAY)}


ADDRS = [f"reader{i}@example.net" for i in range(1, 6)]


def test_each_subscriber_gets_exactly_one_message_over_one_connection(tmp_path, cert):
    with Server(*cert) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS)
        summary = send(cfg)
        assert (summary.sent, summary.failed, summary.deferred, summary.connections) == (5, 0, 0, 1)
        assert server.handler.received() == {a: 1 for a in ADDRS}
        again = send(cfg)  # a re-run sends nobody anything twice
        assert again.sent == 0 and server.handler.received() == {a: 1 for a in ADDRS}
        (msg,) = server.handler.parsed("reader3@example.net")
    assert msg["From"] == "Hot Papers <papers@hot.example.org>"
    assert msg["To"] == "Reader reader3 <reader3@example.net>"
    assert msg["Reply-To"] == "editor@hot.example.org"
    assert msg["Subject"].startswith("Hot Papers 2021-08-26: ")
    assert msg["Message-ID"].endswith("@hot.example.org>") and msg["Date"]
    assert msg["List-Id"] == "Hot Papers <hot-papers.hot.example.org>"
    token = token_for(cfg.store_path, "reader3@example.net", SECRET)
    assert "reader3" not in token and "cmVhZGVy" not in token  # opaque: no address, not even in base64
    link = f"https://hot.example.org/unsubscribe?t={urllib.parse.quote(token)}"
    assert msg["List-Unsubscribe"] == f"<{link}>, <mailto:unsubscribe@hot.example.org?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    for part in (text, html):
        assert part.get_content_charset() == "utf-8" and part["Content-Transfer-Encoding"] == "quoted-printable"
    assert link in text.get_content() and link.replace("&", "&amp;") in html.get_content()
    assert address_of(cfg.store_path, token, SECRET) == "reader3@example.net"
    rows = ledger(cfg)
    assert {r.status for r in rows.values()} == {"sent"}
    assert rows["reader3@example.net"].message_id == msg["Message-ID"]
    assert rows["reader3@example.net"].reply.startswith("250")


def test_faults_end_each_recipient_sent_or_failed_nobody_twice(tmp_path, cert):
    a, b, c, d, e = ADDRS
    faults = Faults(
        rcpt={a: ["451 4.7.1 greylisted, try later", "PASS"], b: ["452 4.2.2 mailbox full"],
              e: ["550 5.1.1 no such user"]},
        data={c: ["421 4.3.2 shutting down"], d: ["DROP"]},
    )
    with Server(*cert, faults) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS)
        summary = send(cfg)
        got = server.handler.received()
    assert got == {a: 1, c: 1, d: 1}  # sent once each after their temporary failures
    rows = ledger(cfg)
    assert rows[a].status == "sent" and rows[a].attempts == 2
    assert rows[c].status == "sent" and rows[d].status == "sent"
    assert rows[b].status == "deferred" and rows[b].attempts == 3 and "452 4.2.2 mailbox full" in rows[b].reply
    assert rows[e].status == "failed" and rows[e].reply == "550 5.1.1 no such user"
    assert (summary.sent, summary.failed, summary.deferred) == (3, 1, 1)
    assert summary.connections >= 2  # reconnected after the 421 and the dropped connection


def test_cli_send_reports_failures_with_a_distinct_exit_code(tmp_path, cert, monkeypatch):
    faults = Faults(rcpt={ADDRS[0]: ["550 5.1.1 no such user"]})
    with Server(*cert, faults) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS[:2])
        toml = tmp_path / "newsletter.toml"
        toml.write_text(_toml(server.port, cert[0]))
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
        r = CliRunner().invoke(app, ["--config", str(toml), "send", "--date", str(DAY)])
    assert r.exit_code == 5, r.output
    assert "Failed: reader1@example.net: 550 5.1.1 no such user" in r.output
    assert "1 sent, 0 deferred, 1 failed" in r.output


def _toml(port, cert_file, **smtp):
    lines = ['[newsletter]', 'site_url = "https://hot.example.org"',
             '[email]', 'from = "Hot Papers <papers@hot.example.org>"',
             '[delivery]', 'retry_backoff = 0.0',
             '[smtp]', 'host = "127.0.0.1"', f'port = {port}', f'username = "{USER}"', f'ca_file = "{cert_file}"',
             'timeout = 10.0']
    lines += [f'{k} = "{v}"' for k, v in smtp.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("case", ["wrong password", "no starttls", "refused", "untrusted certificate"])
def test_session_failures_are_one_clear_error(tmp_path, cert, case):
    env = dict(ENV)
    if case == "wrong password":
        env["SMTP_PASSWORD"] = "nope"
    with Server(*cert, starttls=case != "no starttls") as server:
        port = server.port if case != "refused" else smtpserver.free_port()
        cfg = config(tmp_path, port, cert[0] if case != "untrusted certificate" else "")
        prepare(cfg, ADDRS[:2])
        with pytest.raises(SendError) as exc:
            send(cfg, env=env)
        assert server.handler.messages == []
    message = str(exc.value)
    expected = {
        "wrong password": "SMTP login to 127.0.0.1:%d as mailer failed (535" % port,
        "no starttls": "does not offer STARTTLS; refusing to send in plaintext",
        "refused": "cannot connect to SMTP server 127.0.0.1:%d" % port,
        "untrusted certificate": "TLS certificate of 127.0.0.1:%d not trusted" % port,
    }[case]
    assert expected in message
    assert PASSWORD not in message and "nope" not in message
    assert {r.status for r in ledger(cfg).values()} == {"queued"}  # nothing lost, all still to send


def test_dry_run_opens_no_connection_and_matches_a_real_send(tmp_path, cert):
    cfg = config(tmp_path, smtpserver.free_port(), cert[0])  # nothing listens there
    prepare(cfg, ADDRS[:3])
    mailer = send(cfg, dry_run=True)
    files = sorted((tmp_path / "outbox" / "2021-08-26").iterdir())
    assert [f.name for f in files] == [f"000{i}-reader{i}@example.net.eml" for i in (1, 2, 3)]
    assert ledger(cfg) == {}  # nothing written to the ledger
    dry = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    with Server(*cert) as server:
        cfg = config(tmp_path, server.port, cert[0])
        send(cfg)
        (real,) = server.handler.parsed("reader1@example.net")
    for header in ("From", "To", "Subject", "Reply-To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
                   "MIME-Version"):
        assert dry[header] == real[header], header
    assert dry.get_content_type() == real.get_content_type() == "multipart/alternative"
    assert [p.get_content() for p in dry.get_payload()] == [p.get_content() for p in real.get_payload()]


def test_send_to_one_address_is_outside_the_ledger(tmp_path, cert):
    with Server(*cert) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS[:2])
        reply = send(cfg, to="editor@example.com")
        assert reply.startswith("250") and server.handler.received() == {"editor@example.com": 1}
    assert ledger(cfg) == {}


def test_header_injection_and_bad_config_are_refused(tmp_path, cert):
    with pytest.raises(ConfigError, match="line break"):
        config_mod.from_dict({"email": {"from": "a@b.org\r\nBcc: victim@x.org"}})
    cfg = config_mod.from_dict({"email": {"from": "not an address"}}, base_dir=tmp_path)
    prepare(cfg, ADDRS[:1])
    with pytest.raises(ConfigError, match=r"\[email\] from/reply_to"):
        send(cfg, dry_run=True)
    cfg = config(tmp_path, 1, cert[0])
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET must hold a secret"):
        send(cfg, env={})  # a real send needs the secret; a dry run signs with a throw-away one
    (dry,) = send(cfg, env={}, dry_run=True).files
    assert b"/unsubscribe?t=h1." in dry.read_bytes()
    with pytest.raises(ConfigError, match="only allowed for localhost"):
        config_mod.from_dict({"smtp": {"host": "smtp.example.org", "security": "none"}})


def test_titles_cannot_inject_headers(tmp_path, cert):
    cfg = config(tmp_path, 1, cert[0])
    prepare(cfg, ADDRS[:1])
    with Archive(cfg.store_path) as a:
        papers = a.day_papers(DAY)
        from dataclasses import replace
        top = max(papers, key=lambda p: p.arxiv_id == "2108.11353")
        a.save_day_papers(DAY, [replace(p, title="Evil\r\nBcc: victim@x.org") if p is top else p for p in papers])
    send(cfg, dry_run=True)
    (f,) = (tmp_path / "outbox" / "2021-08-26").iterdir()
    raw = f.read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["Subject"] == "Hot Papers 2021-08-26: Evil Bcc: victim@x.org"


def test_dkim_signature_covers_list_unsubscribe(tmp_path, cert):
    import dkim
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)
    cfg = config_mod.from_dict({
        "newsletter": {"site_url": "https://hot.example.org"},
        "email": {"from": "Hot Papers <papers@hot.example.org>"},
        "delivery": {"dkim_selector": "np", "dkim_domain": "hot.example.org", "dkim_key_file": str(key)},
    }, base_dir=tmp_path)
    prepare(cfg, ADDRS[:1])
    send(cfg, dry_run=True)
    (f,) = (tmp_path / "outbox" / "2021-08-26").iterdir()
    raw = f.read_bytes()
    assert raw.startswith(b"DKIM-Signature:")
    signed = email.message_from_bytes(raw, policy=email.policy.default)["DKIM-Signature"]
    h = [x.strip() for x in signed.replace(" ", "").split("h=")[1].split(";")[0].split(":")]
    assert "list-unsubscribe" in [x.lower() for x in h] and "list-unsubscribe-post" in [x.lower() for x in h]
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record if name == b"np._domainkey.hot.example.org." else None)


def test_two_sends_at_once_never_send_a_message_twice(tmp_path, cert):
    many = [f"r{i:02d}@example.net" for i in range(24)]
    with Server(*cert, Faults(data_delay=0.02)) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, many)
        results = []

        def worker():
            results.append(send(cfg))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        got = server.handler.received()
    assert got == {a: 1 for a in many}
    assert sum(r.sent for r in results) == 24 and all(r.sent > 0 for r in results)


def test_sigkill_mid_send_then_rerun_loses_nothing(tmp_path, cert):
    many = [f"k{i:02d}@example.net" for i in range(10)]
    with Server(*cert, Faults(data_delay=0.25)) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, many)
        toml = tmp_path / "newsletter.toml"
        toml.write_text(_toml(server.port, cert[0]))
        env = {**os.environ, **ENV}
        cmd = [sys.executable, "-m", "newsletter", "--quiet", "--config", str(toml), "send", "--date", str(DAY)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        server.wait_for(4)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        before = sum(server.handler.received().values())
        assert 4 <= before < 10
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        got = server.handler.received()
    assert set(got) == set(many)  # everyone has the issue
    assert sum(got.values()) - len(many) <= 1  # at most the one in flight twice
    assert {r.status for r in ledger(cfg).values()} == {"sent"}


def _serve_app(cfg, env):
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from newsletter.delivery.web import make_app

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a):
            pass

    server = make_server("127.0.0.1", 0, make_app(cfg, env), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _status(cfg, address):
    with Archive(cfg.store_path) as a:
        return SubscriberStore(a).get(address).status


def test_unsubscribe_endpoint_over_real_http(tmp_path, cert):
    cfg = config(tmp_path, 1, cert[0])
    prepare(cfg, ADDRS[:2])
    server = _serve_app(cfg, ENV)
    base = f"http://127.0.0.1:{server.server_port}/unsubscribe"
    try:
        token = token_for(cfg.store_path, ADDRS[0], SECRET)
        with urllib.request.urlopen(f"{base}?t={urllib.parse.quote(token)}") as r:
            page = r.read().decode()
        assert '<form method="post"' in page and ADDRS[0] in page
        assert _status(cfg, ADDRS[0]) == "subscribed"  # a GET alone changes nothing
        forged = token_for(cfg.store_path, ADDRS[1], "another-secret-0123456789")
        for bad in (forged, token[:-2] + "xx", "garbage", ""):
            req = urllib.request.Request(f"{base}?t={urllib.parse.quote(bad)}", data=b"List-Unsubscribe=One-Click")
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(req)
            assert e.value.code == 400
        assert _status(cfg, ADDRS[1]) == "subscribed"
        # RFC 8058 one-click: what a mail client POSTs to the List-Unsubscribe URL
        req = urllib.request.Request(f"{base}?t={urllib.parse.quote(token)}", data=b"List-Unsubscribe=One-Click",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req) as r:
            assert r.status == 200 and "Unsubscribed" in r.read().decode()
        assert _status(cfg, ADDRS[0]) == "unsubscribed"
    finally:
        server.shutdown()
    mailer = send(cfg, dry_run=True)  # the next issue skips them
    assert [p.name for p in mailer.files] == ["0001-reader2@example.net.eml"]


def test_subscriber_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = lambda *a: CliRunner().invoke(app, list(a))  # noqa: E731
    r = run("subscribers", "add", "a@example.org", "B@Example.org", "not-an-address")
    assert r.exit_code == 1 and "2 added" in r.output and "1 invalid" in r.output
    (tmp_path / "list.csv").write_text("email,name\nc@example.org,Cee\nbad@@x\nb@example.org,Bee\n\nd@example.org\n"
                                       "c@example.org,again\n")
    assert run("unsubscribe", "a@example.org").exit_code == 0
    (tmp_path / "more.csv").write_text("a@example.org\n")
    r = run("subscribers", "import", "list.csv")
    assert r.exit_code == 1 and "list.csv: line 3:" in r.output
    assert "2 added, 0 resubscribed, 1 already subscribed" in r.output
    r = run("subscribers", "import", "more.csv")
    assert "1 unsubscribed and 0 suppressed (bounced) left out" in r.output
    r = run("subscribers", "list")
    assert [l.split("\t")[0] for l in r.output.splitlines() if "\t" in l] == \
        ["B@example.org", "c@example.org", "d@example.org"]
    r = run("subscribers", "import", "more.csv", "--resubscribe")
    assert "1 resubscribed" in r.output
    assert run("subscribers", "remove", "d@example.org").exit_code == 0
    r = run("subscribers", "list", "--all")
    assert "d@example.org" not in r.output and "a@example.org" in r.output


def test_status_shows_the_counts(tmp_path, cert, monkeypatch):
    faults = Faults(rcpt={ADDRS[1]: ["550 5.1.1 no such user"]})
    with Server(*cert, faults) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS[:3])
        send(cfg)
        toml = tmp_path / "newsletter.toml"
        toml.write_text(_toml(server.port, cert[0]))
    r = CliRunner().invoke(app, ["--config", str(toml), "status", "--date", str(DAY)])
    assert r.exit_code == 0, r.output
    assert "│ sent     │ 2     │" in r.output and "│ failed   │ 1     │" in r.output
    assert "failed: reader2@example.net: 550 5.1.1 no such user" in r.output
    # a 5xx to RCPT is a hard bounce: the address is suppressed at once, and the log says why
    assert "2021-08-26: 2 sent, 0 of 2 subscribers still to send" in r.output
    assert _status(cfg, ADDRS[1]) == "suppressed"
    r = CliRunner().invoke(app, ["--config", str(toml), "bounces", "list"])
    assert "hard\treader2@example.net\t550\tsuppressed: the address does not take mail" in r.output


def test_run_dry_run_fetches_builds_and_writes_the_outbox(tmp_path, monkeypatch):
    import responses as responses_lib

    import arxiv_atom
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-08-26---Hot-Papers.md").read_text())
    cats = sorted({c for p in parsed.papers for c in p.categories})
    (tmp_path / "newsletter.toml").write_text(
        f'[newsletter]\ncategories = {cats!r}\nsite_url = "https://hot.example.org"\n'
        '[arxiv]\napi_url = "https://export.test/api/query"\ndelay_seconds = 0\n'
        '[sources.x]\nenabled = false\n[sources.huggingface]\nenabled = false\n'
        '[sources.hackernews]\nenabled = false\n[sources.bluesky]\nenabled = false\n'
        '[ranking]\nmin_paper_score = 0\n'.replace("'", '"'))
    monkeypatch.chdir(tmp_path)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    with Archive(tmp_path / "newsletter.db") as a:  # signals imported earlier, e.g. with 'signals import'
        a.save_posts(parsed.posts)
        SubscriberStore(a).add("ann@example.net", "Ann", NOW)
    with responses_lib.RequestsMock() as rsps:
        rsps.get("https://export.test/api/query", body=arxiv_atom.feed(
            [(p, datetime(2021, 8, 25, 12, tzinfo=timezone.utc)) for p in parsed.papers]))
        r = CliRunner().invoke(app, ["run", "--date", "2021-08-26", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "outbox" / "2021-08-26" / "0001-ann@example.net.eml").exists()
    assert "Dry run 2021-08-26: 1 messages" in r.output and "nothing sent" in r.output
    assert ledger(config_mod.load(tmp_path / "newsletter.toml")) == {}


def test_serve_command_runs_the_endpoint(tmp_path):
    cfg = config(tmp_path, 1, "")
    prepare(cfg, ADDRS[:1])
    toml = tmp_path / "newsletter.toml"
    toml.write_text('[newsletter]\nsite_url = "https://hot.example.org"\n')
    env = {**os.environ, **ENV}
    proc = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(toml), "serve", "--port", "0"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "Serving the readers' web app (subscribe, confirm, preferences, unsubscribe) on http://127.0.0.1:" \
            in line, line
        url = line.split(" on ")[1].split(";")[0] + "unsubscribe"
        token = urllib.parse.quote(token_for(cfg.store_path, ADDRS[0], SECRET))
        req = urllib.request.Request(f"{url}?t={token}", data=b"List-Unsubscribe=One-Click")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        assert _status(cfg, ADDRS[0]) == "unsubscribed"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("address, name", [("reader@example.net", "Reader"), ("zoë@bücher.de", "Zoë \"Z\""),
                                           ("a" * 60 + "@" + "b" * 60 + ".example.org", "")])
def test_the_message_factory_makes_each_readers_own_message(tmp_path, address, name):
    """Sends encode each edition once and splice in each reader's links; the
    result must decode to the edition with the reader's own links, under the
    reader's own headers."""
    import email as em

    from newsletter.delivery.addresses import envelope
    from newsletter.delivery.message import MessageFactory, MessageSettings, Recipient, subject_header, to_header
    from newsletter.deliver import render_issue_email
    cfg = config(tmp_path, 25, Path("x"))
    prepare(cfg, [])
    with Archive(cfg.store_path) as a:
        rendered = render_issue_email(cfg, a, DAY)
    s = MessageSettings.from_config(cfg, ENV)
    data, mid = MessageFactory(s).make(rendered, Recipient(address, name, "hAnDlE"), IssueKey.of_day(DAY), NOW)
    fast = em.message_from_bytes(data, policy=em.policy.default)
    link = s.unsubscribe_link("hAnDlE")
    assert fast["Subject"] == subject_header(rendered.subject) and fast["From"] == s.from_header
    to_line = data.split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0].decode()
    assert to_line == to_header(name, envelope(address))
    assert fast["Message-ID"] == mid and mid.startswith("<hp.20210826.")
    assert fast["Date"] == email.utils.format_datetime(NOW) and fast["List-Id"] == s.list_id
    assert fast["List-Unsubscribe"] == f"<{link}>, <mailto:unsubscribe@hot.example.org?subject=unsubscribe>"
    assert fast["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [p.get_content_type() for p in fast.get_payload()] == ["text/plain", "text/html"]
    own = rendered.for_recipient(link, s.preferences_link("hAnDlE"))
    for part, want in zip(fast.get_payload(), (own.text, own.html)):
        assert part.get_content().replace("\r\n", "\n") == (want if want.endswith("\n") else want + "\n")
        assert part.get_content_charset() == "utf-8" and part["Content-Transfer-Encoding"] == "quoted-printable"
    body_lines = data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(line) for line in body_lines) <= 76


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_an_unreadable_dkim_key_is_one_clear_error(tmp_path, make):
    from newsletter.delivery.message import MessageSettings

    key = tmp_path / "dkim.pem"
    if make == "folder":
        key.mkdir()
    cfg = config_mod.from_dict({
        "newsletter": {"site_url": "https://hot.example.org"},
        "email": {"from": "Hot Papers <papers@hot.example.org>"},
        "delivery": {"dkim_selector": "np", "dkim_domain": "hot.example.org", "dkim_key_file": str(key)},
    }, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=f"cannot read the DKIM key {key}"):
        MessageSettings.from_config(cfg, ENV)
