"""Small text helpers shared by the HTML renderers (feeds, email, site);
what each source is called and shows comes from the registry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

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


GENERIC_ICON = "M2 3h12v8H6.5L3.5 14v-3H2z"  # a speech bubble: a source without an icon of its own


@dataclass(frozen=True)
class Badge:
    """A source's attention on one paper, compact: icon, short name, number
    ("HN 412"); ``text`` says it in full for tooltips and screen readers."""

    source: str
    short: str
    count: str
    text: str


def badge(f: SourceFigures) -> Badge:
    s = REGISTRY.get(f.source)
    figures = s.score if s else tuple(k for k in f.totals if k != "posts")
    return Badge(f.source, (s.badge or s.label) if s else collapse(f.source)[:20],
                 f"{sum(f.totals.get(k, 0) for k in figures):,}", figures_text(f))


def icons() -> list[tuple[str, str]]:
    """(id, path) of every badge icon, for a page's SVG sprite."""
    return [(name, s.icon or GENERIC_ICON) for name, s in REGISTRY.items()] + [("other", GENERIC_ICON)]


def icon_id(source: str) -> str:
    return source if source in REGISTRY else "other"


def post_counts(p: Post) -> str:
    s = REGISTRY.get(p.source)
    shown = s.shown if s else ()
    return ", ".join(counted(p.metric(k), label) for i, (k, label) in enumerate(shown)
                     if k in p.metrics and (i < 2 or p.metric(k)))


_URL = re.compile("|".join([r"https?://[^\s<>\"]+"] + [s.bare_links for s in REGISTRY.values() if s.bare_links]))
_MEDIA = re.compile("|".join(f"(?:{s.picture_links})" for s in REGISTRY.values() if s.picture_links) or r"(?!)",
                    re.IGNORECASE)
_SHORTENERS = ("t.co", "bit.ly", "buff.ly", "ow.ly", "tinyurl.com", "dlvr.it")


def _display(url: str, limit: int = 40) -> str:
    """A link as people write it: no scheme, no www., shortened."""
    bare = re.sub(r"(?i)^https?://(www\.)?", "", url).rstrip("/")
    return bare if len(bare) <= limit else bare[: limit - 1] + "…"


def post_pieces(p: Post) -> list[tuple[str, str]]:
    """A post's text as (text, link) pieces: each short link replaced by what it
    stands for (``Post.links``, from X's entities), shortened for display;
    pictures as "[image]"; a short link nothing expands as "[link]"."""
    text = collapse(p.text)
    known = {short: (target, display) for short, target, display in p.links}
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}\"'’”")
        out.append((text[pos:m.start()], ""))
        href = url if url.lower().startswith(("http://", "https://")) else f"https://{url}"
        if url in known:
            href, display = known[url]
            label = "[image]" if _MEDIA.match(href) else (display or _display(href))
        elif _MEDIA.match(url):
            label = "[image]"
        elif re.sub(r"(?i)^https?://", "", url).split("/")[0].lower() in _SHORTENERS:
            label = "[link]"
        else:
            label = _display(url)
        out.append((label, href))
        pos = m.start() + len(url)
    out.append((text[pos:], ""))
    return [(t, h) for t, h in out if t]


def post_html(p: Post) -> Markup:
    """A post's text for a page: links expanded and linked, everything else text."""
    return Markup("").join(Markup('<a href="{}">{}</a>').format(h, t) if h else t for t, h in post_pieces(p))


def post_plain(p: Post) -> str:
    """A post's text for plain-text email: every link spelled out in full."""
    return collapse("".join(h or t for t, h in post_pieces(p)))


def post_author(p: Post) -> str:
    name = collapse(p.author_name)
    handle = f"@{collapse(p.author_handle)}" if p.author_handle else ""
    return " ".join(x for x in (name, handle) if x) or source_label(p.source)


def authors_short(authors: Iterable[str], limit: int = 5) -> str:
    authors = authors if isinstance(authors, (list, tuple)) else list(authors)
    return ", ".join(collapse(a) for a in authors[:limit]) + (" et al." if len(authors) > limit else "")
