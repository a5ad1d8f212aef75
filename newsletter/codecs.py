"""How the domain model is written into the archive: times as ISO 8601 in
UTC, and papers, posts and ranked papers as JSON objects keyed by field name
(a new field with a default needs no change here; old rows without it
still load)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

from newsletter.models import Paper, Post, RankedPaper, SourceFigures


def to_iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime given to the archive")
    return dt.astimezone(timezone.utc).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def from_iso_required(value: str) -> datetime:
    """A time the schema requires (NOT NULL)."""
    return datetime.fromisoformat(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def ranked_to_json(rp: RankedPaper) -> dict[str, Any]:
    out: dict[str, Any] = _plain(rp)
    return out


def _paper(d: dict[str, Any]) -> Paper:
    return Paper(**{**d, "authors": tuple(d["authors"]), "categories": tuple(d["categories"]),
                    "submitted": from_iso(d.get("submitted")), "updated": from_iso(d.get("updated"))})


def _post(d: dict[str, Any]) -> Post:
    return Post(**{**d, "created_at": from_iso(d.get("created_at")),
                   "collected_at": from_iso_required(d["collected_at"]), "arxiv_ids": tuple(d["arxiv_ids"]),
                   "links": tuple(tuple(x) for x in d.get("links", ()))})


def _figures(d: dict[str, Any]) -> SourceFigures:
    return SourceFigures(**{**d, "collected_at": from_iso(d.get("collected_at"))})


def ranked_from_json(d: dict[str, Any]) -> RankedPaper:
    return RankedPaper(**{**d, "paper": _paper(d["paper"]), "figures": tuple(_figures(f) for f in d["figures"]),
                          "displayed_posts": tuple(_post(p) for p in d["displayed_posts"])})
