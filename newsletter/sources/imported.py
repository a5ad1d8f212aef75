"""Signals from any other source, from a file (``newsletter signals import``).

CSV (with a header row) or JSON (a list of objects). Columns:

- ``arxiv`` (required): an arXiv id or any link to the paper
- ``source`` (required): a short name, e.g. ``mastodon``; its weight is
  ``[ranking.weights] <source>`` (default 1.0)
- ``score`` (required): the attention the item got, as a number
- optional: ``post_id``, ``url``, ``author``, ``text``, ``created_at`` (ISO 8601)
- any other numeric column is kept as a figure and shown (e.g. ``comments``)
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

from newsletter.links import normalize_id
from newsletter.models import Post
from newsletter.sources import REGISTRY
from newsletter.models import MAX_COUNT
from newsletter.sources.common import BadRecord, count, parse_time
from newsletter.text import collapse, strip_control

KNOWN = {"arxiv", "source", "score", "post_id", "url", "author", "text", "created_at"}


def reserved() -> set[str]:
    """Names an imported source may not take: the registered sources and arXiv."""
    return set(REGISTRY) | {"arxiv"}


def _number(value: Any) -> int | None:
    """A plausible count (0 to 10^9), or None: negative, fractional, not
    finite or absurd numbers are not scores."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}(\.0+)?\s*", value):
        value = int(value.strip().split(".")[0])
    try:
        return count(value, "number") if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    except BadRecord:
        return None


def _records(text: str, filename: str) -> tuple[list[tuple[str, Any]], list[str]]:
    """Each record with where it is ("line 3", "item 2"); or why the file has none."""
    if not filename.lower().endswith(".json"):
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        return [(f"line {reader.line_num}", r) for r in reader], []
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [f"not valid JSON: {exc}"]
    if not isinstance(records, list):
        return [], ["JSON must be a list of objects"]
    return [(f"item {i}", r) for i, r in enumerate(records, start=1)], []


def _figures(rec: dict[str, Any], score: int) -> dict[str, int]:
    """The score and every other numeric column (names made safe)."""
    figures = {"score": score}
    for k, v in rec.items():
        n = _number(v)
        if k not in KNOWN and n is not None:
            figures[re.sub(r"[^a-z0-9_]", "_", k)] = n
    return figures


def _post(rec: dict[str, Any], collected_at: datetime) -> Post:
    """One record as a post; BadRecord says which field is wrong."""
    arxiv_id = normalize_id(str(rec.get("arxiv") or ""))
    source = collapse(str(rec.get("source") or "")).lower()
    score = _number(rec.get("score"))
    if not arxiv_id:
        raise BadRecord(f"'arxiv' is not an arXiv id or link: {rec.get('arxiv')!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,30}", source) or source in reserved():
        raise BadRecord(f"'source' must be a short lowercase name other than {sorted(reserved())}")
    if score is None:
        raise BadRecord(f"'score' must be a whole number from 0 to {MAX_COUNT}, "
                        f"not {collapse(str(rec.get('score')))[:40]!r}")
    created = parse_time(str(rec["created_at"])) if rec.get("created_at") else None
    if rec.get("created_at") and created is None:
        raise BadRecord("'created_at' is not an ISO 8601 time")
    url = collapse(str(rec.get("url") or ""))
    if url and not url.lower().startswith(("https://", "http://")):
        raise BadRecord("'url' must be an http(s) link")
    return Post(
        source=source, post_id=collapse(str(rec.get("post_id") or url or f"{arxiv_id}"))[:300], url=url,
        author_handle=collapse(str(rec.get("author") or "")), author_name="",
        text=strip_control(str(rec.get("text") or "")), created_at=created, metrics=_figures(rec, score),
        collected_at=collected_at, arxiv_ids=(arxiv_id,),
    )


def parse(text: str, filename: str, collected_at: datetime) -> tuple[list[Post], list[str]]:
    """The posts in a signals file and one message per bad record."""
    numbered, errors = _records(text, filename)
    posts = []
    for where, rec in numbered:
        if not isinstance(rec, dict):
            errors.append(f"{where}: not an object")
            continue
        try:
            posts.append(_post({str(k).strip().lower(): v for k, v in rec.items() if k is not None}, collected_at))
        except BadRecord as exc:
            errors.append(f"{where}: {exc}")
    return posts, errors
