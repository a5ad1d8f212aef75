"""Small pieces every signal source needs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests

from newsletter.errors import MalformedResponse
from newsletter.models import Post


@dataclass
class SearchResult:
    """What a paged search brought back, and why it stopped early if it did."""

    posts: list[Post] = field(default_factory=list)
    requests: int = 0
    capped: str | None = None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time ('...Z' included) as UTC, or None when there is none."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


def json_of(resp: requests.Response, what: str) -> Any:
    try:
        return resp.json()
    except (ValueError, json.JSONDecodeError):
        raise MalformedResponse(f"{what} answered with a body that is not JSON; try again later") from None


def add_new(posts: Iterable[Post], seen: set[str], into: list[Post]) -> None:
    """Append the posts not seen before (pages can overlap while a search runs)."""
    for p in posts:
        if p.post_id not in seen:
            seen.add(p.post_id)
            into.append(p)
