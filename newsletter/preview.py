"""``newsletter preview``: the day's email served on 127.0.0.1 for a browser."""

from __future__ import annotations

import http.server
import threading

from newsletter.render.email import RenderedEmail


def make_server(email: RenderedEmail, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A loopback-only server: / is the HTML part, /text the plain-text part."""
    pages = {
        "/": ("text/html; charset=utf-8", email.html.encode("utf-8")),
        "/text": ("text/plain; charset=utf-8", email.text.encode("utf-8")),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            page = pages.get(self.path.split("?")[0])
            if page is None:
                self.send_error(404)
                return
            ctype, body = page
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)


def serve_in_background(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
