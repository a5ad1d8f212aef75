"""Hacker News (Algolia search API, no key): stories linking arXiv papers.

One ``search_by_date`` query per link host, restricted to the story URL and
to the signal window, paged: the requests grow with the stories found, not
with the number of papers. Figures: points and comments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from newsletter.errors import MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.links import arxiv_ids_in
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.sources.common import SearchResult, add_new, json_of
from newsletter.text import collapse, strip_control

SOURCE = "hackernews"
HITS_PER_PAGE = 1000


def parse_search(payload: Any, collected_at: datetime) -> tuple[list[Post], int]:
    """Stories linking arXiv in one page, and the number of pages."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        raise MalformedResponse("Hacker News answered without a list of hits")
    posts = []
    for hit in payload["hits"]:
        if not isinstance(hit, dict) or not hit.get("objectID"):
            continue
        ids = arxiv_ids_in(f"{hit.get('url') or ''} {hit.get('story_text') or ''}")
        if not ids:
            continue
        created = hit.get("created_at_i")
        posts.append(Post(
            source=SOURCE,
            post_id=str(hit["objectID"]),
            url=f"https://news.ycombinator.com/item?id={hit['objectID']}",
            author_handle=strip_control(str(hit.get("author") or "")),
            author_name="",
            text=collapse(hit.get("title")),
            created_at=datetime.fromtimestamp(created, timezone.utc) if isinstance(created, int) else None,
            metrics={"points": int(hit.get("points") or 0), "comments": int(hit.get("num_comments") or 0)},
            collected_at=collected_at,
            arxiv_ids=tuple(ids),
        ))
    pages = payload.get("nbPages")
    return posts, int(pages) if isinstance(pages, int) else 1



def search(http: HttpClient, api_url: str, queries: list[str], window: Window, *, max_requests: int,
           clock: Callable[[], datetime]) -> SearchResult:
    result = SearchResult()
    seen: set[str] = set()
    t0, t1 = int(window.start.timestamp()), int(window.end.timestamp())
    for query in queries:
        page, pages = 0, 1
        while page < pages:
            if result.requests >= max_requests:
                result.capped = f"hackernews: stopped at max_requests = {max_requests}"
                return result
            resp = http.get(f"{api_url.rstrip('/')}/search_by_date", params={
                "query": query, "restrictSearchableAttributes": "url", "tags": "story",
                "numericFilters": f"created_at_i>{t0},created_at_i<{t1}", "hitsPerPage": HITS_PER_PAGE,
                "page": page})
            result.requests += 1
            if resp.status_code != 200:
                raise SourceError(f"Hacker News search answered HTTP {resp.status_code}")
            posts, pages = parse_search(json_of(resp, "Hacker News search"), clock())
            add_new(posts, seen, result.posts)
            page += 1
    return result
