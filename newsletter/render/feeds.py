"""Atom, RSS 2.0 and JSON Feed 1.1 for feed readers.

Two families: ``papers.*`` (one entry per ranked paper per issue) and
``daily.*`` (one entry per issue with the whole digest). Everything is a pure
function of the issues, so rebuilding gives the same bytes: no clock, explicit
``updated`` times, entries appended in order (feedgen prepends by default).
"""

from __future__ import annotations

import html as htmlmod
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from feedgen.entry import FeedEntry
from markupsafe import Markup
from feedgen.feed import FeedGenerator

from newsletter import __version__
from newsletter.models import Issue, RankedPaper, issue_url, paper_url
from newsletter.render.common import authors_short, figures_text, post_author, post_counts, post_html
from newsletter.render.templates import environment
from newsletter.text import collapse, strip_control
from newsletter.render.tex import plain

if TYPE_CHECKING:
    from newsletter.config import Config

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR_URI = "https://pypi.org/project/newsletter/"


@dataclass(frozen=True)
class FeedSettings:
    title: str
    subtitle: str
    icon: str
    author_name: str
    author_email: str
    site_url: str
    base_url: str
    newsletter_title: str

    @classmethod
    def from_config(cls, cfg: Config) -> "FeedSettings":
        f = cfg.feeds
        title = collapse(f.title) or cfg.title
        return cls(
            title=title,
            subtitle=collapse(f.subtitle) or "The arXiv papers people talked about, every mailing day",
            icon=f.icon,
            author_name=collapse(f.author_name) or title,
            author_email=f.author_email,
            site_url=cfg.site_url,
            base_url=cfg.feeds_base_url,
            newsletter_title=cfg.title,
        )

    @property
    def host(self) -> str:
        return urlsplit(self.site_url).hostname or "localhost"


def paper_id(s: FeedSettings, issue: Issue, rp: RankedPaper) -> str:
    """Stable and unique per (issue, paper): a tag URI (RFC 4151)."""
    return f"tag:{s.host},{issue.date.isoformat()}:{rp.paper.arxiv_id}"


def issue_id(s: FeedSettings, issue: Issue) -> str:
    return f"tag:{s.host},{issue.date.isoformat()}:{issue.slug}"


