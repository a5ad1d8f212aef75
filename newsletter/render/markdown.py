"""The Hot Papers post: Markdown with front matter, in exactly the format of
the original blog (see tests/fixtures/hotpapers)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone

from newsletter.models import Issue, Post
from newsletter.render.templates import environment
from newsletter.text import collapse

WIDGETS = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
# how each source's figures are spelled in the post; X keeps the original line
FIGURE_LINES = {
    "x": "retweets: {retweets}, favorites: {likes}",
    "huggingface": "huggingface: upvotes: {upvotes}, comments: {comments}",
    "hackernews": "hackernews: points: {points}, comments: {comments}",
    "bluesky": "bluesky: reposts: {reposts}, likes: {likes}, replies: {replies}, quotes: {quotes}",
}


# what CommonMark would pass through as raw HTML: a tag, a closing tag, a
# comment, a declaration or a processing instruction
_RAW_HTML = re.compile(r"<(?=[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|/[A-Za-z]|!|\?)")


def md_text(value: str | None) -> str:
    """Outside text on one line that cannot open HTML in the post. Only a
    ``<`` that would start markup is escaped, so maths such as ``a<b`` or
    ``<=`` reads as the original posts have it."""
    return _RAW_HTML.sub("&lt;", collapse(value))


def yaml_scalar(value: str) -> str:
    """Plain when safe (as the original posts have it), else a quoted string."""
    value = collapse(value)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._\-]*", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def counts_time(dt: datetime | None) -> str:
    return dt.astimezone(timezone.utc).strftime("%m/%d/%Y %H:%M:%S") if dt else ""


def front_matter_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.Z")


def static_embed(post: Post) -> str:
    """A tweet quote in oEmbed's shape, built from archived data, for posts
    whose oEmbed HTML could not be had. Everything is escaped."""
    when = post.created_at.strftime("%B %-d, %Y") if post.created_at else ""
    text = html.escape(collapse(post.text)).replace("\n", "<br>")
    who = html.escape(collapse(post.author_name) or post.author_handle)
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {who} '
        f'(@{html.escape(post.author_handle)}) <a href="{html.escape(post.url)}">{when}</a></blockquote>\n'
        + WIDGETS
    )


def embed(post: Post) -> str:
    return post.embed_html or static_embed(post)


def figure_line(source: str, totals: dict[str, int], collected: datetime | None) -> str:
    fmt = FIGURE_LINES.get(source, source + ": " + ", ".join(f"{k}: {{{k}}}" for k in sorted(totals)))
    values = {k: totals.get(k, 0) for k in re.findall(r"{(\w+)}", fmt)}
    return f"- {fmt.format(**values)} ({counts_time(collected)})"


def render_post(issue: Issue, templates_dir: str | None = None) -> str:
    env = environment(templates_dir)
    env.filters.setdefault("md", md_text)
    template = env.get_template("post.md.j2")
    return template.render(
        issue=issue,
        title=yaml_scalar(f"{issue.title} {issue.date.isoformat()}"),
        description=json.dumps(f"{issue.title[:1]}{issue.title[1:].lower()} {issue.date.isoformat()}"),
        created=front_matter_time(issue.created_at),
        md=md_text,
        embed=embed,
        figure_line=figure_line,
        notes=[json.dumps(collapse(n), ensure_ascii=False) for n in issue.notes],
    )


def post_filename(issue_date) -> str:
    return f"{issue_date.isoformat()}---Hot-Papers.md"
