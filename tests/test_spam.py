"""What a spam filter makes of our mail: Debian's SpamAssassin with local
tests only (no network). The daily, weekly and personal issues, the
confirmation and the welcome email each score 0."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from test_email import issue_from_post
from newsletter import config as config_mod
from newsletter.delivery.message import MessageFactory, MessageSettings, Recipient, to_bytes
from newsletter.delivery.notices import confirmation_message, welcome_message
from newsletter.render.email import EmailSettings, render_email

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = pytest.mark.skipif(SPAMASSASSIN is None, reason="SpamAssassin is not installed (CI installs it)")
ENV = {"NEWSLETTER_SECRET": "s3cret-s3cret-s3cret-0123456789"}
NOW = datetime(2021, 8, 27, 9, tzinfo=timezone.utc)


def score(message: bytes) -> tuple[float, str]:
    out = subprocess.run([SPAMASSASSIN, "-t", "-L"], input=message, capture_output=True, timeout=120).stdout
    text = out.decode("utf-8", "replace")
    m = re.search(r"X-Spam-Status: \w+, score=(-?[\d.]+)", text)
    assert m, text[:500]
    return float(m.group(1)), text[text.find("Content analysis details"):][:1500]


def settings(tmp_path):
    cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"},
                                "email": {"from": "Hot Papers <papers@hot.example.org>"}}, base_dir=tmp_path)
    return MessageSettings.from_config(cfg, ENV)


def messages(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    s, es = settings(tmp_path), EmailSettings.from_config(cfg)
    factory = MessageFactory(s)
    reader = Recipient("reader@example.net", "A Reader", "AbCdEfGh12345678")
    weekly = replace(issue, week="2021-W34", paper_dates=tuple((rp.paper.arxiv_id, issue.date) for rp in issue.papers))
    yield "daily", factory.make(render_email(issue, es), reader, issue.key, NOW)[0]
    yield "weekly", factory.make(render_email(weekly, EmailSettings.from_config(cfg, weekly=True)), reader,
                                 weekly.key, NOW)[0]
    yield "personal", factory.make(render_email(issue, es, papers=issue.papers[:2], filtered_by="cs.CV"), reader,
                                   issue.key, NOW)[0]
    yield "confirmation", to_bytes(confirmation_message(s, "new@example.net", "https://hot.example.org/confirm?t=x",
                                                        "Hot Papers", NOW, 48), None)
    yield "welcome", to_bytes(welcome_message(s, "new@example.net", "Hot Papers", "each weekday.",
                                              s.preferences_link("AbCd"), "https://hot.example.org/feeds/papers.atom",
                                              s.unsubscribe_link("AbCd"), NOW), None)


def test_every_kind_of_message_scores_zero(tmp_path):
    results = {kind: score(data) for kind, data in messages(tmp_path)}
    assert set(results) == {"daily", "weekly", "personal", "confirmation", "welcome"}
    for kind, (points, report) in results.items():
        assert points <= 0.0, f"{kind}: {points}\n{report}"
