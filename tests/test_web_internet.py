"""The web app as it must be on the internet: one canonical address, atomic
limits, mail off the request path, strict input, opaque links. Served by
waitress on loopback (concurrently where the class is about concurrency),
with a real SMTP server for the outbox."""

from __future__ import annotations

import base64
import http.client
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from newsletter import config as config_mod
from newsletter.cli import app as cli
from newsletter.delivery import subscribers
from newsletter.delivery.addresses import address_key
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.outbox import Outbox, send_due
from newsletter.delivery.preferences import Preferences
from newsletter.delivery.smtp import SendError
from newsletter.delivery.signups import Signups
from newsletter.delivery.web import client_address, make_server, trusted_networks
from newsletter.store import Archive
from smtpserver import PASSWORD, USER, Faults, Server
from test_deliver import cert  # noqa: F401 - a fixture
from weblinks import legacy_token, token_for

SECRET = "s3cret-s3cret-s3cret-0123456789"
ENV = {"SMTP_PASSWORD": PASSWORD, "NEWSLETTER_SECRET": SECRET}
NOW = datetime.now(timezone.utc)


def config(tmp_path, smtp_port=25, ca="", **web):
    return config_mod.from_dict({
        "newsletter": {"site_url": "https://hot.example.org", "categories": ["cs", "stat.ML"]},
        "email": {"from": "Hot Papers <papers@hot.example.org>"},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "starttls", "username": USER, "ca_file": ca,
                 "timeout": 20.0},
        "web": {"outbox_retry": 0.0, **web},
    }, base_dir=tmp_path)


class Served:
    def __init__(self, cfg, outbox=False):
        self.cfg = cfg
        self.server = make_server(cfg, "127.0.0.1", 0, env=ENV, outbox=outbox)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.effective_port}"

    def close(self):
        self.server.close()
        self.thread.join(10)

    def post(self, path, form, headers=None, timeout=10):
        body = form if isinstance(form, bytes) else urlencode(form, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, path, timeout=10):
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def unsubscribe(self, token, timeout=10):
        return self.post(f"/unsubscribe?{urlencode({'t': token})}", b"List-Unsubscribe=One-Click",
                         {"Content-Type": "application/x-www-form-urlencoded"}, timeout)


@pytest.fixture
def served(tmp_path):
    s = Served(config(tmp_path))
    yield s
    s.close()


def rows(cfg):
    with Archive(cfg.store_path) as a:
        return [(s.email, s.status) for s in SubscriberStore(a).all()]


def queued(cfg):
    with Archive(cfg.store_path) as a:
        Outbox(a)
        return [r[0] for r in a.db.execute("SELECT recipient FROM outbox ORDER BY id")]


# ----------------------------------------------- 1. one canonical address
SAME = [
    ("ÖMER@example.org", "ömer@example.org"),                    # a non-ASCII capital
    ("ＡＢＣ@example.org", "abc@example.org"),                     # full-width
    ("e\u0301lodie@example.org", "\u00e9lodie@example.org"),     # decomposed and composed é
    ("ÉLODIE@EXAMPLE.ORG", "élodie@example.org"),
    ("ΣΟΦΊΑ@example.gr", "σοφία@example.gr"),                    # Greek
    ("ИВАН@ПРИМЕР.РФ", "иван@пример.рф"),                        # Cyrillic, an IDN domain
    ("ömer@BÜCHER.de", "ömer@xn--bcher-kva.de"),                 # a domain and its IDNA form
    ("user@ｅｘａｍｐｌｅ.org", "user@example.org"),              # a full-width domain
    ("山田@例え.テスト", "山田@例え.テスト"),                       # CJK, unchanged
]


@pytest.mark.parametrize("a, b", SAME)
def test_spellings_of_one_address_have_one_key(a, b):
    assert address_key(a) == address_key(b)


def test_different_addresses_keep_different_keys():
    keys = {address_key(x) for x in ("ömer@example.org", "omer@example.org", "oemer@example.org",
                                     "ömer@example.com", "élodie@example.org", "elodie@example.org")}
    assert len(keys) == 6


