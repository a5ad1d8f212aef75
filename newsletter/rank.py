"""Ranking: the Hot Papers rule, as pure functions of papers and posts.

A post's score is what its source counts as attention (the registry says
which figures, e.g. reposts + likes); a paper's score is the weighted sum over
its posts. Papers scoring at least ``min_paper_score`` with a PDF are listed,
highest first, ties broken by arXiv id so that the order never depends on
storage order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from newsletter.models import Paper, Post, RankedPaper, SourceFigures
from newsletter.sources import REGISTRY

if TYPE_CHECKING:
    from newsletter.config import RankingConfig

IMPORTED_SCORE = ("score",)  # imported sources carry their score as a figure
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RankingRule:
    min_paper_score: float = 50
    min_post_score: float = 25
    max_posts_per_paper: int = 10
    weights: Mapping[str, float] = field(default_factory=dict)  # a source not named weighs 1

    @classmethod
    def from_config(cls, ranking: RankingConfig) -> "RankingRule":
        return cls(min_paper_score=ranking.min_paper_score, min_post_score=ranking.min_post_score,
                   max_posts_per_paper=ranking.max_posts_per_paper, weights=dict(ranking.weights))

    def weight(self, source: str) -> float:
        return float(self.weights.get(source, 1.0))


def post_score(post: Post) -> int:
    source = REGISTRY.get(post.source)
    metrics = source.score if source else IMPORTED_SCORE
    return sum(post.metric(m) for m in metrics)


def _display_key(post: Post) -> tuple[Any, ...]:
    return (-post_score(post), post.created_at or _EPOCH, post.post_id)


def figures(source: str, posts: list[Post], rule: RankingRule) -> SourceFigures:
    totals: dict[str, int] = defaultdict(int)
    for p in posts:
        for k in p.metrics:
            totals[k] += p.metric(k)
    totals["posts"] = len(posts)
    raw = sum(post_score(p) for p in posts)
    collected = max((p.collected_at for p in posts), default=None)
    return SourceFigures(source, dict(totals), raw * rule.weight(source), collected)


def _figure_order(source: str) -> tuple[int, str]:
    """Figures are listed in the registry's order (then by name); imported sources after them."""
    s = REGISTRY.get(source)
    return (s.order if s else 1, source)


def _clean_number(x: float) -> float:
    return int(x) if float(x).is_integer() else round(x, 4)


def _scored(papers: Iterable[Paper], posts: Iterable[Post], rule: RankingRule
            ) -> list[tuple[Paper, float, tuple[SourceFigures, ...], dict[str, list[Post]]]]:
    by_paper: dict[str, dict[str, list[Post]]] = defaultdict(lambda: defaultdict(list))
    for post in posts:
        for arxiv_id in set(post.arxiv_ids):
            by_paper[arxiv_id][post.source].append(post)
    out = []
    for paper in papers:
        sources = by_paper.get(paper.arxiv_id, {})
        figs = tuple(figures(s, sources[s], rule) for s in sorted(sources, key=_figure_order))
        score = _clean_number(sum(f.score for f in figs))
        if score < rule.min_paper_score or score <= 0:
            continue
        out.append((paper, score, figs, sources))
    return out


def rank(papers: Iterable[Paper], posts: Iterable[Post], rule: RankingRule = RankingRule()) -> list[RankedPaper]:
    """The ranked papers of a day: listed, ordered, with their displayed posts."""
    quotable = [name for name, s in REGISTRY.items() if s.quotable]
    scored = []
    for paper, score, figs, sources in _scored(papers, posts, rule):
        if not paper.has_pdf:
            continue
        shown = sorted(
            (p for s in quotable for p in sources.get(s, []) if post_score(p) >= rule.min_post_score),
            key=_display_key,
        )[: rule.max_posts_per_paper]
        scored.append((paper, score, figs, tuple(shown)))
    scored.sort(key=lambda t: (-t[1], t[0].arxiv_id))
    return [
        RankedPaper(rank=i, paper=p, score=s, figures=f, displayed_posts=d)
        for i, (p, s, f, d) in enumerate(scored, start=1)
    ]


def left_out_for_pdf(papers: Iterable[Paper], posts: Iterable[Post], rule: RankingRule = RankingRule()) -> int:
    """How many papers scored enough but have no PDF (so are not listed)."""
    return sum(1 for paper, *_ in _scored(papers, posts, rule) if not paper.has_pdf)
