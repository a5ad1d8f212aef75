"""Signals that need no paid API: Hacker News, Bluesky, file import; the
multi-source score; independent sources and partial failure."""

from __future__ import annotations

from pathlib import Path

import copy
import json
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

import arxiv_atom
import hotpapers
from conftest import FIXTURES, make_config, only_sources
from factories import T0, paper, xpost
from sourcectx import ctx
from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.build import build_day
from newsletter.fetch import fetch_day
from newsletter.rank import RankingRule, rank
from newsletter.render.markdown import render_post
from newsletter.sources import bluesky as bsky
from newsletter.sources import hackernews as hn
from newsletter.sources import imported
from newsletter.store import Archive

HN_REAL = json.loads((FIXTURES / "hn_algolia" / "search_by_date-tags-story-points-gte-20-30-hits-2026-08.json").read_text())
BSKY_REAL = json.loads((FIXTURES / "bluesky" / "searchPosts-q-redistricting-2025-05.json").read_text())
NOW = datetime(2026, 8, 1, 12, tzinfo=timezone.utc)
WINDOW = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 1, 0, tzinfo=timezone.utc))


def http(service="svc", ua="test-agent/1 (mailto:t@example.org)"):
    return HttpClient(user_agent=ua, retries=1, backoff=0, sleep=lambda s: None, service=service)


def hn_page(urls_points, page=0, pages=1):
    """A real search_by_date body with its hits pointed at the given URLs."""
    body = copy.deepcopy(HN_REAL)
    hits = []
    for i, (url, points) in enumerate(urls_points):
        h = copy.deepcopy(HN_REAL["hits"][i % len(HN_REAL["hits"])])
        h.update(url=url, points=points, objectID=str(900000 + page * 100 + i), num_comments=i,
                 created_at_i=1785499200 + i, created_at="2026-07-31T12:00:00Z")  # inside the test window
        hits.append(h)
    body.update(hits=hits, nbPages=pages, page=page, nbHits=len(hits))
    return body


def bsky_page(specs, cursor=None, start=0):
    """A real searchPosts body whose posts link the given URIs (by facet or by embed)."""
    posts = []
    for i, (uri, how, likes) in enumerate(specs):
        p = copy.deepcopy(BSKY_REAL["posts"][1])  # one with a facet link and an external embed
        p["uri"] = f"at://did:plc:test/app.bsky.feed.post/rkey{start + i}"
        p["likeCount"], p["repostCount"] = likes, 1
        if how == "facet":
            p["record"]["facets"][0]["features"][0]["uri"] = uri
            p["record"].pop("embed", None)
            p.pop("embed", None)
        else:
            p["record"]["facets"] = []
            p["embed"]["external"]["uri"] = uri
            p["record"]["embed"]["external"]["uri"] = uri
        posts.append(p)
    body = {"posts": posts}
    if cursor:
        body["cursor"] = cursor
    return body


def hn_cfg(api, **kw):
    return make_config(Path("."), sources={"hackernews": {"api_url": api, "queries": ["arxiv.org", "alphaxiv.org"],
                                                          **kw}}).source("hackernews")


# ------------------------------------------------------------ Hacker News
def test_hn_real_body_has_no_arxiv_links_and_reports_pages():
    posts, next_page, bad = hn.parse_search(HN_REAL, NOW)
    assert posts == [] and next_page == 1 and bad == {}
    assert hn.parse_search(HN_REAL, NOW, page=33).cursor is None  # nbPages = 34


def test_hn_attribution_of_every_link_form():
    body = hn_page([("https://arxiv.org/abs/2607.00001v2", 120), ("https://www.alphaxiv.org/abs/2607.00002", 40),
                    ("https://huggingface.co/papers/2607.00003", 7), ("https://example.org/blog", 999)])
    posts, _, _ = hn.parse_search(body, NOW)
    assert [(p.arxiv_ids, p.metrics["points"]) for p in posts] == [
        (("2607.00001",), 120), (("2607.00002",), 40), (("2607.00003",), 7)]
    assert posts[0].url == "https://news.ycombinator.com/item?id=900000"
    with pytest.raises(MalformedResponse):
        hn.parse_search({"message": "error"}, NOW)


