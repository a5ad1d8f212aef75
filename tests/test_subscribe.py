"""Subscribing on the web (double opt-in), preferences, and each reader's own
issue: plain WSGI calls for the rules, and a real browser against the app
under waitress with a real SMTP server for the whole journey."""

from __future__ import annotations

import email
import email.policy
import io
import re
import shutil
import threading
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from typer.testing import CliRunner

import hotpapers
from conftest import FIXTURES
from newsletter import config as config_mod
from newsletter.cli import app as cli
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.preferences import Preferences
from newsletter.delivery.outbox import send_due
from newsletter.delivery.signups import Signups
from newsletter.delivery.tokens import make_token
from weblinks import address_of, token_for
from newsletter.delivery.web import make_app, make_server
from newsletter.seams import Seams
from newsletter.deliver import dry_run_day, send_day
from newsletter.store import Archive
from smtpserver import PASSWORD, USER, Server, free_port
from test_deliver import cert  # noqa: F401 - a fixture

SECRET = "s3cret-s3cret-s3cret-0123456789"
ENV = {"SMTP_PASSWORD": PASSWORD, "NEWSLETTER_SECRET": SECRET}
DAY = date(2021, 6, 16)
CATS = ["cs.CV", "cs.LG", "cs.CL", "stat.ML", "eess.IV"]


class Clock:
    def __init__(self):
        self.now = datetime(2021, 6, 17, 9, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


class Outbox:
    """A mailer that keeps what it was given (the browser test uses real SMTP)."""

    def __init__(self):
        self.sent: list[tuple[str, bytes]] = []

    def send(self, sender, recipient, data):
        self.sent.append((recipient, data))
        return "250 ok"

    def close(self):
        pass

    def links(self, path: str) -> list[str]:
        out = []
        for _, data in self.sent:
            msg = email.message_from_bytes(data, policy=email.policy.default)
            out += re.findall(rf"https?://\S+/{path}\?t=[\w.\-%]+", msg.get_body(("plain",)).get_content())
        return out


def config(tmp_path, port=25, ca="", **delivery):
    return config_mod.from_dict({
        "newsletter": {"site_url": "https://hot.example.org", "categories": CATS},
        "email": {"from": "Hot Papers <papers@hot.example.org>"},
        "delivery": {"web_url": "https://app.hot.example.org", "retry_backoff": 0.0, **delivery},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER, "ca_file": ca,
                 "timeout": 10.0},
    }, base_dir=tmp_path)


def call(app, method, path, form=None, query="", client="198.51.100.7"):
    body = urlencode(form or {}, doseq=True).encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": client,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO()}
    got = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, dict(headers)

    data = b"".join(app(environ, start_response))
    return got["status"], data.decode()


@pytest.fixture
def web(tmp_path):
    cfg = config(tmp_path)
    clock, outbox = Clock(), Outbox()
    return cfg, flushing(make_app(cfg, ENV, now=clock), cfg, clock, outbox), clock, outbox


def flushing(app, cfg, clock, outbox):
    """The app, with its outbox sent after each request (as ``serve``'s worker does)."""
    def wrapped(environ, start_response):
        answer = list(app(environ, start_response))
        send_due(cfg.store_path, lambda: outbox, clock)
        return answer
    return wrapped


def sub_of(cfg, address):
    with Archive(cfg.store_path) as a:
        return SubscriberStore(a).get(address)


# ----------------------------------------------------------------- rules
def test_the_subscribe_form_is_labelled(web):
    cfg, app, _, _ = web
    status, html = call(app, "GET", "/subscribe")
    assert status == "200 OK"
    assert '<label for="email">Email</label>' in html and "<button type=\"submit\">Subscribe</button>" in html
    assert "cs.LG — Machine Learning" in html and "cs.CV — Computer Vision and Pattern Recognition" in html
    assert 'name="website"' in html  # the honeypot


def test_subscribing_sends_one_signed_link_and_activates_nothing_until_confirmed(web):
    cfg, app, clock, outbox = web
    status, html = call(app, "POST", "/subscribe", {"email": "Ada@Example.org", "categories": ["cs.CV"]})
    assert status == "200 OK" and "Check your inbox" in html
    (link,) = outbox.links("confirm")
    assert link.startswith("https://app.hot.example.org/confirm?t=")
    s = sub_of(cfg, "ada@example.org")
    assert s.status == "pending" and s.source == "web" and s.requested_from == "198.51.100.7"
    assert s.prefs.categories == ("cs.CV",) and s.confirmed_at is None
    token = parse_qs(urlsplit(link).query)["t"][0]
    status, html = call(app, "GET", "/confirm", query=urlencode({"t": token}))  # a link scanner
    assert status == "200 OK" and "Confirm subscription" in html and sub_of(cfg, "ada@example.org").status == "pending"
    status, html = call(app, "POST", "/confirm", {"t": token})
    assert status == "200 OK" and "Subscribed" in html
    s = sub_of(cfg, "ada@example.org")
    assert s.status == "subscribed" and s.confirmed_at == clock.now and s.requested_at == clock.now


