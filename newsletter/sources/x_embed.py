"""How an X post appears in the Markdown post: its oEmbed blockquote (the one
piece of outside HTML we publish), or a static quote of the same shape built
from archived text when the embed is missing or unsafe.

An oEmbed blockquote It passes only if an allow-list sanitiser (nh3, i.e. ammonia on
a spec-compliant HTML5 parser) finds nothing to remove from it: the tree nh3
keeps must be the tree the original parses to. Anything else (event handlers,
``javascript:`` however encoded, svg, iframes, forms, base, meta, comments)
falls back to the static quote built from archived text."""

from __future__ import annotations

import html as htmlmod
import re

from newsletter.models import Post
from newsletter.text import collapse

# nh3 and lxml are imported where used: most runs (a build, a send) publish
# embeds that were checked when fetched, or none, and need neither

_TAG = re.compile(r"<[^>]*>")
WIDGETS = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
TAGS = {"blockquote", "p", "a", "br"}
ATTRIBUTES = {
    "blockquote": {"class", "data-lang", "data-theme", "data-dnt", "data-width", "data-conversation", "data-cards"},
    "p": {"lang", "dir"},
    "a": {"href"},
}


def _tree(fragment: str) -> list[tuple[object, ...]] | None:
    """A comparable form of an HTML fragment: (tag, attributes, text, tail) in
    document order, entities decoded."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        nodes = lxml_html.fragments_fromstring(fragment)
    except (etree.ParserError, ValueError):
        return None
    out: list[tuple[object, ...]] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(("#text", node.strip()))
            continue
        for el in node.iter():
            if not isinstance(el.tag, str):  # comments, processing instructions
                return None
            out.append((el.tag, tuple(sorted((k, v.strip()) for k, v in el.attrib.items())),
                         (el.text or "").strip(), (el.tail or "").strip()))
    return out


def safe_tweet_embed(markup: str | None) -> str | None:
    """``markup`` as it is (so real embeds stay byte for byte) when it is a
    tweet blockquote plus at most X's widgets.js and nothing unsafe; else None."""
    if not markup:
        return None
    body = markup.strip()
    while body.endswith(WIDGETS):
        body = body[: -len(WIDGETS)].rstrip()
    low = body.lower()
    if not low.startswith('<blockquote class="twitter-tweet"') or not low.endswith("</blockquote>"):
        return None
    if "<script" in low or "<!" in body or "<?" in body or "\x00" in body:
        return None
    # a backtick inside a tag could end an attribute value in old Internet Explorer;
    # in the text a tweet quotes ("`A Unifying...'") it is harmless and stays
    if any("`" in tag for tag in _TAG.findall(body)):
        return None
    import nh3
    from lxml import html as lxml_html

    clean = nh3.clean(body, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"https"}, link_rel=None,
                      strip_comments=True)
    original, kept = _tree(body), _tree(clean)
    if original is None or original != kept:
        return None
    for el in lxml_html.fragments_fromstring(body):
        for a in el.iter("a") if not isinstance(el, str) else ():
            href = htmlmod.unescape(a.get("href", "")).strip().lower()
            if not href.startswith("https://"):
                return None
    return markup if markup.endswith("\n") else markup + "\n"


def static_quote(post: Post) -> str:
    """A tweet quote in oEmbed's shape, built from archived data, for posts
    whose oEmbed HTML could not be had. Everything is escaped."""
    when = post.created_at.strftime("%B %-d, %Y") if post.created_at else ""
    text = htmlmod.escape(collapse(post.text)).replace("\n", "<br>")
    who = htmlmod.escape(collapse(post.author_name) or post.author_handle)
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {who} '
        f'(@{htmlmod.escape(post.author_handle)}) <a href="{htmlmod.escape(post.url)}">{when}</a></blockquote>\n'
        + WIDGETS + "\n"
    )


def post_markup(post: Post) -> str:
    """The archived oEmbed HTML if it still passes the sanitiser, else a static quote."""
    return safe_tweet_embed(post.embed_html) or static_quote(post)
