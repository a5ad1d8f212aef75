"""The enrich stage, between rank and render: for the papers that made an
issue, and only those, fetch each one's figure and (when configured) a
one-sentence summary, once, into the archive. It never blocks an issue: a
failure is a warning and a count, retried on the next run; all of it stops
when ``[media] budget_seconds`` are spent. Build renders what is stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from newsletter.config import Config
from newsletter.enrich.store import MediaStore
from newsletter.errors import ConfigError, NewsletterError, NothingToPublish
from newsletter.models import Paper
from newsletter.seams import Seams
from newsletter.sources.base import NullReporter, Reporter
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.http import HttpClient

__all__ = ["EnrichSummary", "enrich_day", "enrich_papers", "MediaStore"]


@dataclass
class StageCount:
    """One stage's outcome: how many papers have what they need, what failed."""

    wanted: int = 0
    have: int = 0  # stored before or made now
    new: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # arXiv id -> why
    state: str = ""  # "off", or why it did not run to the end

    def text(self, name: str) -> str:
        if self.state == "off":
            return f"{name}: off"
        out = f"{name}: {self.have} of {self.wanted}"
        if self.new:
            out += f" ({self.new} new)"
        if self.failed:
            reasons = sorted(set(self.failed.values()))
            out += f", failed ({'; '.join(reasons[:2])}{'; …' if len(reasons) > 2 else ''})"
        return out + (f", {self.state}" if self.state else "")


@dataclass
class EnrichSummary:
    figures: StageCount = field(default_factory=StageCount)
    summaries: StageCount = field(default_factory=StageCount)
    requests: int = 0

    def line(self) -> str:
        return (f"{self.figures.text('figures')}; {self.summaries.text('summaries')}; "
                f"{self.requests} request{'s' if self.requests != 1 else ''}")


class _Budget:
    def __init__(self, seams: Seams, seconds: float):
        self.now = seams.now
        self.end = seams.now().timestamp() + seconds
        self.seconds = seconds

    def spent(self) -> bool:
        return self.now().timestamp() >= self.end


def enrich_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
               reporter: Reporter | None = None) -> EnrichSummary:
    """Enrich the papers of a day's issue (nothing when none is hot)."""
    from newsletter.issues import publishable_issue

    try:
        issue = publishable_issue(cfg, archive, day, "nothing to enrich")
    except NothingToPublish:
        return EnrichSummary()
    return enrich_papers(cfg, archive, [r.paper for r in issue.papers], seams, reporter, readers_languages(archive))


def readers_languages(archive: Archive) -> set[str]:
    """The summary languages among the readers (each is made once per paper)."""
    from newsletter.delivery.ledger import SubscriberStore

    return SubscriberStore(archive).summary_languages()


def enrich_papers(cfg: Config, archive: Archive, papers: Sequence[Paper], seams: Seams | None = None,
                  reporter: Reporter | None = None, languages: Iterable[str] = ()) -> EnrichSummary:
    """Fetch what is missing for ``papers``: figures, then summaries in the
    issue's language and ``languages`` (those the readers chose)."""
    seams, reporter = seams or Seams(), reporter or NullReporter()
    store, budget, out = MediaStore(archive), _Budget(seams, cfg.media.budget_seconds), EnrichSummary()
    if cfg.media.figures:
        out.requests += _figures(cfg, store, papers, seams, reporter, budget, out.figures)
    else:
        out.figures.state = "off"
    if cfg.summaries.enabled:
        langs = list(dict.fromkeys([cfg.summaries.language, *(x for x in languages if x in cfg.summaries.languages)]))
        out.requests += _summaries(cfg, store, papers, langs, seams, reporter, budget, out.summaries)
    else:
        out.summaries.state = "off"
    for name, count in (("figures", out.figures), ("summaries", out.summaries)):
        if count.failed or count.state not in ("", "off"):
            reporter.warn(count.text(name))
    return out


def _figures(cfg: Config, store: MediaStore, papers: Sequence[Paper], seams: Seams, reporter: Reporter,
             budget: _Budget, count: StageCount) -> int:
    from newsletter.enrich.figures import find_figure
    from newsletter.enrich.images import BadImage

    ids = [p.arxiv_id for p in papers]
    stored = store.figures(ids)
    todo = [i for i in ids if i not in stored]
    count.wanted, count.have = len(ids), len(stored)
    if not todo:
        return 0
    http = _client(cfg, seams, reporter, "arXiv HTML and PDF")
    tick = reporter.start(f"figures of {len(todo)} papers")
    for n, arxiv_id in enumerate(todo):
        if budget.spent():
            count.state = f"stopped after {budget.seconds:g} s ({len(todo) - n} left for the next run)"
            break
        try:
            found = find_figure(http, cfg.arxiv.html_url, cfg.arxiv.pdf_url, arxiv_id)
        except (NewsletterError, BadImage) as exc:
            count.failed[arxiv_id] = str(exc).removeprefix(f"{http.service}: ")
        else:
            store.save_figure(arxiv_id, found.image, found.origin, found.url, seams.now())
            count.have, count.new = count.have + 1, count.new + 1
        tick(n + 1)
    return http.request_count


def _summaries(cfg: Config, store: MediaStore, papers: Sequence[Paper], languages: list[str], seams: Seams,
               reporter: Reporter, budget: _Budget, count: StageCount) -> int:
    from newsletter.enrich.summaries import Summarizer

    model = cfg.summaries.model
    todo = []
    for lang in languages:
        have = store.summaries([p.arxiv_id for p in papers], model, lang)
        count.wanted, count.have = count.wanted + len(papers), count.have + len(have)
        todo += [(p, lang) for p in papers if p.arxiv_id not in have]
    if not todo:
        return 0
    try:
        model_client = Summarizer(cfg.summaries, seams.env, cfg.media.timeout_seconds)
    except ConfigError as exc:  # the openai package is missing: the issue goes out without summaries
        count.state = f"skipped ({exc})"
        return 0
    tick = reporter.start(f"summaries of {len(todo)} papers")
    for n, (paper, lang) in enumerate(todo):
        if budget.spent():
            count.state = f"stopped after {budget.seconds:g} s ({len(todo) - n} left for the next run)"
            break
        try:
            text = model_client.summarise(paper.title, paper.abstract, lang)
        except NewsletterError as exc:
            count.failed[f"{paper.arxiv_id} {lang}"] = str(exc)
            if len(count.failed) >= 2 and count.new == 0:  # the endpoint is down: do not ask for every paper
                count.state = "skipped"
                break
        else:
            store.save_summary(paper.arxiv_id, model, lang, text, seams.now())
            count.have, count.new = count.have + 1, count.new + 1
        tick(n + 1)
    return model_client.requests


def _client(cfg: Config, seams: Seams, reporter: Reporter, service: str) -> HttpClient:
    """arXiv's pacing (``[arxiv] delay_seconds``) for its HTML and PDF hosts
    too; each download within ``[media] timeout_seconds``, one retry."""
    http = seams.http(cfg, service, min_interval=cfg.arxiv.delay_seconds, on_retry=reporter.retrying)
    http.timeout, http.retries, http.max_wait = cfg.media.timeout_seconds, min(1, cfg.http.retries), 60.0
    return http
