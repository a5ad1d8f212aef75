"""The domain model shared by every stage: sources fill it, the archive stores
it, ranking orders it and the renderers turn it into text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import date as _date  # Issue has a field named date


MAX_COUNT = 10**9  # beyond any plausible number of likes, points or comments


@dataclass(frozen=True, order=True)
class IssueKey:
    """Which issue: a mailing day ("2026-07-31") or an ISO week ("2026-W31").
    It names the issue in file names, titles and the delivery ledger, so a
    daily and a weekly send of the same week never collide."""

    value: str

    @classmethod
    def of_day(cls, day: date) -> "IssueKey":
        return cls(day.isoformat())

    @classmethod
    def of_week(cls, week: str) -> "IssueKey":
        if len(week) != 8 or week[4:6] != "-W" or not (week[:4] + week[6:]).isdigit():
            raise ValueError(f"not an ISO week like 2026-W31: {week!r}")
        return cls(week)

    @classmethod
    def parse(cls, value: str) -> "IssueKey":
        """A key as stored: a date or a week."""
        return cls.of_week(value) if "W" in value else cls.of_day(date.fromisoformat(value))

    @property
    def is_week(self) -> bool:
        return "W" in self.value

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Paper:
    """One arXiv paper as announced in a mailing (latest known version)."""

    arxiv_id: str  # without version, e.g. "2006.15055" or "hep-th/9901001"
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # primary first
    comment: str = ""
    submitted: datetime | None = None
    updated: datetime | None = None
    has_pdf: bool = True
    announce_type: str = "new"  # new | cross

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"


@dataclass(frozen=True)
class Post:
    """One social-media item (a post, a story, a listing entry...) that links
    one or more papers. ``metrics`` holds the source's own figures by name
    (for example reposts, likes, replies, quotes; or upvotes, comments)."""

    source: str
    post_id: str
    url: str
    author_handle: str
    author_name: str
    text: str
    created_at: datetime | None
    metrics: dict[str, int]
    collected_at: datetime
    arxiv_ids: tuple[str, ...] = ()
    embed_html: str | None = None
    # the short links in ``text`` with what they stand for: (short, expanded, display),
    # e.g. ("https://t.co/Ld2067ltiV", "https://arxiv.org/abs/2106.08254", "arxiv.org/abs/2106.08254")
    links: tuple[tuple[str, str, str], ...] = ()

    def metric(self, name: str) -> int:
        """A figure; anything but a plausible count (an archive written by an
        older version may hold one) counts as 0, never as a score."""
        value = self.metrics.get(name, 0)
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT else 0


@dataclass(frozen=True)
class SourceFigures:
    """A source's totals for one paper, e.g. reposts 156, likes 694."""

    source: str
    totals: dict[str, int]
    score: float
    collected_at: datetime | None


@dataclass(frozen=True)
class RankedPaper:
    rank: int
    paper: Paper
    score: float
    figures: tuple[SourceFigures, ...]
    displayed_posts: tuple[Post, ...]

    def figures_for(self, source: str) -> SourceFigures | None:
        return next((f for f in self.figures if f.source == source), None)


@dataclass(frozen=True)
class Figure:
    """A paper's figure as the enrich stage stored it; the site publishes it
    under ``media/`` with names that change when its content does."""

    arxiv_id: str
    digest: str  # content hash
    width: int  # of the WebP and the JPEG
    height: int
    card_width: int  # of the larger JPEG (og:image)
    card_height: int
    origin: str  # "html" (the paper's first figure) or "pdf" (its first page)

    @property
    def stem(self) -> str:
        return f"media/{self.arxiv_id.replace('/', '_')}-{self.digest[:16]}"

    @property
    def webp(self) -> str:
        return f"{self.stem}.webp"

    @property
    def jpeg(self) -> str:
        return f"{self.stem}.jpg"

    @property
    def card(self) -> str:
        return f"{self.stem}-card.jpg"

    @property
    def what(self) -> str:
        return "First figure" if self.origin == "html" else "First page"


@dataclass(frozen=True)
class Issue:
    """One day's Hot Papers: what every renderer takes."""

    date: date
    title: str
    created_at: datetime  # when its signals were collected (from the archive)
    papers: tuple[RankedPaper, ...]
    paper_count: int = 0  # papers announced that day in the categories
    notes: tuple[str, ...] = field(default_factory=tuple)
    # a weekly issue ("Hot Papers of the Week"): its ISO week, each paper's
    # mailing date, and the papers that were not in their own daily issue
    week: str = ""  # "2026-W31"
    paper_dates: tuple[tuple[str, _date], ...] = ()
    late: frozenset[str] = frozenset()
    # what the enrich stage stored for the issue's papers, by arXiv id
    figures: Mapping[str, Figure] = field(default_factory=dict)
    summaries: Mapping[str, str] = field(default_factory=dict)  # in the issue's language

    @property
    def slug(self) -> str:
        return f"weekly/{self.week}" if self.week else f"hot-papers-{self.date.isoformat()}"

    @property
    def key(self) -> IssueKey:
        """What names the issue in files, the ledger and titles: a date or a week."""
        return IssueKey.of_week(self.week) if self.week else IssueKey.of_day(self.date)

    def mailing_date(self, arxiv_id: str) -> _date | None:
        return dict(self.paper_dates).get(arxiv_id)

    def is_late(self, arxiv_id: str) -> bool:
        """New this week: hot in the week, not in its own daily issue."""
        return arxiv_id in self.late


def issue_url(site_url: str, issue: Issue) -> str:
    """The web page of an issue (the post's slug under the site; the site
    writes it as ``{slug}/index.html``)."""
    return f"{site_url.rstrip('/')}/{issue.slug}/"


def paper_url(site_url: str, arxiv_id: str) -> str:
    """A paper's own page on the site (its URL: the arXiv id without version)."""
    return f"{site_url.rstrip('/')}/paper/{arxiv_id}/"
