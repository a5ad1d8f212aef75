"""The deliver stage: an issue's editions to its readers over SMTP (with the
ledger), or as .eml files in a dry run, or one copy to one address. Daily and
weekly issues go through the same two functions, ``send`` and ``dry_run``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from newsletter.config import Config
from newsletter.errors import ConfigError
from newsletter.issues import publishable_issue
from newsletter.models import Issue
from newsletter.seams import Seams
from newsletter.siteplan import templates_dir
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.delivery.editions import Editions
    from newsletter.delivery.send import DryRunSummary, SendSummary
    from newsletter.delivery.smtp import Mailer, SMTPMailer
    from newsletter.render.email import RenderedEmail

Progress = Callable[[int, int], None]


def editions(cfg: Config, issue: Issue, archive: Archive | None = None) -> Editions:
    """Each reader's email of ``issue`` (see ``delivery/editions.py``); with
    the archive, in the summary language each reader chose."""
    from newsletter.delivery.editions import Editions
    from newsletter.render.email import EmailSettings

    return Editions(issue, EmailSettings.from_config(cfg, weekly=bool(issue.week)), templates_dir(cfg),
                    translations=translations(cfg, issue, archive) if archive else None)


def translations(cfg: Config, issue: Issue, archive: Archive) -> dict[str, dict[str, str]]:
    """The issue's AI summaries in each language readers may choose."""
    from newsletter.enrich.store import MediaStore

    s = cfg.summaries
    if not s.enabled:
        return {}
    store, ids = MediaStore(archive), [rp.paper.arxiv_id for rp in issue.papers]
    return {lang: store.summaries(ids, s.model, lang) for lang in s.languages if lang != s.language}


def smtp_mailer(cfg: Config, env: Mapping[str, str]) -> SMTPMailer:
    from newsletter.delivery.smtp import SMTPMailer

    password = env.get(cfg.smtp.password_env, "")
    if cfg.smtp.username and not password:
        raise ConfigError(f"[smtp] username is set but ${cfg.smtp.password_env} is empty; export the password")
    return SMTPMailer(cfg.smtp, password)


def smtp_mailers(cfg: Config, env: Mapping[str, str]) -> list[SMTPMailer]:
    """``[smtp] connections`` mailers sharing one pacer: the rate is the relay's."""
    from newsletter.delivery.smtp import SMTPMailer
    from newsletter.pacing import Pacer

    first = smtp_mailer(cfg, env)
    if cfg.smtp.connections == 1:
        return [first]
    pacer = Pacer(1.0 / cfg.smtp.rate if cfg.smtp.rate > 0 else 0.0)
    first.pacer = pacer
    return [first] + [SMTPMailer(cfg.smtp, first.password, pacer=pacer) for _ in range(cfg.smtp.connections - 1)]


def send(cfg: Config, issue: Issue, archive: Archive, seams: Seams | None = None,
         mailer: Mailer | Sequence[Mailer] | None = None, on_progress: Progress | None = None) -> SendSummary:
    """Send ``issue`` to every subscriber who has not had it (the ledger)."""
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import send_issue

    seams = seams or Seams()
    mine = editions(cfg, issue, archive)
    settings = MessageSettings.from_config(cfg, seams.env)
    return send_issue(archive, issue.key, mine, settings, mailer or smtp_mailers(cfg, seams.env), now=seams.now,
                      sleep=seams.sleep, max_attempts=cfg.delivery.max_attempts, backoff=cfg.delivery.retry_backoff,
                      on_progress=on_progress)


def dry_run(cfg: Config, issue: Issue, archive: Archive, seams: Seams | None = None) -> DryRunSummary:
    """Write every message a send of ``issue`` would make now as .eml files
    under ``{outbox}/{issue key}/``; sends nothing, changes no ledger row."""
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.send import dry_run as write_dry_run

    seams = seams or Seams()
    mine = editions(cfg, issue, archive)
    settings = MessageSettings.from_config(cfg, seams.env, dry_run=True)
    folder = cfg.resolve(cfg.delivery.outbox) / str(issue.key)
    return write_dry_run(archive, issue.key, mine, settings, folder, now=seams.now)


def send_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None,
             mailer: Mailer | Sequence[Mailer] | None = None, on_progress: Progress | None = None) -> SendSummary:
    return send(cfg, publishable_issue(cfg, archive, day, "nothing to send"), archive, seams, mailer, on_progress)


def dry_run_day(cfg: Config, day: date, archive: Archive, seams: Seams | None = None) -> DryRunSummary:
    return dry_run(cfg, publishable_issue(cfg, archive, day, "nothing to send"), archive, seams)


def render_issue_email(cfg: Config, archive: Archive, day: date) -> RenderedEmail:
    """A day's whole issue as one email (preview, ``send --to``)."""
    return editions(cfg, publishable_issue(cfg, archive, day, "nothing to send")).whole


def send_copy(cfg: Config, issue: Issue, archive: Archive, to: str, seams: Seams | None = None,
              mailer: Mailer | None = None) -> str:
    """One copy of an issue's whole email to one address, outside the ledger."""
    from newsletter.delivery.addresses import check_address
    from newsletter.delivery.ledger import SubscriberStore, new_handle
    from newsletter.delivery.message import MessageFactory, MessageSettings, Recipient

    seams = seams or Seams()
    rendered = editions(cfg, issue).whole
    settings = MessageSettings.from_config(cfg, seams.env)
    address = check_address(to)
    mailer = mailer or smtp_mailer(cfg, seams.env)
    sub = SubscriberStore(archive).get(address)  # a reader's own links; anyone else's lead nowhere
    recipient = Recipient(address, "", sub.handle if sub else new_handle())
    data, _ = MessageFactory(settings).make(rendered, recipient, issue.key, seams.now())
    try:
        return str(mailer.send(settings.from_address, address, data))
    finally:
        mailer.close()