class _Entry(FeedEntry):  # type: ignore[misc]  # feedgen has no type information
    """feedgen 1.0 writes Atom entry links without their rel/type/title (the
    loop variable is shadowed), turning a PDF link into a second "alternate".
    Put the attributes back."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        links = [e for e in entry if isinstance(e.tag, str) and e.tag.rsplit("}", 1)[-1] == "link"]
        for element, data in zip(links, self.link() or []):
            for key in ("rel", "type", "hreflang", "title", "length"):
                if data.get(key):
                    element.set(key, str(data[key]))
        return entry


class _Html:
    """Renders the HTML bodies with the (autoescaping) templates."""

    def __init__(self, templates_dir: str | None, site_url: str):
        env = environment(templates_dir)
        self.globals = dict(clean=collapse, tex=plain, authors=authors_short, figures_text=figures_text,
                            post_author=post_author, post_counts=post_counts, post_html=post_html, site_url=site_url)
        self.paper_t = env.get_template("feed_paper.html.j2")
        self.daily_t = env.get_template("feed_daily.html.j2")

    def paper(self, issue: Issue, rp: RankedPaper) -> str:
        return strip_control(self.paper_t.render(issue=issue, rp=rp, **self.globals)).strip()

    def daily(self, issue: Issue, bodies: dict[str, str] | None = None) -> str:
        """The whole issue; ``bodies`` (the papers' HTML from ``paper``, a
        daily issue's only) are reused instead of rendered again."""
        extra = {"paper_body": lambda rp: Markup(bodies[rp.paper.arxiv_id])} if bodies and not issue.week else {}
        return strip_control(self.daily_t.render(issue=issue, **self.globals, **extra)).strip()


def _feed_title(s: FeedSettings, name: str) -> str:
    return {"papers": s.title, "daily": f"{s.title}: daily digest", "weekly": f"{s.title} of the Week"}.get(
        name, s.title)


def _generator(s: FeedSettings, name: str, kind: str, updated: Any) -> FeedGenerator:
    fg = FeedGenerator()
    self_url = f"{s.base_url}/{name}.{kind}"
    fg.id(self_url)
    fg.title(_feed_title(s, name))
    fg.subtitle(s.subtitle)  # also the RSS description
    # RSS takes the channel <link> from the last link() call: self first, alternate last
    fg.link(href=self_url, rel="self", type="application/atom+xml" if kind == "atom" else "application/rss+xml")
    fg.link(href=s.site_url + "/", rel="alternate", type="text/html")
    author = {"name": s.author_name}
    if s.author_email:
        author["email"] = s.author_email
    fg.author(author)
    if s.icon:
        fg.icon(s.icon)
        fg.logo(s.icon)
    fg.generator("newsletter", version=__version__, uri=GENERATOR_URI)
    fg.language("en")
    fg.updated(updated)
    if kind == "rss":
        fg.lastBuildDate(updated)
        fg.pubDate(updated)
    return fg


def _paper_entry(fg: FeedGenerator, s: FeedSettings, issue: Issue, rp: RankedPaper, html: str, kind: str) -> None:
    p = rp.paper
    fe = fg.add_entry(_Entry(), order="append")
    fe.id(paper_id(s, issue, rp))
    fe.title(plain(p.title) or p.arxiv_id)
    page = paper_url(s.site_url, p.arxiv_id)
    if kind == "rss":
        fe.guid(paper_id(s, issue, rp), permalink=False)
        fe.enclosure(p.pdf_url, 0, "application/pdf")
        fe.link(href=page, rel="alternate")
    else:
        fe.link(href=page, rel="alternate", type="text/html")
        fe.link(href=p.abs_url, rel="related", type="text/html", title="arXiv")
        fe.link(href=p.pdf_url, rel="related", type="application/pdf", title="PDF")
    for a in p.authors:
        if collapse(a):
            fe.author({"name": collapse(a)})
    for c in p.categories:
        fe.category(term=c, label=c)
    when = issue.created_at.astimezone(timezone.utc)
    fe.published(when)
    fe.updated(when)
    fe.summary(_summary(plain(p.abstract) or plain(p.title), kind))
    fe.content(html, type="html")


def _daily_entry(fg: FeedGenerator, s: FeedSettings, issue: Issue, html: str, kind: str) -> None:
    fe = fg.add_entry(_Entry(), order="append")
    fe.id(issue_id(s, issue))
    fe.title(f"{issue.title} {issue.key}")
    if kind == "rss":
        fe.guid(issue_id(s, issue), permalink=False)
    fe.link(href=issue_url(s.site_url, issue), rel="alternate", type="text/html")
    when = issue.created_at.astimezone(timezone.utc)
    fe.published(when)
    fe.updated(when)
    fe.summary(_summary(_digest_summary(issue), kind))
    fe.content(html, type="html")


def _summary(text: str, kind: str) -> str:
    """Atom's summary is typed text; RSS readers parse <description> as HTML,
    so there the text is HTML-escaped (``$a<b$`` and ``<script>`` stay text)."""
    return htmlmod.escape(text, quote=False) if kind == "rss" else text


def _digest_summary(issue: Issue) -> str:
    titles = "; ".join(plain(rp.paper.title) for rp in issue.papers[:3])
    return f"{len(issue.papers)} hot papers: {titles}"


def feed_bytes(fg: FeedGenerator, kind: str) -> bytes:
    data: bytes = fg.atom_str(pretty=True) if kind == "atom" else fg.rss_str(pretty=True)
    return data


def _json_feed(s: FeedSettings, name: str, items: list[dict[str, Any]]) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": _feed_title(s, name),
        "home_page_url": s.site_url + "/",
        "feed_url": f"{s.base_url}/{name}.json",
        "description": s.subtitle,
        "authors": [{"name": s.author_name}],
        "language": "en",
        "items": items,
    }
    if s.icon:
        feed["icon"] = s.icon
        feed["favicon"] = s.icon
    return (json.dumps(feed, ensure_ascii=False) + "\n").encode("utf-8")  # compact: C encoder, 10x faster


def render_feeds(issues: list[Issue], s: FeedSettings, templates_dir: str | None = None) -> dict[str, bytes]:
    """The six feed files for ``issues`` (newest first), as bytes by file name."""
    if not issues:
        return {}
    html = _Html(templates_dir, s.site_url)
    updated = max(i.created_at for i in issues).astimezone(timezone.utc)
    paper_html = {(i.date, rp.paper.arxiv_id): html.paper(i, rp) for i in issues for rp in i.papers}
    daily_html = {i.date: html.daily(i, {rp.paper.arxiv_id: paper_html[(i.date, rp.paper.arxiv_id)] for rp in i.papers})
                  for i in issues}
    out: dict[str, bytes] = {}
    for kind in ("atom", "rss"):
        papers = _generator(s, "papers", kind, updated)
        daily = _generator(s, "daily", kind, updated)
        for issue in issues:
            for rp in issue.papers:
                _paper_entry(papers, s, issue, rp, paper_html[(issue.date, rp.paper.arxiv_id)], kind)
            _daily_entry(daily, s, issue, daily_html[issue.date], kind)
        out[f"papers.{kind}"] = feed_bytes(papers, kind)
        out[f"daily.{kind}"] = feed_bytes(daily, kind)
    out["papers.json"] = _json_feed(s, "papers", [
        _json_paper(s, i, rp, paper_html[(i.date, rp.paper.arxiv_id)]) for i in issues for rp in i.papers])
    out["daily.json"] = _json_feed(s, "daily", [_json_daily(s, i, daily_html[i.date]) for i in issues])
    return out


