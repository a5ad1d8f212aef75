"""Migrations for the stores that share the archive file. Each store owns
its tables and their migrations (a list of steps: an SQL script, or a
function for what SQL alone cannot do, such as computing a column in Python)
under a component name; ``schema_versions`` records how far each component has come. Archives
made before that (one numbered list for all, in ``PRAGMA user_version``) are
taken over with the versions they had reached."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from newsletter.errors import ArchiveError

PER_COMPONENT = 100  # PRAGMA user_version of an archive whose versions are in schema_versions
# what each old user_version meant, per component
_LEGACY: dict[int, dict[str, int]] = {
    1: {"archive": 1}, 2: {"archive": 1, "subscribers": 1}, 3: {"archive": 2, "subscribers": 1},
    4: {"archive": 2, "subscribers": 2}, 5: {"archive": 3, "subscribers": 2}, 6: {"archive": 4, "subscribers": 2},
}


def statements(script: str) -> list[str]:
    """A migration script as single statements (executescript would commit
    the lock's transaction)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s.strip(" ;\n")]


def _version(db: sqlite3.Connection, component: str) -> int | None:
    """The component's version, or None when the archive must be looked at
    under the lock (new, old-style, or this component not there yet)."""
    try:
        row = db.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


Step = str | Callable[[sqlite3.Connection], None]


def migrate(db: sqlite3.Connection, path: Path, component: str, scripts: Sequence[Step]) -> None:
    """Bring ``component``'s tables up to date under the database's write
    lock, so several first-ever commands at once migrate exactly once."""
    if _version(db, component) == len(scripts):
        return
    db.execute("BEGIN IMMEDIATE")  # waits (busy_timeout) for another migrating process
    try:
        _take_over_legacy(db, path)
        version = _version(db, component) or 0
        if version > len(scripts):
            raise ArchiveError(f"{path} was written by a newer version of newsletter; upgrade it")
        for script in scripts[version:]:
            if callable(script):
                script(db)
                continue
            for statement in statements(script):
                db.execute(statement)
        db.execute("INSERT OR REPLACE INTO schema_versions VALUES (?, ?)", (component, len(scripts)))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _take_over_legacy(db: sqlite3.Connection, path: Path) -> None:
    user_version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if user_version == PER_COMPONENT:
        return
    if user_version not in _LEGACY and user_version != 0:
        raise ArchiveError(f"{path} was written by a newer version of newsletter; upgrade it")
    db.execute("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    db.executemany("INSERT OR REPLACE INTO schema_versions VALUES (?, ?)", _LEGACY.get(user_version, {}).items())
    db.execute(f"PRAGMA user_version = {PER_COMPONENT}")
