#!/usr/bin/env python3
"""Screenshots of a real issue's email at phone (375 px) and desktop (600 px)
width with headless Chromium, for the README (docs/email-*.png).

    python scripts/email_screenshots.py [--out docs] [--height 1100]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from _issue import real_issue

from newsletter.render.email import EmailSettings, render_email

HOST = ('<!doctype html><html><body style="margin:0;background:#ccc">'
        '<iframe src="email.html" style="display:block;width:{w}px;height:{h}px;border:0"></iframe></body></html>')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs")
    ap.add_argument("--height", type=int, default=1100)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("google-chrome")
    if not chromium:
        raise SystemExit("Chromium is needed: apt-get install chromium")
    issue, cfg = real_issue()
    html = render_email(issue, EmailSettings.from_config(cfg)).html
    work = Path(tempfile.mkdtemp())
    (work / "email.html").write_text(html)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(work)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    try:
        for width in (375, 600):
            (work / f"host-{width}.html").write_text(HOST.format(w=width, h=args.height))
            shot = out / f"email-{width}.png"
            window = 500 if width < 500 else width  # headless Chromium's narrowest window
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
                            f"--user-data-dir={work / f'profile-{width}'}", f"--window-size={window},{args.height}",
                            "--virtual-time-budget=3000", f"--screenshot={shot.resolve()}",
                            f"http://127.0.0.1:{server.server_address[1]}/host-{width}.html"],
                           check=True, capture_output=True, timeout=120)
            print(shot)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
