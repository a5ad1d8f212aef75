"""The benchmark suite: a synthetic heavy day served on loopback in the real
arXiv API and X formats, then one table of figures, each beside the naive
baseline it should beat, measured in the same run. Not a test: it asserts
nothing about time (CI runs it once with --small to keep it working).

    python scripts/bench.py [--papers 2000] [--posts 20000] [--retweets 4000] [--small] [--no-stress]

Run it from an install with its bytecode compiled (pip does that; the script
compiles the package first, since a checkout run with PYTHONDONTWRITEBYTECODE
would otherwise compile every module on every start-up).
"""

from __future__ import annotations

import argparse
import bisect
import http.server
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

import arxiv_atom  # noqa: E402
import smtpserver  # noqa: E402
from factories import paper  # noqa: E402
from xpages import page, tweet  # noqa: E402

from newsletter import mailing  # noqa: E402

DAY = date(2026, 7, 31)
NOW = datetime(2026, 8, 2, 12, tzinfo=timezone.utc)
BIN = str(Path(sys.executable).parent / "newsletter")


PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_mb(args: list[str], env: dict[str, str]) -> float:
    """Peak resident memory of a command (and the processes it forks), in MB."""
    out = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def attention(papers: int, posts: int, uniform: bool) -> list[tuple[int, int, int]]:
    """(paper, retweets, likes) per post. Real attention is heavy-tailed: a few
    papers get most posts (Zipf, s = 1.1) and most posts get a few likes
    (Pareto, a = 1.3); on the default heavy day about 130 papers reach 50
    points (the real Hot Papers issues listed 3-24). ``uniform`` is the stress
    case: every paper gets the same share of posts and every paper is hot."""
    if uniform:
        return [((i * 7) % papers, i % 40, i % 90) for i in range(posts)]
    rng = random.Random(2026)
    cum = list(itertools.accumulate(1 / (r + 1) ** 1.1 for r in range(papers)))
    order = list(range(papers))
    rng.shuffle(order)
    out = []
    for _ in range(posts):
        likes = int(rng.paretovariate(1.3)) - 1
        out.append((order[min(bisect.bisect(cum, rng.random() * cum[-1]), papers - 1)], likes // 4, likes))
    return out


class Upstream:
    """arXiv API and X search on 127.0.0.1, counting requests per service."""

    def __init__(self, papers: int, posts: int, retweets: int, uniform: bool = False):
        start = mailing.submission_window(DAY).start
        self.papers = [paper(f"2607.{i:05d}", title=f"Synthetic paper {i}", categories=("cs.LG", "stat.ML"))
                       for i in range(papers)]
        self.published = [start + timedelta(seconds=i) for i in range(papers)]
        when = (mailing.announced_at(DAY) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.tweets = [tweet(10_000 + i, f"u{i % 5000}", [f"https://arxiv.org/abs/2607.{n:05d}"],
                             retweets=rts, likes=likes, created=when)
                       for i, (n, rts, likes) in enumerate(attention(papers, posts, uniform))]
        self.tweets += [tweet(90_000_000 + i, f"r{i}", [f"https://arxiv.org/abs/2607.{i % papers:05d}"],
                              retweets=30, created=when, retweet_of=10_000 + i) for i in range(retweets)]
        self.counts = {"arxiv": 0, "x": 0}
        up = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                q = parse_qs(url.query)
                if url.path == "/api/query":
                    up.counts["arxiv"] += 1
                    s, n = int(q["start"][0]), int(q["max_results"][0])
                    rows = list(zip(up.papers, up.published))[s: s + n]
                    body = arxiv_atom.feed(rows, total=len(up.papers), start=s).encode()
                elif url.path == "/oembed":  # no embeds: static quotes
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                else:
                    up.counts["x"] += 1
                    off = int(q.get("next_token", ["0"])[0])
                    chunk = up.tweets[off: off + 500]
                    nxt = str(off + 500) if off + 500 < len(up.tweets) else None
                    body = json.dumps(page(chunk, nxt)).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=2000)
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--retweets", type=int, default=4000)
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--small", action="store_true", help="a quick run on small sizes (what CI does)")
    ap.add_argument("--no-stress", dest="stress", action="store_false",
                    help="skip the stress day (every paper hot: 2,000 papers in one issue)")
    a = ap.parse_args()
    if a.small:
        a.papers, a.posts, a.retweets, a.subscribers, a.messages, a.runs = 200, 1000, 200, 2000, 16, 1
    import compileall
    import newsletter
    compileall.compile_dir(str(Path(newsletter.__file__).parent), quiet=1)
    rows: list[tuple[str, str, str]] = []

    def row(what: str, ours: str, baseline: str) -> None:
        rows.append((what, ours, baseline))
        print(f"  {what}: {ours}  |  {baseline}", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    up = Upstream(a.papers, a.posts, a.retweets)
    (work / "newsletter.toml").write_text(f"""
[newsletter]
categories = ["cs", "stat.ML"]
[arxiv]
api_url = "{up.base}/api/query"
delay_seconds = 3.0
[sources]
{''.join(f'[sources.{s}]{chr(10)}enabled = false{chr(10)}' for s in ('huggingface', 'hackernews', 'bluesky', 'reddit'))}
[sources.x]
api_url = "{up.base}/2"
oembed_url = "{up.base}/oembed"
endpoint = "all"
max_posts = 1000000
[ranking]
min_paper_score = 50
""")
    from newsletter import config as config_mod
    from newsletter.sources.base import NullReporter
    from newsletter.seams import Seams
    from newsletter.build import build_day
    from newsletter.fetch import fetch_day
    from newsletter.issues import load_issue
    from newsletter.store import Archive

    cfg = config_mod.load(work / "newsletter.toml")
    sleeps: list[float] = []
    with Archive(cfg.store_path) as arch:
        t = time.perf_counter()
        s = fetch_day(cfg, DAY, arch, Seams(now=lambda: NOW, env={"X_BEARER_TOKEN": "t"}, sleep=sleeps.append),
                      NullReporter())
        fetch_time = time.perf_counter() - t
    pages_naive = -(-a.papers // 500)
    row("arXiv API requests", f"{up.counts['arxiv']} for {s.papers} papers (pages of 2000)",
        f"{pages_naive} with pages of 500")
    row("X search requests", f"{up.counts['x']} for {len(up.tweets)} posts ({s.posts.get('x', 0)} kept)",
        f"{a.papers} with one search per paper")
    row("fetch", f"{fetch_time:.2f} s (+ {sum(sleeps):.0f} s of pacing and backoff waits, counted but not slept)", "-")

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NEWSLETTER_CONFIG"] = str(work / "newsletter.toml")

    def cli(*args: str, config: Path = work / "newsletter.toml") -> None:
        subprocess.run([BIN, "--quiet", *args], env={**env, "NEWSLETTER_CONFIG": str(config)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def build_figures(config: Path) -> tuple[float, float, float, int]:
        """(rebuild wall, its peak MB, a build that must rank again, papers in the issue)"""
        c = config_mod.load(config)
        with Archive(c.store_path) as arch:
            ranked = len(build_day(c, DAY, arch).files) and len(load_issue(c, arch, DAY).papers)
        wall = median_time(lambda: cli("build", "--date", DAY.isoformat(), config=config), a.runs)
        peak = peak_mb([BIN, "--quiet", "build", "--date", DAY.isoformat()], {**env, "NEWSLETTER_CONFIG": str(config)})

        def unranked() -> None:
            with Archive(c.store_path) as arch:
                arch.db.execute("DELETE FROM ranked_days")  # as after 'signals import' or a new rule
            cli("build", "--date", DAY.isoformat(), config=config)

        cold = median_time(unranked, max(1, a.runs // 2))
        return wall, peak, cold, ranked

    wall, peak, cold, ranked = build_figures(work / "newsletter.toml")
    row(f"build of the day ({ranked} papers in the issue; post + 6 feeds + email + website), wall, start-up included",
        f"{wall:.2f} s, peak {peak:.0f} MB", f"{cold:.2f} s when the day must be ranked again (all its posts read)")
    bare = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), max(a.runs, 5))
    helpt = median_time(lambda: cli("--help"), max(a.runs, 5))
    statust = median_time(lambda: cli("status", "--date", DAY.isoformat()), max(a.runs, 5))
    row("newsletter --help (Typer's own help; goal 0.35 s)", f"{helpt * 1000:.0f} ms ({helpt / bare:.1f}x bare Python)",
        f"bare python -c pass {bare * 1000:.0f} ms")
    row("newsletter status (goal 0.35 s)", f"{statust * 1000:.0f} ms ({statust / bare:.1f}x bare Python)", "-")
    if a.stress:
        stress = Path(tempfile.mkdtemp(prefix="bench-stress-"))
        up2 = Upstream(a.papers, a.posts, a.retweets, uniform=True)
        (stress / "newsletter.toml").write_text((work / "newsletter.toml").read_text().replace(up.base, up2.base))
        c2 = config_mod.load(stress / "newsletter.toml")
        with Archive(c2.store_path) as arch:
            fetch_day(c2, DAY, arch, Seams(now=lambda: NOW, env={"X_BEARER_TOKEN": "t"}, sleep=lambda s: None),
                      NullReporter())
        wall2, peak2, cold2, ranked2 = build_figures(stress / "newsletter.toml")
        row(f"stress: every paper hot ({ranked2} papers in one issue), build wall",
            f"{wall2:.2f} s, peak {peak2:.0f} MB", f"{cold2:.2f} s when the day must be ranked again")
        up2.server.shutdown()

    from _issue import real_issue

    from newsletter.render import email as email_mod
    issue, rcfg = real_issue()
    settings = email_mod.EmailSettings.from_config(rcfg)
    email_mod.render_email(issue, settings)
    render = median_time(lambda: email_mod.render_email(issue, settings), 50 if not a.small else 5)
    html = email_mod.render_email(issue, settings).html
    inliner = email_mod._inliner(email_mod._css_path(None))
    ours_css = median_time(lambda: inliner.inline(html), 50 if not a.small else 5)
    try:
        import logging

        import premailer  # type: ignore[import-not-found]
        logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)  # it warns about every mso- property
        pm = median_time(lambda: premailer.transform(html), 20 if not a.small else 3)
        baseline = f"inlining: premailer {pm * 1000:.1f} ms, css-inline {ours_css * 1000:.2f} ms"
    except ImportError:
        baseline = f"css-inline {ours_css * 1000:.2f} ms; premailer not installed (pip install '.[bench]')"
    row("email render, 20 papers (Jinja -> MJML -> css-inline, and the text part)",
        f"{render * 1000:.1f} ms", baseline)

    import dkim as dkimpy

    from newsletter.delivery.dkim import sign as dkim_sign
    from newsletter.delivery.message import DKIM_HEADERS
    pem = work / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(pem), "2048"], check=True, capture_output=True)
    key_pem = pem.read_bytes()
    message = (b"From: p@example.org\r\nTo: r@example.net\r\nSubject: s\r\nList-Unsubscribe: <https://e/u>\r\n"
               b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n" + b"caf=C3=A9 text and more =\r\n" * 2000)
    ours = median_time(lambda: dkim_sign(message, "s", "example.org", key_pem, DKIM_HEADERS), 200 if not a.small else 20)
    theirs = median_time(lambda: dkimpy.sign(message, b"s", b"example.org", key_pem), 20 if not a.small else 3)
    row("DKIM signature of a 55 KB message (RSA-2048, relaxed/relaxed)", f"{ours * 1000:.2f} ms",
        f"dkimpy (pure-Python RSA) {theirs * 1000:.1f} ms")

    cert, key = smtpserver.make_cert(work)
    from newsletter.delivery.smtp import SMTPMailer
    # a message the size of a real 20-paper issue (~55 KB), in SMTP-safe lines
    body = b"Subject: bench\r\nFrom: p@example.org\r\nTo: r@example.net\r\n\r\n" + (b"x" * 75 + b"\r\n") * 720
    rates = {}
    for conns, signed in ((1, False), (8, False), (8, True)):
        with smtpserver.Server(cert, key, smtpserver.Faults(data_delay=0.05)) as srv:
            c = config_mod.from_dict({"smtp": {"host": "127.0.0.1", "port": srv.port, "username": smtpserver.USER,
                                               "ca_file": str(cert)}}, base_dir=work).smtp
            mailers = [SMTPMailer(c, smtpserver.PASSWORD) for _ in range(conns)]
            per = a.messages // conns

            def go(m: SMTPMailer, k: int, signed: bool = signed) -> None:
                for i in range(per):  # each message signed as a real send signs it, on the sending thread
                    data = dkim_sign(body, "s", "example.org", key_pem, DKIM_HEADERS) if signed else body
                    m.send("p@example.org", f"r{k}-{i}@example.net", data)
                m.close()

            t = time.perf_counter()
            ts = [threading.Thread(target=go, args=(m, k)) for k, m in enumerate(mailers)]
            for th in ts:
                th.start()
            for th in ts:
                th.join()
            rates[(conns, signed)] = per * conns / (time.perf_counter() - t)
    with smtpserver.Server(cert, key, smtpserver.Faults(data_delay=0.05)) as srv:
        c = config_mod.from_dict({"smtp": {"host": "127.0.0.1", "port": srv.port, "username": smtpserver.USER,
                                           "ca_file": str(cert)}}, base_dir=work).smtp
        n = max(8, a.messages // 8)
        t = time.perf_counter()
        for i in range(n):
            m = SMTPMailer(c, smtpserver.PASSWORD)
            m.send("p@example.org", f"n{i}@example.net", body)
            m.close()
        naive = n / (time.perf_counter() - t)
    one, eight, signed8 = rates[(1, False)], rates[(8, False)], rates[(8, True)]
    row("send rate, relay answering DATA in 50 ms", f"{one:.0f} msg/s over 1 connection, {eight:.0f} over 8 "
        f"({eight / one:.1f}x); DKIM-signed over 8: {signed8:.0f} msg/s", f"{naive:.0f} msg/s with a connection "
        "per message")

    csv = work / "subs.csv"
    csv.write_text("email,name\n" + "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(a.subscribers)))
    t = time.perf_counter()
    subprocess.run([BIN, "--quiet", "subscribers", "import", str(csv)], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    imp = time.perf_counter() - t
    import sqlite3
    naive_n = min(a.subscribers, 5000)
    db = sqlite3.connect(work / "naive.db", isolation_level=None)
    db.execute("CREATE TABLE s (email TEXT PRIMARY KEY, name TEXT)")
    t = time.perf_counter()
    for i in range(naive_n):
        db.execute("BEGIN")
        db.execute("INSERT INTO s VALUES (?, ?)", (f"r{i}@example.org", ""))
        db.execute("COMMIT")
    naive_imp = (time.perf_counter() - t) * a.subscribers / naive_n
    row(f"subscribers import of {a.subscribers:,} rows", f"{imp:.1f} s (validated, one transaction)",
        f"~{naive_imp:.0f} s one transaction a row ({naive_n:,} measured)")

    print(f"| what | ours | naive baseline |\n|---|---|---|")
    for what, ours, base in rows:
        print(f"| {what} | {ours} | {base} |")
    print(f"\n{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    up.server.shutdown()


if __name__ == "__main__":
    main()
