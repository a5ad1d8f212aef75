"""A reader's preferences and the reader's own issue: pure functions.

Categories (an archive such as ``cs`` means every ``cs.*``) and keywords
(whole words or phrases, case-insensitive, in title and abstract) narrow the
issue: with both set, a paper must be in a chosen category and match a
keyword. Papers by a followed author (on the author list) are always in. No
preference at all means the whole issue. Rank order and the reader's cap on
papers are kept.

Readers who set both categories and keywords before this rule (when any one
match was enough) keep that meaning (``match = "any"``) until they save
their preferences again, so nobody's email changes without notice."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Literal

from newsletter.categories import is_known
from newsletter.errors import NewsletterError
from newsletter.models import Issue, RankedPaper
from newsletter.text import collapse

MAX_CHOICES = (5, 10, 20)
Frequency = Literal["daily", "weekly", "both"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "both")


class BadPreference(NewsletterError, ValueError):
    """A preference value a person typed that cannot be used; says why."""


@dataclass(frozen=True)
class Preferences:
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    max_papers: int | None = None  # None: the email's own cap
    frequency: Frequency = "daily"
    paused_until: date | None = None
    match: Literal["narrow", "any"] = "narrow"  # "any": the earlier rule, kept until the reader saves
    language: str = ""  # of the AI summaries; "": the issue's ([summaries] language)

    @property
    def filters(self) -> bool:
        return bool(self.categories or self.keywords or self.authors)

    def describe(self) -> str:
        """'cs.LG, cs.CV · diffusion, RLHF · Hinton' (what the email says it was filtered by)."""
        return " · ".join(", ".join(x) for x in (self.categories, self.keywords, self.authors) if x)

    def to_json(self) -> str:
        return json.dumps({"categories": list(self.categories), "keywords": list(self.keywords),
                           "authors": list(self.authors), "max_papers": self.max_papers,
                           "frequency": self.frequency,
                           "paused_until": self.paused_until.isoformat() if self.paused_until else None,
                           "match": self.match, **({"language": self.language} if self.language else {})},
                          ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "Preferences":
        if not text:
            return cls()
        d = json.loads(text)
        cats, words = tuple(d.get("categories") or ()), tuple(d.get("keywords") or ())
        # saved before the narrowing rule: both set meant "either"; that stays until they save again
        match = d.get("match") or ("any" if cats and words else "narrow")
        return cls(cats, words, tuple(d.get("authors") or ()), d.get("max_papers"), d.get("frequency") or "daily",
                   date.fromisoformat(d["paused_until"]) if d.get("paused_until") else None,
                   "any" if match == "any" else "narrow", str(d.get("language") or ""))


def split_list(value: str | Iterable[str] | None, *, limit: int = 50, item_max: int = 100) -> tuple[str, ...]:
    """'a, b ,,c' (or a list of such strings) -> ('a', 'b', 'c'), de-duplicated, cleaned."""
    if value is None:
        return ()
    raw = [value] if isinstance(value, str) else list(value)
    out: dict[str, None] = {}
    for chunk in raw:
        for item in str(chunk).split(","):
            item = collapse(item)
            if item:
                if len(item) > item_max:
                    raise BadPreference(f"'{item[:40]}…' is longer than {item_max} characters")
                out.setdefault(item, None)
    if len(out) > limit:
        raise BadPreference(f"at most {limit} entries, not {len(out)}")
    return tuple(out)


def _categories(value: Any, allowed: Iterable[str] | None) -> tuple[str, ...]:
    cats = split_list(value)
    for c in cats:
        if not is_known(c):
            raise BadPreference(f"'{c}' is not an arXiv category (such as cs.LG, or cs for all of cs)")
    if allowed is not None:
        ok = set(allowed)
        for c in cats:
            if c not in ok and not any(c.startswith(a + ".") or a.startswith(c + ".") or a == c.split(".")[0]
                                       for a in ok):
                raise BadPreference(f"'{c}' is not among this newsletter's categories ({', '.join(sorted(ok))})")
    return cats


def _cap(value: Any) -> int:
    """A cap as typed (ASCII digits, a few of them) or as an int; nothing else."""
    if isinstance(value, str):
        text = value.strip()
        cap = int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else -1
    else:
        cap = value if isinstance(value, int) and not isinstance(value, bool) else -1
    if cap not in MAX_CHOICES:
        raise BadPreference(f"max papers must be one of {', '.join(map(str, MAX_CHOICES))}")
    return cap


def _frequency(value: str) -> Frequency:
    for f in FREQUENCIES:
        if value == f:
            return f
    raise BadPreference(f"frequency must be daily, weekly or both, not {collapse(value)[:20]!r}")


def parse(categories: Any = None, keywords: Any = None, authors: Any = None, max_papers: Any = None,
          frequency: Any = None, paused_until: date | None = None, *, allowed: Iterable[str] | None = None,
          base: Preferences | None = None, language: str | None = None,
          languages: Iterable[str] = ()) -> Preferences:
    """Preferences from form fields or CLI options; fields left None keep ``base``'s.
    ``language`` must be one of ``languages`` (those [summaries] offers) or ""."""
    base = base or Preferences()
    if language is not None and language != "" and language not in set(languages):
        offered = ", ".join(languages) or "none"
        raise BadPreference(f"summary language must be one of those offered ({offered}), not {collapse(language)[:20]!r}")
    return Preferences(
        base.categories if categories is None else _categories(categories, allowed),
        base.keywords if keywords is None else split_list(keywords),
        base.authors if authors is None else split_list(authors),
        base.max_papers if max_papers is None or max_papers == "" else _cap(max_papers),
        base.frequency if frequency in (None, "") else _frequency(str(frequency)),
        base.paused_until if paused_until is None else paused_until,  # saved now: the current rule
        language=base.language if language is None else language)


def _word_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass
class Matcher:
    """A compiled preference set (compiled once per distinct set, not per reader)."""

    prefs: Preferences
    _patterns: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._patterns = [_word_pattern(k) for k in self.prefs.keywords]
        self._authors = [a.lower() for a in self.prefs.authors]

    def _in_categories(self, rp: RankedPaper) -> bool:
        return any(pc == c or ("." not in c and pc.split(".")[0] == c)
                   for c in self.prefs.categories for pc in rp.paper.categories)

    def _has_keyword(self, rp: RankedPaper) -> bool:
        text = f"{rp.paper.title} {rp.paper.abstract}"
        return any(pattern.search(text) for pattern in self._patterns)

    def _by_followed_author(self, rp: RankedPaper) -> bool:
        names = [a.lower() for a in rp.paper.authors]
        return any(a in n for a in self._authors for n in names)

    def matches(self, rp: RankedPaper) -> bool:
        p = self.prefs
        if not p.filters:
            return True
        if self._by_followed_author(rp):
            return True
        if p.match == "any":
            return self._in_categories(rp) or self._has_keyword(rp)
        if not p.categories and not p.keywords:
            return False  # authors only, and none of them is on this paper
        return ((not p.categories or self._in_categories(rp)) and (not p.keywords or self._has_keyword(rp)))


def select(issue: Issue, prefs: Preferences, default_cap: int) -> tuple[RankedPaper, ...]:
    """The reader's papers of an issue: rank order kept, capped."""
    cap = prefs.max_papers or default_cap
    m = Matcher(prefs)
    return tuple(rp for rp in issue.papers if m.matches(rp))[:cap]
