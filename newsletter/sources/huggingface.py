"""Hugging Face daily papers: upvotes and comments for papers featured on a day.

No authentication. One request per day of the signal window. The date is the
day Hugging Face featured the paper, not the arXiv date; an empty day may
return the previous day's list, which is deduplicated by paper id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from newsletter.config import HFConfig
from newsletter.errors import MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.links import normalize_id
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.sources.common import json_of, parse_time
from newsletter.text import collapse

SOURCE = "huggingface"


def parse_daily_papers(payload: Any, collected_at: datetime) -> list[Post]:
    if not isinstance(payload, list):
        raise MalformedResponse("Hugging Face daily_papers did not answer with a list")
    posts = []
    for item in payload:
        if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
            continue
        paper = item["paper"]
        arxiv_id = normalize_id(str(paper.get("id") or ""))
        if not arxiv_id:
            continue
        submitter = item.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
        posts.append(
            Post(
                source=SOURCE,
                post_id=arxiv_id,
                url=f"https://huggingface.co/papers/{arxiv_id}",
                author_handle=str(submitter.get("user") or "") if isinstance(submitter, dict) else "",
                author_name=str(submitter.get("fullname") or "") if isinstance(submitter, dict) else "",
                text=collapse(paper.get("title") or item.get("title")),
                created_at=parse_time(paper.get("submittedOnDailyAt") or item.get("publishedAt")),
                metrics={
                    "upvotes": int(paper.get("upvotes") or 0),
                    "comments": int(item.get("numComments") or 0),
                },
                collected_at=collected_at,
                arxiv_ids=(arxiv_id,),
            )
        )
    return posts


def days_in(window: Window, first: date) -> list[date]:
    """The featured days to ask for: from the mailing date to the window's end."""
    end = (window.end - timedelta(microseconds=1)).date()
    days, d = [], first
    while d <= end:
        days.append(d)
        d += timedelta(days=1)
    return days


def fetch_daily_papers(
    http: HttpClient,
    cfg: HFConfig,
    days: list[date],
    *,
    clock: Callable[[], datetime],
) -> tuple[list[Post], int, str | None]:
    """Posts for each featured day; (posts, requests made, cap note)."""
    by_id: dict[str, Post] = {}
    previous: frozenset[str] | None = None
    requests_made, capped = 0, None
    for day in days:
        if requests_made >= cfg.max_requests:
            capped = f"huggingface: stopped at max_requests = {cfg.max_requests}"
            break
        resp = http.get(f"{cfg.api_url.rstrip('/')}/daily_papers", params={"date": day.isoformat()})
        requests_made += 1
        if resp.status_code != 200:
            raise SourceError(f"Hugging Face daily_papers answered HTTP {resp.status_code} for {day}")
        payload = json_of(resp, f"Hugging Face daily_papers for {day}")
        posts = parse_daily_papers(payload, clock())
        ids = frozenset(p.post_id for p in posts)
        if ids and ids == previous:
            continue  # an empty day repeating the previous day's list
        previous = ids
        for p in posts:
            by_id[p.post_id] = p
    return list(by_id.values()), requests_made, capped
