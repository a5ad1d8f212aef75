#!/usr/bin/env python3
"""SMTP throughput: one connection for many messages (what `newsletter send`
does) against a new connection per message, to a local aiosmtpd server with
STARTTLS and AUTH. Prints the median of several runs and the ratio.

    python scripts/bench_smtp.py [--messages 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import smtpserver  # noqa: E402

from newsletter.config import SmtpConfig  # noqa: E402
from newsletter.delivery.smtp import SMTPMailer  # noqa: E402


def run(server_port: int, cert: Path, n: int, reuse: bool, body: bytes) -> float:
    cfg = SmtpConfig(host="127.0.0.1", port=server_port, security="starttls", username=smtpserver.USER,
                     ca_file=str(cert))
    start = time.perf_counter()
    mailer = SMTPMailer(cfg, smtpserver.PASSWORD)
    for i in range(n):
        mailer.send("papers@example.org", f"r{i}@example.net", body)
        if not reuse:
            mailer.close()
    mailer.close()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    cert, key = smtpserver.make_cert(Path(tempfile.mkdtemp()))
    body = (b"Subject: bench\r\nFrom: papers@example.org\r\nTo: r@example.net\r\n\r\n" + (b"x" * 75 + b"\r\n") * 800)
    results = {}
    with smtpserver.Server(cert, key) as server:
        for reuse in (True, False):
            times = [run(server.port, cert, args.messages, reuse, body) for _ in range(args.runs)]
            results[reuse] = statistics.median(times)
        server.handler.messages.clear()
    one, many = results[True], results[False]
    print(f"{args.messages} messages of {len(body) / 1024:.0f} KiB, median of {args.runs} runs")
    print(f"  one connection:          {one:.2f} s  ({args.messages / one:.0f} msg/s)")
    print(f"  a connection per message: {many:.2f} s  ({args.messages / many:.0f} msg/s)")
    print(f"  ratio: {many / one:.1f}x faster over one connection")


if __name__ == "__main__":
    main()