@pytest.mark.parametrize("state", ["new", "pending", "subscribed", "unsubscribed"])
def test_the_answer_is_the_same_whatever_the_address_is(web, state):
    cfg, app, clock, _ = web
    address = "known@example.org"
    with Archive(cfg.store_path) as a:
        s = SubscriberStore(a)
        if state == "pending":
            Signups(a).request(address, "x", Preferences(), clock.now)
        elif state in ("subscribed", "unsubscribed"):
            s.add(address, "", clock.now)
            if state == "unsubscribed":
                s.set_status(address, "unsubscribed", clock.now)
    status, html = call(app, "POST", "/subscribe", {"email": address})
    ref_status, ref_html = call(app, "POST", "/subscribe", {"email": "never-seen@example.org"})
    assert status == ref_status == "200 OK"
    assert html.replace(address, "ADDR") == ref_html.replace("never-seen@example.org", "ADDR")


def test_the_honeypot_sends_and_stores_nothing(web):
    cfg, app, _, outbox = web
    status, html = call(app, "POST", "/subscribe", {"email": "bot@example.org", "website": "https://spam.test"})
    assert status == "200 OK" and "Check your inbox" in html
    assert outbox.sent == [] and sub_of(cfg, "bot@example.org") is None


def test_rate_limits_per_address_and_per_client(web):
    cfg, app, clock, outbox = web
    for _ in range(5):
        assert call(app, "POST", "/subscribe", {"email": "victim@example.org"})[0] == "200 OK"
    assert len(outbox.sent) == 3  # at most 3 confirmation emails an address a day
    clock.now += timedelta(days=1, minutes=1)
    call(app, "POST", "/subscribe", {"email": "victim@example.org"})
    assert len(outbox.sent) == 4
    for i in range(30):  # one client trying many addresses
        call(app, "POST", "/subscribe", {"email": f"a{i}@example.org"}, client="203.0.113.9")
    assert len(outbox.sent) == 4 + 20
    call(app, "POST", "/subscribe", {"email": "other@example.org"}, client="203.0.113.10")
    assert len(outbox.sent) == 25


def test_forged_expired_cross_address_and_cross_purpose_tokens_change_nothing(web):
    cfg, app, clock, outbox = web
    call(app, "POST", "/subscribe", {"email": "ada@example.org"})
    call(app, "POST", "/subscribe", {"email": "bob@example.org"})
    ada = parse_qs(urlsplit(outbox.links("confirm")[0]).query)["t"][0]
    bob = parse_qs(urlsplit(outbox.links("confirm")[1]).query)["t"][0]
    forged = ada[:-3] + ("AAA" if not ada.endswith("AAA") else "BBB")
    swapped = ".".join(["h1", bob.split(".")[1], *ada.split(".")[2:]])  # bob's sign-up, ada's signature
    unsub = token_for(cfg.store_path, "ada@example.org", SECRET)  # another purpose
    other_secret = make_token("x" * 32, ada.split(".")[1], "confirm", expires=clock.now + timedelta(hours=1))
    for bad in (forged, swapped, unsub, other_secret, "", "a.b.c.d", "\x00"):
        status, html = call(app, "POST", "/confirm", {"t": bad})
        assert status == "400 Bad Request" and "not valid" in html
    clock.now += timedelta(hours=48, seconds=1)
    assert call(app, "POST", "/confirm", {"t": ada})[0] == "400 Bad Request"  # expired
    assert sub_of(cfg, "ada@example.org").status == sub_of(cfg, "bob@example.org").status == "pending"
    for path in ("/preferences", "/unsubscribe"):
        assert call(app, "GET", path, query=urlencode({"t": ada}))[0] == "400 Bad Request"


