"""Parallel delivery: [smtp] connections send from the same ledger. Against a
loopback SMTP server that takes 50 ms per DATA, messages over 8 connections
reach everybody exactly once, also when connections drop mid-send, and the
connections really send at the same time. How much faster that is belongs to
scripts/bench.py (a ratio of medians), not to a test."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from newsletter.pacing import Pacer

from factories import paper, xpost
from newsletter import config as config_mod
from newsletter.delivery.ledger import SubscriberStore
from newsletter.models import IssueKey
from newsletter.seams import Seams
from newsletter.deliver import send_day
from newsletter.store import Archive
from smtpserver import PASSWORD, USER, Faults, Server
from test_deliver import cert  # noqa: F401 - a fixture

DAY = date(2026, 7, 31)
ENV = {"SMTP_PASSWORD": PASSWORD, "NEWSLETTER_SECRET": "s3cret-s3cret-s3cret-0123456789"}
N = 400


def setup(tmp_path, port, ca, connections, rate=0.0):
    cfg = config_mod.from_dict({
        "newsletter": {"site_url": "https://hot.example.org"},
        "email": {"from": "Hot Papers <papers@hot.example.org>"},
        "delivery": {"retry_backoff": 0.0},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER, "ca_file": str(ca),
                 "timeout": 30.0, "connections": connections, "rate": rate},
    }, base_dir=tmp_path)
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper("2607.00001", title="One hot paper")])
        a.save_posts([xpost(1, "2607.00001", likes=90)])
        a.save_issue(DAY, datetime(2026, 8, 1, tzinfo=timezone.utc), 1)
        SubscriberStore(a).add_many([(f"r{i:04d}@example.net", "") for i in range(N)],
                                    datetime(2026, 7, 1, tzinfo=timezone.utc))
    return cfg


def send(cfg):
    with Archive(cfg.store_path) as a:
        return send_day(cfg, DAY, a, Seams(env=ENV, sleep=lambda s: None))


def test_eight_connections_send_at_once_with_nobody_twice_or_lost(tmp_path, cert):  # noqa: F811
    faults = Faults(data_delay=0.05, data={"r0077@example.net": ["DROP"], "r0300@example.net": ["DROP"]})
    with Server(*cert, faults) as server:
        cfg = setup(tmp_path, server.port, cert[0], connections=8)
        summary = send(cfg)
        got = server.handler.received()
        most_at_once = server.handler.most_in_data
    assert summary.sent == N and summary.failed == summary.deferred == 0, summary.line()
    assert len(got) == N and set(got.values()) == {1}  # everyone, once (the dropped two resent)
    with Archive(cfg.store_path) as a:
        assert SubscriberStore(a).counts(IssueKey.of_day(DAY)) == {"sent": N}
    assert summary.connections >= 8  # eight at the start, more after the drops
    assert most_at_once >= 4, most_at_once  # several DATA commands in flight together


def test_one_connection_sends_one_at_a_time(tmp_path, cert):  # noqa: F811
    faults = Faults(data_delay=0.01)
    with Server(*cert, faults) as server:
        cfg = setup(tmp_path, server.port, cert[0], connections=1)
        with Archive(cfg.store_path) as a:
            a.db.execute("DELETE FROM subscribers WHERE email > 'r0039@example.net'")
        summary = send(cfg)
        assert server.handler.most_in_data == 1 and summary.sent == 40 and summary.connections == 1


def test_the_rate_limit_is_shared_by_all_connections(tmp_path, cert):  # noqa: F811
    from newsletter.deliver import smtp_mailers
    with Server(*cert) as server:
        cfg = setup(tmp_path, server.port, cert[0], connections=4, rate=40)
        mailers = smtp_mailers(cfg, ENV)
        assert len(mailers) == 4 and len({id(m.pacer) for m in mailers}) == 1
        with Archive(cfg.store_path) as a:
            a.db.execute("DELETE FROM subscribers WHERE email > 'r0079@example.net'")
        pacers = []  # each pacer made, with the clock readings it took (one per wait, under its lock)
        init = Pacer.__init__

        def recording(self, *args, **kwargs):
            init(self, *args, **kwargs)
            readings, real = [], self.clock
            self.clock = lambda: readings.append(real()) or readings[-1]
            pacers.append((self, readings))

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Pacer, "__init__", recording)
            summary = send(cfg)
    assert summary.sent == 80
    # one pacer for all four connections took every message's turn; each turn
    # is booked at least 1/40 s after the one before, so 80 span 2 s: 40 a second in all
    ((pacer, readings),) = [(p, r) for p, r in pacers if r]  # the one that was used
    assert pacer.interval == 1 / 40 and len(readings) == 80
    assert pacer._next - readings[0] >= 80 / 40 - 1e-6
