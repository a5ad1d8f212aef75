"""Hardening, part 2: nothing injected, one bad record never sinks a run,
config and paths checked before anything is written, races and slow peers."""

from __future__ import annotations

import email.policy
import json
import math
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timezone
from email import message_from_string

import feedparser
import pytest
import responses
from lxml import etree
from typer.testing import CliRunner

from conftest import FIXTURES, make_config, only_sources
from factories import paper, xpost
from newsletter.cli import app
from newsletter.errors import ConfigError, NewsletterError
from newsletter.models import Issue
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.build import build_day
from newsletter.fetch import fetch_day
from newsletter.rank import rank
from newsletter.render.markdown import render_post
from newsletter.sources.x_embed import safe_tweet_embed
from newsletter.sources import bluesky, hackernews, huggingface, x
from newsletter.delivery.ledger import MIGRATIONS as LEDGER_MIGRATIONS, SubscriberStore
from newsletter.store import MIGRATIONS, Archive
from weblinks import token_for
from xpages import page, tweet

D = date(2026, 7, 31)
NOW = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)
REAL_EMBED = json.loads((FIXTURES / "x_oembed" / "oembed-amp-wp-wordpress-987437752164737025.json").read_text())["html"]
BQ = '<blockquote class="twitter-tweet">'


# ------------------------------------------------------------ published HTML
@pytest.mark.parametrize("attack", [
    BQ + "<svg/onload=alert(1)></blockquote>",
    BQ + "<img src=x/onerror=alert(1)></blockquote>",
    BQ + '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe></blockquote>',
    BQ + '<a href="jav&#x61;script:alert(1)">x</a></blockquote>',
    BQ + '<a href="&#106;&#97;vascript:alert(1)">x</a></blockquote>',
    BQ + '<a href=" javascript:alert(1)">x</a></blockquote>',
    BQ + '<a href="data:text/html,<script>alert(1)</script>">x</a></blockquote>',
    BQ + '<meta http-equiv="refresh" content="0;url=https://evil.test"></blockquote>',
    BQ + '<form action="https://evil.test"><button>win</button></form></blockquote>',
    BQ + '<base href="https://evil.test/"></blockquote>',
    BQ + '<p onmouseover="steal()">hover</p></blockquote>',
    BQ + '<p style="background:url(https://tracker.test/p.gif)">x</p></blockquote>',
    BQ + "<!-- --><script>alert(1)</script></blockquote>",
    BQ + "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math></blockquote>",
    BQ + "<p>hi</p></blockquote><script src=\"https://evil.test/x.js\"></script>",
    '<blockquote class="twitter-tweet" onclick="x()"><p>hi</p></blockquote>',
    '<div>' + BQ + "<p>hi</p></blockquote></div>",
    BQ + '<p lang=`en` dir="ltr">hi</p></blockquote>',                       # a backtick as a quote
    BQ + '<p lang="en">hi</p><a href=`https://evil.test`>x</a></blockquote>',
])
def test_unsafe_oembed_html_falls_back_to_the_static_quote(attack):
    assert safe_tweet_embed(attack) is None
    post = xpost(1, "2607.00001", likes=90, embed_html=attack, text="plain words")
    issue = Issue(D, "Hot Papers", NOW, tuple(rank([paper("2607.00001")], [post])))
    md = render_post(issue)
    assert "plain words" in md and "evil.test" not in md and "onerror" not in md and "javascript:" not in md


def test_real_oembed_html_is_kept_byte_for_byte():
    assert safe_tweet_embed(REAL_EMBED) == REAL_EMBED


def test_a_real_embed_quoting_with_a_backtick_is_kept():
    """The real Hot Papers posts embed tweets that quote titles with a
    backtick (`A Unifying...'): text, not markup, so the embed stays."""
    embed = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">New paper: `A Unifying View of Optimism '
             "in Episodic Reinforcement Learning&#39; <a href=\"https://t.co/AbCdEf\">https://t.co/AbCdEf</a></p>"
             '&mdash; A Researcher (@researcher) <a href="https://twitter.com/researcher/status/1271234567890">'
             "June 12, 2020</a></blockquote>\n"
             '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n')
    assert safe_tweet_embed(embed) == embed


