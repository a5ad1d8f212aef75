"""The bounce mailbox against a real IMAP server: Debian's Dovecot, started
on loopback with a throw-away config, a passwd-file user and a certificate
made for the test (one password, which the auth process needs no file for). Bounces are delivered into it (IMAP APPEND); ``bounces
fetch`` reads them over verified TLS, acts on them and moves them."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter.cli import app
from newsletter.delivery import subscribers
from newsletter.delivery.ledger import SubscriberStore
from newsletter.store import Archive
from smtpserver import free_port, make_cert

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
CORPUS = Path(__file__).parent / "fixtures" / "bounces"
NOW = datetime(2021, 6, 17, 12, tzinfo=timezone.utc)
pytestmark = pytest.mark.skipif(DOVECOT is None, reason="Dovecot is not installed (CI installs it)")


@pytest.fixture
def dovecot(tmp_path):
    base = tmp_path / "dovecot"
    (base / "run").mkdir(parents=True)
    (base / "mail").mkdir()
    cert, key = make_cert(base)
    port = free_port()
    # mail is stored as an unprivileged user (Dovecot refuses root), outside the test's private folder
    import pwd
    import tempfile
    mailer = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    store = Path(tempfile.mkdtemp(prefix="dovecot-mail-"))
    os.chown(store, mailer.pw_uid, mailer.pw_gid)
    me = os.getuid()
    assert me == 0 or mailer.pw_uid == me
    (base / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
first_valid_uid = 0
mail_location = maildir:{store}/%u
default_internal_user = {'dovecot' if me == 0 else os.environ.get('USER', 'root')}
default_login_user = {'dovenull' if me == 0 else os.environ.get('USER', 'root')}
passdb {{
  driver = static
  args = password=s3cret-mailbox
}}
userdb {{
  driver = static
  args = uid={mailer.pw_uid} gid={mailer.pw_gid} home={store}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
""")
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(base / "dovecot.conf")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "dovecot exited")
            time.sleep(0.1)
    yield port, cert
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(store, ignore_errors=True)


def deliver(port, cert, messages):
    import imapclient
    ctx = ssl.create_default_context(cafile=str(cert))
    with imapclient.IMAPClient("127.0.0.1", port=port, ssl=True, ssl_context=ctx) as c:
        c.login("bounces", "s3cret-mailbox")
        for m in messages:
            c.append("INBOX", m)


def folder_counts(port, cert):
    import imapclient
    ctx = ssl.create_default_context(cafile=str(cert))
    with imapclient.IMAPClient("127.0.0.1", port=port, ssl=True, ssl_context=ctx) as c:
        c.login("bounces", "s3cret-mailbox")
        return {f: c.folder_status(f, ["MESSAGES"])[b"MESSAGES"] for f in ("INBOX", "Processed")
                if c.folder_exists(f)}


def test_bounces_fetch_reads_acts_and_moves(tmp_path, dovecot, monkeypatch):
    port, cert = dovecot
    cfg_path = tmp_path / "newsletter.toml"
    cfg_path.write_text(f'''[email]\nreturn_path = "bounces@hot.example.org"\n[bounces]\nimap_host = "127.0.0.1"
imap_port = {port}\nimap_user = "bounces"\nca_file = "{cert}"\n''')
    with Archive(tmp_path / "newsletter.db") as a:
        subscribers.add(a, ["gone@example.org", "annoyed@example.org", "busy@example.org"], "", None, NOW)
        h = {s.email: s.handle for s in SubscriberStore(a).all()}
    deliver(port, cert, [(CORPUS / "postfix-5.1.1.eml").read_bytes().replace(b"HANDLE", h["gone@example.org"].encode()),
                         (CORPUS / "arf-complaint.eml").read_bytes().replace(b"HANDLE",
                                                                             h["annoyed@example.org"].encode()),
                         (CORPUS / "out-of-office.eml").read_bytes().replace(b"HANDLE", h["busy@example.org"].encode())])
    monkeypatch.setenv("BOUNCES_PASSWORD", "s3cret-mailbox")
    r = CliRunner().invoke(app, ["--config", str(cfg_path), "bounces", "fetch"])
    assert r.exit_code == 0, r.output
    assert "3 messages read: 1 hard bounces, 0 soft, 1 complaints, 1 not bounces" in r.output
    with Archive(tmp_path / "newsletter.db") as a:
        status = {s.email: s.status for s in SubscriberStore(a).all()}
    assert status == {"gone@example.org": "suppressed", "annoyed@example.org": "unsubscribed",
                      "busy@example.org": "subscribed"}
    assert folder_counts(port, cert) == {"INBOX": 0, "Processed": 3}
    r = CliRunner().invoke(app, ["--config", str(cfg_path), "bounces", "fetch"])  # read once: nothing again
    assert r.exit_code == 0 and "0 messages read" in r.output


def test_a_wrong_password_or_an_unknown_certificate_is_one_line(tmp_path, dovecot, monkeypatch):
    port, cert = dovecot
    cfg_path = tmp_path / "newsletter.toml"
    with Archive(tmp_path / "newsletter.db"):
        pass
    cfg_path.write_text(f'[bounces]\nimap_host = "127.0.0.1"\nimap_port = {port}\nimap_user = "bounces"\n'
                        f'ca_file = "{cert}"\n')
    monkeypatch.setenv("BOUNCES_PASSWORD", "wrong")
    r = CliRunner().invoke(app, ["--config", str(cfg_path), "bounces", "fetch"])
    assert r.exit_code == 1 and "refused the login" in r.output
    cfg_path.write_text(f'[bounces]\nimap_host = "127.0.0.1"\nimap_port = {port}\nimap_user = "bounces"\n')
    monkeypatch.setenv("BOUNCES_PASSWORD", "s3cret-mailbox")
    r = CliRunner().invoke(app, ["--config", str(cfg_path), "bounces", "fetch"])  # not the system's CAs: refused
    assert r.exit_code == 1 and "TLS with the bounce mailbox" in r.output
