#!/usr/bin/env python3
"""Render time of the email for a real 20-paper issue (median of many
renders): the way it is rendered (MJML and css-inline done once on the
template, then Jinja over finished HTML + the text part) and the long way
(Jinja -> MJML -> css-inline on every render), plus the one-time compile.

    python scripts/bench_email.py [--runs 500]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _issue import real_issue

from newsletter.render import email as email_mod


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    args = ap.parse_args()
    issue, cfg = real_issue()
    settings = email_mod.EmailSettings.from_config(cfg)
    t = time.perf_counter()
    out = email_mod.render_email(issue, settings)  # loads the templates (once per process)
    first = (time.perf_counter() - t) * 1000
    median = median_ms(lambda: email_mod.render_email(issue, settings), args.runs)
    print(f"papers: {min(len(issue.papers), settings.max_papers)}, html: {len(out.html) / 1024:.1f} KiB, "
          f"text: {len(out.text) / 1024:.1f} KiB")
    print(f"render (Jinja -> MJML -> css-inline) median over {args.runs}: {median:.2f} ms; "
          f"first render {first:.1f} ms")


if __name__ == "__main__":
    main()