@responses.activate
def test_hn_one_paged_query_per_host_over_the_window():
    api = "https://hn.test/api/v1"
    def reply(request):
        q = parse_qs(urlsplit(request.url).query)
        page = int(q["page"][0])
        if q["query"] == ["arxiv.org"]:
            body = hn_page([(f"https://arxiv.org/abs/2607.0000{page}", 50)], page=page, pages=2)
        else:
            body = hn_page([], page=0, pages=0)
        return 200, {}, json.dumps(body)
    responses.add_callback(responses.GET, f"{api}/search_by_date", callback=reply)
    r = hn.collect(ctx(http(), hn_cfg(api, max_requests=10), window=WINDOW, now=NOW))
    assert [p.arxiv_ids for p in r.posts] == [("2607.00000",), ("2607.00001",)]
    assert r.requests == 3 and r.capped is None
    q = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert q["restrictSearchableAttributes"] == ["url"] and q["tags"] == ["story"]
    assert q["numericFilters"] == [f"created_at_i>{int(WINDOW.start.timestamp())},created_at_i<{int(WINDOW.end.timestamp())}"]
    r = hn.collect(ctx(http(), hn_cfg(api, max_requests=1), window=WINDOW, now=NOW))
    assert r.capped == "hackernews: stopped at max_requests = 1" and len(r.posts) == 1


@responses.activate
def test_hn_errors():
    api = "https://hn.test/api/v1"
    responses.get(f"{api}/search_by_date", status=500)
    with pytest.raises(SourceError, match="HTTP 500 after 2 tries"):
        hn.collect(ctx(http("Hacker News"), hn_cfg(api, queries=["arxiv.org"]), window=WINDOW, now=NOW))
    responses.replace(responses.GET, f"{api}/search_by_date", body="<html>")
    with pytest.raises(MalformedResponse):
        hn.collect(ctx(http(), hn_cfg(api, queries=["arxiv.org"]), window=WINDOW, now=NOW))


# ---------------------------------------------------------------- Bluesky
def test_bsky_real_body_has_no_arxiv_links():
    posts, cursor, _ = bsky.parse_search(BSKY_REAL, NOW)
    assert posts == [] and cursor == "25"


def test_bsky_links_from_facets_and_embeds():
    body = bsky_page([("https://arxiv.org/abs/2607.00001", "facet", 30), ("https://arxiv.org/pdf/2607.00002v3", "embed", 5),
                      ("https://example.org", "facet", 100)])
    posts, _, _ = bsky.parse_search(body, NOW)
    assert [p.arxiv_ids for p in posts] == [("2607.00001",), ("2607.00002",)]
    p = posts[0]
    assert p.metrics == {"likes": 30, "reposts": 1, "replies": 0, "quotes": 0}
    assert p.url == "https://bsky.app/profile/cjtackett.bsky.social/post/rkey0" and p.author_name == "Chris Tackett"


@responses.activate
def test_bsky_login_then_search_paged_by_cursor():
    api = "https://bsky.test/xrpc"
    responses.post(f"{api}/com.atproto.server.createSession", json={"accessJwt": "jwt-1", "did": "did:x"})
    def reply(request):
        assert request.headers["Authorization"] == "Bearer jwt-1"
        q = parse_qs(urlsplit(request.url).query)
        if "cursor" not in q:
            return 200, {}, json.dumps(bsky_page([("https://arxiv.org/abs/2607.00001", "facet", 3)], cursor="c2"))
        return 200, {}, json.dumps(bsky_page([("https://arxiv.org/abs/2607.00002", "embed", 4)], start=1))
    responses.add_callback(responses.GET, f"{api}/app.bsky.feed.searchPosts", callback=reply)
    cfg = make_config(Path("."), sources={"bluesky": {"api_url": api, "max_requests": 10}}).source("bluesky")
    env = {"BLUESKY_HANDLE": "me.bsky.social", "BLUESKY_APP_PASSWORD": "app-pass"}
    r = bsky.collect(ctx(http(), cfg, window=WINDOW, now=NOW, env=env))
    # the login and two search pages: three requests, all counted against max_requests
    assert [p.arxiv_ids for p in r.posts] == [("2607.00001",), ("2607.00002",)] and r.requests == 3 == len(responses.calls)
    capped = bsky.collect(ctx(http(), make_config(Path("."), sources={"bluesky": {"api_url": api, "max_requests": 2}})
                              .source("bluesky"), window=WINDOW, now=NOW, env=env))
    assert capped.requests == 2 and capped.capped == "bluesky: stopped at max_requests = 2" and len(capped.posts) == 1
    assert json.loads(responses.calls[0].request.body) == {"identifier": "me.bsky.social", "password": "app-pass"}
    q = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert q["domain"] == ["arxiv.org"] and q["since"] == ["2026-07-29T18:00:00Z"] and q["until"] == ["2026-08-01T00:00:00Z"]


@responses.activate
def test_bsky_bad_login():
    api = "https://bsky.test/xrpc"
    responses.post(f"{api}/com.atproto.server.createSession", status=401, json={"error": "AuthenticationRequired"})
    with pytest.raises(AuthError, match="Bluesky refused the login"):
        bsky.login(http(), api, "me", "wrong")