@pytest.mark.parametrize("added, used", [(a, b) for a, b in SAME if "@" in b][:6])
def test_one_click_unsubscribe_works_for_every_spelling(tmp_path, served, added, used):
    with Archive(served.cfg.store_path) as a:
        subscribers.add(a, [added], "", None, NOW)
        assert SubscriberStore(a).get(used) is not None  # found by any spelling
    token = token_for(served.cfg.store_path, used, SECRET)
    status, html = served.unsubscribe(token)
    assert status == 200 and "Unsubscribed" in html
    assert [s for _, s in rows(served.cfg)] == ["unsubscribed"]  # the answer is true
    status, html = served.get(f"/preferences?{urlencode({'t': token_for(served.cfg.store_path, added, SECRET, 'preferences')})}")
    assert status == 200 and "Your preferences" in html


def test_a_sign_up_in_another_spelling_adds_no_second_reader(served):
    with Archive(served.cfg.store_path) as a:
        subscribers.add(a, ["élodie@example.org"], "", None, NOW)
    for spelling in ("ÉLODIE@example.org", "e\u0301lodie@EXAMPLE.org", "E\u0301LODIE@ｅｘａｍｐｌｅ.org"):
        assert served.post("/subscribe", {"email": spelling})[0] == 200
    assert rows(served.cfg) == [("élodie@example.org", "subscribed")]


def test_confirming_a_capitalised_non_ascii_address_subscribes_it(tmp_path):
    cfg = config(tmp_path)
    with Archive(cfg.store_path) as a:
        nonce = Signups(a).request("ÖMER@example.org", "198.51.100.7", Preferences(), NOW)
        done = Signups(a).confirm(nonce, NOW)
    assert done.result == "subscribed" and rows(cfg) == [("ÖMER@example.org", "subscribed")]


def test_existing_rows_are_merged_by_key_when_migrated(tmp_path):
    """An archive from before the keys, holding two spellings of one reader
    (the CLI and the web added them): one row is kept, the active one."""
    from newsletter import schema, store
    from newsletter.delivery import ledger

    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for script in (store.MIGRATIONS[0], ledger.MIGRATIONS[0], store.MIGRATIONS[1], ledger.MIGRATIONS[1],
                   store.MIGRATIONS[2], store.MIGRATIONS[3]):
        for statement in schema.statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 6")
    for email, status, created in (("ÉLODIE@example.org", "unsubscribed", "2021-01-01"),
                                   ("élodie@example.org", "subscribed", "2021-02-01"),
                                   ("Bob@Example.org", "subscribed", "2021-01-05")):
        db.execute("INSERT INTO subscribers (email, name, status, created_at, updated_at) VALUES (?,?,?,?,?)",
                   (email, "", status, created + "T00:00:00+00:00", created + "T00:00:00+00:00"))
    db.close()
    with Archive(path) as a:
        subs = SubscriberStore(a).all()
    assert [(s.email, s.status) for s in subs] == [("Bob@Example.org", "subscribed"),
                                                   ("élodie@example.org", "subscribed")]
    assert len({s.handle for s in subs}) == 2 and all(len(s.handle) >= 16 for s in subs)


# ------------------------------------------- pages tell only the truth
def test_a_confirmation_for_an_erased_address_says_so(served):
    served.post("/subscribe", {"email": "gone@example.org"})
    with Archive(served.cfg.store_path) as a:
        nonce = a.db.execute("SELECT nonce FROM signups").fetchone()[0]
        SubscriberStore(a).remove("gone@example.org")
    from newsletter.delivery.tokens import make_token
    token = make_token(SECRET, nonce, "confirm", expires=NOW + timedelta(hours=1))
    status, html = served.post("/confirm", {"t": token})
    assert status == 400 and "not on the list" in html and "Subscribed" not in html
    assert rows(served.cfg) == []


