"""The readers' web app: subscribing (double opt-in), confirming, a reader's
preferences, and unsubscribing (RFC 8058 one-click, and by hand, with undo).

Every state change happens on POST: link scanners and previews follow GET
links, so a GET only shows a page with a button. Links carry opaque handles
signed for one purpose (``tokens.py``); a confirmation belongs to one
sign-up and works once. The answer to a subscription request is the same
whatever the address's state, so the list cannot be probed; a honeypot and
rate limits (per address and per client, checked and recorded atomically)
keep the form from becoming a mail cannon. The app's own mail goes into an
outbox: a request only writes a row (``outbox.py``).

Requests are parsed strictly: a body that is not UTF-8 (or declares another
charset), an oversized one, or a number that is not plain ASCII digits gets
400. The client is REMOTE_ADDR, or, only when that is one of ``[web]
trusted_proxies``, the nearest untrusted address in X-Forwarded-For.

Deploy with any WSGI server (``waitress-serve newsletter.web:app``; the config
is found as by the CLI) or ``newsletter serve``; behind nginx in production
(``scripts/nginx-newsletter.conf``).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jinja2

from newsletter import config as config_mod
from newsletter.categories import groups as category_groups
from newsletter.errors import ConfigError, NewsletterError
from newsletter.languages import language_name
from newsletter.seams import utc_now
from newsletter.store import Archive
from newsletter.text import collapse

if TYPE_CHECKING:
    from newsletter.delivery.message import MessageSettings
    from newsletter.delivery.outbox import Worker

WSGIApp = Callable[[dict[str, Any], Callable[..., object]], Iterable[bytes]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_BODY = 10_000
MAX_WEBHOOK_BODY = 256_000  # an email service's report carries the original's headers
HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
           ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'; base-uri 'none'"),
           ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")]


def require_secret(cfg: config_mod.Config, env: Mapping[str, str]) -> str:
    secret = env.get(cfg.delivery.secret_env, "")
    if len(secret) < 16:
        raise ConfigError(f"${cfg.delivery.secret_env} is not set (or shorter than 16 characters); the web app "
                          "cannot check links without it, so it does not start")
    return secret


class BadRequest(Exception):
    """A request the app refuses as it is (400): not UTF-8, a malformed form."""


def trusted_networks(cfg: config_mod.Config) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in cfg.web.trusted_proxies)


def client_address(environ: Mapping[str, Any], trusted: tuple[Network, ...]) -> str:
    """The client a request came from: the peer, unless the peer is a trusted
    proxy; then the nearest address in X-Forwarded-For that is not one."""
    peer = str(environ.get("REMOTE_ADDR", ""))
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def _form(environ: Mapping[str, Any], body: bytes) -> dict[str, list[str]]:
    """The form a body holds; nothing for a body of another kind (a webhook's JSON)."""
    ctype = str(environ.get("CONTENT_TYPE", "") or "application/x-www-form-urlencoded")
    kind, _, params = ctype.partition(";")
    if kind.strip().lower() != "application/x-www-form-urlencoded":
        return {}
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BadRequest("a form must be sent in UTF-8")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form is not valid UTF-8") from None


class Request:
    def __init__(self, environ: dict[str, Any], trusted: tuple[Network, ...] = ()):
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET"))
        self.path = str(environ.get("PATH_INFO", "")).rstrip("/") or "/"
        self.client = client_address(environ, trusted)
        self.form: dict[str, list[str]] = {}
        self.body = b""
        raw_length = str(environ.get("CONTENT_LENGTH") or "0").strip()
        length = int(raw_length) if raw_length.isascii() and raw_length.isdigit() and len(raw_length) < 10 else -1
        limit = MAX_WEBHOOK_BODY if self.path.startswith("/webhooks/") else MAX_BODY
        self.too_large = length > limit or length < 0
        # QUERY_STRING is bytes-as-latin-1 (PEP 3333): its percent escapes must be UTF-8
        query = str(environ.get("QUERY_STRING", "")).encode("latin-1", "replace").decode("ascii", "replace")
        try:
            self.query = parse_qs(query, errors="strict", max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the address is not valid UTF-8") from None
        if self.method == "POST" and not self.too_large:
            self.body = environ["wsgi.input"].read(length) if length else b""
            self.form = _form(environ, self.body)

    def value(self, name: str) -> str:
        return (self.form.get(name) or self.query.get(name) or [""])[0]

    def values(self, name: str) -> list[str]:
        return self.form.get(name) or []


@dataclass
class AppContext:
    """What every handler needs: the settings, the secret, the clock, the
    templates, and how to wake the outbox worker."""

    cfg: config_mod.Config
    env: Mapping[str, str]
    now: Callable[[], datetime]
    secret: str
    templates: jinja2.Environment
    notify: Callable[[], None] = lambda: None
    trusted: tuple[Network, ...] = field(default=())

    @property
    def title(self) -> str:
        return collapse(self.cfg.title)

    @property
    def base_url(self) -> str:
        return (self.cfg.delivery.web_url or self.cfg.site_url).rstrip("/")

    @property
    def choices(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """The categories a reader may pick, grouped by what is configured."""
        return category_groups(self.cfg.categories)

    @cached_property
    def message_settings(self) -> MessageSettings:
        from newsletter.delivery.message import MessageSettings

        return MessageSettings.from_config(self.cfg, self.env)

    def archive(self) -> Archive:
        return Archive(self.cfg.store_path)


Response = list[bytes]
StartResponse = Callable[..., object]


class Pages:
    """The answers every handler gives: a page from a template, or a message
    with an optional button (a POST form) and links."""

    def __init__(self, ctx: AppContext, start_response: StartResponse):
        self.ctx, self.start_response = ctx, start_response

    def render(self, status: str, template: str, page_title: str, **context: Any) -> Response:
        html = self.ctx.templates.get_template(f"web/{template}").render(
            page_title=page_title, title=self.ctx.title, site_url=self.ctx.cfg.site_url, language_name=language_name,
            **context)
        data = html.encode("utf-8")
        self.start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                                     ("Content-Length", str(len(data))), *HEADERS])
        return [data]

    def message(self, status: str, page_title: str, *paragraphs: str, button: str | None = None,
                action: str = "", token: str = "", links: list[tuple[str, str]] | None = None) -> Response:
        return self.render(status, "message.html.j2", page_title, paragraphs=paragraphs, button=button,
                           action=action, token=token, links=links or [])

    def json(self, status: str, value: object) -> Response:
        data = json.dumps(value).encode("utf-8")
        self.start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                     *HEADERS])
        return [data]

    def link_not_valid(self, what: str) -> Response:
        confirmation = what == "confirmation"
        return self.message("400 Bad Request", "Link not valid",
                            f"This {what} link is not valid{' or has expired' if confirmation else ''}.",
                            "Use the link from your latest email" + (", or subscribe again." if confirmation
                                                                     else ", or reply to it."),
                            links=[("Subscribe", "subscribe")] if confirmation else [])


