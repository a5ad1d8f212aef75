"""X (Twitter) API v2: posts that link arXiv papers, and their oEmbed HTML.

One search for arXiv links over the whole signal window, paged by
``next_token``: the number of requests grows with the posts found, never with
the number of papers. Each original post is counted once for every paper it
links; retweets are excluded by the query and again when parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from newsletter.errors import MalformedResponse, SourceError
from newsletter.links import arxiv_ids_in
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.settings import setting
from newsletter.sources.base import EmbedContext, SearchResult, Source, SourceContext
from newsletter.sources.x_embed import post_markup, safe_tweet_embed
from newsletter.sources.common import BadRecord, Page, count, ident, paginate, parse_time, skipping, text

TWEET_FIELDS = "public_metrics,created_at,entities,author_id,lang,referenced_tweets"
RECENT_DAYS = 7
# every link form that counts (see links.py), within X's 512-character limit
DEFAULT_QUERY = '(url:"arxiv.org" OR url:"alphaxiv.org" OR url:"huggingface.co/papers") -is:retweet'


@dataclass(frozen=True)
class XConfig:
    """X API v2: needs a bearer token"""

    enabled: bool = setting(True)
    api_url: str = setting("https://api.x.com/2", url=True)
    oembed_url: str = setting("https://publish.twitter.com/oembed", url=True)
    token_env: str = setting("X_BEARER_TOKEN", "name of the env var holding the bearer token", nonempty=True)
    query: str = setting(DEFAULT_QUERY, "X search syntax", nonempty=True)
    endpoint: Literal["auto", "recent", "all"] = setting("auto", "auto | recent (last 7 days) | all (full archive)")
    max_posts: int = setting(10000, "stop collecting after this many posts", ge=1)
    max_requests: int = setting(200, "and after this many search requests", ge=1)


def _is_retweet(tweet: dict[str, Any]) -> bool:
    refs = tweet.get("referenced_tweets") or []
    if isinstance(refs, list) and any(isinstance(r, dict) and r.get("type") == "retweeted" for r in refs):
        return True
    return str(tweet.get("text", "")).startswith("RT @")


def _links(tweet: dict[str, Any]) -> str:
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    parts: list[str] = []
    for u in urls if isinstance(urls, list) else []:
        if isinstance(u, dict):
            parts.extend(str(u.get(k) or "") for k in ("unwound_url", "expanded_url", "url"))
    parts.append(str(tweet.get("text") or ""))
    return " ".join(parts)


def short_links(tweet: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """What the tweet's t.co links stand for, from ``entities.urls``: only
    those whose short form is in the text, with an http(s) target."""
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    body = str(tweet.get("text") or "")
    out = []
    for u in urls if isinstance(urls, list) else []:
        if not isinstance(u, dict):
            continue
        short, target = text(u.get("url")), text(u.get("unwound_url") or u.get("expanded_url"))
        if short and short in body and target.lower().startswith(("https://", "http://")) and len(target) < 2000:
            out.append((short, target, text(u.get("display_url"))[:100]))
    return tuple(dict.fromkeys(out))


def _post(tweet: dict[str, Any], users: dict[Any, dict[str, Any]], collected_at: datetime) -> Post | None:
    if not isinstance(tweet, dict) or _is_retweet(tweet):
        return None
    tid = ident(tweet.get("id"))
    ids = arxiv_ids_in(_links(tweet))
    if not ids:
        return None
    author = tweet.get("author_id")
    user = users.get(author, {}) if isinstance(author, str) else {}
    handle = text(user.get("username"))
    if handle and not all(c.isascii() and (c.isalnum() or c == "_") for c in handle):
        raise BadRecord("bad username")
    m = tweet.get("public_metrics") or {}
    if not isinstance(m, dict):
        raise BadRecord("bad public_metrics")
    return Post(
        source="x",
        post_id=tid,
        url=f"https://twitter.com/{handle or 'i'}/status/{tid}",
        author_handle=handle,
        author_name=text(user.get("name")),
        text=text(tweet.get("text")),
        created_at=parse_time(tweet.get("created_at")),
        metrics={
            "retweets": count(m.get("retweet_count"), "public_metrics"),
            "likes": count(m.get("like_count"), "public_metrics"),
            "replies": count(m.get("reply_count"), "public_metrics"),
            "quotes": count(m.get("quote_count"), "public_metrics"),
        },
        collected_at=collected_at,
        arxiv_ids=tuple(ids),
        links=short_links(tweet),
    )


def parse_search(payload: Any, collected_at: datetime) -> Page:
    """Posts linking arXiv papers in one page of a search response, the token
    of the next page, and the malformed posts skipped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("meta", {}), dict):
        raise MalformedResponse("X answered with an unexpected JSON shape")
    if "data" not in payload and "meta" not in payload:
        detail = text(payload.get("detail") or payload.get("title") or "no data")
        raise MalformedResponse(f"X answered without data: {detail[:200]}")
    includes = payload.get("includes")
    user_list = includes.get("users") if isinstance(includes, dict) else None
    users = {u.get("id"): u for u in (user_list if isinstance(user_list, list) else [])
             if isinstance(u, dict) and isinstance(u.get("id"), str)}
    posts: list[Post] = []
    bad: dict[str, int] = {}
    data = payload.get("data")
    for tweet in data if isinstance(data, list) else []:
        with skipping(bad):
            post = _post(tweet, users, collected_at)
            if post:
                posts.append(post)
    token = (payload.get("meta") or {}).get("next_token")
    return Page(posts, str(token) if isinstance(token, (str, int)) and token else None, bad)


