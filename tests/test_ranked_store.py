"""A day's ranking is stored once and read by later builds; anything it was
made from changing (posts, links, papers, embeds, the day's list, the rule)
makes the next read rank again, so a stored ranking never differs from a
fresh one."""

from __future__ import annotations

import random
from datetime import date, timedelta

from conftest import make_config
from factories import T0, paper, xpost
from newsletter import build, issues
from newsletter.models import Post
from newsletter.rank import RankingRule, rank
from newsletter.store import Archive

DAY = date(2026, 7, 31)
OTHER = date(2026, 7, 30)


def fresh(cfg, a: Archive, day: date):
    """What ranking the archive from scratch gives (never stored)."""
    return tuple(rank(a.day_papers(day), issues.daily_posts(cfg, a, day), RankingRule.from_config(cfg.ranking)))


def stored_rows(a: Archive) -> set[str]:
    return {r[0] for r in a.db.execute("SELECT day FROM ranked_days")}


def odd_post(rng: random.Random, i: int, ids: tuple[str, ...]) -> Post:
    """Posts with the shapes an old or hostile archive can hold: odd figures,
    late posts, several links, imported sources."""
    likes = rng.choice([0, 5, 30, 80, 400, -3, True, "12", 10**12, 2.5])
    post = xpost(i, ids, retweets=rng.choice([0, 10, 60]), likes=likes,
                 created=T0 + timedelta(hours=rng.choice([0, 30, 200])), text=f"post {i} <b>&</b>")
    if rng.random() < 0.2:
        post = Post(source="imported-blog", post_id=str(i), url="", author_handle="", author_name="Blog",
                    text="t", created_at=None, metrics={"score": rng.choice([10, 60, "x"])}, collected_at=T0,
                    arxiv_ids=ids)
    return post


def test_stored_ranking_always_equals_a_fresh_one_through_every_kind_of_change(tmp_path):
    cfg = make_config(tmp_path, ranking={"min_paper_score": 50, "min_post_score": 25})
    rng = random.Random(7)
    ids = [f"2607.{i:05d}" for i in range(12)]
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper(i) for i in ids[:8]])
        a.save_day_papers(OTHER, [paper(i) for i in ids[8:]])
        for day in (DAY, OTHER):
            a.save_issue(day, T0, 8)
        n = 0

        def check() -> None:
            for day in (DAY, OTHER):
                assert issues.load_issue(cfg, a, day).papers == fresh(cfg, a, day)
            assert stored_rows(a) == {DAY.isoformat(), OTHER.isoformat()}  # both stored again

        def new_posts(k: int) -> list[Post]:
            nonlocal n
            out = []
            for _ in range(k):
                n += 1
                out.append(odd_post(rng, n, tuple(rng.sample(ids, rng.choice([1, 1, 2])))))
            return out

        a.save_posts(new_posts(60))
        check()
        mutations = [
            lambda: a.save_posts(new_posts(5)),  # new posts and links
            lambda: a.save_posts([xpost(rng.randint(1, n), rng.choice(ids), likes=rng.choice([0, 900]))]),  # refigured
            lambda: a.set_embed("x", str(rng.randint(1, n)), "<blockquote>embed</blockquote>"),
            lambda: a.remove_posts("x", arxiv_id=rng.choice(ids)),
            lambda: a.remove_posts("imported-blog", day=DAY),
            lambda: a.save_day_papers(DAY, [paper(i, title=f"Retitled {rng.random()}") for i in ids[:8]]),
            lambda: a.save_day_papers(DAY, [paper(i) for i in ids[:6]]),  # the day's list shrinks
            lambda: a.save_day_papers(DAY, [paper(i, has_pdf=rng.random() < 0.5) for i in ids[:8]]),
            lambda: a.save_day_papers(OTHER, [paper(i) for i in ids[7:]]),  # a paper moves between days
            lambda: a.save_day_papers(OTHER, []),  # a day emptied (re-fetched with --replace)
        ]
        for step in range(40):
            rng.choice(mutations)()
            check()


