#!/usr/bin/env python3
"""Render time of the email (MJML + targeted CSS inlining + text part) for a
real 20-paper issue: median of many renders, and the share MJML takes.

    python scripts/bench_email.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _issue import real_issue

from newsletter.render import email as email_mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    issue, cfg = real_issue()
    settings = email_mod.EmailSettings.from_config(cfg)
    email_mod.render_email(issue, settings)  # warm the template and inliner caches
    totals, mjml_times = [], []
    real_mjml = email_mod.mjml2html

    def timed_mjml(*a, **k):
        t = time.perf_counter()
        try:
            return real_mjml(*a, **k)
        finally:
            mjml_times.append(time.perf_counter() - t)

    email_mod.mjml2html = timed_mjml
    for _ in range(args.runs):
        t = time.perf_counter()
        out = email_mod.render_email(issue, settings)
        totals.append(time.perf_counter() - t)
    email_mod.mjml2html = real_mjml
    med, med_mjml = statistics.median(totals), statistics.median(mjml_times)
    print(f"papers: {min(len(issue.papers), settings.max_papers)}, html: {len(out.html) / 1024:.1f} KiB, "
          f"text: {len(out.text) / 1024:.1f} KiB")
    print(f"render median over {args.runs}: {med * 1000:.2f} ms (p90 {sorted(totals)[int(0.9 * len(totals))] * 1000:.2f} ms)")
    print(f"  of which MJML (mjml-python): {med_mjml * 1000:.2f} ms ({med_mjml / med:.0%})")


if __name__ == "__main__":
    main()
