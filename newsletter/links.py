"""Recognising arXiv papers in links, whatever form the link takes."""

from __future__ import annotations

import re

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
_LINK = re.compile(
    r"(?:https?://)?(?:www\.|export\.|browse\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html|format|ps)|alphaxiv\.org/(?:abs|overview)|huggingface\.co/papers)/"
    rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v\d+)?",
    re.IGNORECASE,
)


def arxiv_ids_in(text: str | None) -> list[str]:
    """Every distinct arXiv id (without version) linked in ``text``, in order."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for m in _LINK.finditer(text):
        seen.setdefault(m.group("id"), None)
    return list(seen)


def split_version(raw: str) -> tuple[str, int]:
    """'2006.15055v2' -> ('2006.15055', 2); a bare id has version 1."""
    raw = raw.strip()
    m = re.match(rf"^(?:arXiv:)?({_NEW_ID}|{_OLD_ID})(?:v(\d+))?$", raw, re.IGNORECASE)
    if not m:
        raise ValueError(f"not an arXiv id: {raw!r}")
    return m.group(1), int(m.group(2) or 1)


def normalize_id(value: str) -> str | None:
    """An arXiv id from an id or a URL, without version; None if there is none."""
    try:
        return split_version(value)[0]
    except ValueError:
        ids = arxiv_ids_in(value)
        return ids[0] if ids else None
