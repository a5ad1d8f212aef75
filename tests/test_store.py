import sqlite3
from datetime import date

import pytest

from factories import T0, paper, xpost
from newsletter.errors import ArchiveError
from newsletter.store import Archive

DAY = date(2026, 7, 31)


def test_roundtrip_and_update_in_place(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as a:
        a.save_day_papers(DAY, [paper("2607.00001"), paper("2607.00002")])
        a.save_posts([xpost(1, "2607.00001", likes=10)])
        a.set_embed("x", "1", "<blockquote>kept</blockquote>\n")
    with Archive(path) as a:  # a real file, reopened
        a.save_day_papers(DAY, [paper("2607.00001", title="Better title", version=2)])
        a.save_posts([xpost(1, "2607.00001", likes=99)])
        (p,) = a.day_papers(DAY)
        assert (p.title, p.version) == ("Better title", 2)
        (post,) = a.day_posts(DAY)
        assert post.metrics["likes"] == 99 and post.embed_html == "<blockquote>kept</blockquote>\n"
        assert a.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


def test_posts_belong_to_the_days_of_the_papers_they_link(tmp_path):
    with Archive(tmp_path / "a.db") as a:
        a.save_day_papers(DAY, [paper("2607.00001")])
        a.save_day_papers(date(2026, 7, 30), [paper("2607.00009")])
        a.save_posts([xpost(1, ("2607.00001", "2607.00009")), xpost(2, "2601.99999")])
        (post,) = a.day_posts(DAY)
        assert post.post_id == "1" and post.arxiv_ids == ("2607.00001",)
        assert [p.post_id for p in a.day_posts(date(2026, 7, 30))] == ["1"]


def test_failed_transaction_changes_nothing(tmp_path):
    with Archive(tmp_path / "a.db") as a:
        a.save_day_papers(DAY, [paper("2607.00001")])
        with pytest.raises(ValueError):
            a.save_posts([xpost(1, "2607.00001"), xpost(2, "2607.00001", created=T0.replace(tzinfo=None))])
        assert a.day_posts(DAY) == []


def test_newer_schema_and_garbage_files_are_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "new.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(ArchiveError, match="newer version"):
        Archive(tmp_path / "new.db")
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="cannot open the archive"):
        Archive(tmp_path / "junk.db")