def test_a_sign_up_never_edits_an_existing_readers_preferences(served):
    mine = Preferences(("cs.LG",), ("diffusion",))
    with Archive(served.cfg.store_path) as a:
        subscribers.add(a, ["reader@example.org"], "", mine, NOW)
        SubscriberStore(a).set_status("reader@example.org", "unsubscribed", NOW)
    assert served.post("/subscribe", {"email": "reader@example.org", "categories": ["stat.ML"]})[0] == 200
    token = token_for(served.cfg.store_path, "reader@example.org", SECRET)
    status, html = served.post("/resubscribe", {"t": token})  # their own undo
    assert status == 200 and "Subscribed again" in html
    with Archive(served.cfg.store_path) as a:
        assert SubscriberStore(a).get("reader@example.org").prefs == mine


def test_a_confirmation_works_once(served):
    served.post("/subscribe", {"email": "once@example.org"})
    with Archive(served.cfg.store_path) as a:
        nonce = a.db.execute("SELECT nonce FROM signups").fetchone()[0]
    from newsletter.delivery.tokens import make_token
    link = make_token(SECRET, nonce, "confirm", expires=NOW + timedelta(hours=47))
    assert served.post("/confirm", {"t": link})[0] == 200
    assert served.unsubscribe(token_for(served.cfg.store_path, "once@example.org", SECRET))[0] == 200
    status, html = served.post("/confirm", {"t": link})  # replayed after the unsubscribe
    assert status == 400 and "used already" in html
    assert rows(served.cfg) == [("once@example.org", "unsubscribed")]


def test_an_older_confirmation_link_cannot_resubscribe_either(served):
    with Archive(served.cfg.store_path) as a:
        subscribers.add(a, ["old@example.org"], "", None, NOW)
        SubscriberStore(a).set_status("old@example.org", "unsubscribed", NOW)
    link = legacy_token(SECRET, "old@example.org", "confirm", expires=NOW + timedelta(hours=40))
    status, _ = served.post("/confirm", {"t": link})
    assert status == 400 and rows(served.cfg) == [("old@example.org", "unsubscribed")]


# ------------------------------------------ 2. limits under concurrency
def _burst(served, forms, client_header=None, workers=24):
    def one(form):
        return served.post("/subscribe", form, client_header(form) if client_header else None)[0]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, forms))


def test_simultaneous_requests_for_one_address_send_at_most_three(served):
    for _ in range(3):  # several bursts: no interleaving passes the limit
        statuses = _burst(served, [{"email": "victim@example.org"}] * 24)
        assert statuses == [200] * 24
    assert queued(served.cfg) == ["victim@example.org"] * 3


def test_simultaneous_new_addresses_from_one_client_send_at_most_twenty(served):
    statuses = _burst(served, [{"email": f"n{i}@example.org"} for i in range(40)], workers=40)
    assert statuses == [200] * 40
    assert len(queued(served.cfg)) == 20


# ------------------------------------------------- trusted proxies
@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("203.0.113.5", "198.51.100.1", [], "203.0.113.5"),                        # no proxy configured: ignored
    ("203.0.113.5", "198.51.100.1", ["127.0.0.1"], "203.0.113.5"),             # not from the proxy: ignored
    ("127.0.0.1", "198.51.100.1", ["127.0.0.1"], "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", ["127.0.0.1"], "198.51.100.1"),     # a forged first hop is skipped
    ("10.0.0.7", "198.51.100.1, 10.0.0.3", ["10.0.0.0/8"], "198.51.100.1"),    # two proxies in a network
    ("127.0.0.1", "not-an-ip", ["127.0.0.1"], "127.0.0.1"),
    ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
    ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
])
def test_the_client_behind_trusted_proxies(tmp_path, peer, forwarded, trusted, client):
    cfg = config(tmp_path, trusted_proxies=trusted)
    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(environ, trusted_networks(cfg)) == client