@pytest.mark.parametrize("field, value", [
    ("title", "[click](javascript:alert(1))"), ("title", "![](https://tracker.test/pixel.png)"),
    ("abstract", "[a]: javascript:alert(1)\n\nthen [a]"), ("abstract", "<https://tracker.test/x>"),
    ("abstract", "# Heading injected"), ("abstract", "```\nfence"), ("authors", ("[Eve](https://evil.test)",)),
    ("categories", ("cs.LG", "x](javascript:alert(1)) [y")), ("abstract", "<img src=https://tracker.test/a>"),
])
def test_markdown_in_outside_text_stays_text(field, value):
    p = paper("2607.00001", **{field: value})
    issue = Issue(D, "Hot Papers", NOW, tuple(rank([p], [xpost(1, "2607.00001", likes=90)])))
    md = render_post(issue)
    body = md.split("\n---\n", 1)[1]
    body = body.split("<blockquote", 1)[0]  # the paper's part, before the (static) quote
    urls, html, headings = commonmark(body)
    assert not any("javascript:" in u or "evil.test" in u or "tracker.test" in u for u in urls), urls
    assert not html and headings == 1


def commonmark(text):
    """What a CommonMark renderer (as a Markdown site uses) makes of a post:
    link and image URLs, raw HTML, headings."""
    from markdown_it import MarkdownIt
    urls, html, headings = [], [], 0
    tokens = MarkdownIt("commonmark").parse(text)
    for t in tokens:
        headings += t.type == "heading_open"
        if t.type == "html_block":
            html.append(t.content)
        for c in t.children or []:
            if c.type in ("link_open", "image"):
                urls.append(str(c.attrGet("href") or c.attrGet("src")))
            if c.type == "html_inline":
                html.append(c.content)
    return urls, html, headings


def test_rss_description_is_html_escaped_text(tmp_path):
    cfg = make_config(tmp_path, newsletter={"site_url": "https://hot.example.org"})
    with Archive(cfg.store_path) as a:
        a.save_day_papers(D, [paper("2607.00001", title="Why <script>alert(1)</script> fails",
                                    abstract="We prove $a<b$ and a<b>c for all b.")])
        a.save_posts([xpost(1, "2607.00001", likes=80)])
        a.save_issue(D, NOW, 1)
        build_day(cfg, D, a)
    papers = feedparser.parse((cfg.feeds_dir / "papers.rss").read_bytes())
    assert "a&lt;b and a&lt;b&gt;c for all b." in papers.entries[0].summary  # $a<b$: maths as text
    daily = feedparser.parse((cfg.feeds_dir / "daily.rss").read_bytes())
    assert "Why &lt;script&gt;alert(1)&lt;/script&gt; fails" in daily.entries[0].summary
    root = etree.parse(str(cfg.feeds_dir / "papers.rss"))
    assert root.findtext("channel/item/description") == "We prove a&lt;b and a&lt;b&gt;c for all b."


CONTROLS = "\x1b[31m\x9b2J\u202eevil\u202c\u2066x\u2069\x00\x85"


def test_control_and_bidi_characters_never_reach_a_page_header_or_terminal(tmp_path):
    cfg = make_config(tmp_path, newsletter={"site_url": "https://hot.example.org"})
    with Archive(cfg.store_path) as a:
        a.save_day_papers(D, [paper("2607.00001", title=f"Title {CONTROLS}", abstract=f"Abstract {CONTROLS}",
                                    authors=(f"Eve {CONTROLS}",))])
        a.save_posts([xpost(1, "2607.00001", likes=80, text=f"post {CONTROLS}", author_name=f"Bob {CONTROLS}")])
        a.save_issue(D, NOW, 1, [f"X failed and was skipped: {CONTROLS}"])
        built = build_day(cfg, D, a)
    bad = set("\x1b\x9b\u202e\u202c\u2066\u2069\x00\x85")
    for path in built.files:
        if path.suffix in (".png", ".ico"):  # the drawn icons: images, no text
            continue
        text = path.read_text(encoding="utf-8")
        assert not bad & set(text), path.name
    post = next(p for p in built.files if p.suffix == ".md").read_text()
    front = post.split("\n---\n", 1)[0]
    assert '  - "X failed and was skipped: [31m2Jevilx"' in front