def endpoint_for(window: Window, now: datetime, configured: str) -> str:
    if configured in ("recent", "all"):
        return configured
    return "recent" if window.start >= now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1) else "all"


def collect(ctx: SourceContext) -> SearchResult:
    """Every original post in the window that links an arXiv paper."""
    cfg: XConfig = ctx.config
    token = ctx.secret(cfg.token_env)
    if not token:
        return SearchResult(skipped=f"${cfg.token_env} is not set")
    now = ctx.now()
    kind = endpoint_for(ctx.window, now, cfg.endpoint)
    url = f"{cfg.api_url.rstrip('/')}/tweets/search/{kind}"
    limit = 512 if kind == "recent" else 1024
    if len(cfg.query) > limit:
        raise SourceError(f"[sources.x] query is {len(cfg.query)} characters; X allows {limit} for search/{kind}")
    end = min(ctx.window.end, now - timedelta(seconds=30))  # X refuses an end_time less than 10 s before now
    params: dict[str, Any] = {
        "query": cfg.query,
        "start_time": ctx.window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "max_results": 100 if kind == "recent" else 500,
        "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": "username,name",
    }

    def get_page(next_token: str | None) -> Page:
        q = dict(params, next_token=next_token) if next_token else params
        payload = ctx.http.get_json(url, "X search", params=q, headers={"Authorization": f"Bearer {token}"},
                                    credential="the bearer token", auth_hint=f"check ${cfg.token_env}")
        return parse_search(payload, ctx.now())

    return paginate(SearchResult(), get_page, label="X", max_requests=cfg.max_requests, max_posts=cfg.max_posts,
                    on_page=ctx.reporter.start("X posts"))


def fetch_oembed(ctx: EmbedContext, post: Post) -> str | None:
    """The oEmbed HTML of a post once sanitised, or None when X has none for it
    or it does not survive the sanitiser (a static quote is shown instead)."""
    cfg: XConfig = ctx.config
    resp = ctx.http.get(cfg.oembed_url, params={"url": post.url, "dnt": "true"})
    if resp.status_code in (403, 404):
        return None  # deleted or protected post
    if resp.status_code != 200:
        raise SourceError(f"X oEmbed answered HTTP {resp.status_code} for {post.url}")
    try:
        payload = resp.json()
    except ValueError:
        raise MalformedResponse(f"X oEmbed answered with something that is not JSON for {post.url}") from None
    html = payload.get("html") if isinstance(payload, dict) else None
    return safe_tweet_embed(html) if isinstance(html, str) else None


SOURCE = Source(
    name="x",
    badge="X",
    picture_links=r"^(https?://)?(pic\.twitter\.com/|(www\.)?(twitter|x)\.com/\w+/status/\d+/(photo|video)/)",
    bare_links=r"\bpic\.twitter\.com/\w+",
    icon="M3 3l10 10M13 3L3 13",
    label="X",
    config=XConfig,
    score=("retweets", "likes"),
    shown=(("retweets", "retweets"), ("likes", "likes"), ("replies", "replies"), ("quotes", "quotes")),
    figure_line="retweets: {retweets}, favorites: {likes}",  # the original posts' line
    collect=collect,
    quotable=True,
    embed=fetch_oembed,
    post_markup=post_markup,
    order=0,
    post_tag="Twitter",
)
