"""What the enrich stage keeps in the archive: each paper's processed figure
(once, keyed by arXiv id and content hash) and each summary (once per paper,
model and language). Build reads them from here and fetches nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from newsletter.codecs import to_iso

from newsletter.models import Figure
from newsletter.schema import migrate
from newsletter.store import Archive

if TYPE_CHECKING:
    from newsletter.enrich.images import Processed

MIGRATIONS = [
    """CREATE TABLE figures (
        arxiv_id TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        origin TEXT NOT NULL,
        source_url TEXT NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL,
        card_width INTEGER NOT NULL, card_height INTEGER NOT NULL,
        webp BLOB NOT NULL, jpeg BLOB NOT NULL, card BLOB NOT NULL,
        fetched_at TEXT NOT NULL);
    CREATE TABLE summaries (
        arxiv_id TEXT NOT NULL,
        model TEXT NOT NULL,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        made_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, model, language));""",
]
_FIGURE = "arxiv_id, digest, width, height, card_width, card_height, origin"


class MediaStore:
    """Figures and summaries, in the archive file."""

    def __init__(self, archive: Archive):
        self.db = archive.db
        try:
            migrate(self.db, archive.path, "media", MIGRATIONS)
            self.ready = True
        except sqlite3.OperationalError:  # a read-only archive made before enrich existed holds no media
            self.ready = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'summaries'").fetchone() is not None

    def save_figure(self, arxiv_id: str, image: Processed, origin: str, source_url: str, now: datetime) -> Figure:
        self.db.execute("INSERT OR REPLACE INTO figures VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (arxiv_id, image.digest, origin, source_url, image.width, image.height, image.card_width,
                         image.card_height, image.webp, image.jpeg, image.card, to_iso(now)))
        return Figure(arxiv_id, image.digest, image.width, image.height, image.card_width, image.card_height, origin)

    def figures(self, arxiv_ids: Iterable[str]) -> dict[str, Figure]:
        ids = list(dict.fromkeys(arxiv_ids)) if self.ready else []
        out: dict[str, Figure] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.db.execute(f"SELECT {_FIGURE} FROM figures WHERE arxiv_id IN ({','.join('?' * len(chunk))})",
                                   chunk).fetchall()
            out.update({r[0]: Figure(*r) for r in rows})
        return out

    def figure_files(self, figures: Iterable[Figure]) -> dict[str, bytes]:
        """The published files of these figures, by path under the site."""
        out: dict[str, bytes] = {}
        for f in figures if self.ready else ():
            row = self.db.execute("SELECT webp, jpeg, card FROM figures WHERE arxiv_id = ? AND digest = ?",
                                  (f.arxiv_id, f.digest)).fetchone()
            if row:
                out.update({f.webp: bytes(row[0]), f.jpeg: bytes(row[1]), f.card: bytes(row[2])})
        return out

    def save_summary(self, arxiv_id: str, model: str, language: str, text: str, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO summaries VALUES (?,?,?,?,?)",
                        (arxiv_id, model, language, text, to_iso(now)))

    def summaries(self, arxiv_ids: Iterable[str], model: str, language: str) -> dict[str, str]:
        ids = list(dict.fromkeys(arxiv_ids)) if self.ready else []
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.db.execute(
                f"SELECT arxiv_id, text FROM summaries WHERE model = ? AND language = ? AND arxiv_id IN "
                f"({','.join('?' * len(chunk))})", [model, language, *chunk]).fetchall()
            out.update({r[0]: r[1] for r in rows})
        return out
