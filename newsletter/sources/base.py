"""What every signal source declares, in one object: the registry's entry.

A source module (``sources/NAME.py``) defines its config table, how its posts
score and show, and ``collect(context) -> SearchResult``. Config, ranking,
rendering, import and the pipeline read these objects from the registry
(``sources/__init__.py``) and know nothing else about any source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from newsletter.mailing import Window
from newsletter.models import Post

if TYPE_CHECKING:  # requests is only imported by a run that fetches
    from newsletter.http import HttpClient


class Reporter(Protocol):
    def start(self, label: str) -> Callable[[int], None]: ...
    def warn(self, message: str) -> None: ...
    def retrying(self, message: str) -> None: ...


class NullReporter:
    """Keeps warnings, shows nothing (tests, library use)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.retries: list[str] = []

    def start(self, label: str) -> Callable[[int], None]:
        return lambda n: None

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def retrying(self, message: str) -> None:
        self.retries.append(message)


@dataclass
class SearchResult:
    """What a source brought back, and why it stopped early or did not run."""

    posts: list[Post] = field(default_factory=list)
    requests: int = 0
    capped: str | None = None  # stopped at a cap: the note says which
    skipped: str | None = None  # did not run (no credentials): the note says why
    bad: dict[str, int] = field(default_factory=dict)  # malformed items skipped, by reason


@dataclass(frozen=True)
class SourceContext:
    """Everything a source's ``collect`` may use: no globals, no clock of its own."""

    http: HttpClient
    config: Any  # the source's own config section
    env: Mapping[str, str]
    window: Window
    day: date
    now: Callable[[], datetime]
    reporter: Reporter

    def secret(self, env_name: str) -> str:
        return self.env.get(env_name, "").strip()


@dataclass(frozen=True)
class EmbedContext:
    http: HttpClient
    config: Any


@dataclass(frozen=True)
class Source:
    name: str  # the key in config, the archive and ranking.weights
    label: str  # what readers see: "Hacker News"
    config: type  # the frozen dataclass of [sources.NAME]; has ``enabled``
    score: tuple[str, ...]  # the figures whose sum is a post's score
    shown: tuple[tuple[str, str], ...]  # (figure, plural label) shown in HTML, in order
    figure_line: str  # the post's figure line, e.g. "hackernews: points: {points}, comments: {comments}"
    collect: Callable[[SourceContext], SearchResult]
    quotable: bool = False  # its posts are shown as quotes under a paper
    weight: float = 1.0  # default [ranking.weights] entry
    # the HTML of a displayed post from the service's oEmbed, when it has one
    embed: Callable[[EmbedContext, Post], str | None] | None = None
    # how a displayed post appears in the Markdown post (default: a plain quote)
    post_markup: Callable[[Post], str] | None = None
    order: int = 1  # a paper's figures are listed by this, lower first, then by name
    post_tag: str = ""  # the tag the Markdown post's front matter gets when the issue has this source's figures
    paper_paths: tuple[str, ...] = ()  # regexes of this service's pages of an arXiv paper ("host/papers")
    badge: str = ""  # the short name of its attention badge ("HN"); default: the label
    icon: str = ""  # its badge's icon: SVG path data in a 16×16 box, drawn as a 1.6 px stroke
    picture_links: str = ""  # a regex of its links to pictures, shown as "[image]"
    bare_links: str = ""  # a regex of links its posts write without a scheme (still links)