@responses.activate
def test_an_error_body_with_escape_sequences_is_one_clean_warning_line(tmp_path):
    import arxiv_atom
    api = "https://export.test/api/query"
    responses.get(api, body=arxiv_atom.feed([(paper("2607.00001"), datetime(2026, 7, 30, 12, tzinfo=timezone.utc))]))
    responses.get("https://hn.test/api/v1/search_by_date", status=400, body="\x1b[2J\x1b]0;pwned\x07bad\r\nrequest\x9b")
    cfg = make_config(tmp_path, arxiv={"api_url": api}, sources={**only_sources("hackernews"), "hackernews": {
        "api_url": "https://hn.test/api/v1", "queries": ["arxiv.org"]}})
    reporter = NullReporter()
    with Archive(cfg.store_path) as a:
        fetch_day(cfg, D, a, Seams(now=lambda: NOW, env={}, sleep=lambda s: None), reporter)
    (warning,) = reporter.warnings
    assert warning.startswith("Hacker News failed and was skipped: Hacker News search answered HTTP 400:")
    assert not set("\x1b\x07\r\n\x9b") & set(warning)


def test_the_subject_is_capped_at_a_word_with_an_ellipsis():
    from newsletter.delivery.message import SUBJECT_MAX, subject_header
    long = "Hot Papers 2026-07-31: " + " ".join(["Transformers"] * 40)
    s = subject_header(long)
    assert len(s) <= SUBJECT_MAX and s.endswith("Transformers…")
    assert subject_header("short\r\nBcc: x@evil.test") == "short Bcc: x@evil.test"
    assert len(subject_header("x" * 400)) == SUBJECT_MAX


# ------------------------------------------------------- one bad record
def _bad_tweets():
    good = tweet(1, "good", ["https://arxiv.org/abs/2607.00001"], likes=5)
    bads = []
    for metrics in ([1, 2], {"like_count": "12"}, {"like_count": math.nan}, {"like_count": math.inf},
                    {"like_count": 10**400}, {"retweet_count": -3}, {"like_count": 2.5}):
        t = tweet(len(bads) + 2, "u", ["https://arxiv.org/abs/2607.00001"])
        t["public_metrics"] = metrics
        bads.append(t)
    return good, bads


def test_malformed_x_posts_are_skipped_and_counted():
    good, bads = _bad_tweets()
    body = page([good, *bads])
    body["includes"]["users"].append({"id": "u-sur", "username": "a\ud800b", "name": "x"})
    sur = tweet(99, "sur", ["https://arxiv.org/abs/2607.00001"])
    sur["author_id"] = "u-sur"
    body["data"].append(sur)
    raw = json.dumps(body, allow_nan=True).replace('"a\\ud800b"', '"a\\ud800b"')
    parsed = x.parse_search(json.loads(raw), NOW)
    assert [p.post_id for p in parsed.posts] == ["1", "99"]
    assert parsed.posts[1].author_handle == "ab"  # the lone surrogate is dropped
    assert parsed.bad == {"bad public_metrics": 7}


def test_malformed_items_of_the_free_sources_are_skipped_and_counted():
    hn = {"hits": [{"objectID": "1", "url": "https://arxiv.org/abs/2607.00001", "points": "12"},
                   {"objectID": "2", "url": "https://arxiv.org/abs/2607.00001", "points": 10**12},
                   {"objectID": "3", "url": "https://arxiv.org/abs/2607.00001", "points": 7, "num_comments": 1}],
          "nbPages": 1}
    got = hackernews.parse_search(hn, NOW)
    assert [p.post_id for p in got.posts] == ["3"] and got.bad == {"bad points": 2}
    hf = [{"paper": {"id": "2607.00001", "upvotes": "5"}}, {"paper": {"id": "2607.00002", "upvotes": -3}},
          {"paper": {"id": "2607.00003", "upvotes": 9}, "numComments": math.inf},
          {"paper": {"id": "2607.00004", "upvotes": 9}}]
    got = huggingface.parse_daily_papers(hf, NOW)
    assert [p.post_id for p in got.posts] == ["2607.00004"] and got.bad == {"bad upvotes": 2, "bad numComments": 1}
    facet = {"features": [{"uri": "https://arxiv.org/abs/2607.00001"}]}
    bsky = {"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/a", "author": "just a string",
                       "record": {"facets": [facet]}, "likeCount": 3},
                      {"uri": "at://did:plc:x/app.bsky.feed.post/b", "author": {"handle": "ok.bsky.social"},
                       "record": {"facets": [facet]}, "likeCount": 3}]}
    got = bluesky.parse_search(bsky, NOW)
    assert [p.post_id for p in got.posts] == ["at://did:plc:x/app.bsky.feed.post/b"] and got.bad == {"bad author": 1}


