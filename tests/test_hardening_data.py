"""Hardening, part 1: nothing is lost. An archived day never shrinks, one
recipient never blocks the others, the demo never writes over a project."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import responses
from typer.testing import CliRunner

import arxiv_atom
from conftest import make_config, only_sources
from factories import paper
from newsletter.cli import app
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.fetch import fetch_day
from newsletter.store import Archive
from smtpserver import Server
from test_deliver import ADDRS, cert, config, ledger, prepare, send  # noqa: F401 - cert is a fixture

API = "https://export.test/api/query"
NOW = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)
D = date(2026, 7, 31)
PUBLISHED = datetime(2026, 7, 30, 12, tzinfo=timezone.utc)
PAPERS = [paper(f"2607.0000{i}") for i in range(1, 6)]


def day_config(tmp_path, **arxiv):
    return make_config(tmp_path, arxiv={"api_url": API, **arxiv}, sources=only_sources())


def fetch(cfg, replace=False):
    reporter = NullReporter()
    with Archive(cfg.store_path) as a:
        try:
            fetch_day(cfg, D, a, Seams(now=lambda: NOW, env={}, sleep=lambda s: None), reporter, replace=replace)
        except Exception as exc:  # noqa: BLE001 - the test looks at the archive either way
            reporter.warnings.append(f"raised {type(exc).__name__}: {exc}")
        return [p.arxiv_id for p in a.day_papers(D)], a.issue(D), reporter.warnings


EMPTY = arxiv_atom.feed([])
NO_IDS = arxiv_atom.feed([(p, PUBLISHED) for p in PAPERS]).replace("<id>http://arxiv.org/abs/", "<id>urn:x:")
FEWER = arxiv_atom.feed([(p, PUBLISHED) for p in PAPERS[:2]])
BAD_DATES = arxiv_atom.feed([(p, PUBLISHED) for p in PAPERS]).replace("<published>2026", "<published>20x6")


@pytest.mark.parametrize("answer", [EMPTY, NO_IDS, FEWER, BAD_DATES], ids=["empty", "no ids", "fewer", "bad dates"])
@responses.activate
def test_a_refetch_never_shrinks_an_archived_day(tmp_path, answer):
    cfg = day_config(tmp_path)
    responses.get(API, body=arxiv_atom.feed([(p, PUBLISHED) for p in PAPERS]))
    ids, record, _ = fetch(cfg)
    assert len(ids) == 5 and record.paper_count == 5
    responses.replace(responses.GET, API, body=answer)
    ids_after, record_after, warnings = fetch(cfg)
    assert ids_after == ids and record_after.paper_count == 5
    assert any("the archive holds 5; the archive was kept (fetch with --replace to replace it)" in w for w in warnings)
    if answer is FEWER:  # an explicit --replace replaces it
        ids_replaced, record_replaced, _ = fetch(cfg, replace=True)
        assert ids_replaced == ["2607.00001", "2607.00002"] and record_replaced.paper_count == 2


@responses.activate
def test_malformed_entries_are_skipped_and_counted_not_fatal(tmp_path):
    cfg = day_config(tmp_path)
    body = arxiv_atom.feed([(p, PUBLISHED) for p in PAPERS])
    body = body.replace("<id>http://arxiv.org/abs/2607.00002v1</id>", "<id>http://arxiv.org/abs/not-an-id</id>", 1)
    body = body.replace(f"<published>{PUBLISHED:%Y-%m-%dT%H:%M:%SZ}</published>", "<published>soon</published>", 1)
    responses.get(API, body=body)
    ids, _, warnings = fetch(cfg)
    assert ids == ["2607.00003", "2607.00004", "2607.00005"]
    assert "arXiv: 2 entries skipped: 1 bad date, 1 bad id" in warnings


def test_a_config_max_results_that_is_nonsense_is_refused(tmp_path):
    from newsletter.errors import ConfigError
    for bad in (-1, 2.5, "all"):
        with pytest.raises(ConfigError, match="arxiv.max_results"):
            day_config(tmp_path, max_results=bad)


@pytest.mark.parametrize("smtputf8", [True, False], ids=["server offers SMTPUTF8", "server without SMTPUTF8"])
def test_a_non_ascii_recipient_never_blocks_the_others(tmp_path, cert, smtputf8):
    odd = ["bob@bücher.de", "zoë@example.org", "carol@xn--mnchen-3ya.de"]
    everyone = [ADDRS[0], *odd, ADDRS[1]]
    with Server(*cert, smtputf8=smtputf8) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, everyone)
        summary = send(cfg)
        got = server.handler.received()
    rows = ledger(cfg)
    # the domains go out in IDNA form; a plain ASCII local part needs no SMTPUTF8
    assert got["bob@xn--bcher-kva.de"] == 1 and got["carol@xn--mnchen-3ya.de"] == 1
    assert got[ADDRS[0]] == 1 and got[ADDRS[1]] == 1
    zoe = next(r for e, r in rows.items() if e.startswith("zo"))
    if smtputf8:
        assert got["zoë@example.org"] == 1 and zoe.status == "sent"
        assert summary.sent == 5 and summary.failed == 0
    else:
        assert "zoë@example.org" not in got and zoe.status == "failed"
        assert "does not offer SMTPUTF8" in zoe.reply
        assert summary.sent == 4 and summary.failed == 1


def test_a_message_that_cannot_be_made_fails_alone(tmp_path, cert, monkeypatch):
    from newsletter.delivery.message import MessageFactory
    real = MessageFactory.make

    def make(self, rendered, to, *a, **k):
        if to.email == ADDRS[2]:
            raise UnicodeEncodeError("ascii", "x", 0, 1, "not encodable")
        return real(self, rendered, to, *a, **k)

    monkeypatch.setattr(MessageFactory, "make", make)
    with Server(*cert) as server:
        cfg = config(tmp_path, server.port, cert[0])
        prepare(cfg, ADDRS)
        summary = send(cfg)
        got = server.handler.received()
    assert summary.sent == 4 and summary.failed == 1 and ADDRS[2] not in got
    assert ledger(cfg)[ADDRS[2]].reply.startswith("cannot make a message for this address")


@pytest.mark.parametrize("existing", ["newsletter.toml", "newsletter.db"])
def test_the_demo_refuses_a_project_folder_unless_forced(tmp_path, monkeypatch, existing):
    monkeypatch.chdir(tmp_path)
    (tmp_path / existing).write_bytes(b"mine\n")
    r = CliRunner().invoke(app, ["demo", "--dir", "."])
    assert r.exit_code == 1 and f"already holds {existing}" in r.output and "--force" in r.output
    assert (tmp_path / existing).read_bytes() == b"mine\n"
    assert not (tmp_path / "content").exists()


def test_the_demo_runs_again_in_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["demo"])  # a newcomer running it twice
    assert again.exit_code == 0, again.output
    assert (tmp_path / "demo" / "site" / "hot-papers-2021-06-16" / "index.html").is_file()
