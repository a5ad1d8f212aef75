"""Small text helpers shared by the HTML renderers (feeds, email, site);
what each source is called and shows comes from the registry."""

from __future__ import annotations

from collections.abc import Iterable

from newsletter.models import Post, SourceFigures
from newsletter.sources import REGISTRY
from newsletter.text import collapse


def source_label(source: str) -> str:
    s = REGISTRY.get(source)
    return s.label if s else source


def counted(n: int, plural: str) -> str:
    """'1 reply', '2 replies', '1 like': a figure with its word, in the right number."""
    if n != 1:
        return f"{n} {plural}"
    if plural.endswith("ies"):
        return f"1 {plural[:-3]}y"
    return f"1 {plural[:-1]}" if plural.endswith("s") else f"1 {plural}"


def _shown(source: str, totals: Iterable[str]) -> tuple[tuple[str, str], ...]:
    s = REGISTRY.get(source)
    return s.shown if s else tuple((k, k) for k in sorted(totals) if k != "posts")


def figures_text(f: SourceFigures) -> str:
    """'<source label>: 156 reposts, 694 likes, 12 replies, 3 quotes (7 posts)'."""
    shown = _shown(f.source, f.totals)
    # the figures that make the score always show; the others when non-zero
    parts = [counted(f.totals.get(k, 0), label) for i, (k, label) in enumerate(shown) if i < 2 or f.totals.get(k)]
    posts = f.totals.get("posts", 0)
    s = REGISTRY.get(f.source)
    tail = f" ({posts} post{'s' if posts != 1 else ''})" if s and s.quotable and posts else ""
    return f"{source_label(f.source)}: {', '.join(parts)}{tail}"


def post_counts(p: Post) -> str:
    s = REGISTRY.get(p.source)
    shown = s.shown if s else ()
    return ", ".join(counted(p.metric(k), label) for i, (k, label) in enumerate(shown)
                     if k in p.metrics and (i < 2 or p.metric(k)))


def post_author(p: Post) -> str:
    name = collapse(p.author_name)
    handle = f"@{collapse(p.author_handle)}" if p.author_handle else ""
    return " ".join(x for x in (name, handle) if x) or source_label(p.source)


def authors_short(authors: Iterable[str], limit: int = 5) -> str:
    authors = authors if isinstance(authors, (list, tuple)) else list(authors)
    return ", ".join(collapse(a) for a in authors[:limit]) + (" et al." if len(authors) > limit else "")