# ----------------------------------------------------------------- import
def test_import_csv_and_json_with_line_numbers():
    csv_text = ("arxiv,source,score,comments,url,author\n"
                "https://arxiv.org/abs/2607.00001v2,mastodon,40,3,https://m.example/1,@ann\n"
                "nonsense,mastodon,10,,,\n"
                "2607.00002,x,10,,,\n"
                "2607.00003,lemmy,-4,,,\n"
                "2607.00003,lemmy,12,,https://l.example/2,\n")
    posts, errors = imported.parse(csv_text, "s.csv", NOW)
    assert [(p.source, p.arxiv_ids, p.metrics) for p in posts] == [
        ("mastodon", ("2607.00001",), {"score": 40, "comments": 3}), ("lemmy", ("2607.00003",), {"score": 12})]
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 4", "line 5"]
    posts, errors = imported.parse(json.dumps([{"arxiv": "2607.00004", "source": "lobsters", "score": 9},
                                               {"arxiv": "2607.00005"}]), "s.json", NOW)
    from newsletter.sources import REGISTRY
    reserved = sorted(set(REGISTRY) | {"arxiv"})  # every registered source, whatever is added later
    assert len(posts) == 1 and errors == [f"item 2: 'source' must be a short lowercase name other than {reserved}"]
    assert imported.parse("{", "bad.json", NOW)[1][0].startswith("not valid JSON")


# ---------------------------------------------------------------- scoring
def hf_post(arxiv_id, upvotes):
    return Post("huggingface", arxiv_id, f"https://huggingface.co/papers/{arxiv_id}", "", "", "", None,
                {"upvotes": upvotes, "comments": 1}, T0, (arxiv_id,))


def hn_post(i, arxiv_id, points):
    return Post("hackernews", str(i), f"https://news.ycombinator.com/item?id={i}", "pg", "", "t", None,
                {"points": points, "comments": 12}, T0, (arxiv_id,))


def test_weights_combine_sources_and_every_output_shows_each_sources_figures():
    papers = [paper("2607.00001"), paper("2607.00002"), paper("2607.00003")]
    posts = [xpost(1, "2607.00001", retweets=5, likes=20), hf_post("2607.00001", 30), hn_post(7, "2607.00002", 45),
             hf_post("2607.00003", 40)]
    rule = RankingRule(weights={"x": 1.0, "huggingface": 1.0, "hackernews": 2.0})
    ranked = rank(papers, posts, rule)
    assert [(r.paper.arxiv_id, r.score) for r in ranked] == [("2607.00002", 90), ("2607.00001", 55)]
    from newsletter.models import Issue
    issue = Issue(date(2026, 7, 31), "Hot Papers", NOW, tuple(ranked), notes=("hackernews: stopped at max_requests = 20",))
    md = render_post(issue)
    assert "- retweets: 5, favorites: 20 (07/31/2026 12:00:00)\n- huggingface: upvotes: 30, comments: 1 (07/31/2026 12:00:00)\n" in md
    assert "- hackernews: points: 45, comments: 12 (07/31/2026 12:00:00)" in md
    assert 'notes:\n  - "hackernews: stopped at max_requests = 20"\n' in md


def test_x_only_default_weights_reproduce_hot_papers_numbers(tmp_path):
    cfg = make_config(tmp_path)
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-01-08---Hot-Papers.md").read_text())
    ranked = rank(parsed.papers, parsed.posts, RankingRule.from_config(cfg.ranking))
    import re
    text = (FIXTURES / "hotpapers" / "2021-01-08---Hot-Papers.md").read_text()
    want = [int(r) + int(f) for r, f in re.findall(r"- retweets: (\d+), favorites: (\d+)", text)]
    assert [r.score for r in ranked] == want


# ------------------------------------------------ independence and failure
API = "https://export.test/api/query"


def free_config(tmp_path, **extra):
    sections = dict(
        arxiv={"api_url": API},
        sources={**only_sources("x", "huggingface", "hackernews", "bluesky"),
                 "x": {"api_url": "https://x.test/2"}, "huggingface": {"api_url": "https://hf.test/api"},
                 "hackernews": {"api_url": "https://hn.test/api/v1", "queries": ["arxiv.org"]},
                 "bluesky": {"api_url": "https://bsky.test/xrpc"}},
        http={"user_agent": "hotpapers-test/1 (mailto:ops@example.org)"},
    )
    for k, v in extra.items():
        sections.setdefault(k, {}).update(v)
    return make_config(tmp_path, **sections)


