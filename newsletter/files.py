"""Writing published files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, durable: bool = True) -> Path:
    """Write to a temporary file in the same folder, fsync (when ``durable``),
    then rename over ``path``: either the old file or the whole new one is
    there, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def check_output_dirs(dirs: dict[str, Path]) -> None:
    """Before anything is written: each output folder is a folder, or can be
    made one (no file stands where it or one of its parents should be)."""
    from newsletter.errors import ConfigError

    for what, folder in dirs.items():
        for p in (folder, *folder.parents):
            if p.exists():
                if not p.is_dir():
                    where = "is" if p == folder else f"is under {p}, which is"
                    raise ConfigError(f"{what} = {folder} {where} a file, not a folder; "
                                      "fix the path in the config (nothing was written)")
                if not os.access(p, os.W_OK) and p == folder:
                    raise ConfigError(f"{what} = {folder} is not writable (nothing was written)")
                break


TEMP_PATTERN = ".*.tmp"


def clean_stale_temps(folder: Path) -> int:
    """Remove the temporary files (``.NAME.XXXX.tmp``) a killed build left in
    a published folder. Call it holding the build lock (``exclusive``): then
    no other build is writing any."""
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.rglob(TEMP_PATTERN):
        try:
            if tmp.is_file():
                tmp.unlink()
                removed += 1
        except OSError:
            pass
    return removed


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock (a file beside the archive, never in a
    published folder) for as long as the block runs: builds take turns."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write (atomically) only when the bytes differ, so an incremental build
    touches only what changed and a sync tool uploads only that."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data, durable=False)
    return True