def make_app(cfg: config_mod.Config, env: Mapping[str, str] = os.environ, now: Callable[[], datetime] = utc_now,
             notify: Callable[[], None] = lambda: None) -> WSGIApp:
    """The WSGI app. Refuses to be made without the signing secret: an app that
    started without it would answer every genuine link with an error.
    ``notify`` wakes the outbox worker when a request queues mail."""
    from newsletter.delivery.handlers import ROUTES
    from newsletter.render.templates import environment

    ctx = AppContext(cfg, env, now, require_secret(cfg, env),
                     environment(str(cfg.templates_dir) if cfg.templates_dir else None), notify,
                     trusted_networks(cfg))

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "HEAD":  # the GET answer's headers, no body
            for _ in app(dict(environ, REQUEST_METHOD="GET"), start_response):
                pass
            return [b""]
        pages = Pages(ctx, start_response)
        try:
            req = Request(environ, ctx.trusted)
        except BadRequest as exc:
            return pages.message("400 Bad Request", "Bad request", f"{exc}.")
        if req.too_large:
            return pages.message("413 Content Too Large", "Too large", "That request is too large.")
        if req.method not in ("GET", "POST"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD, POST"), ("Content-Length", "0")])
            return [b""]
        handler = ROUTES.get(req.path)
        if handler is None:
            return pages.message("404 Not Found", "Not found", "Nothing here.",
                                 links=[(ctx.title, cfg.site_url + "/")])
        return handler(ctx, req, pages)

    return app


def deployable_app() -> WSGIApp:
    """The app for any WSGI server (``newsletter.web:app``): config from
    $NEWSLETTER_CONFIG or ./newsletter.toml; refuses to load without the secret.
    Its confirmations wait in the outbox for ``newsletter outbox send``."""
    return make_app(config_mod.load(None))


class Served:
    """``newsletter serve``: waitress plus the outbox worker."""

    def __init__(self, server: Any, worker: Worker | None):
        self.server, self.worker = server, worker
        self.effective_port = int(server.effective_port)
        self.closing = False

    def run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # close() from another thread pulls the sockets out from under
            # waitress's select(): that is the end of serving, not an error.
            if not self.closing:
                raise

    def close(self) -> None:
        self.closing = True
        if self.worker is not None:
            self.worker.stop()
        self.server.close()
        self.server.task_dispatcher.shutdown()  # its request threads too


def make_server(cfg: config_mod.Config, host: str = "127.0.0.1", port: int = 8080,
                env: Mapping[str, str] = os.environ, *, outbox: bool = True) -> Served:
    """A production WSGI server (waitress): several threads, so one slow or
    idle client cannot block the one-click unsubscribes mail providers send;
    idle connections time out; bodies are capped. With ``outbox``, a thread
    sends the app's mail."""
    import sys

    import waitress

    from newsletter.deliver import smtp_mailer
    from newsletter.delivery.outbox import Worker

    worker = None
    if outbox:
        worker = Worker(cfg.store_path, lambda: smtp_mailer(cfg, env), backoff=cfg.web.outbox_retry,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    w = cfg.web
    application = make_app(cfg, env, notify=worker.notify if worker else (lambda: None))
    try:
        server = waitress.create_server(application, host=host, port=port, threads=w.threads,
                                        connection_limit=w.connection_limit, channel_timeout=w.channel_timeout,
                                        cleanup_interval=max(1, min(w.channel_timeout // 2, 30)),
                                        max_request_body_size=MAX_WEBHOOK_BODY, max_request_header_size=16_384,
                                        clear_untrusted_proxy_headers=False,  # client_address judges them
                                        ident="newsletter")
    except OSError as exc:
        raise NewsletterError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    return Served(server, worker.start() if worker else None)
