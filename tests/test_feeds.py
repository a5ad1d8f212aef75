"""Atom, RSS and JSON Feed: validity, agreement between formats, hostile text,
reproducibility, the rolling window, and a real feed reader."""

from __future__ import annotations

import email.utils
import functools
import http.server
import json
import re
import shutil
import sqlite3
import subprocess
import threading
from datetime import date, datetime, timedelta, timezone

import feedparser
import lxml.html
import pytest
from lxml import etree

import hotpapers
from conftest import FIXTURES, make_config
from factories import paper, xpost
from newsletter.build import build_day
from newsletter.store import Archive

ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
REAL = ["2020-06-29", "2020-07-14", "2021-08-26"]
FEEDS = ("papers.atom", "papers.rss", "papers.json", "daily.atom", "daily.rss", "daily.json")


def config(tmp_path, **feeds):
    return make_config(tmp_path, newsletter={"site_url": "https://hot.example.org"},
                       feeds={"author_email": "editor@example.org", "icon": "https://hot.example.org/icon.png", **feeds})


def archive_real_posts(cfg, days=REAL):
    with Archive(cfg.store_path) as a:
        for d in days:
            parsed = hotpapers.parse((FIXTURES / "hotpapers" / f"{d}---Hot-Papers.md").read_text())
            a.save_day_papers(parsed.day, parsed.papers)
            a.save_posts(parsed.posts)
            a.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
        build_day(cfg, date.fromisoformat(days[-1]), a)
    return {name: (cfg.feeds_dir / name).read_bytes() for name in FEEDS}


@pytest.fixture
def built(tmp_path):
    cfg = config(tmp_path)
    return cfg, archive_real_posts(cfg)


def test_atom_is_valid_rfc4287(built):
    _, files = built
    schema = etree.RelaxNG(etree.parse(str(FIXTURES / "schemas" / "atom.rng")))
    for name in ("papers.atom", "daily.atom"):
        doc = etree.fromstring(files[name])
        schema.assertValid(doc)
        # the Schematron rules RELAX NG cannot express
        feed_has_author = bool(doc.xpath("a:author", namespaces=ATOM_NS))
        for entry in doc.xpath("a:entry", namespaces=ATOM_NS):
            assert feed_has_author or entry.xpath("a:author", namespaces=ATOM_NS)
            assert entry.xpath("a:link[@rel='alternate' or not(@rel)] | a:content", namespaces=ATOM_NS)
            alternates = entry.xpath("a:link[@rel='alternate' or not(@rel)]", namespaces=ATOM_NS)
            assert len({(l.get("type"), l.get("hreflang")) for l in alternates}) == len(alternates)
            assert entry.xpath("a:content/@type", namespaces=ATOM_NS) == ["html"]
        assert doc.xpath("a:link[@rel='self']/@href", namespaces=ATOM_NS) == [f"https://hot.example.org/feeds/{name}"]
        assert doc.xpath("a:icon/text()", namespaces=ATOM_NS) == ["https://hot.example.org/icon.png"]
        assert doc.xpath("a:generator/text()", namespaces=ATOM_NS) == ["newsletter"]


def test_atom_entries_newest_issue_first_in_rank_order(built):
    _, files = built
    doc = etree.fromstring(files["papers.atom"])
    ids = doc.xpath("a:entry/a:id/text()", namespaces=ATOM_NS)
    days = [i.split(",")[1].split(":")[0] for i in ids]
    assert days == sorted(days, reverse=True) and days[0] == "2021-08-26"
    first_day = [i.rsplit(":", 1)[1] for i, d in zip(ids, days) if d == "2021-08-26"]
    assert first_day == ["2108.11353", "2108.11250", "2108.11346"]  # the post's rank order
    assert len(ids) == len(set(ids)) == 10 + 13 + 3
    updated = doc.xpath("a:updated/text()", namespaces=ATOM_NS)[0]
    assert updated == "2021-08-27T08:12:59+00:00"  # the newest issue's time, not the clock
    entry = doc.xpath("a:entry", namespaces=ATOM_NS)[0]
    assert entry.xpath("a:link[@rel='alternate']/@href", namespaces=ATOM_NS) == [
        "https://hot.example.org/paper/2108.11353/"]  # the paper's own page
    assert entry.xpath("a:link[@rel='related']/@href", namespaces=ATOM_NS) == [
        "https://arxiv.org/abs/2108.11353", "https://arxiv.org/pdf/2108.11353"]


RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")


