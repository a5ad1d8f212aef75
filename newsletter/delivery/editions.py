"""Each reader's email of an issue: the whole issue for readers without
topics, their own selection otherwise, or a ``Skip`` saying why they get
nothing (paused, another frequency, nothing on their topics). Rendered once
per distinct selection, not once per reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from newsletter.delivery.preferences import Preferences, select
from newsletter.models import Issue, RankedPaper
from newsletter.render.email import EmailSettings, RenderedEmail, render_email
from newsletter.render.templates import template_errors

if TYPE_CHECKING:
    from newsletter.delivery.ledger import Subscriber

SkipKind = Literal["paused", "frequency", "nothing", "gone"]


@dataclass(frozen=True)
class Skip:
    """Why a reader gets no email of this issue (kept in the ledger)."""

    kind: SkipKind
    reason: str


class Editions:
    """The editions of one issue. ``subject`` is the whole issue's."""

    def __init__(self, issue: Issue, settings: EmailSettings, templates: str | None = None,
                 whole: RenderedEmail | None = None, translations: Mapping[str, Mapping[str, str]] | None = None):
        """``translations``: the AI summaries in the other languages readers may
        choose (language -> arXiv id -> summary)."""
        self.issue, self.settings, self.templates = issue, settings, templates
        self.translations = translations or {}
        if whole is None:
            with template_errors():
                whole = render_email(issue, settings, templates)
        self.whole = whole
        self._selections: dict[Preferences, tuple[RankedPaper, ...]] = {}
        self._rendered: dict[tuple[tuple[str, ...], str, str], RenderedEmail] = {}

    @property
    def subject(self) -> str:
        return self.whole.subject

    def for_reader(self, sub: Subscriber) -> RenderedEmail | Skip:
        p, weekly = sub.prefs, bool(self.issue.week)
        if p.paused_until and self.issue.date < p.paused_until:
            return Skip("paused", f"paused until {p.paused_until.isoformat()}")
        if p.frequency == "weekly" and not weekly:
            return Skip("frequency", "gets the weekly issue only")
        if p.frequency == "daily" and weekly:
            return Skip("frequency", "gets the daily issue only")
        lang = p.language if p.language in self.translations else ""
        whole = not p.filters and p.max_papers is None
        if whole and not lang:
            return self.whole
        papers = None if whole else self._selection(p)
        if papers == ():
            return Skip("nothing", f"nothing today on {p.describe()}")
        key = (tuple(rp.paper.arxiv_id for rp in papers or ()), p.describe(), lang)
        if key not in self._rendered:
            issue = replace(self.issue, summaries=self.translations[lang]) if lang else self.issue
            with template_errors():
                self._rendered[key] = render_email(issue, self.settings, self.templates, papers=papers,
                                                   filtered_by=p.describe())
        return self._rendered[key]

    def _selection(self, p: Preferences) -> tuple[RankedPaper, ...]:
        if p not in self._selections:
            self._selections[p] = select(self.issue, p, self.settings.max_papers)
        return self._selections[p]
