"""The daily issue as an email: responsive HTML (Jinja2 -> MJML -> HTML with
mjml-python) and a plain-text part from its own template.

MJML inlines its own component styles. The rules for our HTML inside
``mj-text`` (``email.inline.css``) are inlined by css-inline in one targeted
pass that keeps the <style> blocks (and so the responsive and dark-mode
rules) untouched; no whole-document inlining. One way for every template:
Jinja, then MJML, then css-inline. An issue is rendered once per distinct
reader selection, not per reader, so this costs milliseconds a send.
"""

from __future__ import annotations

import re
from html import escape as html_escape
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from functools import lru_cache
from pathlib import Path

import css_inline
import jinja2
from mjml import mjml2html

from newsletter.models import Figure, Issue, Post, RankedPaper, issue_url
from newsletter.render.common import (authors_short, badge, figures_text, post_author, post_counts, post_html,
                                      post_plain)
from newsletter.render.templates import bundled_dir, environment
from newsletter.text import collapse, cut_at_word, strip_control
from newsletter.render.tex import plain

if TYPE_CHECKING:
    from newsletter.config import Config

# delivery replaces these with each recipient's own links
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/%%UNSUBSCRIBE%%"
PREFERENCES_PLACEHOLDER = "https://preferences.invalid/%%PREFERENCES%%"
COLOR_SCHEME_META = '<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">'
INLINE_CSS = "email.inline.css"


@dataclass(frozen=True)
class EmailSettings:
    title: str
    subject: str
    max_papers: int
    abstract_chars: int
    posts_per_paper: int
    site_url: str
    feed_url: str
    template: str
    text_template: str

    @classmethod
    def from_config(cls, cfg: Config, weekly: bool = False) -> "EmailSettings":
        e = cfg.email
        return cls(
            title=f"{cfg.title} of the Week" if weekly else cfg.title, subject=cfg.weekly.subject if weekly else e.subject,
            max_papers=cfg.weekly.max_papers if weekly else e.max_papers, abstract_chars=e.abstract_chars,
            posts_per_paper=e.posts_per_paper, site_url=cfg.site_url, feed_url=f"{cfg.feeds_base_url}/papers.atom",
            template=str(cfg.resolve(e.template)) if e.template else "",
            text_template=str(cfg.resolve(e.text_template)) if e.text_template else "",
        )


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    preheader: str

    def for_recipient(self, unsubscribe_url: str, preferences_url: str = "") -> "RenderedEmail":
        """The same email with a recipient's own unsubscribe and preference links."""
        prefs = preferences_url or unsubscribe_url
        html = self.html.replace(UNSUBSCRIBE_PLACEHOLDER, html_escape(unsubscribe_url))
        text = self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
        return RenderedEmail(self.subject, html.replace(PREFERENCES_PLACEHOLDER, html_escape(prefs)),
                             text.replace(PREFERENCES_PLACEHOLDER, prefs), self.preheader)


def subject_line(issue: Issue, template: str, papers: tuple[RankedPaper, ...] | None = None) -> str:
    """The subject: ``papers`` (a reader's own selection) name their own top
    paper and count; the whole issue names its top paper and all its papers."""
    chosen = issue.papers if papers is None else papers
    top = plain(chosen[0].paper.title) if chosen else ""
    subject = template.format(title=issue.title, date=issue.date.isoformat(), week=issue.week, top_title=top,
                              count=len(chosen))
    return collapse(subject)  # never CR/LF in a header


def preheader(issue: Issue, shown: list[RankedPaper], limit: int = 140) -> str:
    text = " · ".join(plain(rp.paper.title) for rp in shown[:3])
    return cut_at_word(re.sub(r"[<>&]", " ", text), limit)


def _wrap(text: str, width: int = 72, prefix: str = "") -> str:
    """Greedy word wrap (what textwrap.fill does here, without breaking words
    or at hyphens): each line takes as many words as fit in ``width`` with its
    prefix; a longer word stands alone. One regex over the collapsed text (the
    text part wraps ~150 paragraphs a render; a Python loop over the words was
    most of its time)."""
    flat = " ".join(text.split())
    if not flat:
        return prefix.rstrip()
    room = width - len(prefix)
    if len(flat) <= room:
        return prefix + flat
    return "\n".join(prefix + (m[1] or m[2]) for m in _line_re(max(room, 1)).finditer(flat))


@lru_cache(maxsize=16)
def _line_re(room: int) -> re.Pattern[str]:
    return re.compile(r"(.{1,%d})(?: |$)|(\S+)(?: |$)" % room)


@lru_cache(maxsize=8)
def _inliner(css_path: str) -> css_inline.CSSInliner:
    rules = Path(css_path).read_text(encoding="utf-8")
    return css_inline.CSSInliner(inline_style_tags=False, keep_style_tags=True, extra_css=rules,
                                 load_remote_stylesheets=False)


def _template(path: str, default: str, templates_dir: str | None) -> jinja2.Template:
    if path:
        p = Path(path)
        return environment(str(p.parent)).get_template(p.name)
    return environment(templates_dir).get_template(default)


