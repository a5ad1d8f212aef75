"""The unsubscribe endpoint, as a small WSGI app.

``POST /unsubscribe?t=TOKEN`` with ``List-Unsubscribe=One-Click`` is RFC 8058's
one-click unsubscribe (what mail clients send). ``GET /unsubscribe?t=TOKEN``
shows a confirmation page whose button POSTs: a GET alone never unsubscribes,
since link scanners and previews follow GET links. A bad or forged token
changes nothing.

Deploy with any WSGI server (``gunicorn newsletter.web:app``; the config is
found as by the CLI: $NEWSLETTER_CONFIG or ./newsletter.toml) or run
``newsletter serve``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qs

from newsletter import config as config_mod
from newsletter.store import Archive, SubscriberStore
from newsletter.tokens import verify_token

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"""
MAX_BODY = 10_000


def make_app(cfg: config_mod.Config, env: Mapping[str, str] = os.environ,
             now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
    secret_env = cfg.delivery["secret_env"]
    name = html.escape(cfg.title)

    def page(start_response, status: str, title: str, body: str) -> Iterable[bytes]:
        data = PAGE.format(title=html.escape(title), body=body).encode("utf-8")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
                                ("Referrer-Policy", "no-referrer")])
        return [data]

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") != "/unsubscribe":
            return page(start_response, "404 Not Found", "Not found", "<p>Nothing here.</p>")
        token = (parse_qs(environ.get("QUERY_STRING", "")).get("t") or [""])[0]
        if method == "POST":
            try:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
            except ValueError:
                length = 0
            form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace")) if length else {}
            token = token or (form.get("t") or [""])[0]
        address = verify_token(env.get(secret_env, ""), token)
        if address is None:
            return page(start_response, "400 Bad Request", "Link not valid",
                        "<p>This unsubscribe link is not valid. Use the link from your latest email, "
                        "or reply to it asking to unsubscribe.</p>")
        if method == "POST":
            with Archive(cfg.store_path) as archive:
                SubscriberStore(archive).set_status(address, "unsubscribed", now())
            return page(start_response, "200 OK", "Unsubscribed",
                        f"<p>{html.escape(address)} will get no more {name} emails.</p>")
        if method in ("GET", "HEAD"):
            t = html.escape(token, quote=True)
            return page(start_response, "200 OK", f"Unsubscribe from {cfg.title}?",
                        f"<p>Stop sending {name} to {html.escape(address)}?</p>"
                        f'<form method="post" action="?t={t}"><input type="hidden" name="t" value="{t}">'
                        f'<button type="submit">Unsubscribe</button></form>')
        start_response("405 Method Not Allowed", [("Allow", "GET, POST"), ("Content-Length", "0")])
        return [b""]

    return app


def app(environ, start_response):
    """The deployable app: config resolved from the environment on first use."""
    global _app
    if _app is None:
        _app = make_app(config_mod.load(None))
    return _app(environ, start_response)


_app = None
