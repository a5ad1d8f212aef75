"""The website: a static folder that is the whole publication. Pure: issues
and their light summaries in, ``{relative path: bytes}`` out; which pages to
render is the pipeline's choice (everything on a first build, then only what a
new day changes). Links inside the site are relative, so it works under any
base path; canonical and card URLs are absolute."""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup

from newsletter.categories import groups as category_groups
from newsletter.categories import name as category_name
from newsletter.mailing import announced_at
from newsletter.models import Issue, IssueKey, Post, RankedPaper
from newsletter.render.chart import Line, cumulative
from newsletter.render.chart import figure as chart_figure
from newsletter.render.common import (authors_short, badge, figures_text, icon_id, icons, post_author, post_counts,
                                      post_html, source_label)
from newsletter.render.templates import bundled_dir, environment
from newsletter.text import collapse, cut_at_word, strip_control
from newsletter.render.tex import plain, rich

if TYPE_CHECKING:
    from newsletter.config import Config

INDEX_RECENT = 30  # previous issues listed on the front page; the rest are in archive/
CATEGORY_RECENT = 100  # hot papers on a category's page; older ones on its pages by year
TEASER = 170  # characters of a long abstract a card shows (two to four lines)
STATIC = ("style.css", "search.js")


@dataclass(frozen=True)
class PaperEntry:
    """What pages other than the issue's own need to know of a ranked paper."""

    rank: int
    arxiv_id: str
    title: str
    authors: str
    categories: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class IssueEntry:
    day: date
    papers: tuple[PaperEntry, ...]

    @property
    def slug(self) -> str:
        return f"hot-papers-{self.day.isoformat()}"

    def to_json(self) -> str:
        return json.dumps({"day": self.day.isoformat(), "papers": [
            [p.rank, p.arxiv_id, p.title, p.authors, list(p.categories), p.score] for p in self.papers]},
            ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "IssueEntry":
        d = json.loads(text)
        return cls(date.fromisoformat(d["day"]), tuple(
            PaperEntry(r, i, t, a, tuple(c), s) for r, i, t, a, c, s in d["papers"]))


def entry_of(issue: Issue) -> IssueEntry:
    return IssueEntry(issue.date, tuple(
        PaperEntry(rp.rank, rp.paper.arxiv_id, plain(rp.paper.title) or rp.paper.arxiv_id,
                   authors_short(rp.paper.authors, 3), tuple(rp.paper.categories), rp.score)
        for rp in issue.papers))


@dataclass(frozen=True)
class SiteSettings:
    title: str
    site_url: str
    web_url: str
    description: str
    category_choices: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]  # grouped (categories.groups)
    html_url: str = "https://arxiv.org/html"  # papers' HTML renderings ([arxiv] html_url)
    window_hours: float = 48.0  # what a chart covers at least

    @classmethod
    def from_config(cls, cfg: Config) -> "SiteSettings":
        return cls(title=collapse(cfg.title), site_url=cfg.site_url, web_url=cfg.delivery.web_url.rstrip("/"),
                   description="The arXiv papers people talked about, ranked by their attention on social media.",
                   category_choices=tuple((t, h, tuple(c)) for t, h, c in category_groups(cfg.categories)),
                   html_url=cfg.arxiv.html_url.rstrip("/"), window_hours=cfg.window_hours)


def month_key(d: date) -> str:
    return f"{d:%Y-%m}"


def month_label(d: date) -> str:
    return f"{d:%B %Y}"


def category_path(term: str) -> str:
    return f"category/{quote(term, safe='')}/index.html"


def teaser(abstract: str) -> str:
    """The start of a long abstract, as text; "" when it is short enough to show whole."""
    text = plain(abstract)
    return cut_at_word(text, TEASER) if len(text) > TEASER + 80 else ""


@dataclass(frozen=True)
class Appearance:
    """An issue a paper appeared in, as its page lists it."""

    label: str  # "Hot Papers 2021-06-16", "Hot Papers of the Week 2021-W24"
    path: str  # the issue's page under the site ("hot-papers-2021-06-16/")
    rank: int
    count: int  # papers in that issue


WEEK_ENTRY = "week_entry:"  # meta key prefix: a built weekly issue's papers and ranks


def week_entry(issue: Issue) -> str:
    return json.dumps([[rp.paper.arxiv_id, rp.rank] for rp in issue.papers], separators=(",", ":"))


