"""``newsletter doctor`` against real servers on loopback: dnsmasq serving
the DNS records it reads (correct ones, missing ones, misaligned ones),
aiosmtpd for the SMTP login, the web app under waitress for the one-click
unsubscribe, and SpamAssassin for the score."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factories import T0, paper, xpost
from newsletter.cli import app
from newsletter.delivery import subscribers
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.web import make_server
from newsletter import config as config_mod
from newsletter.store import Archive
from smtpserver import PASSWORD, USER, Server, free_port, make_cert

DNSMASQ = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if Path("/usr/sbin/dnsmasq").exists() else None)
pytestmark = pytest.mark.skipif(DNSMASQ is None, reason="dnsmasq is not installed (CI installs it)")
SECRET = "s3cret-s3cret-s3cret-0123456789"


def dkim_key(folder: Path, name: str = "dkim.pem") -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return key, base64.b64encode(der).decode()


class Dns:
    def __init__(self, folder: Path, records: list[str]):
        self.port = free_port()
        self.proc = subprocess.Popen([DNSMASQ, "-k", f"--port={self.port}", "--listen-address=127.0.0.1",
                                      "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                                      f"--pid-file={folder / 'dnsmasq.pid'}", *records],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:  # a query for anything: dnsmasq answers once it is up
                s.settimeout(0.2)
                s.sendto(bytes.fromhex("abcd01000001000000000000") + b"\x01x\x00\x00\x01\x00\x01",
                         ("127.0.0.1", self.port))
                s.recvfrom(512)
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "dnsmasq exited")
            finally:
                s.close()

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def txt(name: str, value: str) -> str:
    chunks = [value[i:i + 200] for i in range(0, len(value), 200)]  # TXT strings are at most 255 bytes
    return f"--txt-record={name}," + ",".join(chunks)  # no quotes: argv is not a shell


def good_records(public: str, dkim_domain="hot.example.org") -> list[str]:
    return [txt("hot.example.org", "v=spf1 ip4:127.0.0.1 -all"),
            txt(f"sel._domainkey.{dkim_domain}", f"v=DKIM1; k=rsa; p={public}"),
            txt("_dmarc.hot.example.org", "v=DMARC1; p=quarantine; rua=mailto:dmarc@hot.example.org"),
            "--mx-host=hot.example.org,mx.hot.example.org,10",
            "--ptr-record=1.0.0.127.in-addr.arpa,mail.hot.example.org"]


@pytest.fixture
def world(tmp_path):
    cert = make_cert(tmp_path)
    key, public = dkim_key(tmp_path)
    smtp = Server(*cert).__enter__()
    yield tmp_path, cert, key, public, smtp
    smtp.__exit__(None, None, None)


def write_config(tmp_path, cert, key, smtp_port, dns_port, web_port, from_domain="hot.example.org"):
    path = tmp_path / "newsletter.toml"
    path.write_text(f'''[newsletter]
site_url = "https://hot.example.org"
[email]
from = "Hot Papers <papers@{from_domain}>"
return_path = "bounces@hot.example.org"
[delivery]
web_url = "http://127.0.0.1:{web_port}"
dkim_selector = "sel"
dkim_domain = "hot.example.org"
dkim_key_file = "{key}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
username = "{USER}"
ca_file = "{cert[0]}"
[doctor]
test_address = "postmaster-test@hot.example.org"
nameservers = ["127.0.0.1"]
dns_port = {dns_port}
''')
    return path


def serve(cfg_path):
    cfg = config_mod.load(cfg_path)
    server = make_server(cfg, "127.0.0.1", int(cfg.delivery.web_url.rsplit(":", 1)[1]), env={"NEWSLETTER_SECRET": SECRET},
                         outbox=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


def doctor(cfg_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    r = CliRunner().invoke(app, ["--config", str(cfg_path), "doctor"])
    return r.exit_code, {line.split(": ", 2)[1]: line.split(": ", 1)[0] for line in r.stdout.splitlines()
                         if ": " in line}, r.output


def test_a_correct_set_up_passes_every_check(world, monkeypatch):
    tmp_path, cert, key, public, smtp = world
    dns = Dns(tmp_path, good_records(public))
    web_port = free_port()
    cfg_path = write_config(tmp_path, cert, key, smtp.port, dns.port, web_port)
    with Archive(tmp_path / "newsletter.db") as a:  # an issue to score, and a reader who must stay as they are
        a.save_day_papers(T0.date(), [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=90)])
        a.save_issue(T0.date(), T0, 1)
        subscribers.add(a, ["reader@example.org"], "", None, datetime.now(timezone.utc))
    server, thread = serve(cfg_path)
    try:
        code, levels, output = doctor(cfg_path, monkeypatch)
    finally:
        server.close()
        thread.join(10)
        dns.close()
    assert code == 0, output
    for name in ("SPF", "DKIM", "Signed unsubscribe", "DMARC", "DMARC alignment", "MX", "PTR", "SMTP",
                 "One-click unsubscribe"):
        assert levels.get(name) == "ok", (name, output)
    assert levels.get("SpamAssassin") in ("ok", "warning")  # warning only where it is not installed
    with Archive(tmp_path / "newsletter.db") as a:  # the test address was put back: not on the list
        assert [s.email for s in SubscriberStore(a).all()] == ["reader@example.org"]


def test_missing_records_are_errors_with_their_fix(world, monkeypatch):
    tmp_path, cert, key, public, smtp = world
    dns = Dns(tmp_path, ["--mx-host=other.example,mx.other.example,10"])
    cfg_path = write_config(tmp_path, cert, key, smtp.port, dns.port, free_port())
    try:
        code, levels, output = doctor(cfg_path, monkeypatch)
    finally:
        dns.close()
    assert code == 1
    assert levels["SPF"] == levels["DKIM"] == levels["DMARC"] == "error"
    assert "publish TXT 'v=DMARC1" in output and "'v=spf1" in output and "v=DKIM1; k=rsa; p=" in output
    assert levels["MX"] == "warning" and levels["One-click unsubscribe"] == "error"  # nothing serves web_url


def test_a_wrong_key_and_a_misaligned_from_are_errors(world, monkeypatch):
    tmp_path, cert, key, public, smtp = world
    _, other_public = dkim_key(tmp_path, "other.pem")
    records = good_records(other_public) + [txt("_dmarc.elsewhere.example", "v=DMARC1; p=none")]
    dns = Dns(tmp_path, records)
    cfg_path = write_config(tmp_path, cert, key, smtp.port, dns.port, free_port(), from_domain="elsewhere.example")
    try:
        code, levels, output = doctor(cfg_path, monkeypatch)
    finally:
        dns.close()
    assert code == 1
    assert levels["DKIM"] == "error" and "publishes another key" in output
    assert levels["DMARC"] == "warning" and "p=none protects nothing" in output
    assert levels["DMARC alignment"] == "error" and "aligns with neither" in output


def test_a_wrong_smtp_password_is_an_error(world, monkeypatch):
    tmp_path, cert, key, public, smtp = world
    dns = Dns(tmp_path, good_records(public))
    cfg_path = write_config(tmp_path, cert, key, smtp.port, dns.port, free_port())
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    try:
        r = CliRunner().invoke(app, ["--config", str(cfg_path), "doctor"])
    finally:
        dns.close()
    assert r.exit_code == 1 and "error: SMTP:" in r.output
