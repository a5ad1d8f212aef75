"""Bluesky: posts linking arXiv papers, via app.bsky.feed.searchPosts.

Search needs a session since 2025: ``com.atproto.server.createSession`` with
a handle and an app password from environment variables. One search over the
signal window (``domain=arxiv.org``, since/until), paged by cursor. Links are
read from the rich-text facets and from external embeds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.links import arxiv_ids_in
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.sources.common import SearchResult, add_new, json_of, parse_time
from newsletter.text import strip_control

SOURCE = "bluesky"


def _links(post: dict) -> str:
    record = post.get("record") or {}
    uris = []
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            if isinstance(feature, dict) and feature.get("uri"):
                uris.append(str(feature["uri"]))
    for embed in (post.get("embed"), record.get("embed")):
        if isinstance(embed, dict):
            external = embed.get("external") or (embed.get("media") or {}).get("external") or {}
            if isinstance(external, dict) and external.get("uri"):
                uris.append(str(external["uri"]))
    uris.append(str(record.get("text") or ""))
    return " ".join(uris)


def parse_search(payload: Any, collected_at: datetime) -> tuple[list[Post], str | None]:
    if not isinstance(payload, dict) or not isinstance(payload.get("posts"), list):
        raise MalformedResponse("Bluesky searchPosts answered without a list of posts")
    posts = []
    for p in payload["posts"]:
        if not isinstance(p, dict) or not p.get("uri"):
            continue
        ids = arxiv_ids_in(_links(p))
        if not ids:
            continue
        author = p.get("author") or {}
        handle = str(author.get("handle") or "")
        rkey = str(p["uri"]).rsplit("/", 1)[-1]
        record = p.get("record") or {}
        posts.append(Post(
            source=SOURCE,
            post_id=str(p["uri"]),
            url=f"https://bsky.app/profile/{handle or author.get('did', '')}/post/{rkey}",
            author_handle=handle,
            author_name=strip_control(str(author.get("displayName") or "")),
            text=strip_control(str(record.get("text") or "")),
            created_at=parse_time(record.get("createdAt") or p.get("indexedAt")),
            metrics={"likes": int(p.get("likeCount") or 0), "reposts": int(p.get("repostCount") or 0),
                     "replies": int(p.get("replyCount") or 0), "quotes": int(p.get("quoteCount") or 0)},
            collected_at=collected_at,
            arxiv_ids=tuple(ids),
        ))
    cursor = payload.get("cursor")
    return posts, str(cursor) if cursor else None



def login(http: HttpClient, api_url: str, handle: str, password: str) -> str:
    resp = http.request("POST", f"{api_url.rstrip('/')}/com.atproto.server.createSession",
                        json={"identifier": handle, "password": password})
    if resp.status_code in (400, 401):
        raise AuthError(f"Bluesky refused the login for {handle}; check the handle and app password env vars")
    if resp.status_code != 200:
        raise SourceError(f"Bluesky createSession answered HTTP {resp.status_code}")
    try:
        token = json_of(resp, "Bluesky createSession")["accessJwt"]
    except (KeyError, TypeError):
        raise MalformedResponse("Bluesky createSession answered without an accessJwt") from None
    return str(token)


def search(http: HttpClient, api_url: str, token: str, query: str, window: Window, *, max_requests: int,
           clock: Callable[[], datetime]) -> SearchResult:
    result = SearchResult()
    params: dict[str, Any] = {
        "q": query, "domain": "arxiv.org", "sort": "latest", "limit": 100,
        "since": window.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "until": window.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    seen: set[str] = set()
    while True:
        if result.requests >= max_requests:
            result.capped = f"bluesky: stopped at max_requests = {max_requests}"
            break
        resp = http.get(f"{api_url.rstrip('/')}/app.bsky.feed.searchPosts", params=params,
                        headers={"Authorization": f"Bearer {token}"})
        result.requests += 1
        if resp.status_code in (401, 403):
            raise AuthError(f"Bluesky rejected the session (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise SourceError(f"Bluesky searchPosts answered HTTP {resp.status_code}")
        payload = json_of(resp, "Bluesky searchPosts")
        posts, cursor = parse_search(payload, clock())
        add_new(posts, seen, result.posts)
        if not cursor or not payload.get("posts"):
            break
        params["cursor"] = cursor
    return result