def appearances(title: str, entries: Iterable[IssueEntry], weeks: Mapping[str, str]
                ) -> dict[str, list[Appearance]]:
    """Where each paper appeared: its daily issues, oldest first, then its weeks."""
    out: dict[str, list[Appearance]] = defaultdict(list)
    for e in sorted(entries, key=lambda e: e.day):
        for p in e.papers:
            out[p.arxiv_id].append(Appearance(f"{title} {e.day.isoformat()}", f"{e.slug}/", p.rank, len(e.papers)))
    for week in sorted(weeks):
        ranked = json.loads(weeks[week])
        for arxiv_id, rank in ranked:
            out[arxiv_id].append(Appearance(f"{title} of the Week {week}", f"weekly/{week}/", rank, len(ranked)))
    return out


@dataclass(frozen=True)
class Picture:
    """A page's picture for link previews (og:image): a path under the site."""

    path: str
    width: int
    height: int
    alt: str


def card_path(issue: Issue) -> str:
    return f"card/{issue.key}.png"


def og_image(issue: Issue | None) -> dict[str, Any]:
    """An issue's social card, as its pages' picture."""
    if issue is None or not issue.papers:
        return {}
    tops = "; ".join(plain(rp.paper.title) or rp.paper.arxiv_id for rp in issue.papers[:3])
    return {"og_image": Picture(card_path(issue), 1200, 630, f"{collapse(issue.title)} {issue.key}: {tops}")}


def issue_chart(issue: Issue, posts: Mapping[str, Sequence[Post]], window: float) -> str:
    """Cumulative attention of the issue's top ten papers."""
    start = announced_at(issue.date)
    lines = [Line(str(rp.rank), f"{rp.rank}. {cut_at_word(plain(rp.paper.title) or rp.paper.arxiv_id, 48)}",
                  cumulative(posts.get(rp.paper.arxiv_id, ()), start), short=f"#{rp.rank}:")
             for rp in issue.papers[:10]]
    return chart_figure(lines, window, f"Attention to the top {len(lines)} papers of {issue.date.isoformat()}",
                        f"chart-{issue.key}", "Each paper's points (all sources)")


def paper_chart(issue: Issue, rp: RankedPaper, posts: Sequence[Post], window: float) -> str:
    """Cumulative attention to one paper, one line per source."""
    day = issue.mailing_date(rp.paper.arxiv_id) if issue.week else issue.date
    if day is None:
        return ""
    by_source: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_source[post.source].append(post)
    start = announced_at(day)
    lines = [Line(src, source_label(src), cumulative(ps, start)) for src, ps in sorted(by_source.items())]
    return chart_figure(lines, window, f"Attention to arXiv:{rp.paper.arxiv_id} over time", "chart-paper",
                        "Points per source")


