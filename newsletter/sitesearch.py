"""The site's search index, made by Pagefind (its Python package ships the
indexer) over the published pages: titles, all authors, abstracts and
categories of every issue and paper page, split into chunks so a browser
loads only what a query needs. The new index is written beside the old one
and swapped in, so a failed or killed run leaves the previous one working."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from newsletter.errors import NewsletterError

FOLDER = "pagefind"


def index_site(site_dir: Path, timeout: float = 600.0) -> None:
    fresh, old = site_dir / f".{FOLDER}-new", site_dir / f".{FOLDER}-old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        run = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site_dir), "--output-path", str(fresh),
                              "--silent"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        raise NewsletterError(f"the search index was not made (Pagefind: {exc}); the pages are written") from None
    if run.returncode != 0 or not (fresh / "pagefind.js").is_file():
        shutil.rmtree(fresh, ignore_errors=True)
        why = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NewsletterError(f"the search index was not made (Pagefind: {why[0][:200]}); the pages are written; "
                              "is the pagefind[bin] package installed?")
    current = site_dir / FOLDER
    if current.exists():
        current.rename(old)
    fresh.rename(current)
    shutil.rmtree(old, ignore_errors=True)
