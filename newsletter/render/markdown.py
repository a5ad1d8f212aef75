"""The Hot Papers post: Markdown with front matter, in exactly the format of
the original blog (see tests/fixtures/hotpapers)."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timezone

from newsletter.models import Issue, Post
from newsletter.render.templates import environment
from newsletter.sources import REGISTRY
from newsletter.text import collapse


# what CommonMark would make raw HTML or a link of: a tag, a closing tag, a
# comment, a declaration, a processing instruction, or an autolink (<scheme:...>, <a@b>)
_RAW_HTML = re.compile(r"<(?=[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|/[A-Za-z]|!|\?|[A-Za-z][A-Za-z0-9+.\-]{1,31}:|[^\s<>@]+@)")


# what makes a link, an image or a link reference definition
_LINKISH = re.compile(r"(?<=\])(?=[(:\[])|(?<=!)(?=\[)")
# what would open a block at the start of a line: heading, quote, list, fence, rule
_BLOCK_START = re.compile(r"^[#>+\-*=_~`|]")
_ORDERED_LIST = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?")


def md_text(value: str | None) -> str:
    """Outside text on one line that stays text in the post: it cannot open
    HTML, an autolink, a link, an image, a link definition or a block. Only
    what would be active is escaped, so maths such as ``a<b`` or ``<=`` and
    ordinary brackets read as the original posts have them."""
    text = _RAW_HTML.sub("&lt;", collapse(value))
    text = _LINKISH.sub("\\\\", text)
    text = _ORDERED_LIST.sub(r"\1\\\2", text)
    return "\\" + text if _BLOCK_START.match(text) else text


def md_category(term: str) -> str:
    """A category link; a term that is not an arXiv category is shown as text."""
    if _CATEGORY.fullmatch(term):
        return f"[{term}](https://arxiv.org/list/{term}/recent)"
    return md_text(term)


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


def plain_quote(post: Post) -> str:
    """A post of a source without a markup of its own: a plain quote, no widgets."""
    when = post.created_at.strftime("%B %-d, %Y") if post.created_at else ""
    text = html.escape(collapse(post.text)).replace("\n", "<br>")
    who = html.escape(collapse(post.author_name) or post.author_handle)
    handle = f" (@{html.escape(post.author_handle)})" if post.author_handle else ""
    return (f'<blockquote class="{html.escape(post.source)}-post"><p>{text}</p>&mdash; {who}{handle} '
            f'<a href="{html.escape(post.url)}">{when}</a></blockquote>\n')


def embed(post: Post) -> str:
    """How a displayed post appears in the post: its source's own markup
    (e.g. an embed) when the source has one, a plain quote otherwise."""
    source = REGISTRY.get(post.source)
    return source.post_markup(post) if source is not None and source.post_markup else plain_quote(post)


def figure_line(source: str, totals: dict[str, int], collected: datetime | None) -> str:
    s = REGISTRY.get(source)
    fmt = s.figure_line if s else md_text(source) + ": " + ", ".join(f"{k}: {{{k}}}" for k in sorted(totals))
    values = {k: totals.get(k, 0) for k in re.findall(r"{(\w+)}", fmt)}
    return f"- {fmt.format(**values)} ({counts_time(collected)})"


def render_post(issue: Issue, templates_dir: str | None = None) -> str:
    env = environment(templates_dir)
    env.filters.setdefault("md", md_text)
    template = env.get_template("post.md.j2")
    return template.render(
        issue=issue,
        title=yaml_scalar(f"{issue.title} {issue.key}"),
        description=json.dumps(f"{issue.title[:1]}{issue.title[1:].lower()} {issue.key}"),
        post_slug=f"hot-papers-of-the-week-{issue.week.lower()}" if issue.week else issue.slug,
        created=front_matter_time(issue.created_at),
        md=md_text,
        md_category=md_category,
        embed=embed,
        figure_line=figure_line,
        notes=[json.dumps(collapse(n), ensure_ascii=False) for n in issue.notes],
        source_tags=source_tags(issue),
    )


def source_tags(issue: Issue) -> list[str]:
    """The front matter's tags of the sources whose figures the issue shows,
    in the registry's order (quoted YAML strings)."""
    used = {f.source for rp in issue.papers for f in rp.figures}
    return [json.dumps(s.post_tag, ensure_ascii=False) for s in REGISTRY.values() if s.post_tag and s.name in used]


def post_filename(issue_date: date) -> str:
    return f"{issue_date.isoformat()}---Hot-Papers.md"
