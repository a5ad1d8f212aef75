"""Bluesky: posts linking arXiv papers, via app.bsky.feed.searchPosts.

Search needs a session since 2025: ``com.atproto.server.createSession`` with
a handle and an app password from environment variables. One search over the
signal window (``domain=arxiv.org``, since/until), paged by cursor. Links are
read from the rich-text facets and from external embeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.links import arxiv_ids_in
from newsletter.models import Post
from newsletter.settings import setting
from newsletter.sources.base import SearchResult, Source, SourceContext
from newsletter.sources.common import BadRecord, Page, count, paginate, parse_time, skipping, text

if TYPE_CHECKING:
    from newsletter.http import HttpClient


@dataclass(frozen=True)
class BlueskyConfig:
    """Bluesky: skipped with a warning without credentials"""

    enabled: bool = setting(True)
    api_url: str = setting("https://bsky.social/xrpc", url=True)
    handle_env: str = setting("BLUESKY_HANDLE", "env var with your handle", nonempty=True)
    password_env: str = setting("BLUESKY_APP_PASSWORD", "env var with an app password", nonempty=True)
    query: str = setting("arxiv.org", nonempty=True)
    max_requests: int = setting(50, "the login included", ge=2)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _links(post: dict[str, Any]) -> str:
    record = _dict(post.get("record"))
    uris = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        features = _dict(facet).get("features")
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and feature.get("uri"):
                uris.append(str(feature["uri"]))
    for embed in (post.get("embed"), record.get("embed")):
        if isinstance(embed, dict):
            external = _dict(embed.get("external") or _dict(embed.get("media")).get("external"))
            if external.get("uri"):
                uris.append(str(external["uri"]))
    uris.append(str(record.get("text") or ""))
    return " ".join(uris)


def _post(p: Any, collected_at: datetime) -> Post | None:
    if not isinstance(p, dict) or not p.get("uri"):
        return None
    ids = arxiv_ids_in(_links(p))
    if not ids:
        return None
    author = p.get("author") or {}
    if not isinstance(author, dict):
        raise BadRecord("bad author")
    uri = text(p["uri"])
    handle = text(author.get("handle"))
    rkey = uri.rsplit("/", 1)[-1]
    if not uri.startswith("at://") or not rkey or not all(c.isascii() and (c.isalnum() or c in "._:-~") for c in rkey):
        raise BadRecord("bad uri")
    if handle and not all(c.isascii() and (c.isalnum() or c in ".-") for c in handle):
        raise BadRecord("bad handle")
    record = _dict(p.get("record"))
    return Post(
        source="bluesky",
        post_id=uri,
        url=f"https://bsky.app/profile/{handle or text(author.get('did'))}/post/{rkey}",
        author_handle=handle,
        author_name=text(author.get("displayName")),
        text=text(record.get("text")),
        created_at=parse_time(record.get("createdAt") or p.get("indexedAt")),
        metrics={"likes": count(p.get("likeCount"), "likeCount"), "reposts": count(p.get("repostCount"), "repostCount"),
                 "replies": count(p.get("replyCount"), "replyCount"), "quotes": count(p.get("quoteCount"), "quoteCount")},
        collected_at=collected_at,
        arxiv_ids=tuple(ids),
    )


def parse_search(payload: Any, collected_at: datetime) -> Page:
    if not isinstance(payload, dict) or not isinstance(payload.get("posts"), list):
        raise MalformedResponse("Bluesky searchPosts answered without a list of posts")
    posts: list[Post] = []
    bad: dict[str, int] = {}
    for p in payload["posts"]:
        with skipping(bad):
            post = _post(p, collected_at)
            if post:
                posts.append(post)
    cursor = payload.get("cursor")
    more = bool(payload["posts"]) and isinstance(cursor, (str, int)) and not isinstance(cursor, bool) and cursor != ""
    return Page(posts, str(cursor) if more else None, bad)


def login(http: HttpClient, api_url: str, handle: str, password: str) -> str:
    resp = http.request("POST", f"{api_url.rstrip('/')}/com.atproto.server.createSession",
                        json={"identifier": handle, "password": password})
    if resp.status_code in (400, 401):
        raise AuthError("Bluesky refused the login; check the handle and app password env vars")
    if resp.status_code != 200:
        raise SourceError(f"Bluesky createSession answered HTTP {resp.status_code}")
    try:
        token = resp.json()["accessJwt"]
    except (ValueError, KeyError, TypeError):
        raise MalformedResponse("Bluesky createSession answered without an accessJwt") from None
    if not isinstance(token, str) or not token or not token.isascii():
        raise MalformedResponse("Bluesky createSession answered without an accessJwt")
    return token


def collect(ctx: SourceContext) -> SearchResult:
    cfg: BlueskyConfig = ctx.config
    handle, password = ctx.secret(cfg.handle_env), ctx.secret(cfg.password_env)
    if not (handle and password):
        return SearchResult(skipped=f"${cfg.handle_env} and ${cfg.password_env} are not set")
    token = login(ctx.http, cfg.api_url, handle, password)
    params: dict[str, Any] = {
        "q": cfg.query, "domain": "arxiv.org", "sort": "latest", "limit": 100,
        "since": ctx.window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "until": ctx.window.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }

    def get_page(cursor: str | None) -> Page:
        q = dict(params, cursor=cursor) if cursor else params
        payload = ctx.http.get_json(f"{cfg.api_url.rstrip('/')}/app.bsky.feed.searchPosts", "Bluesky searchPosts",
                                    params=q, headers={"Authorization": f"Bearer {token}"},
                                    credential="the session", auth_hint=f"check ${cfg.handle_env}")
        return parse_search(payload, ctx.now())

    # the login counts against max_requests
    return paginate(SearchResult(requests=1), get_page, label="bluesky", max_requests=cfg.max_requests)


SOURCE = Source(
    name="bluesky",
    badge="Bluesky",
    icon="M8 8C6.5 4.5 3.5 2.5 2.3 3.3S2.5 8.6 5 9.3C3.2 10.3 3.8 12.9 5.6 12.5S8 10 8 8zM8 8c1.5-3.5 4.5-5.5 5.7-4.7S13.5 8.6 11 9.3c1.8 1 1.2 3.6-.6 3.2S8 10 8 8z",
    label="Bluesky",
    config=BlueskyConfig,
    score=("reposts", "likes"),
    shown=(("reposts", "reposts"), ("likes", "likes"), ("replies", "replies"), ("quotes", "quotes")),
    figure_line="bluesky: reposts: {reposts}, likes: {likes}, replies: {replies}, quotes: {quotes}",
    collect=collect,
    quotable=True,
)
