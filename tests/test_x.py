"""X API v2 source: parsing, attribution, paging, errors (replayed HTTP)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import responses

from conftest import FIXTURES, make_config
from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.mailing import Window
from newsletter.sources import x as xs
from sourcectx import ctx
from xpages import page, tweet

X = FIXTURES / "x_api"
API = "https://x.test/2"
NOW = datetime(2026, 8, 1, 12, tzinfo=timezone.utc)
WINDOW = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 1, 0, tzinfo=timezone.utc))


def xcfg(tmp_path, **kw):
    return make_config(tmp_path, sources={"x": {"api_url": API, **kw}}).source("x")


def http(sleeps=None):
    return HttpClient(user_agent="t", retries=2, backoff=1.0, sleep=(sleeps.append if sleeps is not None else
                      (lambda s: None)), clock=lambda: NOW.timestamp(), service="X")


def test_real_page_retweets_excluded_and_nothing_without_arxiv_links():
    payload = json.loads((X / "v2-search-all-commtwitter-5-results-expansions.json").read_text())
    posts, token, _bad = xs.parse_search(payload, NOW)
    assert posts == [] and token is None  # 3 retweets, 2 originals linking elsewhere


def test_real_empty_and_default_field_pages():
    assert xs.parse_search(json.loads((X / "v2-search-all-empty-result.json").read_text()), NOW) == ([], None, {})
    posts, token, _bad = xs.parse_search(json.loads((X / "v2-search-recent-tweepy-default-fields.json").read_text()), NOW)
    assert posts == [] and token  # default fields carry no urls; paging token is read


def test_every_link_form_attributed_once_per_paper():
    t = tweet(1, "alice", ["https://arxiv.org/abs/2607.00001v2", "http://export.arxiv.org/pdf/2607.00001",
                           "https://www.arxiv.org/html/2607.00002v1", "https://alphaxiv.org/abs/2607.00003"],
              retweets=3, likes=40)
    rt = tweet(2, "bob", ["https://arxiv.org/abs/2607.00001"], retweets=3, likes=0, retweet_of=1)
    (post,), _, _ = xs.parse_search(page([t, rt]), NOW)
    assert post.arxiv_ids == ("2607.00001", "2607.00002", "2607.00003")
    assert post.metrics == {"retweets": 3, "likes": 40, "replies": 1, "quotes": 2}
    assert post.author_handle == "alice" and post.author_name == "Name of alice"
    assert post.url == "https://twitter.com/alice/status/1" and post.collected_at == NOW
    assert post.created_at == datetime(2026, 7, 31, 10, tzinfo=timezone.utc)


def test_malformed_shapes():
    with pytest.raises(MalformedResponse):
        xs.parse_search(["not", "a", "dict"], NOW)


def test_endpoint_choice():
    assert xs.endpoint_for(WINDOW, NOW, "auto") == "recent"
    old = Window(datetime(2020, 6, 25, tzinfo=timezone.utc), datetime(2020, 6, 27, tzinfo=timezone.utc))
    assert xs.endpoint_for(old, NOW, "auto") == "all"
    assert xs.endpoint_for(old, NOW, "recent") == "recent"


@responses.activate
def test_one_query_paged_by_next_token_whatever_the_number_of_papers(tmp_path):
    responses.get(f"{API}/tweets/search/recent", json=page(
        [tweet(i, f"u{i}", [f"https://arxiv.org/abs/2607.{i:05d}"], likes=i) for i in range(1, 4)], "tok2"),
        match=[responses.matchers.query_param_matcher({"max_results": "100"}, strict_match=False)])
    responses.get(f"{API}/tweets/search/recent", json=page(
        [tweet(9, "u9", ["https://arxiv.org/abs/2607.00009"])]),
        match=[responses.matchers.query_param_matcher({"next_token": "tok2"}, strict_match=False)])
    result = xs.collect(ctx(http(), xcfg(tmp_path), env={"X_BEARER_TOKEN": "TOKEN"}, window=WINDOW, now=NOW))
    assert [p.post_id for p in result.posts] == ["1", "2", "3", "9"]
    assert result.requests == 2 == len(responses.calls)
    req = responses.calls[0].request
    assert req.headers["Authorization"] == "Bearer TOKEN"
    from urllib.parse import parse_qs, urlsplit
    q = parse_qs(urlsplit(req.url).query)
    assert q["query"] == ['(url:"arxiv.org" OR url:"alphaxiv.org" OR url:"huggingface.co/papers") -is:retweet']
    assert q["start_time"] == ["2026-07-29T18:00:00Z"] and q["end_time"] == ["2026-08-01T00:00:00Z"]
    assert "public_metrics" in q["tweet.fields"][0] and q["expansions"] == ["author_id"]


@responses.activate
def test_rate_limit_waits_until_reset(tmp_path):
    reset = int(NOW.timestamp()) + 42
    responses.get(f"{API}/tweets/search/recent", status=429, headers={"x-rate-limit-reset": str(reset)})
    responses.get(f"{API}/tweets/search/recent", json=page([]))
    sleeps = []
    result = xs.collect(ctx(http(sleeps), xcfg(tmp_path), env={"X_BEARER_TOKEN": "T"}, window=WINDOW, now=NOW))
    assert result.posts == [] and sleeps == [42.0]


@responses.activate
def test_bad_token_is_one_clear_error(tmp_path):
    responses.get(f"{API}/tweets/search/recent", status=401, body=(X / "v2-search-all-error-401.json").read_bytes())
    with pytest.raises(AuthError, match=r"X rejected the bearer token \(HTTP 401: Unauthorized\); check \$X_BEARER_TOKEN"):
        xs.collect(ctx(http(), xcfg(tmp_path), env={"X_BEARER_TOKEN": "bad"}, window=WINDOW, now=NOW))
    assert len(responses.calls) == 1


@responses.activate
def test_invalid_request_and_non_json(tmp_path):
    responses.get(f"{API}/tweets/search/recent", status=400, body=(X / "v2-search-all-error-400.json").read_bytes())
    with pytest.raises(SourceError, match="must be before 'end_time'"):
        xs.collect(ctx(http(), xcfg(tmp_path), env={"X_BEARER_TOKEN": "T"}, window=WINDOW, now=NOW))
    responses.replace(responses.GET, f"{API}/tweets/search/recent", body="<html>oops</html>")
    with pytest.raises(MalformedResponse, match="not JSON"):
        xs.collect(ctx(http(), xcfg(tmp_path), env={"X_BEARER_TOKEN": "T"}, window=WINDOW, now=NOW))


@responses.activate
def test_caps_stop_collection_and_say_so(tmp_path):
    responses.get(f"{API}/tweets/search/recent", json=page(
        [tweet(i, f"u{i}", ["https://arxiv.org/abs/2607.00001"]) for i in range(1, 6)], "more"))
    result = xs.collect(ctx(http(), xcfg(tmp_path, max_requests=2), env={"X_BEARER_TOKEN": "T"}, window=WINDOW, now=NOW))
    assert result.requests == 2 and "max_requests = 2" in result.capped
    result = xs.collect(ctx(http(), xcfg(tmp_path, max_posts=3), env={"X_BEARER_TOKEN": "T"}, window=WINDOW, now=NOW))
    assert result.requests == 1 and "max_posts = 3" in result.capped


def embed_ctx(tmp_path):
    from newsletter.sources.base import EmbedContext
    return EmbedContext(http(), make_config(tmp_path, sources={"x": {"oembed_url": "https://oembed.test/oembed"}}).source("x"))


@responses.activate
def test_oembed_real_bodies_and_unsafe_html(tmp_path):
    from factories import xpost
    body = json.loads((FIXTURES / "x_oembed" / "oembed-amp-wp-wordpress-987437752164737025.json").read_text())
    responses.get("https://oembed.test/oembed", json=body)
    html = xs.fetch_oembed(embed_ctx(tmp_path), xpost(987437752164737025, "2607.00001"))
    assert html.startswith('<blockquote class="twitter-tweet"') and html.endswith("</script>\n")
    assert "url=https%3A%2F%2Ftwitter.com%2Fu987437752164737025%2Fstatus%2F987437752164737025" in responses.calls[0].request.url
    body["html"] = '<blockquote class="twitter-tweet"><p onclick="x()">hi</p></blockquote><script src="https://evil.test/x.js"></script>'
    responses.replace(responses.GET, "https://oembed.test/oembed", json=body)
    assert xs.fetch_oembed(embed_ctx(tmp_path), xpost(1, "2607.00001")) is None
    responses.replace(responses.GET, "https://oembed.test/oembed", status=404)
    assert xs.fetch_oembed(embed_ctx(tmp_path), xpost(1, "2607.00001")) is None