def test_rss_has_what_the_rss_profile_requires(built):
    _, files = built
    for name in ("papers.rss", "daily.rss"):
        doc = etree.fromstring(files[name])
        ch = doc.find("channel")
        assert doc.get("version") == "2.0"
        for tag in ("title", "link", "description", "lastBuildDate", "pubDate", "generator", "language", "docs"):
            assert (ch.findtext(tag) or "").strip(), tag
        self_link = ch.find("{http://www.w3.org/2005/Atom}link")
        assert self_link.get("rel") == "self" and self_link.get("href").endswith(name)
        assert ch.findtext("link") == "https://hot.example.org/"
        for d in [ch.findtext("lastBuildDate"), ch.findtext("pubDate")] + [i.findtext("pubDate") for i in ch.iter("item")]:
            assert RFC822.match(d), d
            assert email.utils.parsedate_to_datetime(d).tzinfo is not None
        for item in ch.iter("item"):
            assert item.findtext("title") and item.findtext("link") and item.findtext("description")
            guid = item.find("guid")
            assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:hot.example.org,")
            assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
        if name == "papers.rss":
            enc = ch.find("item/enclosure")
            assert enc.get("type") == "application/pdf" and enc.get("url").startswith("https://arxiv.org/pdf/")
            assert enc.get("length") == "0"


def test_json_feed_1_1(built):
    _, files = built
    for name in ("papers.json", "daily.json"):
        feed = json.loads(files[name])
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"] and feed["feed_url"] == f"https://hot.example.org/feeds/{name}"
        assert feed["home_page_url"] == "https://hot.example.org/"
        for item in feed["items"]:
            assert isinstance(item["id"], str) and item["id"]
            assert item.get("content_html") or item.get("content_text")
            datetime.fromisoformat(item["date_published"])
    item = json.loads(files["papers.json"])["items"][0]
    assert item["attachments"] == [{"url": "https://arxiv.org/pdf/2108.11353", "mime_type": "application/pdf",
                                    "title": "PDF"}]


def test_feedparser_reads_all_three_formats_alike(built):
    _, files = built
    for family in ("papers", "daily"):
        parsed = {kind: feedparser.parse(files[f"{family}.{kind}"]) for kind in ("atom", "rss")}
        jf = json.loads(files[f"{family}.json"])
        for kind, p in parsed.items():
            assert p.bozo == 0, (family, kind, p.get("bozo_exception"))
        atom_ids = [e.id for e in parsed["atom"].entries]
        assert atom_ids == [e.id for e in parsed["rss"].entries] == [i["id"] for i in jf["items"]]
        atom_links = [e.link for e in parsed["atom"].entries]
        assert atom_links == [e.link for e in parsed["rss"].entries] == [i["url"] for i in jf["items"]]
        titles = [e.title for e in parsed["atom"].entries]
        assert titles == [e.title for e in parsed["rss"].entries] == [i["title"] for i in jf["items"]]


def test_content_is_static_html_with_quotes_and_figures(built):
    _, files = built
    feed = feedparser.parse(files["papers.atom"])
    entry = feed.entries[0]
    html = entry.content[0].value
    doc = lxml.html.fromstring(f"<div>{html}</div>")
    assert not doc.xpath("//script | //iframe | //img | //link | //*[@onclick]")
    assert "X: " in html and "retweets" in html and "likes" in html
    assert doc.xpath("//a[@href='https://arxiv.org/abs/2108.11353']")
    assert doc.xpath("//blockquote")  # displayed posts as static quotes
    daily = feedparser.parse(files["daily.atom"]).entries[0]
    assert daily.link == "https://hot.example.org/hot-papers-2021-08-26/"
    assert daily.content[0].value.count("<blockquote>") >= 1


HOSTILE_TITLE = 'Attention <script>alert("x")</script> & </td> ]]> $\\alpha<\\beta$ \x07\x1b[31m bell'
HOSTILE_ABSTRACT = 'We show <img src=x onerror=alert(1)> that a&b <b>bold</b>\x00 and \u200b]]>'


def test_hostile_text_gives_valid_feeds_and_no_markup(tmp_path):
    cfg = config(tmp_path)
    day = date(2026, 7, 31)
    with Archive(cfg.store_path) as a:
        a.save_day_papers(day, [paper("2607.00001", title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT,
                                      authors=("Eve <eve@evil>", "Mallory\x0c"))])
        a.save_posts([xpost(1, "2607.00001", likes=80, text="<script>steal()</script> \x01 read this",
                            author_name="<b>Bob</b>")])
        a.save_issue(day, datetime(2026, 8, 1, 9, tzinfo=timezone.utc), 1)
        build_day(cfg, day, a)
    schema = etree.RelaxNG(etree.parse(str(FIXTURES / "schemas" / "atom.rng")))
    schema.assertValid(etree.parse(str(cfg.feeds_dir / "papers.atom")))
    for name in FEEDS:
        raw = (cfg.feeds_dir / name).read_bytes()
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw), name
        if name.endswith(".json"):
            items = json.loads(raw)["items"]
            html = items[0]["content_html"]
        else:
            p = feedparser.parse(raw)
            assert p.bozo == 0, name
            html = p.entries[0].content[0].value
            if name.startswith("papers"):
                # the TeX reads as Unicode in feeds; the rest stays text
                assert p.entries[0].title == 'Attention <script>alert("x")</script> & </td> ]]> α<β [31m bell'
        doc = lxml.html.fromstring(f"<div>{html}</div>")
        assert not doc.xpath("//script | //img | //b | //*[@onerror]"), name
        assert "<script>steal()</script>" in doc.text_content()
    post = next(cfg.posts_dir.iterdir()).read_text()
    assert "&lt;script>alert" in post and "<img" not in post and "\x07" not in post