@responses.activate
def test_a_bad_post_is_a_counted_warning_and_the_run_goes_on(tmp_path):
    import arxiv_atom
    api = "https://export.test/api/query"
    responses.get(api, body=arxiv_atom.feed([(paper("2607.00001"), datetime(2026, 7, 30, 12, tzinfo=timezone.utc))]))
    good, bads = _bad_tweets()
    good["public_metrics"]["like_count"] = 80
    responses.get("https://x.test/2/tweets/search/recent", json=json.loads(json.dumps(page([good, *bads[:3]]))))
    cfg = make_config(tmp_path, arxiv={"api_url": api},
                      sources={**only_sources("x"), "x": {"api_url": "https://x.test/2", "oembed_url": "https://o.test"}})
    responses.get("https://o.test", status=404)
    reporter = NullReporter()
    with Archive(cfg.store_path) as a:
        s = fetch_day(cfg, D, a, Seams(now=lambda: NOW, env={"X_BEARER_TOKEN": "t"}, sleep=lambda s: None), reporter)
        assert s.posts == {"x": 1} and s.ranked == 1
    assert "X: 3 posts skipped: bad public_metrics" in reporter.warnings


@responses.activate
def test_rss_with_a_garbage_pubdate_falls_back_to_the_api(tmp_path):
    import arxiv_atom
    rss = (FIXTURES / "arxiv_rss" / "new-rss-cs.LG+cs.AI+cs.CL+stat.ML-2026-09-24-4items-new-cross-replace.xml").read_bytes()
    import re
    rss = re.sub(rb"<pubDate>[^<]*</pubDate>", b"<pubDate>Thu, 99 Foo 2026 99:99</pubDate>", rss, count=1)
    day = date(2026, 9, 24)
    now = datetime(2026, 9, 24, 12, tzinfo=timezone.utc)
    responses.get("https://rss.test/rss/cs", body=rss)
    responses.get("https://export.test/api/query",
                  body=arxiv_atom.feed([(paper("2609.00001"), datetime(2026, 9, 22, 19, tzinfo=timezone.utc))]))
    cfg = make_config(tmp_path, newsletter={"categories": ["cs"]}, sources=only_sources(),
                      arxiv={"api_url": "https://export.test/api/query", "rss_url": "https://rss.test/rss"})
    reporter = NullReporter()
    with Archive(cfg.store_path) as a:
        s = fetch_day(cfg, day, a, Seams(now=lambda: now, env={}, sleep=lambda s: None), reporter)
    assert s.arxiv_via == "API" and s.papers == 1
    assert reporter.warnings[0].startswith("arXiv RSS failed (the arXiv RSS feed has a pubDate that is not a date")