def serve_free_day(hn_status=200):
    published = datetime(2026, 7, 30, 12, tzinfo=timezone.utc)
    papers = [paper("2607.00001", title="Hot on HN"), paper("2607.00002", title="Hot on HF"),
              paper("2607.00003", title="Quiet")]
    responses.get(API, body=arxiv_atom.feed([(p, published) for p in papers]))
    responses.get("https://hf.test/api/daily_papers", json=[
        {"paper": {"id": "2607.00002", "upvotes": 80, "title": "Hot on HF"}, "numComments": 4}])
    if hn_status == 200:
        responses.get("https://hn.test/api/v1/search_by_date", json=hn_page([("https://arxiv.org/abs/2607.00001", 150)]))
    else:
        responses.get("https://hn.test/api/v1/search_by_date", status=hn_status)


@responses.activate
def test_no_keys_at_all_ranks_from_free_sources(tmp_path):
    serve_free_day()
    cfg = free_config(tmp_path)
    reporter = NullReporter()
    now = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)  # 2026-07-31 is no longer the RSS day
    with Archive(cfg.store_path) as a:
        summary = fetch_day(cfg, date(2026, 7, 31), a, Seams(now=lambda: now, env={}, sleep=lambda s: None), reporter)
        assert summary.posts == {"hackernews": 1, "huggingface": 1}
        assert reporter.warnings == ["X skipped: $X_BEARER_TOKEN is not set",
                                     "Bluesky skipped: $BLUESKY_HANDLE and $BLUESKY_APP_PASSWORD are not set"]
        build_day(cfg, date(2026, 7, 31), a)
    md = (cfg.posts_dir / "2026-07-31---Hot-Papers.md").read_text()
    assert "# 1. Hot on HN" in md and "# 2. Hot on HF" in md and "Quiet" not in md
    assert all(c.request.headers["User-Agent"] == "hotpapers-test/1 (mailto:ops@example.org)" for c in responses.calls)


@responses.activate
def test_a_failing_source_is_skipped_with_a_note_unless_strict(tmp_path):
    serve_free_day(hn_status=503)
    cfg = free_config(tmp_path, http={"retries": 1, "backoff": 0})
    now = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)  # 2026-07-31 is no longer the RSS day
    seams = Seams(now=lambda: now, env={}, sleep=lambda s: None)
    with Archive(cfg.store_path) as a:
        with pytest.raises(SourceError, match="Hacker News answered HTTP 503"):
            fetch_day(cfg, date(2026, 7, 31), a, seams, strict=True)
        summary = fetch_day(cfg, date(2026, 7, 31), a, seams)
        assert "Hacker News failed and was skipped: Hacker News answered HTTP 503 after 2 tries; try again later" \
            in summary.warnings
        assert summary.posts == {"huggingface": 1}
        build_day(cfg, date(2026, 7, 31), a)
    md = (cfg.posts_dir / "2026-07-31---Hot-Papers.md").read_text()
    assert "notes:\n" in md and "Hacker News failed and was skipped" in md
    assert "# 1. Hot on HF" in md


@responses.activate
def test_arxiv_failing_is_always_fatal(tmp_path):
    responses.get(API, status=503)
    cfg = free_config(tmp_path, http={"retries": 0}, arxiv={"retries": 1})
    with Archive(cfg.store_path) as a, pytest.raises(SourceError, match="arXiv answered HTTP 503"):
        fetch_day(cfg, date(2026, 7, 30), a, Seams(now=lambda: NOW, env={}, sleep=lambda s: None))


@responses.activate
def test_holiday_with_no_papers_is_nothing_today(tmp_path, monkeypatch):
    from typer.testing import CliRunner
    from newsletter.cli import app
    responses.get(API, body=arxiv_atom.feed([]))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsletter.toml").write_text(f'[arxiv]\napi_url = "{API}"\ndelay_seconds = 0\n')
    r = CliRunner().invoke(app, ["run", "--date", "2025-12-25"])
    assert r.exit_code == 3
    assert "arXiv announced no new papers in cs, stat.ML on 2025-12-25 (a holiday?)" in r.output
    assert not (tmp_path / "content").exists() and not (tmp_path / "email").exists()


def test_signals_import_command(tmp_path, monkeypatch):
    from typer.testing import CliRunner
    from newsletter.cli import app
    monkeypatch.chdir(tmp_path)
    with Archive(tmp_path / "newsletter.db") as a:
        a.save_day_papers(date(2026, 7, 31), [paper("2607.00001", title="Imported hit")])
        a.save_issue(date(2026, 7, 31), NOW, 1)
    (tmp_path / "sig.csv").write_text("arxiv,source,score\nhttps://arxiv.org/abs/2607.00001,mastodon,70\nbad,x,1\n")
    r = CliRunner().invoke(app, ["signals", "import", "sig.csv"])
    assert r.exit_code == 1 and "sig.csv: line 3:" in r.output
    assert "1 signals (mastodon), 1 for archived papers, 1 invalid" in r.output
    r = CliRunner().invoke(app, ["rank", "--date", "2026-07-31"])
    assert "Imported hit" in r.output and "mastodon score 70" in r.output