def test_per_client_limits_see_the_real_client_behind_the_proxy(tmp_path):
    s = Served(config(tmp_path, trusted_proxies=["127.0.0.1"]))
    try:
        forms = [{"email": f"p{i}@example.org"} for i in range(30)]
        _burst(s, forms, lambda f: {"X-Forwarded-For": f"198.51.100.{int(f['email'][1:].split('@')[0]) % 2}"})
        assert len(queued(s.cfg)) == 30  # two clients, 15 each: under the limit
        forms = [{"email": f"z{i}@example.org"} for i in range(30)]
        _burst(s, forms, lambda f: {"X-Forwarded-For": "198.51.100.77"})
        assert len(queued(s.cfg)) == 30 + 20  # one forwarded client: limited
    finally:
        s.close()


def test_forwarded_addresses_are_ignored_without_trusted_proxies(served):
    forms = [{"email": f"q{i}@example.org"} for i in range(30)]
    _burst(served, forms, lambda f: {"X-Forwarded-For": f"198.51.100.{f['email'][1:3]}"})
    assert len(queued(served.cfg)) == 20  # all from 127.0.0.1, whatever the header says


def test_a_wrong_trusted_proxy_is_a_config_error(tmp_path):
    with pytest.raises(config_mod.ConfigError, match="web.trusted_proxies"):
        config(tmp_path, trusted_proxies=["localhost"])


# ----------------------------------------- 3. mail off the request path
def test_unsubscribes_stay_fast_while_the_mail_server_stalls_and_every_confirmation_arrives(tmp_path, cert):
    faults = Faults(data_delay=4.0)  # the relay takes 4 s to accept each message
    with Server(*cert, faults) as smtp:
        cfg = config(tmp_path, smtp.port, str(cert[0]))
        with Archive(cfg.store_path) as a:
            subscribers.add(a, [f"r{i}@example.org" for i in range(8)], "", None, NOW)
        s = Served(cfg, outbox=True)
        try:
            for i in range(3):
                assert s.post("/subscribe", {"email": f"new{i}@example.org"}, timeout=2)[0] == 200
            for i in range(8):
                status, _ = s.unsubscribe(token_for(cfg.store_path, f"r{i}@example.org", SECRET), timeout=5)
                assert status == 200
            # all eight answered before the relay (4 s a message) had taken the second confirmation
            assert sum(smtp.handler.received().values()) <= 1
            smtp.wait_for(3, timeout=40)
        finally:
            s.close()
        got = smtp.handler.received()
    assert sorted(got) == [f"new{i}@example.org" for i in range(3)] and set(got.values()) == {1}
    with Archive(cfg.store_path) as a:
        assert Outbox(a).counts() == {"sent": 3}


class FlakyRelay:
    def __init__(self):
        self.down, self.sent = True, []

    def __call__(self):
        if self.down:
            raise SendError("cannot connect to 127.0.0.1:25 (Connection refused)")
        return self

    def send(self, sender, recipient, data):
        self.sent.append(recipient)
        return "250 ok"

    def close(self):
        pass


def test_failed_sends_are_retried_with_a_growing_pause(tmp_path):
    cfg = config(tmp_path)
    clock = [NOW]
    with Archive(cfg.store_path) as a:
        box = Outbox(a)
        for i in range(3):
            box.add("confirm", "p@hot.example.org", f"c{i}@example.org", b"Subject: x\r\n\r\nx", NOW)
    relay = FlakyRelay()
    first = send_due(cfg.store_path, relay, lambda: clock[0], backoff=60)
    assert (first.sent, first.retried) == (0, 1)  # the relay is down: the rest wait, nothing is lost
    clock[0] += timedelta(seconds=59)  # c0 waits 60 s; c1 is tried, fails, waits
    assert send_due(cfg.store_path, relay, lambda: clock[0], backoff=60).retried == 1
    relay.down = False
    clock[0] += timedelta(seconds=2)
    assert send_due(cfg.store_path, relay, lambda: clock[0], backoff=60).sent == 2  # c0 and c2
    with Archive(cfg.store_path) as a:
        c1 = a.db.execute("SELECT attempts, next_at FROM outbox WHERE recipient = 'c1@example.org'").fetchone()
    assert c1[0] == 1 and datetime.fromisoformat(c1[1]) == NOW + timedelta(seconds=59 + 60)
    clock[0] = NOW + timedelta(seconds=120)
    assert send_due(cfg.store_path, relay, lambda: clock[0], backoff=60).sent == 1
    assert sorted(relay.sent) == ["c0@example.org", "c1@example.org", "c2@example.org"]
    with Archive(cfg.store_path) as a:
        assert Outbox(a).counts() == {"sent": 3}