def test_rebuilding_gives_the_same_bytes(tmp_path):
    cfg = config(tmp_path)
    first = archive_real_posts(cfg)
    with Archive(cfg.store_path) as a:
        build_day(cfg, date(2021, 8, 26), a)
    assert {n: (cfg.feeds_dir / n).read_bytes() for n in FEEDS} == first


def _issue(a, day, n):
    a.save_day_papers(day, [paper(f"2607.{n:05d}", title=f"Paper of {day}")])
    a.save_posts([xpost(n, f"2607.{n:05d}", likes=100, created=datetime.combine(day, datetime.min.time(), timezone.utc))])
    a.save_issue(day, datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9), 1)


def test_window_rolls_over_keeping_ids(tmp_path):
    cfg = config(tmp_path, issues=14)
    days = []
    d = date(2026, 6, 1)
    while len(days) < 15:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    with Archive(cfg.store_path) as a:
        for n, day in enumerate(days[:14], start=1):
            _issue(a, day, n)
        build_day(cfg, days[13], a)
        before = feedparser.parse((cfg.feeds_dir / "papers.atom").read_bytes())
        _issue(a, days[14], 15)
        build_day(cfg, days[14], a)
        after = feedparser.parse((cfg.feeds_dir / "papers.atom").read_bytes())
    ids_before = [e.id for e in before.entries]
    ids_after = [e.id for e in after.entries]
    assert len(ids_before) == len(ids_after) == 14
    assert ids_after[1:] == ids_before[:-1]  # day 1 dropped, every other id kept
    assert ids_after[0] == f"tag:hot.example.org,{days[14].isoformat()}:2607.00015"
    assert all(days[0].isoformat() not in i for i in ids_after)


def test_failed_build_leaves_previous_feeds(tmp_path, monkeypatch):
    cfg = config(tmp_path)
    first = archive_real_posts(cfg)
    import newsletter.render.feeds as feeds

    def broken(*a, **k):
        raise RuntimeError("template blew up")

    monkeypatch.setattr(feeds, "render_feeds", broken)
    with Archive(cfg.store_path) as a, pytest.raises(RuntimeError):
        build_day(cfg, date(2021, 8, 26), a)
    assert {n: (cfg.feeds_dir / n).read_bytes() for n in FEEDS} == first


@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed (CI installs it)")
def test_newsboat_reads_every_entry(built, tmp_path):
    cfg, files = built
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(cfg.feeds_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        want = [e.id for e in feedparser.parse(files["papers.atom"]).entries]
        for feed in ("papers.atom", "papers.rss"):  # one cache each: newsboat merges items by guid
            home = tmp_path / feed
            home.mkdir()
            (home / "urls").write_text(f"http://127.0.0.1:{port}/{feed}\n")
            (home / "config").write_text("")
            cache = home / "cache.db"
            proc = subprocess.run(["newsboat", "-C", str(home / "config"), "-u", str(home / "urls"), "-c", str(cache),
                                   "-x", "reload", "print-unread"], capture_output=True, text=True, timeout=60,
                                  env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"})
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == f"{len(want)} unread articles", feed
            db = sqlite3.connect(cache)
            rows = db.execute("SELECT guid, title, url FROM rss_item").fetchall()
            db.close()
            assert sorted(r[0] for r in rows) == sorted(want), feed
            # each entry links to the paper's own page
            assert all(re.fullmatch(r"https://hot\.example\.org/paper/\d{4}\.\d{4,5}/", r[2]) and r[1]
                       for r in rows), (feed, rows[:2])
    finally:
        server.shutdown()


def test_each_paper_entry_carries_its_card_and_links_its_page(built):
    cfg, files = built
    parsed = feedparser.parse(files["papers.atom"])
    first = parsed.entries[0]
    content = lxml.html.fromstring(first.content[0].value)
    paper_id = first.link.rstrip("/").rsplit("/", 1)[1]
    assert [li.text_content() for li in content.xpath("//ul/li")][0].startswith("X: ")  # the attention figures
    (page,) = content.xpath("//a[text()='attention over time and every post']/@href")
    assert page == f"https://hot.example.org/paper/{paper_id}/" == first.link
    assert (cfg.site_dir / "paper" / paper_id / "index.html").is_file()  # and that page exists