def test_hostile_text_in_every_field_is_escaped(web):
    cfg, app, clock, _ = web
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    status, html = call(app, "POST", "/subscribe", {"email": evil})
    assert status == "400 Bad Request" and "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    status, html = call(app, "POST", "/subscribe", {"email": "ok@example.org", "categories": [evil]})
    assert status == "400 Bad Request" and "<script>" not in html
    with Archive(cfg.store_path) as a:
        SubscriberStore(a).add("ok@example.org", "", clock.now)
    token = token_for(cfg.store_path, "ok@example.org", SECRET, "preferences")
    status, html = call(app, "POST", "/preferences", {"t": token, "keywords": evil, "authors": evil + ", Hinton",
                                                       "frequency": "daily"})
    assert status == "200 OK" and "Saved." in html
    assert "<script>" not in html and "<img" not in html and html.count("&lt;script&gt;") >= 2
    assert sub_of(cfg, "ok@example.org").prefs.authors[-1] == "Hinton"


def test_the_preference_page_saves_and_confirms_what_was_saved(web):
    cfg, app, clock, _ = web
    with Archive(cfg.store_path) as a:
        SubscriberStore(a).add("reader@example.org", "", clock.now)
    token = token_for(cfg.store_path, "reader@example.org", SECRET, "preferences")
    status, html = call(app, "GET", "/preferences", query=urlencode({"t": token}))
    for label in ("Keywords", "Authors", "Papers per email", "Pause for (weeks)", "Every mailing day"):
        assert label in html
    assert "<button type=\"submit\">Save</button>" in html and "<button type=\"submit\">Unsubscribe</button>" in html
    status, html = call(app, "POST", "/preferences", {
        "t": token, "categories": ["cs.CV", "stat.ML"], "keywords": "diffusion, RLHF, graph neural network",
        "authors": "Hinton", "max_papers": "10", "frequency": "both", "pause_weeks": "2"})
    assert status == "200 OK"
    assert "Saved. Categories: cs.CV, stat.ML. Keywords: diffusion, RLHF, graph neural network." in html
    p = sub_of(cfg, "reader@example.org").prefs
    assert p == Preferences(("cs.CV", "stat.ML"), ("diffusion", "RLHF", "graph neural network"), ("Hinton",), 10,
                            "both", clock.now.date() + timedelta(weeks=2))
    for bad in ({"max_papers": "7"}, {"frequency": "hourly"}, {"categories": ["q-bio.NC"]}, {"pause_weeks": "-1"}):
        status, html = call(app, "POST", "/preferences", {"t": token, **bad})
        assert status == "400 Bad Request" and "Not saved" in html
    assert sub_of(cfg, "reader@example.org").prefs == p


def test_unsubscribe_already_unsubscribed_and_undo_within_30_days(web):
    cfg, app, clock, _ = web
    with Archive(cfg.store_path) as a:
        SubscriberStore(a).add("u@example.org", "", clock.now, prefs=Preferences(("cs.CV",)))
    token = token_for(cfg.store_path, "u@example.org", SECRET)
    status, html = call(app, "POST", "/unsubscribe", {"List-Unsubscribe": "One-Click"}, query=urlencode({"t": token}))
    assert status == "200 OK" and "Resubscribe" in html and sub_of(cfg, "u@example.org").status == "unsubscribed"
    status, html = call(app, "GET", "/unsubscribe", query=urlencode({"t": token}))
    assert "Already unsubscribed" in html and "Resubscribe" in html
    clock.now += timedelta(days=29)
    assert "Subscribed again" in call(app, "POST", "/resubscribe", {"t": token})[1]
    s = sub_of(cfg, "u@example.org")
    assert s.status == "subscribed" and s.prefs.categories == ("cs.CV",)
    call(app, "POST", "/unsubscribe", {"t": token})
    clock.now += timedelta(days=31)
    status, html = call(app, "GET", "/unsubscribe", query=urlencode({"t": token}))
    assert "Already unsubscribed" in html and "Subscribe again" in html and "Resubscribe" not in html
    assert "please subscribe again" in call(app, "POST", "/resubscribe", {"t": token})[1]
    assert sub_of(cfg, "u@example.org").status == "unsubscribed"


# ------------------------------------------------------ readers' issues
def archive_day(cfg):
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / f"{DAY}---Hot-Papers.md").read_text())
    with Archive(cfg.store_path) as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, 300)
    return parsed


def eml(path):
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return msg, msg.get_body(("plain",)).get_content()


