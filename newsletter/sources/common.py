"""Small pieces every signal source needs: one paging loop, checked numbers,
times in UTC, and skipping a malformed item instead of failing the run."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, NamedTuple

from newsletter.models import MAX_COUNT, Post
from newsletter.sources.base import SearchResult
from newsletter.text import strip_control



class BadRecord(ValueError):
    """One item of an answer is malformed; it is skipped and counted."""


class Page(NamedTuple):
    posts: list[Post]
    cursor: Any  # what asks for the next page; None at the end
    bad: dict[str, int]


def count(value: Any, what: str) -> int:
    """A figure as a plausible count: absent is 0; strings, negative,
    fractional, non-finite or absurd values are a bad record, never a score."""
    if value is None:
        return 0
    if isinstance(value, (bool, str)):
        raise BadRecord(f"bad {what}")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise BadRecord(f"bad {what}")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BadRecord(f"bad {what}")
    return value


def ident(value: Any, what: str = "id") -> str:
    """An item id that is safe inside a URL path or query: letters, digits, ``._-``."""
    v = text(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not v or len(v) > 100 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in v):
        raise BadRecord(f"bad {what}")
    return v


def text(value: Any) -> str:
    """Outside text without control characters or lone surrogates."""
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise BadRecord("bad text field")
    return strip_control(str(value))


def obj(value: Any, what: str = "item") -> dict[str, Any]:
    """A JSON object, or a bad record."""
    if not isinstance(value, dict):
        raise BadRecord(f"{what} is not an object")
    return value


def items(value: Any, what: str) -> list[Any]:
    """A JSON list (absent is empty), or a bad record."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord(f"{what} is not a list")
    return value


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as UTC; a time without a zone is UTC (never the host's
    zone, so rebuilds do not depend on where they run); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def epoch(value: Any) -> datetime | None:
    """Seconds since 1970 as UTC, or None when absent or implausible."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        if not math.isfinite(value):
            return None
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


class skipping:
    """``with skipping(bad):`` around one item's parse: a malformed item
    (``BadRecord``, which the checks above and the parsers raise) is counted
    under its reason and skipped; the page goes on. Any other exception is a
    bug in the parser and surfaces."""

    def __init__(self, bad: dict[str, int]):
        self.bad = bad

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if not isinstance(exc, BadRecord):
            return False
        self.bad[str(exc)] = self.bad.get(str(exc), 0) + 1
        return True


def paginate(result: SearchResult, get_page: Callable[[Any], Page], *, label: str, max_requests: int,
             first: Any = None, max_posts: int = 0, on_page: Callable[[int], None] | None = None) -> SearchResult:
    """The paging loop every search shares: check the cap, get a page, keep the
    posts not seen before (pages overlap while a search runs), follow the cursor."""
    seen = {p.post_id for p in result.posts}
    cursor = first
    while True:
        if result.requests >= max_requests:
            result.capped = f"{label}: stopped at max_requests = {max_requests}"
            break
        result.requests += 1
        page = get_page(cursor)
        add_new(page.posts, seen, result.posts)
        for reason, n in page.bad.items():
            result.bad[reason] = result.bad.get(reason, 0) + n
        if on_page:
            on_page(len(result.posts))
        if max_posts and len(result.posts) >= max_posts:
            result.capped = f"{label}: stopped at max_posts = {max_posts}"
            break
        if page.cursor is None:
            break
        cursor = page.cursor
    return result


def add_new(posts: Iterable[Post], seen: set[str], into: list[Post]) -> None:
    """Append the posts not seen before."""
    for p in posts:
        if p.post_id not in seen:
            seen.add(p.post_id)
            into.append(p)
