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

from typing import Any

from newsletter import config as config_mod
from newsletter.errors import ConfigError, NewsletterError
from newsletter.delivery.ledger import SubscriberStore
from newsletter.store import Archive
from newsletter.delivery.tokens import verify_token

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"""
MAX_BODY = 10_000


def require_secret(cfg: config_mod.Config, env: Mapping[str, str]) -> str:
    secret = env.get(cfg.delivery.secret_env, "")
    if len(secret) < 16:
        raise ConfigError(f"${cfg.delivery.secret_env} is not set (or shorter than 16 characters); the web app "
                          "cannot check links without it, so it does not start")
    return secret


def make_app(cfg: config_mod.Config, env: Mapping[str, str] = os.environ,
             now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Any:
    """The WSGI app. Refuses to be made without the signing secret: an app
    that started without it would answer every genuine link with an error."""
    require_secret(cfg, env)
    secret_env = cfg.delivery.secret_env
    name = html.escape(cfg.title)

    def page(start_response, status: str, title: str, body: str) -> Iterable[bytes]:
        data = PAGE.format(title=html.escape(title), body=body).encode("utf-8")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
                                ("Referrer-Policy", "no-referrer")])
        return [data]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "HEAD":  # the GET answer's headers, no body
            environ = dict(environ, REQUEST_METHOD="GET")
            for _ in routes(environ, start_response):
                pass
            return [b""]
        return routes(environ, start_response)

    def routes(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            announced = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > MAX_BODY:
            return page(start_response, "413 Content Too Large", "Too large", "<p>That request is too large.</p>")
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


def deployable_app() -> Any:
    """The app for any WSGI server (``newsletter.web:app``): config from
    $NEWSLETTER_CONFIG or ./newsletter.toml; refuses to load without the secret."""
    return make_app(config_mod.load(None))


def make_server(cfg: config_mod.Config, host: str = "127.0.0.1", port: int = 8080,
                env: Mapping[str, str] = os.environ, threads: int = 8) -> Any:
    """A production WSGI server (waitress): several threads, so one slow or
    idle client cannot block the one-click unsubscribes mail providers send;
    idle connections time out; bodies are capped."""
    import waitress

    application = make_app(cfg, env)
    try:
        return waitress.create_server(application, host=host, port=port, threads=threads, channel_timeout=20,
                                      max_request_body_size=MAX_BODY, max_request_header_size=16_384,
                                      ident="newsletter", clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise NewsletterError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