def test_each_reader_gets_their_own_issue_rendered_once_per_selection(tmp_path, monkeypatch):
    cfg = config(tmp_path)
    parsed = archive_day(cfg)
    cv = [p.arxiv_id for p in parsed.papers if "cs.CV" in p.categories]
    readers = {"all@example.org": None, "cv1@example.org": Preferences(("cs.CV",)),
               "cv2@example.org": Preferences(("cs.CV",)), "cv3@example.org": Preferences(("cs.CV",), max_papers=5),
               "none@example.org": Preferences(keywords=("zzqx-no-such-word",)),
               "paused@example.org": Preferences(paused_until=DAY + timedelta(days=7)),
               "weekly@example.org": Preferences(frequency="weekly")}
    with Archive(cfg.store_path) as a:
        for address, prefs in readers.items():
            SubscriberStore(a).add(address, "", datetime(2021, 6, 1, tzinfo=timezone.utc), prefs=prefs)
    import newsletter.delivery.editions as editions_mod
    calls = []
    real = editions_mod.render_email
    monkeypatch.setattr(editions_mod, "render_email", lambda *a, **k: calls.append(1) or real(*a, **k))
    seams = Seams(now=lambda: datetime(2021, 6, 17, 9, tzinfo=timezone.utc), env=ENV)
    with Archive(cfg.store_path) as a:
        mailer = dry_run_day(cfg, DAY, a, seams)
    assert len(calls) == 3  # the whole issue, cs.CV, cs.CV capped at 5: not once per reader
    files = {re.sub(r"^\d+-", "", p.stem): p for p in mailer.files}
    assert set(files) == {"all@example.org", "cv1@example.org", "cv2@example.org", "cv3@example.org"}
    assert sorted(n.split(":")[0] for n in mailer.nothing) == ["none@example.org", "paused@example.org",
                                                              "weekly@example.org"]
    _, text = eml(files["cv1@example.org"])
    shown = re.findall(r"(?m)^abs: https://arxiv.org/abs/(\S+)", text)
    assert shown == [p.paper.arxiv_id for p in hotpapers_ranked(cfg) if p.paper.arxiv_id in cv][:20]
    assert "filtered by cs.CV" in text and f"of 24 hot papers" in text and "hot-papers-2021-06-16/" in text
    assert len(re.findall(r"(?m)^abs: https://arxiv", eml(files["cv3@example.org"])[1])) == 5
    assert len(re.findall(r"(?m)^abs: https://arxiv", eml(files["all@example.org"])[1])) == 20
    for address, path in files.items():  # every message: its own working preference and unsubscribe links
        msg, text = eml(path)
        (prefs_link,) = re.findall(r"Preferences: (\S+)", text)
        assert address_of(cfg.store_path, parse_qs(urlsplit(prefs_link).query)["t"][0], SECRET, "preferences") == address
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert address_of(cfg.store_path, parse_qs(urlsplit(msg["List-Unsubscribe"].split(",")[0].strip("<> ")).query)["t"][0], SECRET) == address


def hotpapers_ranked(cfg):
    from newsletter.issues import load_issue
    with Archive(cfg.store_path) as a:
        return load_issue(cfg, a, DAY).papers