def test_status_and_outbox_send_from_the_command_line(tmp_path, monkeypatch, cert):
    with Server(*cert) as smtp:
        cfg_path = tmp_path / "newsletter.toml"
        cfg_path.write_text(f'''[newsletter]\nsite_url = "https://hot.example.org"\n[email]\nfrom = "p@hot.example.org"\n
[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nusername = "{USER}"\nca_file = "{cert[0]}"\n''')
        with Archive(tmp_path / "newsletter.db") as a:
            Outbox(a).add("confirm", "p@hot.example.org", "w@example.org", b"Subject: x\r\n\r\nx\r\n", NOW)
        monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
        r = CliRunner().invoke(cli, ["--config", str(cfg_path), "status", "--date", "2026-07-31"])
        assert r.exit_code == 0 and "1 confirmations waiting" in r.output
        r = CliRunner().invoke(cli, ["--config", str(cfg_path), "outbox", "send"])
        assert r.exit_code == 0 and "1 sent" in r.output, r.output
        assert smtp.handler.received() == {"w@example.org": 1}


# --------------------------------------------------- 5. strict input
@pytest.mark.parametrize("field, value", [
    ("pause_weeks", "²"), ("pause_weeks", "9" * 5000), ("pause_weeks", "٣"), ("pause_weeks", " 1 2"),
    ("max_papers", "²"), ("max_papers", "1" * 5000), ("max_papers", "1e1"), ("max_papers", "١٠"),
])
def test_numbers_are_plain_ascii_digits(served, field, value):
    with Archive(served.cfg.store_path) as a:
        subscribers.add(a, ["n@example.org"], "", None, NOW)
    token = token_for(served.cfg.store_path, "n@example.org", SECRET, "preferences")
    status, html = served.post("/preferences", {"t": token, field: value, "frequency": "daily"})
    assert status == 400 and "Not saved" in html


@pytest.mark.parametrize("body, ctype", [
    ("email=caf%E9%40example.org".encode(), "application/x-www-form-urlencoded"),               # %E9: latin-1
    ("email=café@example.org".encode("latin-1"), "application/x-www-form-urlencoded"),          # raw latin-1
    ("email=cafe@example.org".encode(), "application/x-www-form-urlencoded; charset=latin-1"),  # declared so
    ("email=cafe@example.org".encode(), "multipart/form-data; boundary=x"),
    ("email=caf%ED%A0%80@example.org".encode(), "application/x-www-form-urlencoded"),           # a surrogate
])
def test_a_form_that_is_not_utf8_is_refused_and_stores_nothing(served, body, ctype):
    status, _ = served.post("/subscribe", body, {"Content-Type": ctype})
    assert status == 400
    assert rows(served.cfg) == [] and queued(served.cfg) == []


def test_a_query_that_is_not_utf8_is_refused(served):
    assert served.get("/unsubscribe?t=%FF%FE")[0] == 400


