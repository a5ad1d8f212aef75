"""The site's search index, made by Pagefind (its Python package ships the
indexer) over the published pages: titles, all authors, abstracts and
categories of every issue and paper page, split into chunks so a browser
loads only what a query needs.

The index is sharded by month (issue pages by mailing month, paper pages by
the YYMM of their arXiv id; weekly issues and old-style ids have a shard
each), and the search page merges the shards listed in ``shards.json``. A
build re-indexes only the shards whose pages it changed, so adding a day
costs one month's pages, not the archive's. Each new shard is written beside
the old one and swapped in: a failed or killed run leaves the previous one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.files import write_atomic

FOLDER = "pagefind"
MANIFEST = "shards.json"
_ISSUE = re.compile(r"hot-papers-(\d\d)(\d\d)-(\d\d)-\d\d$")
_PAPER = re.compile(r"(\d{4})\.\d{4,5}$")


def shard_of(relative: Path) -> str | None:
    """The shard an indexed page belongs to ("2106", "weekly", "other"), or None."""
    parts = relative.parts
    if len(parts) == 2 and (m := _ISSUE.match(parts[0])):
        return m.group(2) + m.group(3)
    if parts[:1] == ("paper",) and len(parts) >= 3:
        m = _PAPER.match(parts[1])
        return m.group(1) if m and len(parts) == 3 else "other"
    if parts[:1] == ("weekly",) and len(parts) == 3:
        return "weekly"
    return None


def _glob(shard: str) -> str:
    if shard == "weekly":
        return "weekly/*/index.html"
    if shard == "other":
        return "paper/*/*/index.html"
    return f"{{hot-papers-20{shard[:2]}-{shard[2:]}-*/index.html,paper/{shard}.*/index.html}}"


def all_shards(site_dir: Path) -> set[str]:
    """The shards the site's pages make (read from the folder names: cheap)."""
    out = {s for name in os.listdir(site_dir) if (s := shard_of(Path(name, "index.html")))}
    if (site_dir / "paper").is_dir():
        out |= {s for name in os.listdir(site_dir / "paper") if (s := shard_of(Path("paper", name, "index.html")))}
    if (site_dir / "weekly").is_dir() and any((site_dir / "weekly").glob("*/index.html")):
        out.add("weekly")
    return out


def _index_shard(site_dir: Path, shard: str, timeout: float) -> None:
    root = site_dir / FOLDER
    fresh, old, current = root / f".{shard}-new", root / f".{shard}-old", root / shard
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        run = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site_dir), "--glob", _glob(shard),
                              "--output-path", str(fresh), "--silent"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        raise NewsletterError(f"the search index was not made (Pagefind: {exc}); the pages are written") from None
    if run.returncode != 0 or not (fresh / "pagefind.js").is_file():
        shutil.rmtree(fresh, ignore_errors=True)
        why = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NewsletterError(f"the search index was not made (Pagefind: {why[0][:200]}); the pages are written; "
                              "is the pagefind[bin] package installed?")
    if current.exists():
        current.rename(old)
    fresh.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def index_site(site_dir: Path, changed: Iterable[Path] | None = None, timeout: float = 600.0) -> list[str]:
    """Index the shards of the ``changed`` pages (all when None), and any
    shard not indexed yet; drop shards with no pages left. Returns the
    shards indexed."""
    root = site_dir / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    for stray in root.glob(".*"):  # left by a run that was killed
        shutil.rmtree(stray, ignore_errors=True)
    shards = all_shards(site_dir)
    todo = set(shards) if changed is None else {s for p in changed if (s := shard_of(p)) in shards}
    todo |= {s for s in shards if not (root / s / "pagefind.js").is_file()}
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        list(pool.map(lambda s: _index_shard(site_dir, s, timeout), sorted(todo)))
    for gone in (p for p in root.iterdir() if p.is_dir() and p.name not in shards):
        shutil.rmtree(gone, ignore_errors=True)
    order = sorted((s for s in shards if s not in ("weekly", "other")), reverse=True)
    write_atomic(root / MANIFEST, json.dumps(order + sorted(shards - set(order), reverse=True)) + "\n")
    return sorted(todo)