def test_a_reader_with_nothing_gets_no_email_and_the_ledger_says_so(tmp_path, cert, monkeypatch):  # noqa: F811
    with Server(*cert) as server:
        cfg = config(tmp_path, server.port, str(cert[0]))
        archive_day(cfg)
        with Archive(cfg.store_path) as a:
            SubscriberStore(a).add("cv@example.org", "", datetime(2021, 6, 1, tzinfo=timezone.utc),
                                   prefs=Preferences(("cs.CV",)))
            SubscriberStore(a).add("none@example.org", "", datetime(2021, 6, 1, tzinfo=timezone.utc),
                                   prefs=Preferences(keywords=("zzqx",)))
            summary = send_day(cfg, DAY, a, Seams(env=ENV, sleep=lambda s: None))
        assert server.handler.received() == {"cv@example.org": 1}
    assert summary.sent == 1 and summary.nothing == 1 and "1 with nothing on their topics" in summary.line()
    with Archive(cfg.store_path) as a:
        store = SubscriberStore(a)
        assert store.counts(DAY) == {"sent": 1, "nothing": 1}
        assert store.pending(DAY) == (2, 0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsletter.toml").write_text("")
    r = CliRunner().invoke(cli, ["--config", str(tmp_path / "newsletter.toml"), "status", "--date", str(DAY)])
    assert "nothing" in r.output and "nothing today on zzqx" in r.output


def test_cli_preferences_and_consent_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsletter.toml").write_text('[newsletter]\ncategories = ["cs", "stat.ML"]\n')
    run = lambda *a: CliRunner().invoke(cli, list(a))  # noqa: E731
    r = run("subscribers", "add", "ada@example.org", "--categories", "cs.LG,cs.CV", "--keywords", "diffusion, RLHF",
            "--max-papers", "10")
    assert r.exit_code == 0, r.output
    r = run("subscribers", "show", "ada@example.org")
    assert "categories:\tcs.LG, cs.CV" in r.output and "keywords:\tdiffusion, RLHF" in r.output
    assert "max papers:\t10" in r.output and "source:\tcli" in r.output and "confirmed:\t20" in r.output
    r = run("subscribers", "set", "ada@example.org", "--frequency", "weekly", "--keywords", "")
    assert r.exit_code == 0 and "weekly" in r.output
    assert "keywords:\t-" in run("subscribers", "show", "ada@example.org").output
    assert run("subscribers", "set", "ada@example.org", "--max-papers", "7").exit_code == 1
    assert "not among this newsletter's categories" in run("subscribers", "set", "ada@example.org",
                                                           "--categories", "q-bio.NC").output
    (tmp_path / "list.csv").write_text('email,name,categories,keywords,authors,max_papers\n'
                                       'bob@example.org,Bob,"cs.LG, stat.ML",diffusion,Hinton,5\n'
                                       'eve@example.org,Eve,q-bio.NC,,,\n')
    r = run("subscribers", "import", "list.csv")
    assert r.exit_code == 1 and "line 3:" in r.output and "1 added" in r.output
    r = run("subscribers", "show", "bob@example.org")
    assert "categories:\tcs.LG, stat.ML" in r.output and "authors:\tHinton" in r.output and "source:\timport" in r.output


# ----------------------------------------------------- a real browser
CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")
def test_a_person_subscribes_confirms_chooses_topics_and_gets_their_issue(tmp_path, cert):  # noqa: F811
    sync_api = pytest.importorskip("playwright.sync_api")
    with Server(*cert) as smtp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cfg = config(tmp_path, smtp.port, str(cert[0]), web_url=base)  # the emails' links point at this server
        server = make_server(cfg, "127.0.0.1", port, env=ENV)
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        parsed = archive_day(cfg)
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                            "--disable-background-networking"])
                page = browser.new_page()
                page.goto(f"{base}/subscribe")
                page.get_by_label("Email").fill("reader@example.org")
                page.get_by_label("cs.LG — Machine Learning").check()
                page.get_by_role("button", name="Subscribe").click()
                page.get_by_role("heading", name="Check your inbox").wait_for()
                smtp.wait_for(1)
                msg = smtp.handler.parsed("reader@example.org")[0]
                (link,) = re.findall(rf"{re.escape(base)}/confirm\?t=\S+", msg.get_body(("plain",)).get_content())
                page.goto(link)
                assert sub_of(cfg, "reader@example.org").status == "pending"  # opening the link is not enough
                page.get_by_role("button", name="Confirm subscription").click()
                page.get_by_role("heading", name="Subscribed").wait_for()
                assert sub_of(cfg, "reader@example.org").status == "subscribed"

                smtp.wait_for(2)  # the welcome email, from the outbox worker
                welcome = smtp.handler.parsed("reader@example.org")[1]
                assert welcome["Subject"] == "Welcome to Hot Papers" and "/preferences?t=h1." in \
                    welcome.get_body(("plain",)).get_content()
                with Archive(cfg.store_path) as a:  # the next issue goes out
                    send_day(cfg, DAY, a, Seams(env=ENV, sleep=lambda s: None))
                smtp.wait_for(3)
                issue = smtp.handler.parsed("reader@example.org")[2]
                text = issue.get_body(("plain",)).get_content()
                assert "filtered by cs.LG" in text
                (prefs_link,) = re.findall(r"Preferences: (\S+)", text)
                page.goto(prefs_link)
                assert page.get_by_label("cs.LG — Machine Learning").is_checked()
                page.get_by_label("cs.LG — Machine Learning").uncheck()
                page.get_by_label("cs.CV — Computer Vision and Pattern Recognition").check()
                page.get_by_label("Papers per email").select_option("5")
                page.get_by_role("button", name="Save").click()
                page.get_by_role("status").wait_for()
                assert "Categories: cs.CV." in page.get_by_role("status").inner_text()
                browser.close()
        finally:
            server.close()
            serving.join(10)
    with Archive(cfg.store_path) as a:
        a.db.execute("DELETE FROM deliveries")
        mailer = dry_run_day(cfg, DAY, a, Seams(env=ENV))
    (path,) = mailer.files
    text = eml(path)[1]
    cv = {p.arxiv_id for p in parsed.papers if "cs.CV" in p.categories}
    shown = re.findall(r"(?m)^abs: https://arxiv.org/abs/(\S+)", text)
    assert 0 < len(shown) <= 5 and set(shown) <= cv
