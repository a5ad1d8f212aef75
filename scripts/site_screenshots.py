"""Remake the README's screenshots of the demo site (docs/site-375.png,
docs/site-1280.png: the issue's cards; docs/paper-1280.png: a paper's page
with its attention chart) with Playwright on the machine's Chromium.

    newsletter demo --dir /tmp/hp-demo --force && python scripts/site_screenshots.py /tmp/hp-demo/site
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from newsletter.preview import make_server, serve_in_background

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "demo/site")
    server = make_server(None, 0, site)
    serve_in_background(server)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for name, path, width, height in (("site-375", "hot-papers-2021-06-16/", 375, 1400),
                                          ("site-1280", "hot-papers-2021-06-16/", 1280, 1000),
                                          ("paper-1280", "paper/2106.08254/", 1280, 1500)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{origin}/{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(ROOT / "docs" / f"{name}.png"))
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
