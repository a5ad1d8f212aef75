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
from datetime import datetime, timezone
from typing import Any

from newsletter.links import normalize_id
from newsletter.models import Post
from newsletter.text import collapse, strip_control

KNOWN = {"arxiv", "source", "score", "post_id", "url", "author", "text", "created_at"}
RESERVED = {"x", "hackernews", "huggingface", "bluesky", "arxiv"}


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        return int(float(value))
    return None


def parse(text: str, filename: str, collected_at: datetime) -> tuple[list[Post], list[str]]:
    """The posts in a signals file and one message per bad record."""
    if filename.lower().endswith(".json"):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [f"not valid JSON: {exc}"]
        if not isinstance(records, list):
            return [], ["JSON must be a list of objects"]
        numbered = [(f"item {i}", r) for i, r in enumerate(records, start=1)]
    else:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        numbered = [(f"line {reader.line_num}", r) for r in reader]
    posts, errors = [], []
    for where, rec in numbered:
        if not isinstance(rec, dict):
            errors.append(f"{where}: not an object")
            continue
        rec = {str(k).strip().lower(): v for k, v in rec.items() if k is not None}
        arxiv_id = normalize_id(str(rec.get("arxiv") or ""))
        source = collapse(str(rec.get("source") or "")).lower()
        score = _number(rec.get("score"))
        if not arxiv_id:
            errors.append(f"{where}: 'arxiv' is not an arXiv id or link: {rec.get('arxiv')!r}")
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,30}", source) or source in RESERVED:
            errors.append(f"{where}: 'source' must be a short lowercase name other than {sorted(RESERVED)}")
            continue
        if score is None or score < 0:
            errors.append(f"{where}: 'score' must be a number >= 0")
            continue
        figures = {"score": score}
        for k, v in rec.items():
            n = _number(v)
            if k not in KNOWN and n is not None:
                figures[re.sub(r"[^a-z0-9_]", "_", k)] = n
        created = None
        if rec.get("created_at"):
            try:
                created = datetime.fromisoformat(str(rec["created_at"]).replace("Z", "+00:00"))
                created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
            except ValueError:
                errors.append(f"{where}: 'created_at' is not an ISO 8601 time")
                continue
        post_id = collapse(str(rec.get("post_id") or rec.get("url") or f"{arxiv_id}"))
        posts.append(Post(
            source=source, post_id=post_id, url=collapse(str(rec.get("url") or "")),
            author_handle=collapse(str(rec.get("author") or "")), author_name="",
            text=strip_control(str(rec.get("text") or "")), created_at=created, metrics=figures,
            collected_at=collected_at, arxiv_ids=(arxiv_id,),
        ))
    return posts, errors