def test_imported_signals_are_validated_and_an_old_absurd_row_cannot_break_builds(tmp_path, monkeypatch):
    from newsletter.sources import imported
    rows = ("arxiv,source,score,url\n2607.00001,lab,1" + "0" * 400 + ",\n2607.00001,lab,-5,\n2607.00001,lab,nan,\n"
            "2607.00001,lab,12,javascript:alert(1)\n2607.00001,lab,60,https://lab.example/1\n")
    posts, errors = imported.parse(rows, "s.csv", NOW)
    assert [p.metrics["score"] for p in posts] == [60] and len(errors) == 4
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:  # an archive written before these checks
        a.save_day_papers(D, [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=80)])
        a.save_issue(D, NOW, 1)
        a.db.execute("INSERT INTO posts VALUES ('lab','z','','','','',NULL,?,?,NULL,'[]')",
                     (json.dumps({"score": 10**401}), NOW.isoformat()))
        a.db.execute("INSERT INTO post_papers VALUES ('lab','z','2607.00001')")
        assert build_day(cfg, D, a).ranked == 1
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["signals", "remove", "lab", "--paper", "https://arxiv.org/abs/2607.00001v2"])
    assert r.exit_code == 0 and "Removed 1 lab signal" in r.output
    with Archive(cfg.store_path) as a:
        assert [p.source for p in a.day_posts(D)] == ["x"]


# ---------------------------------------------------- config and paths
@pytest.mark.parametrize("data, message", [
    ({"ranking": {"min_paper_score": -1}}, "'ranking.min_paper_score' in <config> must be at least 0"),
    ({"ranking": {"min_post_score": math.nan}}, "'ranking.min_post_score' in <config> must be a finite number"),
    ({"ranking": {"max_posts_per_paper": 0}}, "'ranking.max_posts_per_paper' in <config> must be at least 1"),
    ({"sources": {"window_hours": -48}}, "'sources.window_hours' in <config> must be more than 0"),
    ({"http": {"timeout": 0}}, "'http.timeout' in <config> must be more than 0"),
    ({"arxiv": {"page_size": 5000}}, "'arxiv.page_size' in <config> must be at most 2000"),
    ({"ranking": {"weights": {"x": math.inf}}}, "'ranking.weights.x'"),
    ({"http": {"user_agent": "ua\r\nX-Injected: 1"}}, "'http.user_agent' in <config> contains a line break"),
    ({"newsletter": {"site_url": "https://a.example\n.org"}}, "'newsletter.site_url' in <config> contains a line break"),
    ({"email": {"from": "Hot <a@b.org>\nBcc: c@d.org"}}, "'email.from' in <config> contains a line break"),
    ({"newsletter": {"title": "Hot\x1b[2J"}}, "'newsletter.title' in <config> contains a control character"),
    ({"sources": {"reddit": {"max_requests": 1}}}, "'sources.reddit.max_requests' in <config> must be at least 2"),
    ({"smtp": {"port": 70000}}, "'smtp.port' in <config> must be at most 65535"),
])
def test_every_number_and_header_string_is_checked(data, message):
    with pytest.raises(ConfigError) as e:
        make_config(__import__("pathlib").Path("."), **data)
    assert message in str(e.value)


def _day_with_one_hot_paper(cfg):
    with Archive(cfg.store_path) as a:
        a.save_day_papers(D, [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=80)])
        a.save_issue(D, NOW, 1)


@pytest.mark.parametrize("broken, content, message", [
    ("post.md.j2", "---\n{% for x in %}", "post.md.j2, line 2: "),
    ("feed_paper.html.j2", "<p>\n\n{{ rp.paper.title }\n", "feed_paper.html.j2, line 3:"),
])
def test_a_broken_template_names_the_file_and_line_and_writes_nothing(tmp_path, broken, content, message):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / broken).write_text(content)
    cfg = make_config(tmp_path, output={"templates_dir": "tpl"})
    _day_with_one_hot_paper(cfg)
    from newsletter.render.templates import environment
    environment.cache_clear()
    with Archive(cfg.store_path) as a, pytest.raises(ConfigError) as e:
        build_day(cfg, D, a)
    assert message in str(e.value) and "nothing was written" in str(e.value)
    assert not cfg.posts_dir.exists() and not cfg.feeds_dir.exists()


def test_a_missing_email_template_is_a_clear_error(tmp_path):
    cfg = make_config(tmp_path, email={"template": "nowhere/my.mjml.j2"})
    _day_with_one_hot_paper(cfg)
    with Archive(cfg.store_path) as a, pytest.raises(ConfigError, match="template my.mjml.j2 was not found"):
        build_day(cfg, D, a)


