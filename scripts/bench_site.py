"""Website scale: a synthetic archive of five years of issues (1,300 mailing
days), built from scratch, then one more day added. Prints both times (median
of --runs) and how many files each wrote.

    python scripts/bench_site.py [--days 1300] [--papers 60] [--hot 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter import config as config_mod  # noqa: E402
from newsletter.mailing import is_mailing_day  # noqa: E402
from newsletter.models import Paper, Post  # noqa: E402
from newsletter.build import build_day  # noqa: E402
from newsletter.store import Archive  # noqa: E402

CATS = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.CR", "eess.IV", "math.OC", "quant-ph",
        "cs.IR", "cs.SE", "cs.HC", "cs.NE", "physics.comp-ph"]
WORDS = "learning neural graph diffusion transformer robust efficient scalable sparse causal language vision".split()


def mailing_days(n: int, last: date) -> list[date]:
    days, d = [], last
    while len(days) < n:
        if is_mailing_day(d):
            days.append(d)
        d -= timedelta(days=1)
    return sorted(days)


def fill(path: Path, days: list[date], papers: int, hot: int, rng: random.Random) -> None:
    with Archive(path) as a:
        for k, day in enumerate(days):
            ps, posts = [], []
            for i in range(papers):
                aid = f"{day:%y%m}.{(k * papers + i) % 99999:05d}"
                cats = tuple(rng.sample(CATS, 2))
                title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
                ps.append(Paper(aid, 1, title, "An abstract about " + title.lower() + ". " * 20,
                                tuple(f"Author {rng.randint(1, 5000)}" for _ in range(4)), cats))
                if i < hot:
                    when = datetime.combine(day, datetime.min.time(), timezone.utc)
                    for j in range(3):
                        posts.append(Post("x", f"{aid}-{j}", f"https://twitter.com/u/status/{k}{i}{j}", f"u{j}",
                                          f"User {j}", f"Read {title}", when,
                                          {"retweets": rng.randint(5, 60), "likes": rng.randint(20, 300),
                                           "replies": 1, "quotes": 0}, when, (aid,)))
            a.save_day_papers(day, ps)
            a.save_posts(posts)
            a.save_issue(day, datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(days=1), papers)


SEARCH_TIMES: list[float] = []


def timed_search_index() -> None:
    """Time each search-index run (Pagefind) apart from the rest of the build."""
    from newsletter import sitesearch

    real = sitesearch.index_site

    def timed(site_dir: Path, timeout: float = 600.0) -> None:
        t = time.perf_counter()
        real(site_dir, timeout)
        SEARCH_TIMES.append(time.perf_counter() - t)

    sitesearch.index_site = timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=1300)
    ap.add_argument("--papers", type=int, default=60)
    ap.add_argument("--hot", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    timed_search_index()
    rng = random.Random(7)
    days = mailing_days(args.days + 1, date(2026, 7, 31))
    old, new = days[:-1], days[-1]
    work = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        cfg = config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org"}}, base_dir=work)
        t0 = time.perf_counter()
        fill(work / "base.db", old, args.papers, args.hot, rng)
        print(f"archive of {len(old)} issues ({args.papers} papers, {args.hot} hot a day) made in "
              f"{time.perf_counter() - t0:.1f} s")
        scratch, incremental = [], []
        for _ in range(args.runs):
            shutil.rmtree(work / "site", ignore_errors=True)
            for sub in ("feeds", "email", "content"):
                shutil.rmtree(work / sub, ignore_errors=True)
            shutil.copy(work / "base.db", work / "newsletter.db")
            with Archive(work / "newsletter.db") as a:
                t = time.perf_counter()
                s1 = build_day(cfg, old[-1], a)
                scratch.append(time.perf_counter() - t)
            with Archive(work / "newsletter.db") as a:
                fill(work / "newsletter.db", [new], args.papers, args.hot, random.Random(new.toordinal()))
                t = time.perf_counter()
                s2 = build_day(cfg, new, a)
                incremental.append(time.perf_counter() - t)
        pages = sum(1 for p in (work / "site").rglob("*.html"))
        search = SEARCH_TIMES[0::2], SEARCH_TIMES[1::2]
        print(f"from scratch: median {statistics.median(scratch):.2f} s over {args.runs} runs "
              f"({len(s1.files)} files written, {pages} pages); search index "
              f"{statistics.median(search[0]) if search[0] else 0:.2f} s of it")
        print(f"adding one day: median {statistics.median(incremental):.2f} s "
              f"({len(s2.files)} files written, {s2.unchanged} unchanged); search index "
              f"{statistics.median(search[1]) if search[1] else 0:.2f} s of it")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