def _css_path(templates_dir: str | None) -> str:
    if templates_dir and (Path(templates_dir) / INLINE_CSS).exists():
        return str(Path(templates_dir) / INLINE_CSS)
    return str(bundled_dir() / INLINE_CSS)


@dataclass(frozen=True)
class PostView:
    text: str  # for the text part: links in full
    author: str
    counts: str
    url: str
    html: Any = ""  # for the HTML part: links expanded and linked (Markup)


@dataclass(frozen=True)
class PaperView:
    """What the email shows of a paper, computed once for both parts (the
    templates read fields instead of calling helpers: a third of the render)."""

    rp: RankedPaper
    rank: int
    abs_url: str
    pdf_url: str
    title: str
    authors: str
    figures: tuple[str, ...]
    categories: str
    abstract: str
    posts: tuple[PostView, ...]
    mailing_date: Any = None
    late: bool = False
    attention: tuple[tuple[str, str], ...] = ()  # each source's badge ("X 2,638") and its full figures
    summary: str = ""  # a language model's sentence (enrich), shown as such
    image: ImageView | None = None


@dataclass(frozen=True)
class ImageView:
    """A paper's figure as the email shows it: a JPEG on the site, sized to fit."""

    url: str
    width: int
    height: int
    alt: str

    @classmethod
    def of(cls, fig: Figure, site_url: str, title: str) -> "ImageView":
        width = min(fig.width, 520 if fig.width >= fig.height else 240)
        return cls(f"{site_url.rstrip('/')}/{fig.jpeg}", width, max(1, round(fig.height * width / fig.width)),
                   f"{fig.what} of {title}")


def paper_views(issue: Issue, shown: list[RankedPaper], s: EmailSettings) -> list[PaperView]:
    out = []
    for rp in shown:
        p = rp.paper
        posts = tuple(PostView(post_plain(x), post_author(x), post_counts(x), x.url, post_html(x))
                      for x in rp.displayed_posts[: s.posts_per_paper])
        out.append(PaperView(
            rp, rp.rank, p.abs_url, p.pdf_url, title=plain(p.title), authors=authors_short(p.authors),
            figures=tuple(figures_text(f) for f in rp.figures), categories=", ".join(p.categories),
            abstract=cut_at_word(plain(p.abstract), s.abstract_chars) if p.abstract else "", posts=posts,
            mailing_date=issue.mailing_date(p.arxiv_id) if issue.week else None,
            late=issue.is_late(p.arxiv_id) if issue.week else False,
            attention=tuple((f"{b.short} {b.count}", b.text) for b in map(badge, rp.figures)),
            summary=collapse(issue.summaries.get(p.arxiv_id, "")),
            image=ImageView.of(fig, s.site_url, plain(p.title) or p.arxiv_id) if (fig := issue.figures.get(p.arxiv_id))
            else None))
    return out


def _mjml_inlined(mjml_source: str, css_path: str) -> str:
    """MJML to HTML, our rules inlined, the colour-scheme meta tags added."""
    html = _inliner(css_path).inline(mjml2html(mjml_source, disable_comments=True, fonts={}))
    return html.replace("<head>", "<head>" + COLOR_SCHEME_META, 1)


def render_email(issue: Issue, s: EmailSettings, templates_dir: str | None = None,
                 unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER, *, papers: tuple[RankedPaper, ...] | None = None,
                 filtered_by: str = "") -> RenderedEmail:
    """The issue's email; with ``papers``, a reader's own selection of it
    (``filtered_by`` says how), still counting the whole issue's papers."""
    shown = list(issue.papers[: s.max_papers] if papers is None else papers)

    def posts(rp: RankedPaper) -> list[Post]:
        return list(rp.displayed_posts[: s.posts_per_paper])

    context = dict(
        issue=issue, shown=shown, items=paper_views(issue, shown, s), title=s.title,
        subject=subject_line(issue, s.subject, papers), preheader=preheader(issue, shown),
        preheader_line=f"{s.title} · {issue.week}" if issue.week else f"{s.title} · {issue.date:%A %-d %B %Y}",
        web_url=issue_url(s.site_url, issue), feed_url=s.feed_url, unsubscribe_url=unsubscribe_url,
        preferences_url=PREFERENCES_PLACEHOLDER, filtered_by=collapse(filtered_by), personal=papers is not None,
        clean=collapse, authors=authors_short, figures_text=figures_text, post_author=post_author,
        post_counts=post_counts, posts=posts, cut=lambda t: cut_at_word(t, s.abstract_chars), wrap=_wrap,
    )
    mjml_template = _template(s.template, "email.mjml.j2", templates_dir)
    html = _mjml_inlined(strip_control(mjml_template.render(**context)), _css_path(templates_dir))
    text = strip_control(_template(s.text_template, "email.txt.j2", templates_dir).render(**context))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    text = text.strip() + "\n"
    return RenderedEmail(str(context["subject"]), html, text, str(context["preheader"]))


_BLANK_LINES = re.compile(r"\n{3,}")
