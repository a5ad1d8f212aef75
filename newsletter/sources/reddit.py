"""Reddit: link posts to arXiv papers in chosen subreddits, via the search API.

Application-only OAuth: a client id and secret (from the env vars named in
config) buy a bearer token at ``token_url``, one per run (they last an hour).
Then ONE search over all the subreddits at once (``/r/A+B+C/search``, newest
first), paged by ``after`` until the posts are older than the window: requests
grow with the posts found, not with papers or subreddits. Reddit's rate
headers are honoured. A post scores its score (upvotes) + comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsletter.errors import AuthError, MalformedResponse, SourceError
from newsletter.links import arxiv_ids_in
from newsletter.mailing import Window
from newsletter.models import MAX_COUNT, Post
from newsletter.settings import setting
from newsletter.sources.base import SearchResult, Source, SourceContext
from newsletter.sources.common import BadRecord, Page, count, epoch, ident, paginate, skipping, text


@dataclass(frozen=True)
class RedditConfig:
    """Reddit: an app's client id and secret; skipped with a warning without them"""

    enabled: bool = setting(True)
    api_url: str = setting("https://oauth.reddit.com", url=True)
    token_url: str = setting("https://www.reddit.com/api/v1/access_token", url=True)
    client_id_env: str = setting("REDDIT_CLIENT_ID", "env var with the app's client id", nonempty=True)
    client_secret_env: str = setting("REDDIT_CLIENT_SECRET", "env var with the app's secret", nonempty=True)
    subreddits: list[str] = setting(["MachineLearning", "LocalLLaMA", "compsci"], nonempty=True)
    query: str = setting("url:arxiv.org OR url:alphaxiv.org OR url:huggingface.co", "Reddit search syntax",
                         nonempty=True)
    max_requests: int = setting(30, "the token request included", ge=2)


def _score(value: Any) -> int:
    """Reddit scores go below zero for downvoted posts: that is no attention."""
    if isinstance(value, int) and not isinstance(value, bool) and -MAX_COUNT <= value < 0:
        return 0
    return count(value, "score")


def _post(child: Any, collected_at: datetime) -> tuple[Post | None, datetime | None]:
    if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(child.get("data"), dict):
        return None, None
    d = child["data"]
    created = epoch(d.get("created_utc"))
    if created is None:
        raise BadRecord("bad created_utc")
    links = " ".join(text(d.get(k)) for k in ("url_overridden_by_dest", "url", "selftext"))
    ids = arxiv_ids_in(links)
    if not ids:
        return None, created
    permalink = text(d.get("permalink"))
    if not permalink.startswith("/r/") or any(c in permalink for c in " \"'<>\\"):
        raise BadRecord("bad permalink")
    author = text(d.get("author"))
    if author and not all(c.isascii() and (c.isalnum() or c in "_-") for c in author):
        raise BadRecord("bad author")
    return Post(
        source="reddit",
        post_id=ident(d.get("name") or d.get("id")),
        url=f"https://www.reddit.com{permalink}",
        author_handle=author,
        author_name=f"r/{ident(d.get('subreddit'), 'subreddit')}",
        text=" ".join(text(d.get("title")).split()),
        created_at=created,
        metrics={"score": _score(d.get("score")), "comments": count(d.get("num_comments"), "num_comments")},
        collected_at=collected_at,
        arxiv_ids=tuple(ids),
    ), created


def parse_listing(payload: Any, window: Window, collected_at: datetime) -> Page:
    """The window's posts linking arXiv in one listing page, newest first; the
    cursor is ``after`` until the page reaches posts older than the window."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("children"), list):
        raise MalformedResponse("Reddit answered without a Listing (data.children)")
    posts: list[Post] = []
    bad: dict[str, int] = {}
    older = False
    for child in data["children"]:
        with skipping(bad):
            post, created = _post(child, collected_at)
            if created is not None and created < window.start:
                older = True
            if post and created is not None and window.start <= created < window.end:
                posts.append(post)
    after = data.get("after")
    more = isinstance(after, str) and after and not older and data["children"]
    return Page(posts, after if more else None, bad)


def login(ctx: SourceContext, client_id: str, secret: str) -> str:
    cfg: RedditConfig = ctx.config
    resp = ctx.http.request("POST", cfg.token_url, auth=(client_id, secret), data={"grant_type": "client_credentials"})
    if resp.status_code in (400, 401, 403):
        raise AuthError(f"Reddit refused the app credentials (HTTP {resp.status_code}); check "
                        f"${cfg.client_id_env} and ${cfg.client_secret_env}")
    if resp.status_code != 200:
        raise SourceError(f"Reddit's token endpoint answered HTTP {resp.status_code}")
    try:
        token = resp.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token or not token.isascii() or " " in token:
        raise MalformedResponse("Reddit's token endpoint answered without an access_token")
    return token


def collect(ctx: SourceContext) -> SearchResult:
    cfg: RedditConfig = ctx.config
    client_id, secret = ctx.secret(cfg.client_id_env), ctx.secret(cfg.client_secret_env)
    if not (client_id and secret):
        return SearchResult(skipped=f"${cfg.client_id_env} and ${cfg.client_secret_env} are not set")
    token = login(ctx, client_id, secret)
    subs = "+".join(s.strip().removeprefix("r/") for s in cfg.subreddits if s.strip())
    url = f"{cfg.api_url.rstrip('/')}/r/{subs}/search"
    params = {"q": cfg.query, "restrict_sr": 1, "sort": "new", "t": "all", "limit": 100, "raw_json": 1,
              "type": "link"}

    def get_page(after: str | None) -> Page:
        q = dict(params, after=after) if after else params
        resp = ctx.http.get(url, params=q, headers={"Authorization": f"bearer {token}"})
        if resp.status_code in (401, 403):
            raise AuthError(f"Reddit rejected the token (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise SourceError(f"Reddit search answered HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except ValueError:
            raise MalformedResponse("Reddit search answered with a body that is not JSON; try again later") from None
        _respect_budget(ctx, resp.headers)
        return parse_listing(payload, ctx.window, ctx.now())

    return paginate(SearchResult(requests=1), get_page, label="reddit", max_requests=cfg.max_requests,
                    on_page=ctx.reporter.start("Reddit posts"))


def _respect_budget(ctx: SourceContext, headers: Any) -> None:
    """Reddit says how many requests are left and when the budget resets
    (seconds): when it is spent, wait for the reset (within max_wait)."""
    try:
        remaining = float(headers.get("X-Ratelimit-Remaining", "1"))
        reset = float(headers.get("X-Ratelimit-Reset", "0"))
    except ValueError:
        return
    if remaining < 1 and 0 < reset:
        if reset > ctx.http.max_wait:
            raise SourceError(f"Reddit asks us to wait {reset:.0f} s (limit {ctx.http.max_wait:.0f} s); try again later")
        ctx.http.sleep(reset)


SOURCE = Source(
    name="reddit",
    badge="Reddit",
    icon="M2.5 9.7a5.5 3.8 0 1 0 11 0a5.5 3.8 0 1 0-11 0M8 5.9l1-3.6 3 .7M6 9.2v.4M10 9.2v.4M6 11.6q2 1.2 4 0",
    label="Reddit",
    config=RedditConfig,
    score=("score", "comments"),
    shown=(("score", "points"), ("comments", "comments")),
    figure_line="reddit: score: {score}, comments: {comments}",
    collect=collect,
    quotable=True,
)