def test_a_build_reads_the_stored_ranking_and_a_new_rule_ranks_again(tmp_path, monkeypatch):
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper("2607.00001"), paper("2607.00002")])
        a.save_posts([xpost(1, "2607.00001", likes=70), xpost(2, "2607.00002", likes=40)])
        a.save_issue(DAY, T0, 2)
        assert [rp.paper.arxiv_id for rp in issues.load_issue(cfg, a, DAY).papers] == ["2607.00001"]

        def no_ranking(*args, **kw):
            raise AssertionError("ranked again although nothing changed")

        monkeypatch.setattr(issues, "rank", no_ranking)
        build.build_day(cfg, DAY, a)  # every output from the stored ranking
        monkeypatch.undo()
        lower = make_config(tmp_path, ranking={"min_paper_score": 30})
        assert [rp.paper.arxiv_id for rp in issues.load_issue(lower, a, DAY).papers] == ["2607.00001", "2607.00002"]
        assert len(issues.load_issue(cfg, a, DAY).papers) == 1  # and back


def one_hot_paper(a: Archive) -> None:
    a.save_day_papers(DAY, [paper("2607.00001")])
    a.save_posts([xpost(1, "2607.00001", likes=70)])
    a.save_issue(DAY, T0, 1)


def test_a_read_only_archive_still_ranks(tmp_path):
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        one_hot_paper(a)
    with Archive(cfg.store_path) as a:
        a.db.execute("PRAGMA query_only = ON")  # every write fails as on a read-only file (also for root)
        assert len(issues.load_issue(cfg, a, DAY).papers) == 1
        assert stored_rows(a) == set()


def test_ranking_inside_an_open_transaction_is_not_stored_but_correct(tmp_path):
    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        one_hot_paper(a)
        with a.transaction():
            assert len(issues.load_issue(cfg, a, DAY).papers) == 1
        assert stored_rows(a) == set()
        issues.load_issue(cfg, a, DAY)
        assert stored_rows(a) == {DAY.isoformat()}


def test_an_older_archive_gains_the_table_and_ranks_the_same(tmp_path):
    """Archives written before the stored rankings, when one numbered list of
    migrations covered every table (user_version 5): they are taken over with
    the versions they had, gain the table and triggers, and the first read
    ranks and stores."""
    import sqlite3

    from newsletter import schema, store
    from newsletter.delivery import ledger

    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    old_order = [store.MIGRATIONS[0], ledger.MIGRATIONS[0], store.MIGRATIONS[1], ledger.MIGRATIONS[1],
                 store.MIGRATIONS[2]]
    for script in old_order:
        for statement in schema.statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 5")
    db.execute("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('a@example.org', "
               "'subscribed', '2021-01-01T00:00:00+00:00', '2021-01-01T00:00:00+00:00')")
    db.close()
    cfg = make_config(tmp_path, store={"path": str(path)})
    with Archive(path) as a:
        one_hot_paper(a)
        assert issues.load_issue(cfg, a, DAY).papers == fresh(cfg, a, DAY)
        assert stored_rows(a) == {DAY.isoformat()}
        assert [s.email for s in ledger.SubscriberStore(a).all()] == ["a@example.org"]  # kept, not created again
        versions = dict(a.db.execute("SELECT component, version FROM schema_versions").fetchall())
    from newsletter.enrich import store as media

    assert versions == {"archive": len(store.MIGRATIONS), "subscribers": len(ledger.MIGRATIONS),
                        "media": len(media.MIGRATIONS)}


def test_several_processes_ranking_at_once_agree(tmp_path):
    """Builds and sends started together: each gets the same ranking, one
    stores it, none fails on the lock."""
    import subprocess
    import sys

    cfg = make_config(tmp_path)
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper(f"2607.{i:05d}") for i in range(50)])
        a.save_posts([xpost(n, f"2607.{n % 50:05d}", likes=n) for n in range(3000)])
        a.save_issue(DAY, T0, 50)
        expected = [rp.paper.arxiv_id for rp in fresh(cfg, a, DAY)]
    code = (f"import sys; sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r}); "
            "from conftest import make_config; from newsletter import issues; from newsletter.store import Archive; "
            "from datetime import date; from pathlib import Path; "
            f"cfg = make_config(Path({str(tmp_path)!r})); a = Archive(cfg.store_path); "
            f"print(' '.join(rp.paper.arxiv_id for rp in issues.load_issue(cfg, a, date.fromisoformat('{DAY}')).papers))")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs == [expected] * 4
    with Archive(cfg.store_path) as a:
        assert stored_rows(a) == {DAY.isoformat()}
