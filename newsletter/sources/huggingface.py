"""Hugging Face daily papers: upvotes and comments for papers featured on a day.

No authentication. One request per featured day of the signal window (from
the mailing date to the window's end). The date is the day Hugging Face
featured the paper, not the arXiv date; an empty day may return the previous
day's list, which the paging's de-duplication absorbs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from newsletter.errors import MalformedResponse
from newsletter.links import normalize_id
from newsletter.mailing import Window
from newsletter.models import Post
from newsletter.settings import setting
from newsletter.sources.base import SearchResult, Source, SourceContext
from newsletter.sources.common import BadRecord, Page, count, paginate, parse_time, skipping, text


@dataclass(frozen=True)
class HFConfig:
    """Hugging Face daily papers: no key"""

    enabled: bool = setting(True)
    api_url: str = setting("https://huggingface.co/api", url=True)
    max_requests: int = setting(10, ge=1)


def _post(item: Any, collected_at: datetime) -> Post | None:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        return None
    paper = item["paper"]
    arxiv_id = normalize_id(text(paper.get("id")))
    if not arxiv_id:
        raise BadRecord("bad paper id")
    submitter = item.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    if not isinstance(submitter, dict):
        submitter = {}
    return Post(
        source="huggingface",
        post_id=arxiv_id,
        url=f"https://huggingface.co/papers/{arxiv_id}",
        author_handle=text(submitter.get("user")),
        author_name=text(submitter.get("fullname")),
        text=" ".join(text(paper.get("title") or item.get("title")).split()),
        created_at=parse_time(paper.get("submittedOnDailyAt") or item.get("publishedAt")),
        metrics={"upvotes": count(paper.get("upvotes"), "upvotes"),
                 "comments": count(item.get("numComments"), "numComments")},
        collected_at=collected_at,
        arxiv_ids=(arxiv_id,),
    )


def parse_daily_papers(payload: Any, collected_at: datetime) -> Page:
    if not isinstance(payload, list):
        raise MalformedResponse("Hugging Face daily_papers did not answer with a list")
    posts: list[Post] = []
    bad: dict[str, int] = {}
    for item in payload:
        with skipping(bad):
            post = _post(item, collected_at)
            if post:
                posts.append(post)
    return Page(posts, None, bad)


def days_in(window: Window, first: date) -> list[date]:
    """The featured days to ask for: from the mailing date to the window's end."""
    end = (window.end - timedelta(microseconds=1)).date()
    days, d = [], first
    while d <= end:
        days.append(d)
        d += timedelta(days=1)
    return days


def collect(ctx: SourceContext) -> SearchResult:
    cfg: HFConfig = ctx.config
    days = days_in(ctx.window, ctx.day)
    if not days:
        return SearchResult()

    def get_page(i: int) -> Page:
        day = days[i]
        payload = ctx.http.get_json(f"{cfg.api_url.rstrip('/')}/daily_papers", f"Hugging Face daily_papers for {day}",
                                    params={"date": day.isoformat()})
        page = parse_daily_papers(payload, ctx.now())
        return page._replace(cursor=i + 1 if i + 1 < len(days) else None)

    return paginate(SearchResult(), get_page, label="huggingface", max_requests=cfg.max_requests, first=0)


SOURCE = Source(
    name="huggingface",
    badge="HF",
    icon="M8 1.5a6.5 6.5 0 1 0 .01 0zM5 9.5q3 3 6 0M5.8 6.2v.6M10.2 6.2v.6",
    label="Hugging Face",
    config=HFConfig,
    score=("upvotes",),
    shown=(("upvotes", "upvotes"), ("comments", "comments")),
    figure_line="huggingface: upvotes: {upvotes}, comments: {comments}",
    collect=collect,
    paper_paths=(r"huggingface\.co/papers",),
)
