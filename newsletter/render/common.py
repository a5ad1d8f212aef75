"""Small text helpers shared by the HTML renderers (feeds, email)."""

from __future__ import annotations

from newsletter.models import Post, SourceFigures
from newsletter.text import collapse

SOURCE_LABELS = {"x": "X", "huggingface": "Hugging Face", "hackernews": "Hacker News", "bluesky": "Bluesky"}
# which figures each source shows, in order, with their plural names
SHOWN_FIGURES = {
    "x": (("retweets", "retweets"), ("likes", "likes"), ("replies", "replies"), ("quotes", "quotes")),
    "huggingface": (("upvotes", "upvotes"), ("comments", "comments")),
    "hackernews": (("points", "points"), ("comments", "comments")),
    "bluesky": (("reposts", "reposts"), ("likes", "likes"), ("replies", "replies"), ("quotes", "quotes")),
}


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def figures_text(f: SourceFigures) -> str:
    """'X: 156 retweets, 694 likes, 12 replies, 3 quotes (7 posts)'."""
    shown = SHOWN_FIGURES.get(f.source) or tuple((k, k) for k in sorted(f.totals) if k != "posts")
    # the figures that make the score always show; the others when non-zero
    parts = [f"{f.totals.get(k, 0)} {label}" for i, (k, label) in enumerate(shown) if i < 2 or f.totals.get(k)]
    posts = f.totals.get("posts", 0)
    tail = f" ({posts} post{'s' if posts != 1 else ''})" if f.source in ("x", "bluesky") and posts else ""
    return f"{source_label(f.source)}: {', '.join(parts)}{tail}"


def post_counts(p: Post) -> str:
    shown = SHOWN_FIGURES.get(p.source, ())
    return ", ".join(f"{p.metric(k)} {label}" for i, (k, label) in enumerate(shown)
                     if k in p.metrics and (i < 2 or p.metric(k)))


def post_author(p: Post) -> str:
    name = collapse(p.author_name)
    handle = f"@{p.author_handle}" if p.author_handle else ""
    return " ".join(x for x in (name, handle) if x) or source_label(p.source)


def authors_short(authors, limit: int = 5) -> str:
    authors = [collapse(a) for a in authors]
    return ", ".join(authors[:limit]) + (" et al." if len(authors) > limit else "")
