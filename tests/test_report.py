"""The operator's report after a run: by webhook (JSON that Slack, Discord
and Matrix hooks take) and by email, with each source's status, what was
sent, bounces and complaints, and warnings; or the error that stopped it."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import responses

from factories import T0, paper, xpost
from newsletter import config as config_mod
from newsletter.build import build_day
from newsletter.pipeline import RunSummary
from newsletter.fetch import FetchSummary
from newsletter.report import deliver_report, run_report
from newsletter.seams import Seams
from newsletter.store import Archive, Collection
from smtpserver import PASSWORD, USER, Server, make_cert

DAY = date(2026, 7, 31)
NOW = datetime(2026, 8, 1, 9, tzinfo=timezone.utc)


def archive_day(cfg):
    a = Archive(cfg.store_path)
    a.save_day_papers(DAY, [paper("2607.00001")])
    a.save_posts([xpost(1, "2607.00001", likes=90)])
    a.save_issue(DAY, T0, 1, ["X: 2 posts skipped: bad public_metrics"])
    a.record_collection(Collection(DAY, "x", T0, T0, "ok", "", 3, 40))
    a.record_collection(Collection(DAY, "bluesky", T0, T0, "failed", "Bluesky refused the login", 1, 0))
    return a


def summary(cfg, a):
    return RunSummary(FetchSummary(DAY, papers=1, arxiv_via="API", posts={"x": 40}), build_day(cfg, DAY, a))


@responses.activate
def test_the_report_goes_to_the_webhook_with_everything_an_operator_needs(tmp_path):
    cfg = config_mod.from_dict({"report": {"webhook_url": "https://hooks.example.org/T000/B000"},
                                "arxiv": {"delay_seconds": 0.0}}, base_dir=tmp_path)
    responses.post("https://hooks.example.org/T000/B000", body="ok")
    with archive_day(cfg) as a:
        report = run_report(cfg, a, DAY, summary(cfg, a), "", NOW)
        done = deliver_report(cfg, report, Seams(now=lambda: NOW, sleep=lambda s: None))
    assert done == ["report webhook: HTTP 200"]
    body = json.loads(responses.calls[0].request.body)
    assert body["ok"] is True and body["text"] == body["content"]
    text = body["text"]
    assert text.startswith("Hot Papers 2026-07-31: Done 2026-07-31: 1 papers (arXiv API)")
    assert "Source bluesky: failed (Bluesky refused the login)" in text and "Source x: ok" in text
    assert "Last 30 days: 0 hard bounces, 0 soft, 0 complaints" in text
    assert "Warning: X: 2 posts skipped: bad public_metrics" in text


@responses.activate
def test_a_run_that_stopped_is_reported_and_a_failing_hook_never_raises(tmp_path):
    cfg = config_mod.from_dict({"report": {"webhook_url": "https://hooks.example.org/x"},
                                "http": {"retries": 0}}, base_dir=tmp_path)
    responses.post("https://hooks.example.org/x", status=500)
    with archive_day(cfg) as a:
        report = run_report(cfg, a, DAY, None, "arXiv: cannot resolve export.arxiv.org", NOW)
        assert not report.ok and "Error: arXiv: cannot resolve export.arxiv.org" in report.text
        done = deliver_report(cfg, report, Seams(now=lambda: NOW, sleep=lambda s: None))
    assert len(done) == 1 and done[0].startswith("report webhook failed")


def test_nothing_is_sent_when_no_report_is_configured(tmp_path):
    cfg = config_mod.from_dict({}, base_dir=tmp_path)
    with archive_day(cfg) as a:
        assert deliver_report(cfg, run_report(cfg, a, DAY, None, "x", NOW), Seams()) == []


def test_the_report_by_email(tmp_path):
    cert = make_cert(tmp_path)
    with Server(*cert) as server:
        cfg = config_mod.from_dict({
            "report": {"to": "operator@hot.example.org"},
            "email": {"from": "Hot Papers <papers@hot.example.org>"},
            "smtp": {"host": "127.0.0.1", "port": server.port, "username": USER, "ca_file": str(cert[0])},
        }, base_dir=tmp_path)
        with archive_day(cfg) as a:
            report = run_report(cfg, a, DAY, summary(cfg, a), "", NOW)
            done = deliver_report(cfg, report, Seams(now=lambda: NOW, env={"SMTP_PASSWORD": PASSWORD}))
        (msg,) = server.handler.parsed("operator@hot.example.org")
    assert done[0].startswith("report email: 250")
    assert msg["Subject"].startswith("Hot Papers 2026-07-31: Done")
    assert "Source bluesky: failed" in msg.get_content()
