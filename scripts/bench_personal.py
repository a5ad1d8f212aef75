"""Readers' own issues at scale: N confirmed subscribers with K distinct
preference sets; times ``send --dry-run`` (every reader's .eml prepared and
written) and counts the renderings (once per distinct selection).

    python scripts/bench_personal.py [--readers 10000] [--sets 300]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import hotpapers  # noqa: E402

import newsletter.render.email as email_mod  # noqa: E402
from newsletter import config as config_mod  # noqa: E402
from newsletter.delivery.ledger import SubscriberStore  # noqa: E402
from newsletter.delivery.preferences import Preferences  # noqa: E402
from newsletter.seams import Seams  # noqa: E402
from newsletter.deliver import dry_run_day  # noqa: E402
from newsletter.store import Archive  # noqa: E402

CATS = ["cs.CV", "cs.LG", "cs.CL", "cs.AI", "stat.ML", "eess.IV", "cs.RO", "cs.NE", "quant-ph", "cs"]
WORDS = ["transformer", "diffusion", "graph", "reinforcement learning", "language model", "vision", "robust",
         "attention", "quantum", "self-supervised", "segmentation", "federated"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readers", type=int, default=10_000)
    ap.add_argument("--sets", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(3)
    work = Path(tempfile.mkdtemp(prefix="bench-personal-"))
    try:
        cfg = config_mod.from_dict({"newsletter": {"categories": ["cs", "stat", "eess", "quant-ph"]},
                                    "email": {"from": "Hot Papers <papers@hot.example.org>"}}, base_dir=work)
        parsed = hotpapers.parse((ROOT / "tests/fixtures/hotpapers/2021-06-16---Hot-Papers.md").read_text())
        sets = [None] + [Preferences(tuple(rng.sample(CATS, rng.randint(0, 2))), tuple(rng.sample(WORDS, rng.randint(0, 2))),
                                     (), rng.choice([None, 5, 10, 20])) for _ in range(args.sets - 1)]
        with Archive(cfg.store_path) as a:
            a.save_day_papers(parsed.day, parsed.papers)
            a.save_posts(parsed.posts)
            a.save_issue(parsed.day, parsed.created_at, 300)
            rows = [(f"reader{i}@example.org", "", rng.choice(sets)) for i in range(args.readers)]
            SubscriberStore(a).add_many(rows, datetime(2021, 6, 1, tzinfo=timezone.utc))
        renders = []
        real = email_mod.render_email
        email_mod.render_email = lambda *x, **k: renders.append(1) or real(*x, **k)  # type: ignore[assignment]
        seams = Seams(now=lambda: datetime(2021, 6, 17, 9, tzinfo=timezone.utc),
                      env={"NEWSLETTER_SECRET": "s" * 32})
        with Archive(cfg.store_path) as a:
            t = time.perf_counter()
            mailer = dry_run_day(cfg, parsed.day, a, seams)
            took = time.perf_counter() - t
        print(f"{args.readers} readers, {args.sets} preference sets: dry run {took:.1f} s, "
              f"{len(mailer.files)} messages ({mailer.bytes / 2**20:.0f} MiB) written, {len(mailer.nothing)} with nothing, "
              f"{len(renders)} renderings")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
