"""The operator's report after each ``run``: the one-line summary, each
source's status, what was sent, failed and deferred, the month's bounces
and complaints (with the complaint rate), and the warnings; or the error
that stopped the run. By email to ``[report] to``, as a JSON POST to
``[report] webhook_url`` (``text`` for Slack and Matrix hooks, ``content``
for Discord), or both; nothing when neither is set."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from newsletter.config import Config
from newsletter.seams import Seams
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.pipeline import RunSummary

COMPLAINT_LIMIT = 0.001  # Gmail asks bulk senders to stay under 0.1% (and requires under 0.3%)


@dataclass
class Report:
    title: str
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    @property
    def text(self) -> str:
        return "\n".join([self.title, *self.lines])

    def payload(self) -> dict[str, object]:
        return {"text": self.text, "content": self.text[:1900], "ok": self.ok, "title": self.title,
                "lines": self.lines}


def list_health(archive: Archive, now: datetime) -> str:
    """Bounces and complaints of the last 30 days, and the complaint rate."""
    from newsletter.delivery.bounces import Bounces
    from newsletter.delivery.ledger import SubscriberStore

    kinds = Bounces(archive).recent_counts(now)
    sent = SubscriberStore(archive).sent_since(now - timedelta(days=30))
    complaints = kinds.get("complaint", 0)
    rate = complaints / sent if sent else 0.0
    line = (f"Last 30 days: {kinds.get('hard', 0)} hard bounces, {kinds.get('soft', 0)} soft, "
            f"{complaints} complaints ({rate:.2%} of {sent} sent)")
    if rate > COMPLAINT_LIMIT:
        line += "; Warning: over 0.1%, the rate Gmail asks bulk senders to stay under"
    return line


def run_report(cfg: Config, archive: Archive, day: date, result: RunSummary | None, error: str, now: datetime
               ) -> Report:
    if result is None:
        report = Report(f"{cfg.title} {day}: the run stopped", [f"Error: {error}"], ok=False)
    else:
        report = Report(f"{cfg.title} {day}: {result.line()}")
        if result.sent is not None:
            report.lines.append(f"Sent: {result.sent.line()}")
        elif result.sent is None:
            report.lines.append("Sent: nothing (no subscribers, or --no-send)")
    for source, status, note in archive.db.execute(
            "SELECT source, status, note FROM collections WHERE day = ? ORDER BY source", (day.isoformat(),)):
        report.lines.append(f"Source {source}: {status}{f' ({note})' if note else ''}")
    report.lines.append(list_health(archive, now))
    record = archive.issue(day)
    report.lines += [f"Warning: {n}" for n in (record.notes if record else ())]
    return report


def deliver_report(cfg: Config, report: Report, seams: Seams) -> list[str]:
    """Send the report where configured; what went where (or why not), never raising."""
    done = []
    if cfg.report.webhook_url:
        try:
            http = seams.http(cfg, "the report webhook")
            resp = http.request("POST", cfg.report.webhook_url, data=json.dumps(report.payload()),
                                headers={"Content-Type": "application/json"}, ok=(200, 201, 202, 204))
            done.append(f"report webhook: HTTP {resp.status_code}")
        except Exception as exc:  # noqa: BLE001 - a report must never turn a run into a failure
            done.append(f"report webhook failed: {exc}")
    if cfg.report.to:
        try:
            done.append(f"report email: {_email(cfg, report, seams.env, seams.now())}")
        except Exception as exc:  # noqa: BLE001
            done.append(f"report email failed: {exc}")
    return done


def _email(cfg: Config, report: Report, env: Mapping[str, str], now: datetime) -> str:
    import email.policy
    import email.utils
    import secrets
    from email.message import EmailMessage

    from newsletter.deliver import smtp_mailer
    from newsletter.delivery.addresses import check_address
    from newsletter.delivery.message import MessageSettings, subject_header

    s = MessageSettings.from_config(cfg, env, dry_run=True)  # no reader links: the secret is not needed
    to = check_address(cfg.report.to)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = subject_header(report.title)
    msg["From"] = s.from_header
    msg["To"] = to
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = f"<hp.report.{secrets.token_hex(8)}@{s.msgid_domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(report.text + "\n", charset="utf-8", cte="quoted-printable")
    mailer = smtp_mailer(cfg, env)
    try:
        return mailer.send(s.from_address, to, msg.as_bytes())
    finally:
        mailer.close()
