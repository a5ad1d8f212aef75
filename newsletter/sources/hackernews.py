"""Hacker News (Algolia search API, no key): stories linking arXiv papers.

One ``search_by_date`` query per link host, restricted to the story URL and
to the signal window, paged: the requests grow with the stories found, not
with the number of papers. Figures: points and comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsletter.errors import MalformedResponse
from newsletter.links import arxiv_ids_in
from newsletter.models import Post
from newsletter.settings import setting
from newsletter.sources.base import SearchResult, Source, SourceContext
from newsletter.sources.common import BadRecord, Page, count, ident, epoch, paginate, skipping, text

HITS_PER_PAGE = 1000


@dataclass(frozen=True)
class HNConfig:
    """Hacker News through Algolia: no key"""

    enabled: bool = setting(True)
    api_url: str = setting("https://hn.algolia.com/api/v1", url=True)
    queries: list[str] = setting(["arxiv.org", "alphaxiv.org", "huggingface.co/papers"], "link hosts searched",
                                 nonempty=True)
    max_requests: int = setting(20, ge=1)


def _post(hit: Any, collected_at: datetime) -> Post | None:
    if not isinstance(hit, dict):
        return None
    oid = ident(hit.get("objectID"), "objectID")
    ids = arxiv_ids_in(f"{text(hit.get('url'))} {text(hit.get('story_text'))}")
    if not ids:
        return None
    return Post(
        source="hackernews",
        post_id=oid,
        url=f"https://news.ycombinator.com/item?id={oid}",
        author_handle=text(hit.get("author")),
        author_name="",
        text=" ".join(text(hit.get("title")).split()),
        created_at=epoch(hit.get("created_at_i")),
        metrics={"points": count(hit.get("points"), "points"), "comments": count(hit.get("num_comments"), "num_comments")},
        collected_at=collected_at,
        arxiv_ids=tuple(ids),
    )


def parse_search(payload: Any, collected_at: datetime, page: int = 0) -> Page:
    """Stories linking arXiv in one page; the cursor is the next page number."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        raise MalformedResponse("Hacker News answered without a list of hits")
    posts: list[Post] = []
    bad: dict[str, int] = {}
    for hit in payload["hits"]:
        with skipping(bad):
            post = _post(hit, collected_at)
            if post:
                posts.append(post)
    pages = payload.get("nbPages")
    pages = pages if isinstance(pages, int) and not isinstance(pages, bool) and 0 < pages <= 1000 else 1
    return Page(posts, page + 1 if page + 1 < pages else None, bad)


def collect(ctx: SourceContext) -> SearchResult:
    cfg: HNConfig = ctx.config
    t0, t1 = int(ctx.window.start.timestamp()), int(ctx.window.end.timestamp())
    result = SearchResult()
    for query in cfg.queries:
        def get_page(page: int, query: str = query) -> Page:
            payload = ctx.http.get_json(f"{cfg.api_url.rstrip('/')}/search_by_date", "Hacker News search", params={
                "query": query, "restrictSearchableAttributes": "url", "tags": "story",
                "numericFilters": f"created_at_i>{t0},created_at_i<{t1}", "hitsPerPage": HITS_PER_PAGE,
                "page": page})
            return parse_search(payload, ctx.now(), page)

        paginate(result, get_page, label="hackernews", max_requests=cfg.max_requests, first=0)
        if result.capped:
            break
    return result


SOURCE = Source(
    name="hackernews",
    badge="HN",
    icon="M1.5 1.5h13v13h-13zM4.5 4l3.5 4.5L11.5 4M8 8.5V12.5",
    label="Hacker News",
    config=HNConfig,
    score=("points",),
    shown=(("points", "points"), ("comments", "comments")),
    figure_line="hackernews: points: {points}, comments: {comments}",
    collect=collect,
)