def _json_paper(s: FeedSettings, issue: Issue, rp: RankedPaper, html: str) -> dict[str, Any]:
    p = rp.paper
    when = issue.created_at.astimezone(timezone.utc).isoformat()
    return {
        "id": paper_id(s, issue, rp),
        "url": paper_url(s.site_url, p.arxiv_id),
        "external_url": p.abs_url,
        "title": plain(p.title) or p.arxiv_id,
        "content_html": html,
        "summary": plain(p.abstract),
        "date_published": when,
        "date_modified": when,
        "authors": [{"name": collapse(a)} for a in p.authors if collapse(a)],
        "tags": list(p.categories),
        "attachments": [{"url": p.pdf_url, "mime_type": "application/pdf", "title": "PDF"}],
    }


def _json_daily(s: FeedSettings, issue: Issue, html: str) -> dict[str, Any]:
    when = issue.created_at.astimezone(timezone.utc).isoformat()
    return {
        "id": issue_id(s, issue),
        "url": issue_url(s.site_url, issue),
        "title": f"{issue.title} {issue.key}",
        "content_html": html,
        "summary": _digest_summary(issue),
        "date_published": when,
        "date_modified": when,
    }


def render_digest_feeds(issues: list[Issue], s: FeedSettings, name: str, templates_dir: str | None = None
                        ) -> dict[str, bytes]:
    """``{name}.atom``, ``.rss`` and ``.json``: one entry per issue holding it all
    (the weekly issues' feeds; the daily digest is made with the paper feeds)."""
    if not issues:
        return {}
    html = _Html(templates_dir, s.site_url)
    updated = max(i.created_at for i in issues).astimezone(timezone.utc)
    bodies = {i.key: html.daily(i) for i in issues}
    out: dict[str, bytes] = {}
    for kind in ("atom", "rss"):
        fg = _generator(s, name, kind, updated)
        for issue in issues:
            _daily_entry(fg, s, issue, bodies[issue.key], kind)
        out[f"{name}.{kind}"] = feed_bytes(fg, kind)
    out[f"{name}.json"] = _json_feed(s, name, [_json_daily(s, i, bodies[i.key]) for i in issues])
    return out


CATEGORY_FEED_ENTRIES = 50


def render_category_feeds(term: str, hits: list[Any], s: FeedSettings) -> dict[str, bytes]:
    """``category/{term}.atom`` and ``.rss``: a category's newest hot papers,
    each linking to the paper on its issue's page. ``hits`` are
    (IssueEntry, PaperEntry) pairs, newest first (see render/site.py)."""
    from urllib.parse import quote

    hits = hits[:CATEGORY_FEED_ENTRIES]
    name = f"category/{quote(term, safe='')}"
    updated = datetime.combine(hits[0][0].day, datetime.min.time(), timezone.utc) if hits else datetime(
        1970, 1, 1, tzinfo=timezone.utc)
    out: dict[str, bytes] = {}
    for kind in ("atom", "rss"):
        fg = _generator(s, name, kind, updated)
        fg.title(f"{s.title}: {term}")
        for e, p in hits:
            fe = fg.add_entry(_Entry(), order="append")
            entry_id = f"tag:{s.host},{e.day.isoformat()}:{p.arxiv_id}"
            link = paper_url(s.site_url, p.arxiv_id)
            fe.id(entry_id)
            fe.title(plain(p.title))
            if kind == "rss":
                fe.guid(entry_id, permalink=False)
                fe.link(href=link, rel="alternate")
            else:
                fe.link(href=link, rel="alternate", type="text/html")
                fe.link(href=f"https://arxiv.org/abs/{p.arxiv_id}", rel="related", type="text/html", title="arXiv")
            fe.author({"name": p.authors or s.author_name})
            for c in p.categories:
                fe.category(term=c, label=c)
            when = datetime.combine(e.day, datetime.min.time(), timezone.utc)
            fe.published(when)
            fe.updated(when)
            summary = f"#{p.rank} in {s.newsletter_title} {e.day.isoformat()}, {p.score:g} points. {p.authors}"
            fe.summary(_summary(summary, kind))
        out[f"{name}.{kind}"] = feed_bytes(fg, kind)
    return out