@pytest.mark.parametrize("which", ["feeds_dir", "email_dir", "posts_dir"])
def test_an_output_path_that_is_a_file_fails_before_anything_is_written(tmp_path, which):
    (tmp_path / "blocker").write_text("a file")
    cfg = make_config(tmp_path, output={which: "blocker/sub"})
    _day_with_one_hot_paper(cfg)
    with Archive(cfg.store_path) as a, pytest.raises(ConfigError) as e:
        build_day(cfg, D, a)
    assert f"[output] {which}" in str(e.value) and "is a file" in str(e.value)
    assert not any(p.suffix in (".md", ".atom", ".html") for p in tmp_path.rglob("*"))


def test_a_store_path_under_a_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file")
    (tmp_path / "newsletter.toml").write_text('[store]\npath = "blocker/newsletter.db"\n')
    r = CliRunner().invoke(app, ["status", "--date", "2026-07-31"])
    assert r.exit_code == 1 and "[store] path" in r.output and "is a file" in r.output and "unexpected" not in r.output


# ------------------------------------------------------- crashes and races
def _open_archive(path: str) -> dict[str, int]:
    with Archive(path) as a:
        SubscriberStore(a)
        return dict(a.db.execute("SELECT component, version FROM schema_versions").fetchall())


def test_first_ever_commands_at_once_migrate_once(tmp_path):
    path = str(tmp_path / "fresh.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        versions = pool.map(_open_archive, [path] * 4)
    assert versions == [{"archive": len(MIGRATIONS), "subscribers": len(LEDGER_MIGRATIONS)}] * 4
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"papers", "posts", "subscribers", "deliveries"} <= tables


def test_stale_temporary_files_of_a_killed_build_are_cleaned(tmp_path):
    cfg = make_config(tmp_path)
    _day_with_one_hot_paper(cfg)
    cfg.feeds_dir.mkdir(parents=True)
    stale = cfg.feeds_dir / ".papers.atom.abc123.tmp"
    stale.write_text("half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = cfg.feeds_dir / ".daily.rss.zzz.tmp"  # a build in progress: it holds the build lock
    fresh.write_text("half")
    from newsletter.files import exclusive
    lock = cfg.store_path.with_name(cfg.store_path.name + ".build-lock")
    done = threading.Event()

    def build() -> None:
        with Archive(cfg.store_path) as a:
            build_day(cfg, D, a)
        done.set()

    with exclusive(lock):  # the other build, still writing
        worker = threading.Thread(target=build)
        worker.start()
        assert not done.wait(0.5)  # this one waits its turn, touching nothing
        assert fresh.exists() and stale.exists()
    worker.join(30)
    assert done.is_set() and not stale.exists() and not fresh.exists()


def test_an_http_request_has_a_total_deadline(tmp_path):
    from newsletter.errors import SourceError
    from newsletter.http import HttpClient
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def trickle():
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.1)
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    client = HttpClient(user_agent="t", timeout=1.0, retries=0, service="slow")
    # the body would finish in 100 s and succeed: only the total deadline makes this fail
    with pytest.raises(SourceError, match="slow did not answer: Timeout"):
        client.get(f"http://127.0.0.1:{srv.getsockname()[1]}/")
    stop.set()
    srv.close()


# --------------------------------------------------------------- web app
SECRET = "s3cret-s3cret-s3cret-0123456789"