@pytest.mark.parametrize("bad", ["cs.NOPE", "cs.lg", "CS", "math.XX"])
def test_categories_are_checked_against_arxivs_taxonomy(served, tmp_path, bad):
    status, html = served.post("/subscribe", {"email": "t@example.org", "categories": [bad]})
    assert status == 400 and "not an arXiv category" in html
    cfg_path = tmp_path / "cli.toml"
    cfg_path.write_text(f'[store]\npath = "{tmp_path / "cli.db"}"\n')
    r = CliRunner().invoke(cli, ["--config", str(cfg_path), "subscribers", "add", "t@example.org",
                                 "--categories", bad])
    assert r.exit_code == 1 and "not an arXiv category" in r.output
    (tmp_path / "list.csv").write_text(f"email,categories\nt@example.org,{bad}\n")
    r = CliRunner().invoke(cli, ["--config", str(cfg_path), "subscribers", "import", str(tmp_path / "list.csv")])
    assert r.exit_code == 1 and "line 2" in r.output and "not an arXiv category" in r.output


# --------------------------------------------------------- 6. privacy
def test_links_carry_no_address_in_any_encoding(tmp_path):
    cfg = config(tmp_path)
    address = "reader@example.org"
    with Archive(cfg.store_path) as a:
        subscribers.add(a, [address], "", None, NOW)
    for purpose in ("unsubscribe", "preferences"):
        token = token_for(cfg.store_path, address, SECRET, purpose)
        decoded = [token] + [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode("latin-1")
                             for p in token.split(".")]
        assert not any("reader" in d or "example" in d for d in decoded)


def test_older_links_with_the_address_keep_working_for_sixty_days(tmp_path):
    cfg = config(tmp_path)
    with Archive(cfg.store_path) as a:
        subscribers.add(a, ["early@example.org", "late@example.org"], "", None, NOW)
        since = datetime.fromisoformat(SubscriberStore(a).setting("opaque_links_since"))
    from newsletter.delivery.web import make_app
    clock = [since + timedelta(days=59)]
    app = make_app(cfg, ENV, now=lambda: clock[0])

    def one_click(address):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/unsubscribe", "REMOTE_ADDR": "192.0.2.1",
                   "QUERY_STRING": urlencode({"t": legacy_token(SECRET, address)}), "CONTENT_LENGTH": "26",
                   "wsgi.input": __import__("io").BytesIO(b"List-Unsubscribe=One-Click")}
        got = {}
        b"".join(app(environ, lambda status, headers: got.setdefault("status", status)))
        return got["status"]

    assert one_click("early@example.org") == "200 OK"
    clock[0] = since + timedelta(days=61)
    assert one_click("late@example.org") == "400 Bad Request"
    assert rows(cfg) == [("early@example.org", "unsubscribed"), ("late@example.org", "subscribed")]


# -------------------------------------------- 4. waitress's own limits
def test_waitress_gets_the_configured_connection_limit_and_timeout(tmp_path):
    s = Served(config(tmp_path, connection_limit=321, channel_timeout=7, threads=5))
    try:
        adj = s.server.server.adj
        assert (adj.connection_limit, adj.channel_timeout, adj.threads) == (321, 7, 5)
    finally:
        s.close()


def test_http_pipelining_and_keepalive_still_answer(served):
    conn = http.client.HTTPConnection("127.0.0.1", served.server.effective_port, timeout=5)
    for _ in range(3):
        conn.request("GET", "/subscribe")
        r = conn.getresponse()
        assert r.status == 200 and b"Subscribe" in r.read()
    conn.close()


def test_without_a_proxy_300_slow_connections_do_not_hold_up_an_unsubscribe(tmp_path):
    """Above waitress's old 100-connection limit, below its select() limits:
    the configured connection_limit (500) admits the one-click request at once."""
    from test_nginx import open_connections

    s = Served(config(tmp_path))
    conns = []
    try:
        with Archive(s.cfg.store_path) as a:
            subscribers.add(a, ["slowpoke@example.org"], "", None, NOW)
        conns = open_connections(s.server.effective_port, 150, trickle=False)
        conns += open_connections(s.server.effective_port, 150, trickle=True)
        # not admitted, it would wait for a slow connection's 10 s timeout: past the client's 5
        status, _ = s.unsubscribe(token_for(s.cfg.store_path, "slowpoke@example.org", SECRET), timeout=5)
        assert status == 200
    finally:
        for c in conns:
            c.close()
        s.close()
