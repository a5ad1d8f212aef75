"""X (Twitter) API v2: posts that link arXiv papers, and their oEmbed HTML.

One search for arXiv links over the whole signal window, paged by
``next_token``: the number of requests grows with the posts found, never with
the number of papers. Each original post is counted once for every paper it
links; retweets are excluded by the query and again when parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from newsletter.config import XConfig
from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.links import arxiv_ids_in
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.sources.common import SearchResult, add_new, json_of, parse_time
from newsletter.text import strip_control

SOURCE = "x"
TWEET_FIELDS = "public_metrics,created_at,entities,author_id,lang,referenced_tweets"
RECENT_DAYS = 7


def _is_retweet(tweet: dict[str, Any]) -> bool:
    refs = tweet.get("referenced_tweets") or []
    if any(r.get("type") == "retweeted" for r in refs if isinstance(r, dict)):
        return True
    return str(tweet.get("text", "")).startswith("RT @")


def _links(tweet: dict[str, Any]) -> str:
    urls = (tweet.get("entities") or {}).get("urls") or []
    parts = []
    for u in urls:
        if isinstance(u, dict):
            parts.extend(str(u.get(k) or "") for k in ("unwound_url", "expanded_url", "url"))
    parts.append(str(tweet.get("text") or ""))
    return " ".join(parts)


def parse_search(payload: Any, collected_at: datetime) -> tuple[list[Post], str | None]:
    """Posts linking arXiv papers in one page of a search response, and the
    token of the next page."""
    if not isinstance(payload, dict) or not isinstance(payload.get("meta", {}), dict):
        raise MalformedResponse("X answered with an unexpected JSON shape")
    if "data" not in payload and "meta" not in payload:
        detail = payload.get("detail") or payload.get("title") or "no data"
        raise MalformedResponse(f"X answered without data: {detail}")
    users = {
        u.get("id"): u
        for u in (payload.get("includes") or {}).get("users") or []
        if isinstance(u, dict)
    }
    posts = []
    for tweet in payload.get("data") or []:
        if not isinstance(tweet, dict) or "id" not in tweet or _is_retweet(tweet):
            continue
        ids = arxiv_ids_in(_links(tweet))
        if not ids:
            continue
        user = users.get(tweet.get("author_id"), {})
        handle = str(user.get("username") or "i")
        m = tweet.get("public_metrics") or {}
        posts.append(
            Post(
                source=SOURCE,
                post_id=str(tweet["id"]),
                url=f"https://twitter.com/{handle}/status/{tweet['id']}",
                author_handle=handle if user else "",
                author_name=strip_control(str(user.get("name") or "")),
                text=strip_control(str(tweet.get("text") or "")),
                created_at=parse_time(tweet.get("created_at")),
                metrics={
                    "retweets": int(m.get("retweet_count") or 0),
                    "likes": int(m.get("like_count") or 0),
                    "replies": int(m.get("reply_count") or 0),
                    "quotes": int(m.get("quote_count") or 0),
                },
                collected_at=collected_at,
                arxiv_ids=tuple(ids),
            )
        )
    token = (payload.get("meta") or {}).get("next_token")
    return posts, token



def endpoint_for(window: Window, now: datetime, configured: str) -> str:
    if configured in ("recent", "all"):
        return configured
    return "recent" if window.start >= now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1) else "all"


def _problem(resp) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict):
        errs = body.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict) and errs[0].get("message"):
            return str(errs[0]["message"])
        return str(body.get("detail") or body.get("title") or body)[:200]
    return str(body)[:200]


def search_posts(
    http: HttpClient,
    cfg: XConfig,
    token: str,
    window: Window,
    now: datetime,
    *,
    clock: Callable[[], datetime],
    on_page: Callable[[int], None] | None = None,
) -> SearchResult:
    """Every original post in ``window`` that links an arXiv paper."""
    kind = endpoint_for(window, now, cfg.endpoint)
    url = f"{cfg.api_url.rstrip('/')}/tweets/search/{kind}"
    limit = 512 if kind == "recent" else 1024
    if len(cfg.query) > limit:
        raise SourceError(f"[sources.x] query is {len(cfg.query)} characters; X allows {limit} for search/{kind}")
    # X refuses an end_time less than 10 s before now
    end = min(window.end, now - timedelta(seconds=30))
    params: dict[str, Any] = {
        "query": cfg.query,
        "start_time": window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "max_results": 100 if kind == "recent" else 500,
        "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": "username,name",
    }
    headers = {"Authorization": f"Bearer {token}"}
    result = SearchResult()
    seen: set[str] = set()
    while True:
        if result.requests >= cfg.max_requests:
            result.capped = f"X: stopped at max_requests = {cfg.max_requests}"
            break
        resp = http.get(url, params=params, headers=headers)
        result.requests += 1
        if resp.status_code in (401, 403):
            raise AuthError(
                f"X rejected the bearer token (HTTP {resp.status_code}: {_problem(resp)}); "
                f"check ${cfg.token_env}"
            )
        if resp.status_code != 200:
            raise SourceError(f"X search failed with HTTP {resp.status_code}: {_problem(resp)}")
        posts, next_token = parse_search(json_of(resp, "X search"), clock())
        add_new(posts, seen, result.posts)
        if on_page:
            on_page(len(result.posts))
        if len(result.posts) >= cfg.max_posts:
            result.capped = f"X: stopped at max_posts = {cfg.max_posts}"
            break
        if not next_token:
            break
        params["next_token"] = next_token
    return result


def is_safe_embed(html: str) -> bool:
    """oEmbed HTML we are willing to publish: a twitter-tweet blockquote and at
    most X's own widgets.js, no event handlers or other scripts."""
    low = html.lower()
    if not low.lstrip().startswith('<blockquote class="twitter-tweet"'):
        return False
    scripts = low.count("<script")
    widget = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    if scripts > low.count(widget):
        return False
    return re.search(r"\son[a-z]+\s*=|javascript:", low) is None


def fetch_oembed(http: HttpClient, oembed_url: str, post: Post) -> str | None:
    """The oEmbed HTML of a post, or None when X has none for it."""
    resp = http.get(oembed_url, params={"url": post.url, "dnt": "true"})
    if resp.status_code in (403, 404):
        return None  # deleted or protected post
    if resp.status_code != 200:
        raise SourceError(f"X oEmbed answered HTTP {resp.status_code} for {post.url}")
    try:
        html = resp.json().get("html")
    except (ValueError, AttributeError):
        raise MalformedResponse(f"X oEmbed answered with something that is not JSON for {post.url}") from None
    if not isinstance(html, str) or not is_safe_embed(html):
        return None
    return html if html.endswith("\n") else html + "\n"
