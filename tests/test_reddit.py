"""Reddit through the registry: app-only OAuth, one paged search over all
subreddits, figures in every output (Listing bodies in tests/fixtures/reddit)."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

import arxiv_atom
from conftest import FIXTURES, make_config, only_sources
from factories import paper
from newsletter.errors import AuthError, MalformedResponse
from newsletter.http import HttpClient
from newsletter.mailing import Window
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.build import build_day
from newsletter.fetch import fetch_day
from newsletter.sources import REGISTRY
from newsletter.sources import reddit
from newsletter.store import Archive
from sourcectx import ctx

R = FIXTURES / "reddit"
API = "https://oauth.reddit.test"
TOKEN_URL = "https://www.reddit.test/api/v1/access_token"
NOW = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)
WINDOW = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 1, 0, tzinfo=timezone.utc))
ENV = {"REDDIT_CLIENT_ID": "app-id", "REDDIT_CLIENT_SECRET": "app-secret"}
SEARCH = f"{API}/r/MachineLearning+LocalLLaMA+compsci/search"


def rcfg(tmp_path, **kw):
    return make_config(tmp_path, sources={"reddit": {"api_url": API, "token_url": TOKEN_URL, **kw}}).source("reddit")


def http(sleeps=None):
    return HttpClient(user_agent="hotpapers-test/1", retries=1, backoff=0, clock=lambda: NOW.timestamp(),
                      sleep=sleeps.append if sleeps is not None else (lambda s: None), service="Reddit")


def serve(pages=("search-page1.json", "search-page2.json")):
    responses.post(TOKEN_URL, body=(R / "access_token.json").read_bytes())
    bodies = {None: json.loads((R / pages[0]).read_text())}
    if len(pages) > 1:
        bodies["t3_1h0003x"] = json.loads((R / pages[1]).read_text())

    def search(request):
        after = parse_qs(urlsplit(request.url).query).get("after", [None])[0]
        return 200, {"X-Ratelimit-Remaining": "99", "X-Ratelimit-Reset": "300"}, json.dumps(bodies[after])

    responses.add_callback(responses.GET, SEARCH, callback=search)


def test_registered_with_everything_the_rest_reads():
    s = REGISTRY["reddit"]
    assert s.label == "Reddit" and s.quotable and s.score == ("score", "comments")
    assert s.figure_line == "reddit: score: {score}, comments: {comments}"


@responses.activate
def test_token_then_one_search_paged_until_older_than_the_window(tmp_path):
    serve()
    r = reddit.collect(ctx(http(), rcfg(tmp_path), window=WINDOW, now=NOW, env=ENV))
    # token + 2 pages: page 2 reaches a post older than the window, so 'after' is not followed
    assert r.requests == 3 == len(responses.calls) and r.capped is None and r.bad == {}
    token_req = responses.calls[0].request
    assert token_req.body == "grant_type=client_credentials"
    assert token_req.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    search = responses.calls[1].request
    assert search.headers["Authorization"] == "bearer eyJhbGciOiJSUzI1NiJ9.app-only-token"
    assert search.headers["User-Agent"] == "hotpapers-test/1"
    q = parse_qs(urlsplit(search.url).query)
    assert q["restrict_sr"] == ["1"] and q["sort"] == ["new"] and q["raw_json"] == ["1"] and "after" not in q
    assert parse_qs(urlsplit(responses.calls[2].request.url).query)["after"] == ["t3_1h0003x"]
    got = {(p.post_id, p.arxiv_ids, p.metrics["score"], p.metrics["comments"]) for p in r.posts}
    assert got == {("t3_1h0001x", ("2607.00001",), 412, 57), ("t3_1h0002x", ("2607.00002",), 88, 12),
                   ("t3_1h0004x", ("2607.00003",), 15, 4), ("t3_1h0005x", ("2607.00001",), 30, 5),
                   ("t3_1h0006x", ("2607.00009",), 0, 2)}  # a downvoted post's score counts 0
    p = next(p for p in r.posts if p.post_id == "t3_1h0001x")
    assert p.url == "https://www.reddit.com/r/MachineLearning/comments/1h0001x/paper_1/"
    assert p.author_handle == "ml_reader" and p.author_name == "r/MachineLearning" and p.text == "[R] Paper 1"


def test_without_credentials_it_is_skipped(tmp_path):
    r = reddit.collect(ctx(http(), rcfg(tmp_path), window=WINDOW, now=NOW, env={"REDDIT_CLIENT_ID": "only-id"}))
    assert r.skipped == "$REDDIT_CLIENT_ID and $REDDIT_CLIENT_SECRET are not set" and r.requests == 0


@responses.activate
def test_bad_credentials_and_bad_answers(tmp_path):
    responses.post(TOKEN_URL, status=401, json={"error": "invalid_grant"})
    with pytest.raises(AuthError, match=r"Reddit refused the app credentials \(HTTP 401\)"):
        reddit.collect(ctx(http(), rcfg(tmp_path), window=WINDOW, now=NOW, env=ENV))
    responses.replace(responses.POST, TOKEN_URL, json={"access_token": "t", "token_type": "bearer"})
    responses.get(SEARCH, json={"kind": "Listing", "data": {"children": "nope"}})
    with pytest.raises(MalformedResponse, match="without a Listing"):
        reddit.collect(ctx(http(), rcfg(tmp_path), window=WINDOW, now=NOW, env=ENV))


def test_malformed_posts_are_counted_and_skipped():
    page = json.loads((R / "search-page1.json").read_text())
    kids = page["data"]["children"]
    kids[0]["data"]["score"] = float("nan")
    kids[1]["data"]["created_utc"] = "yesterday"
    kids[3]["data"]["permalink"] = "javascript:alert(1)"
    kids.append({"kind": "t3", "data": "not an object"})
    got = reddit.parse_listing(page, WINDOW, NOW)
    assert got.posts == [] and got.bad == {"bad score": 1, "bad created_utc": 1, "bad permalink": 1}


@responses.activate
def test_budget_spent_waits_for_the_reset(tmp_path):
    responses.post(TOKEN_URL, body=(R / "access_token.json").read_bytes())
    responses.get(SEARCH, json=json.loads((R / "search-page2.json").read_text()),
                  headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "42"})
    sleeps: list[float] = []
    reddit.collect(ctx(http(sleeps), rcfg(tmp_path), window=WINDOW, now=NOW, env=ENV))
    assert sleeps == [42.0]


@responses.activate
def test_reddit_reaches_ranking_the_post_and_the_email(tmp_path):
    serve()
    published = datetime(2026, 7, 30, 12, tzinfo=timezone.utc)
    api = "https://export.test/api/query"
    papers = [paper("2607.00001", title="Discussed on Reddit"), paper("2607.00002", title="Also on Reddit"),
              paper("2607.00005", title="Quiet one")]
    responses.get(api, body=arxiv_atom.feed([(p, published) for p in papers]))
    cfg = make_config(tmp_path, arxiv={"api_url": api},
                      sources={**only_sources("reddit"), "reddit": {"api_url": API, "token_url": TOKEN_URL}})
    day = date(2026, 7, 31)
    with Archive(cfg.store_path) as a:
        summary = fetch_day(cfg, day, a, Seams(now=lambda: NOW, env=ENV, sleep=lambda s: None), NullReporter())
        assert summary.posts == {"reddit": 5} and summary.requests["reddit"] == 3
        built = build_day(cfg, day, a)
    md = (cfg.posts_dir / "2026-07-31---Hot-Papers.md").read_text()
    # 412 + 57 + 30 + 5 = 504 points; the alphaxiv-linked one 88 + 12 = 100; both posts of #1 are quoted
    assert "# 1. Discussed on Reddit" in md and "# 2. Also on Reddit" in md and "Quiet one" not in md
    assert "- reddit: score: 442, comments: 62 (08/03/2026 12:00:00)" in md
    assert '<blockquote class="reddit-post"><p>[R] Paper 1</p>&mdash; r/MachineLearning (@ml_reader)' in md
    assert "widgets.js" not in md  # a Reddit quote is no tweet
    html = next(p for p in built.files if p.suffix == ".html").read_text()
    assert "Reddit: 442 points, 62 comments (2 posts)" in html
    assert "https://www.reddit.com/r/MachineLearning/comments/1h0001x/paper_1/" in html
