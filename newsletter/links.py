"""Recognising arXiv papers in links, whatever form the link takes."""

from __future__ import annotations

import re
from functools import lru_cache

# ASCII digits only (no full-width ones), and an id ends where its digits end:
# arxiv.org/abs/2102.034061 is no link to 2102.03406
_NEW_ID = r"[0-9]{4}\.[0-9]{4,5}(?![0-9])"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/[0-9]{7}(?![0-9])"
_PAPER_PAGES = (r"arxiv\.org/(?:abs|pdf|html|format|ps)", r"alphaxiv\.org/(?:abs|overview)")


@lru_cache(maxsize=1)
def _link() -> re.Pattern[str]:
    """arXiv's pages of a paper, alphaXiv's, and those the registered sources
    declare (``Source.paper_paths``); made on first use, when the registry is loaded."""
    from newsletter.sources import REGISTRY

    pages = _PAPER_PAGES + tuple(p for s in REGISTRY.values() for p in s.paper_paths)
    return re.compile(
        # the host starts at a boundary: notarxiv.org or arxiv.org.evil.test are not arXiv
        r"(?<![\w.\-@])(?:https?://)?(?:www\.|export\.|browse\.)?"
        rf"(?:{'|'.join(pages)})/(?P<id>{_NEW_ID}|{_OLD_ID})(?:v[0-9]+)?(?!\w)",
        re.IGNORECASE | re.ASCII,
    )


def arxiv_ids_in(text: str | None) -> list[str]:
    """Every distinct arXiv id (without version) linked in ``text``, in order."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for m in _link().finditer(text):
        seen.setdefault(m.group("id"), None)
    return list(seen)


def split_version(raw: str) -> tuple[str, int]:
    """'2006.15055v2' -> ('2006.15055', 2); a bare id has version 1."""
    raw = raw.strip()
    m = re.match(rf"^(?:arXiv:)?({_NEW_ID}|{_OLD_ID})(?:v([0-9]{{1,3}}))?$", raw, re.IGNORECASE | re.ASCII)
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