class SiteRenderer:
    """Renders pages with the (autoescaping) site templates."""

    def __init__(self, s: SiteSettings, templates_dir: str | None = None):
        self.s = s
        self.env = environment(templates_dir)
        self.templates_dir = templates_dir
        self.globals = dict(site=s, clean=collapse, tex=rich, plain=plain, teaser=teaser, authors=authors_short,
                            figures_text=figures_text, badge=badge, icon_id=icon_id, icons=icons(),
                            post_html=post_html, post_author=post_author, post_counts=post_counts, source_name=source_label)
        self._bodies: dict[IssueKey, Any] = {}
        self._root_mark = f"root{os.urandom(12).hex()}/"  # no content can guess it

    def issue_body(self, issue: Issue) -> Any:
        """An issue's papers as HTML, rendered once for the index and the
        issue's page (which differ only in ``root``: marked, replaced per page)."""
        if issue.key not in self._bodies:
            module = self.env.get_template("site/_issue.html.j2").make_module(vars=self.globals)
            self._bodies[issue.key] = module.issue_body(issue, self._root_mark)  # type: ignore[attr-defined]
        return self._bodies[issue.key]

    def _page(self, template: str, path: str, title: str, description: str, root: str | None = None,
              **context: Any) -> bytes:
        url_path = path[: -len("index.html")] if path.endswith("index.html") else path
        root = "../" * path.count("/") if root is None else root
        html = self.env.get_template(f"site/{template}").render(
            root=root, page_title=title, description=collapse(description)[:300],
            canonical=f"{self.s.site_url}/{url_path}", **self.globals, **context)
        return strip_control(html.replace(self._root_mark, root)).encode("utf-8")

    def _describe(self, issue: Issue) -> str:
        titles = "; ".join(plain(rp.paper.title) for rp in issue.papers[:3])
        return f"{len(issue.papers)} hot papers of {issue.date.isoformat()}: {titles}"

    def issue_page(self, issue: Issue, prev: IssueEntry | None, next_: IssueEntry | None,
                   posts: Mapping[str, Sequence[Post]] | None = None) -> tuple[str, bytes]:
        """An issue's page; with its papers' ``posts``, the chart of its top ten."""
        path = f"{issue.slug}/index.html"
        chart = issue_chart(issue, posts, self.s.window_hours) if posts is not None and not issue.week else ""
        return path, self._page("issue.html.j2", path, f"{collapse(issue.title)} {issue.key}",
                                self._describe(issue), issue=issue, body=self.issue_body(issue), prev=prev, next=next_,
                                og_type="article", chart=Markup(chart), wide=True, **og_image(issue))

    def paper_page(self, issue: Issue, rp: RankedPaper, appearances: Sequence[Appearance],
                   posts: Sequence[Post]) -> tuple[str, bytes]:
        """``paper/ID/``: the paper in full, where it appeared, its attention and its posts."""
        p = rp.paper
        path = f"paper/{p.arxiv_id}/index.html"
        fig = issue.figures.get(p.arxiv_id)
        image = ({"og_image": Picture(fig.card, fig.card_width, fig.card_height,
                                      f"{fig.what} of {plain(p.title) or p.arxiv_id}")} if fig else og_image(issue))
        return path, self._page("paper.html.j2", path, plain(p.title) or p.arxiv_id,
                                plain(p.abstract) or self.s.description, issue=issue, rp=rp, appearances=appearances,
                                chart=Markup(paper_chart(issue, rp, posts, self.s.window_hours)), og_type="article",
                                **image)

    def weeks_index(self, weeks: list[tuple[str, str]]) -> bytes:
        """weekly/index.html: every weekly issue, newest first."""
        return self._page("weeks.html.j2", "weekly/index.html", f"{self.s.title} of the Week",
                          f"Every weekly issue of {self.s.title}.", weeks=weeks)

    def index(self, latest: Issue | None, entries: list[IssueEntry], weeks: list[str] | None = None) -> bytes:
        recent = [e for e in entries if latest is None or e.day != latest.date][:INDEX_RECENT]
        months: dict[str, list[IssueEntry]] = {}
        for e in recent:
            months.setdefault(month_label(e.day), []).append(e)
        return self._page("index.html.j2", "index.html", self.s.title,
                          self._describe(latest) if latest else self.s.description,
                          latest=latest, body=self.issue_body(latest) if latest else "", wide=True, **og_image(latest),
                          recent_months=list(months.items()), weeks=(weeks or [])[:8])

    def archive(self, entries: list[IssueEntry]) -> bytes:
        counts: dict[str, list[IssueEntry]] = {}
        for e in entries:
            counts.setdefault(month_key(e.day), []).append(e)
        months = [{"key": k, "label": month_label(v[0].day), "count": len(v)} for k, v in counts.items()]
        return self._page("archive.html.j2", "archive/index.html", f"{self.s.title}: all issues",
                          f"Every issue of {self.s.title}, by month.", months=months)

    def month(self, key: str, entries: list[IssueEntry]) -> tuple[str, bytes]:
        path = f"archive/{key}/index.html"
        label = month_label(entries[0].day)
        return path, self._page("month.html.j2", path, f"{self.s.title}: {label}",
                                f"The issues of {self.s.title} in {label}.", label=label, entries=entries)

    def categories(self, hits: dict[str, list[tuple[IssueEntry, PaperEntry]]]) -> bytes:
        cats = [{"term": t, "name": category_name(t), "count": len(h)} for t, h in sorted(hits.items())]
        return self._page("categories.html.j2", "category/index.html", f"{self.s.title}: categories",
                          "Hot papers by arXiv category, each with its own feeds.", categories=cats)

    def category(self, term: str, hits: list[tuple[IssueEntry, PaperEntry]]) -> tuple[str, bytes]:
        """A category's newest hot papers, and links to its years."""
        path = category_path(term)
        name = category_name(term)
        years = sorted({e.day.year for e, _ in hits}, reverse=True)
        return path, self._page("category.html.j2", path, f"{self.s.title}: {term}",
                                f"Hot papers in {term}{' (' + name + ')' if name else ''}, newest first.",
                                term=term, name=name, hits=hits[:CATEGORY_RECENT], years=years, year=None,
                                more=len(hits) > CATEGORY_RECENT)

    def category_year(self, term: str, year: int, hits: list[tuple[IssueEntry, PaperEntry]]) -> tuple[str, bytes]:
        path = category_path(term).replace("index.html", f"{year}/index.html")
        name = category_name(term)
        return path, self._page("category.html.j2", path, f"{self.s.title}: {term} in {year}",
                                f"Hot papers in {term} in {year}, newest first.", term=term, name=name,
                                hits=hits, years=[], year=year, more=False)

    def subscribe(self) -> bytes:
        return self._page("subscribe.html.j2", "subscribe/index.html", f"Subscribe to {self.s.title}",
                          f"Get {self.s.title} by email or in a feed reader.")

    def not_found(self) -> bytes:
        # served at any depth: its links start at the site's path on its host
        return self._page("404.html.j2", "404.html", f"{self.s.title}: not found", "There is no page here.",
                          root=f"{urlsplit(self.s.site_url).path.rstrip('/')}/")

    def static(self, name: str) -> bytes:
        from pathlib import Path
        for folder in ([Path(self.templates_dir) / "site"] if self.templates_dir else []) + [bundled_dir() / "site"]:
            if (folder / name).is_file():
                return (folder / name).read_bytes()
        raise FileNotFoundError(name)

    def sitemap(self, entries: list[IssueEntry], terms: Iterable[str], weeks: Iterable[str] = ()) -> bytes:
        urls = [f"{self.s.site_url}/", f"{self.s.site_url}/archive/", f"{self.s.site_url}/category/",
                f"{self.s.site_url}/subscribe/"]
        urls += [f"{self.s.site_url}/{e.slug}/" for e in entries]
        urls += sorted({f"{self.s.site_url}/archive/{month_key(e.day)}/" for e in entries}, reverse=True)
        urls += [f"{self.s.site_url}/category/{quote(t, safe='')}/" for t in sorted(terms)]
        weeks = list(weeks)
        if weeks:
            urls += [f"{self.s.site_url}/weekly/"] + [f"{self.s.site_url}/weekly/{w}/" for w in weeks]
        body = "".join(f"<url><loc>{html.escape(u, quote=False)}</loc></url>\n" for u in urls)  # XML text
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n").encode()

    def robots(self) -> bytes:
        return f"User-agent: *\nAllow: /\nSitemap: {self.s.site_url}/sitemap.xml\n".encode()

    def social_card(self, issue: Issue) -> tuple[str, bytes]:
        """card/KEY.png: the issue's picture for link previews."""
        from newsletter.render.cards import social_card

        when = f"Week {issue.week}" if issue.week else f"{issue.date:%A %-d %B %Y}"
        n = len(issue.papers)
        return card_path(issue), social_card(self.s.title, when, f"{n} hot paper{'s' if n != 1 else ''}",
                                             [plain(rp.paper.title) or rp.paper.arxiv_id for rp in issue.papers[:3]])

    def search(self) -> bytes:
        """search/: the search page (Pagefind's index, built after the pages)."""
        return self._page("search.html.j2", "search/index.html", f"Search {self.s.title}",
                          f"Search every hot paper of {self.s.title}: titles, authors, abstracts, categories.")


def category_hits(entries: list[IssueEntry]) -> dict[str, list[tuple[IssueEntry, PaperEntry]]]:
    """Each category's hot papers across issues, newest issue first, rank order within."""
    hits: dict[str, list[tuple[IssueEntry, PaperEntry]]] = defaultdict(list)
    for e in entries:
        for p in e.papers:
            for c in dict.fromkeys(p.categories):
                hits[c].append((e, p))
    return dict(hits)


def by_year(hits: list[tuple[IssueEntry, PaperEntry]]) -> dict[int, list[tuple[IssueEntry, PaperEntry]]]:
    out: dict[int, list[tuple[IssueEntry, PaperEntry]]] = {}
    for e, p in hits:
        out.setdefault(e.day.year, []).append((e, p))
    return out


def months(entries: list[IssueEntry]) -> dict[str, list[IssueEntry]]:
    out: dict[str, list[IssueEntry]] = {}
    for e in entries:
        out.setdefault(month_key(e.day), []).append(e)
    return out


def week_entries(weeks: list[Issue]) -> list[tuple[str, str]]:
    """(week, its top paper's title) for the weekly list."""
    return [(w.week, plain(w.papers[0].paper.title) if w.papers else "") for w in weeks]