def test_the_deployable_app_refuses_to_start_without_the_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_SECRET"}
    env["NEWSLETTER_CONFIG"] = str(tmp_path / "n.toml")
    (tmp_path / "n.toml").write_text("[newsletter]\n")
    r = subprocess.run([sys.executable, "-c", "import newsletter.web"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "$NEWSLETTER_SECRET is not set" in r.stderr
    env["NEWSLETTER_SECRET"] = SECRET
    r = subprocess.run([sys.executable, "-c", "import newsletter.web as w; print(callable(w.app))"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "True"


@pytest.fixture
def served(tmp_path):
    from newsletter.delivery.web import make_server
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        SubscriberStore(a).add("a@example.org", "", datetime.now(timezone.utc))
    server = make_server(cfg, "127.0.0.1", 0, env={"NEWSLETTER_SECRET": SECRET}, outbox=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield cfg, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


def test_head_has_no_body_and_big_bodies_are_refused(served):
    cfg, base = served
    url = f"{base}/unsubscribe?t={token_for(cfg.store_path, 'a@example.org', SECRET)}"
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as r:
        assert r.status == 200 and r.read() == b"" and int(r.headers["Content-Length"]) > 0
    req = urllib.request.Request(url, data=b"x" * 20_000)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 413


def test_idle_and_trickling_clients_do_not_block_one_click_unsubscribes(served):
    cfg, base = served
    host, port = base.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)))  # connects, says nothing
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc")  # 3 of 5000
    req = urllib.request.Request(f"{base}/unsubscribe?t={token_for(cfg.store_path, 'a@example.org', SECRET)}",
                                 data=b"List-Unsubscribe=One-Click")
    # a server held by those two would answer only after channel_timeout (10 s): past the client's 5
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
    idle.close()
    slow.close()


# ---------------------------------------------------------------- messages
def test_invalid_lines_end_with_the_summary_and_exit_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.csv").write_text("email\nok@example.org\nbad\x00@example.org\nnot-an-address\n")
    r = CliRunner().invoke(app, ["subscribers", "import", "list.csv"])
    assert r.exit_code == 1 and "unexpected" not in r.output
    assert "line 3: 'bad@example.org' holds a control character (U+0000)" in r.output
    assert r.output.strip().splitlines()[-1].startswith("Imported list.csv: 1 added")
    (tmp_path / "sig.csv").write_text("arxiv,source,score\nnope,lab,1\n")
    r = CliRunner().invoke(app, ["signals", "import", "sig.csv"])
    assert r.exit_code == 1 and "unexpected" not in r.output and "Imported sig.csv: 0 signals" in r.output
    r = CliRunner().invoke(app, ["subscribers", "add", "x\x1b[31m@example.org"])
    assert r.exit_code == 1 and "\x1b" not in r.output and "unexpected" not in r.output


@pytest.mark.parametrize("value, message", [
    ("0001-01-01", "before arXiv existed (August 1991)"), ("1991-08-13", "before arXiv existed"),
    ("9999-12-31", "is in the future"), ("2026-13-01", "there is no month 13"),
    ("2026-02-29", "February 2026 has 28 days"), ("2024-04-31", "April 2024 has 30 days"),
    ("2026-7-31", "YYYY-MM-DD"), ("２０２６-07-31", "YYYY-MM-DD"), ("2026-00-10", "there is no month 0"),
])
def test_impossible_dates_are_a_clear_error(tmp_path, monkeypatch, value, message):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["build", "--date", value])
    assert r.exit_code == 1 and message in r.output and "unexpected" not in r.output


def test_a_warning_is_one_line_in_a_log(tmp_path, monkeypatch):
    from newsletter.cli.app import ProgressReporter
    out = []
    monkeypatch.setattr("typer.echo", lambda m, err=False: out.append(m))
    ProgressReporter(None).warn("X failed and was skipped: " + "very long reason " * 20 + "\nsecond line")
    assert len(out) == 1 and "\n" not in out[0] and len(out[0]) > 300


def test_papers_without_a_pdf_are_named_as_the_reason(tmp_path):
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        a.save_day_papers(D, [paper("2607.00001", has_pdf=False)])
        a.save_posts([xpost(1, "2607.00001", likes=4000)])
        a.save_issue(D, NOW, 1)
        with pytest.raises(NewsletterError, match="1 paper of 2026-07-31 reached 50 points but was left out "
                                                  "for lack of a PDF"):
            build_day(cfg, D, a)


def test_a_message_to_a_non_ascii_address_is_valid_utf8_mail():
    from newsletter.delivery.addresses import Envelope
    from newsletter.delivery.message import to_header
    wire = Envelope("zoë@example.org", True)
    header = to_header('Zoë "Z" Q', wire)
    msg = message_from_string(f"To: {header}\n\n", policy=email.policy.SMTPUTF8)
    assert msg["To"].addresses[0].addr_spec == "zoë@example.org" and msg["To"].addresses[0].display_name == 'Zoë "Z" Q'
