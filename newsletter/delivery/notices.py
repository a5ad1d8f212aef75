"""The web app's own messages to one reader: the double opt-in
confirmation, and the welcome once confirmed. Plain, short, both parts; they
go through the outbox (``outbox.py``)."""

from __future__ import annotations

import email.policy
import email.utils
import html
import secrets
from datetime import datetime
from email.message import EmailMessage

from newsletter.delivery.addresses import envelope
from newsletter.delivery.message import MessageSettings, subject_header


def _notice(s: MessageSettings, to: str, subject: str, kind: str, paragraphs: list[tuple[str, str]],
            now: datetime, unsubscribe: str = "") -> EmailMessage:
    """``paragraphs``: (text, its HTML) pairs."""
    wire = envelope(to)
    msg = EmailMessage(policy=email.policy.SMTPUTF8 if wire.smtputf8 else email.policy.SMTP)
    msg["Subject"] = subject_header(subject)
    msg["From"] = s.from_header
    msg["To"] = wire.address
    if s.reply_to:
        msg["Reply-To"] = s.reply_to
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = f"<hp.{kind}.{secrets.token_hex(8)}@{s.msgid_domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe:  # a message of the list: its headers complete (SpamAssassin's LIST_PARTIAL_SHORT_MSG)
        msg["List-Id"] = s.list_id
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content("\n\n".join(t for t, _ in paragraphs) + "\n", subtype="plain", charset="utf-8",
                    cte="quoted-printable")
    msg.add_alternative("".join(f"<p>{h}</p>" for _, h in paragraphs), subtype="html", charset="utf-8",
                        cte="quoted-printable")
    return msg


def confirmation_message(s: MessageSettings, to: str, link: str, title: str, now: datetime,
                         hours: int) -> EmailMessage:
    """The double opt-in email: one link to confirm, nothing else."""
    e = html.escape
    return _notice(s, to, f"Confirm your subscription to {title}", "confirm", [
        (f"Someone, hopefully you, asked to get {title} at {to}.",
         f"Someone, hopefully you, asked to get {e(title)} at {e(to)}."),
        (f"To confirm, open this link within {hours} hours and press the button:\n\n{link}",
         f'<a href="{e(link)}">Confirm your subscription</a> (within {hours} hours).'),
        ("If it was not you, ignore this email: nothing will be sent to this address.",
         "If it was not you, ignore this email: nothing will be sent to this address."),
    ], now)


def welcome_message(s: MessageSettings, to: str, title: str, cadence: str, preferences: str, feed: str,
                    unsubscribe: str, now: datetime) -> EmailMessage:
    """After confirming: what arrives and when, and the reader's links."""
    e = html.escape
    return _notice(s, to, f"Welcome to {title}", "welcome", [
        (f"You are subscribed to {title}: {cadence}", f"You are subscribed to {e(title)}: {e(cadence)}"),
        (f"Choose your topics, how many papers and how often:\n{preferences}",
         f'<a href="{e(preferences)}">Choose your topics, how many papers and how often</a>.'),
        (f"Prefer a feed reader? {feed}", f'Prefer a feed reader? <a href="{e(feed)}">The feed</a>.'),
        (f"Unsubscribe at any time: {unsubscribe}", f'<a href="{e(unsubscribe)}">Unsubscribe</a> at any time.'),
    ], now, unsubscribe)
