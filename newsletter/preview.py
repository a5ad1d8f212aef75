"""``newsletter preview``: the website and a day's email, served on 127.0.0.1
for a browser. The site is served as any static host would serve site_dir;
the email is at /email/ (HTML) and /email/text (plain text)."""

from __future__ import annotations

import http.server
import threading
from functools import partial
from pathlib import Path
from typing import Any

from newsletter.render.email import RenderedEmail


def make_server(email: RenderedEmail | None, port: int = 0, site_dir: Path | None = None, prefix: str = ""
                ) -> http.server.ThreadingHTTPServer:
    """A loopback-only server. Nothing outside ``site_dir`` is reachable. The
    site is served at ``/`` and also under ``prefix`` (the path of
    ``site_url``), as it will be published."""
    prefix = prefix.rstrip("/")
    pages = {}
    if email is not None:
        pages = {"/email/": ("text/html; charset=utf-8", email.html.encode("utf-8")),
                 "/email/text": ("text/plain; charset=utf-8", email.text.encode("utf-8"))}
    root = site_dir if site_dir is not None and site_dir.is_dir() else None

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".atom": "application/atom+xml", ".rss": "application/rss+xml",
                          ".json": "application/json", ".xml": "application/xml"}

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if prefix and (self.path == prefix or self.path.startswith(prefix + "/")):
                self.path = self.path[len(prefix):] or "/"
            path = self.path.split("?")[0].split("#")[0]
            if path == "/email":
                path = "/email/"
            page = pages.get(path)
            if page is not None:
                ctype, body = page
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                return
            if root is None:
                if path == "/" and pages:
                    self.send_response(302)
                    self.send_header("Location", "/email/")
                    self.end_headers()
                    return
                self.send_error(404)
                return
            super().do_GET()

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            not_found = root / "404.html" if root else None
            if code == 404 and not_found is not None and not_found.is_file():
                body = not_found.read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().send_error(code, message, explain)

        def log_message(self, *args: Any) -> None:
            pass

    handler = partial(Handler, directory=str(root)) if root else Handler
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve_in_background(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
