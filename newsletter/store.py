"""The archive: one SQLite file holding papers, posts, collection runs and
issues. Everything after ``fetch`` reads from here, offline and reproducibly.
Re-fetching a day updates rows instead of duplicating them."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from newsletter.codecs import from_iso, from_iso_required, ranked_from_json, ranked_to_json, to_iso
from newsletter.errors import ArchiveError
from newsletter.models import Paper, Post, RankedPaper
from newsletter.schema import migrate

# the archive's own tables; the subscriber store's are in delivery/ledger.py (see schema.py)
MIGRATIONS = [
    """
    CREATE TABLE papers (
        arxiv_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL,
        authors TEXT NOT NULL,      -- JSON list
        categories TEXT NOT NULL,   -- JSON list, primary first
        comment TEXT NOT NULL DEFAULT '',
        submitted TEXT,
        updated TEXT,
        has_pdf INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE day_papers (
        day TEXT NOT NULL,
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        announce_type TEXT NOT NULL,
        PRIMARY KEY (day, arxiv_id)
    );
    CREATE TABLE posts (
        source TEXT NOT NULL,
        post_id TEXT NOT NULL,
        url TEXT NOT NULL,
        author_handle TEXT NOT NULL,
        author_name TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT,
        metrics TEXT NOT NULL,      -- JSON object of the source's figures
        collected_at TEXT NOT NULL,
        embed_html TEXT,
        PRIMARY KEY (source, post_id)
    );
    CREATE TABLE post_papers (
        source TEXT NOT NULL,
        post_id TEXT NOT NULL,
        arxiv_id TEXT NOT NULL,
        PRIMARY KEY (source, post_id, arxiv_id),
        FOREIGN KEY (source, post_id) REFERENCES posts(source, post_id)
    );
    CREATE INDEX post_papers_by_paper ON post_papers(arxiv_id);
    CREATE TABLE collections (
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        status TEXT NOT NULL,       -- ok | skipped | failed | capped
        note TEXT NOT NULL DEFAULT '',
        requests INTEGER NOT NULL DEFAULT 0,
        items INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, source)
    );
    CREATE TABLE issues (
        day TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,   -- when the day's signals were collected
        paper_count INTEGER NOT NULL DEFAULT 0,
        notes TEXT NOT NULL DEFAULT '[]'
    );
    """,
    """
    CREATE TABLE site_entries (      -- what the website's shared pages need of each issue
        day TEXT PRIMARY KEY,
        entry TEXT NOT NULL          -- JSON (render/site.py IssueEntry)
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE weeks (             -- Hot Papers of the Week: fetched weeks
        week TEXT PRIMARY KEY,       -- 2026-W31
        created_at TEXT NOT NULL,    -- when the week's signals were collected
        notes TEXT NOT NULL DEFAULT '[]'
    );
    """,
    """
    CREATE TABLE ranked_days (       -- a day's ranked papers as the outputs need them (JSON), so a build
        day TEXT PRIMARY KEY,        -- reads a few rows instead of every post of the day; the triggers
        rule TEXT NOT NULL,          -- below drop a day's row whenever anything it was made from changes,
        papers TEXT NOT NULL         -- and ``rule`` (the ranking settings) must match to be used
    );
    CREATE INDEX day_papers_by_paper ON day_papers(arxiv_id);
    CREATE TRIGGER ranked_post_updated AFTER UPDATE ON posts BEGIN
        DELETE FROM ranked_days WHERE day IN (SELECT d.day FROM post_papers pp JOIN day_papers d USING (arxiv_id)
                                              WHERE pp.source = NEW.source AND pp.post_id = NEW.post_id);
    END;
    CREATE TRIGGER ranked_link_added AFTER INSERT ON post_papers BEGIN
        DELETE FROM ranked_days WHERE day IN (SELECT day FROM day_papers WHERE arxiv_id = NEW.arxiv_id);
    END;
    CREATE TRIGGER ranked_link_removed AFTER DELETE ON post_papers BEGIN  -- a post goes with its links (FK)
        DELETE FROM ranked_days WHERE day IN (SELECT day FROM day_papers WHERE arxiv_id = OLD.arxiv_id);
    END;
    CREATE TRIGGER ranked_paper_updated AFTER UPDATE ON papers BEGIN
        DELETE FROM ranked_days WHERE day IN (SELECT day FROM day_papers WHERE arxiv_id = NEW.arxiv_id);
    END;
    CREATE TRIGGER ranked_day_added AFTER INSERT ON day_papers BEGIN
        DELETE FROM ranked_days WHERE day = NEW.day;
    END;
    CREATE TRIGGER ranked_day_removed AFTER DELETE ON day_papers BEGIN
        DELETE FROM ranked_days WHERE day = OLD.day;
    END;
    CREATE TRIGGER ranked_day_changed AFTER UPDATE ON day_papers BEGIN
        DELETE FROM ranked_days WHERE day IN (OLD.day, NEW.day);
    END;
    """,
    # what a post's short links stand for (X's entities.urls), JSON [[short, expanded, display], ...]
    "ALTER TABLE posts ADD COLUMN links TEXT NOT NULL DEFAULT '[]';",
]


@dataclass(frozen=True)
class Collection:
    day: date
    source: str
    started_at: datetime
    finished_at: datetime
    status: str
    note: str
    requests: int
    items: int


@dataclass(frozen=True)
class IssueRecord:
    day: date
    created_at: datetime
    paper_count: int
    notes: tuple[str, ...]


def _use_wal(db: sqlite3.Connection, wait: float = 30.0) -> None:
    """Switch to WAL. SQLite does not call the busy handler for this switch,
    so several first-ever commands at once would see "database is locked":
    retry until ``wait`` seconds have passed, as the busy timeout would."""
    deadline = time.monotonic() + wait
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _links(value: str) -> tuple[tuple[str, str, str], ...]:
    try:
        items = json.loads(value or "[]")
    except ValueError:
        return ()
    return tuple((str(a), str(b), str(c)) for a, b, c in (x for x in items if isinstance(x, list) and len(x) == 3))


class Archive:
    """A connection to the archive file; use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            _use_wal(self.db)
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=30000")
            migrate(self.db, self.path, "archive", MIGRATIONS)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot open the archive {self.path}: {exc}") from None
        self.db.row_factory = sqlite3.Row

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> _Tx:
        """``with archive.transaction():`` one write transaction (BEGIN IMMEDIATE)."""
        return _Tx(self.db)

    # ------------------------------------------------------------ papers
    def save_day_papers(self, day: date, papers: Iterable[Paper]) -> int:
        """Store the papers of a mailing; the day's list is replaced."""
        papers = list(papers)
        with self.transaction():
            self.db.execute("DELETE FROM day_papers WHERE day = ?", (day.isoformat(),))
            self.db.executemany(
                """INSERT INTO papers VALUES (?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT(arxiv_id) DO UPDATE SET version=excluded.version, title=excluded.title,
                  abstract=excluded.abstract, authors=excluded.authors, categories=excluded.categories,
                  comment=excluded.comment, submitted=COALESCE(excluded.submitted, papers.submitted),
                  updated=COALESCE(excluded.updated, papers.updated), has_pdf=excluded.has_pdf""",
                [(p.arxiv_id, p.version, p.title, p.abstract, json.dumps(list(p.authors)),
                  json.dumps(list(p.categories)), p.comment, to_iso(p.submitted), to_iso(p.updated), int(p.has_pdf))
                 for p in papers],
            )
            self.db.executemany("INSERT OR REPLACE INTO day_papers VALUES (?,?,?)",
                                [(day.isoformat(), p.arxiv_id, p.announce_type) for p in papers])
        return len(papers)

    def day_paper_count(self, day: date) -> int:
        return int(self.db.execute("SELECT count(*) FROM day_papers WHERE day = ?", (day.isoformat(),)).fetchone()[0])

    def archived_paper_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT arxiv_id FROM day_papers")}

    def day_papers(self, day: date) -> list[Paper]:
        rows = self.db.execute(
            """SELECT p.*, d.announce_type FROM day_papers d JOIN papers p USING (arxiv_id)
            WHERE d.day = ? ORDER BY p.arxiv_id""",
            (day.isoformat(),),
        ).fetchall()
        return [
            Paper(
                arxiv_id=r["arxiv_id"], version=r["version"], title=r["title"], abstract=r["abstract"],
                authors=tuple(json.loads(r["authors"])), categories=tuple(json.loads(r["categories"])),
                comment=r["comment"], submitted=from_iso(r["submitted"]), updated=from_iso(r["updated"]),
                has_pdf=bool(r["has_pdf"]), announce_type=r["announce_type"],
            )
            for r in rows
        ]

    # ------------------------------------------------------------- posts
    def save_posts(self, posts: Iterable[Post]) -> int:
        """Insert or update posts (figures change as they are re-collected);
        a post's embed HTML, once fetched, is kept."""
        posts = list(posts)
        with self.transaction():
            self.db.executemany(
                """INSERT INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT(source, post_id) DO UPDATE SET url=excluded.url, links=excluded.links,
                  author_handle=excluded.author_handle, author_name=excluded.author_name,
                  text=excluded.text, created_at=excluded.created_at, metrics=excluded.metrics,
                  collected_at=excluded.collected_at,
                  embed_html=COALESCE(excluded.embed_html, posts.embed_html)""",
                [(p.source, p.post_id, p.url, p.author_handle, p.author_name, p.text, to_iso(p.created_at),
                  json.dumps(p.metrics, sort_keys=True), to_iso(p.collected_at), p.embed_html,
                  json.dumps([list(x) for x in p.links])) for p in posts],
            )
            self.db.executemany("INSERT OR IGNORE INTO post_papers VALUES (?,?,?)",
                                [(p.source, p.post_id, arxiv_id) for p in posts for arxiv_id in p.arxiv_ids])
        return len(posts)

    def day_posts(self, day: date) -> list[Post]:
        """Every post linking a paper of the day, with the day's papers it links."""
        rows = self.db.execute(
            """SELECT p.*, group_concat(pp.arxiv_id, ' ') AS ids
            FROM posts p
            JOIN post_papers pp ON pp.source = p.source AND pp.post_id = p.post_id
            JOIN day_papers d ON d.arxiv_id = pp.arxiv_id AND d.day = ?
            GROUP BY p.source, p.post_id
            ORDER BY p.source, p.post_id""",
            (day.isoformat(),),
        ).fetchall()
        return [
            Post(
                source=r["source"], post_id=r["post_id"], url=r["url"], author_handle=r["author_handle"],
                author_name=r["author_name"], text=r["text"], created_at=from_iso(r["created_at"]),
                metrics=json.loads(r["metrics"]), collected_at=from_iso_required(r["collected_at"]),
                arxiv_ids=tuple(sorted(r["ids"].split(" "))), embed_html=r["embed_html"], links=_links(r["links"]),
            )
            for r in rows
        ]

    def remove_posts(self, source: str, arxiv_id: str | None = None, day: date | None = None) -> int:
        """Delete a source's posts (those linking ``arxiv_id``, or any paper of
        ``day``); returns how many."""
        where, args = ["p.source = ?"], [source]
        if arxiv_id:
            where.append("EXISTS (SELECT 1 FROM post_papers pp WHERE pp.source = p.source AND pp.post_id = p.post_id "
                         "AND pp.arxiv_id = ?)")
            args.append(arxiv_id)
        if day:
            where.append("EXISTS (SELECT 1 FROM post_papers pp JOIN day_papers d USING (arxiv_id) "
                         "WHERE pp.source = p.source AND pp.post_id = p.post_id AND d.day = ?)")
            args.append(day.isoformat())
        with self.transaction():
            ids = self.db.execute(f"SELECT p.post_id FROM posts p WHERE {' AND '.join(where)}", args).fetchall()
            self.db.executemany("DELETE FROM post_papers WHERE source = ? AND post_id = ?",
                                [(source, r[0]) for r in ids])
            self.db.executemany("DELETE FROM posts WHERE source = ? AND post_id = ?", [(source, r[0]) for r in ids])
        return len(ids)

    def set_embed(self, source: str, post_id: str, html: str) -> None:
        self.db.execute(
            "UPDATE posts SET embed_html = ? WHERE source = ? AND post_id = ?", (html, source, post_id)
        )

    # ------------------------------------------------------ collections
    def record_collection(self, c: Collection) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO collections VALUES (?,?,?,?,?,?,?,?)",
            (c.day.isoformat(), c.source, to_iso(c.started_at), to_iso(c.finished_at), c.status, c.note,
             c.requests, c.items),
        )

    # ----------------------------------------------------------- issues
    def save_issue(self, day: date, created_at: datetime, paper_count: int, notes: Iterable[str] = ()) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO issues VALUES (?,?,?,?)",
            (day.isoformat(), to_iso(created_at), paper_count, json.dumps(list(notes))),
        )

    def issue(self, day: date) -> IssueRecord | None:
        r = self.db.execute("SELECT * FROM issues WHERE day = ?", (day.isoformat(),)).fetchone()
        if r is None:
            return None
        return IssueRecord(date.fromisoformat(r["day"]), from_iso_required(r["created_at"]), r["paper_count"],
                           tuple(json.loads(r["notes"])))

    def ranked(self, day: date, rule: str) -> tuple[RankedPaper, ...] | None:
        """The day's stored ranking, if it was made under ``rule`` and nothing
        it was made from has changed since (the triggers drop it then)."""
        r = self.db.execute("SELECT papers FROM ranked_days WHERE day = ? AND rule = ?",
                            (day.isoformat(), rule)).fetchone()
        return tuple(ranked_from_json(x) for x in json.loads(r[0])) if r else None

    def ranked_once(self, day: date, rule: str, compute: Callable[[], Iterable[RankedPaper]]
                    ) -> tuple[RankedPaper, ...]:
        """The stored ranking, or ``compute()`` stored for next time. The
        reads and the write are one transaction, so what is stored is what the
        archive held; an archive that cannot be written (read-only, or already
        in a transaction) still gets its ranking, unstored."""
        stored = self.ranked(day, rule)
        if stored is not None:
            return stored
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return tuple(compute())
        try:
            stored = self.ranked(day, rule)  # another process may have stored it while we waited
            papers = stored if stored is not None else tuple(compute())
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.save_ranked(day, rule, papers)
            self.db.execute("COMMIT")
        except sqlite3.OperationalError:  # e.g. a read-only file: the ranking stands, unstored
            self.db.execute("ROLLBACK")
        return papers

    def save_ranked(self, day: date, rule: str, papers: Iterable[RankedPaper]) -> None:
        self.db.execute("INSERT OR REPLACE INTO ranked_days VALUES (?, ?, ?)",
                        (day.isoformat(), rule, json.dumps([ranked_to_json(rp) for rp in papers])))

    def site_entries(self) -> dict[date, str]:
        return {date.fromisoformat(r[0]): r[1] for r in self.db.execute("SELECT day, entry FROM site_entries")}

    def site_entries_days(self) -> list[date]:
        """Days whose issue has ranked papers, newest first (as the site lists them)."""
        rows = self.db.execute("SELECT day FROM site_entries WHERE entry NOT LIKE '%\"papers\":[]%' "
                               "ORDER BY day DESC")
        return [date.fromisoformat(r[0]) for r in rows]

    def save_site_entries(self, entries: dict[date, str]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO site_entries VALUES (?, ?)",
                                [(d.isoformat(), e) for d, e in entries.items()])

    def get_meta(self, key: str) -> str | None:
        r = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(r[0]) if r else None

    def meta_with_prefix(self, prefix: str) -> dict[str, str]:
        rows = self.db.execute("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {str(r[0])[len(prefix):]: str(r[1]) for r in rows}

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def save_week(self, week: str, created_at: datetime, notes: Iterable[str] = ()) -> None:
        self.db.execute("INSERT OR REPLACE INTO weeks VALUES (?,?,?)",
                        (week, to_iso(created_at), json.dumps(list(notes))))

    def week(self, week: str) -> tuple[datetime, tuple[str, ...]] | None:
        r = self.db.execute("SELECT created_at, notes FROM weeks WHERE week = ?", (week,)).fetchone()
        return (from_iso_required(r[0]), tuple(json.loads(r[1]))) if r else None

    def weeks(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT week FROM weeks ORDER BY week DESC")]

    def issue_days(self) -> list[date]:
        return [date.fromisoformat(r[0]) for r in self.db.execute("SELECT day FROM issues ORDER BY day DESC")]


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
