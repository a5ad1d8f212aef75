"""The web app: subscribing (double opt-in), confirming, a reader's
preferences, and unsubscribing (RFC 8058 one-click, and by hand, with undo).

Every state change happens on POST: link scanners and previews follow GET
links, so a GET only shows a page with a button. Tokens are signed for one
address and one purpose; confirmation links expire after 48 hours. The answer
to a subscription request is the same whatever the address's state, so the
list cannot be probed; a honeypot field and rate limits (per address and per
client) keep the form from becoming a mail cannon.

Deploy with any WSGI server (``waitress-serve newsletter.web:app``; the config
is found as by the CLI) or ``newsletter serve``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import jinja2

from newsletter import config as config_mod
from newsletter.categories import label as category_label
from newsletter.delivery.ledger import UNDO_DAYS, SubscriberStore
from newsletter.delivery.preferences import BadPreference, Preferences, parse
from newsletter.delivery.tokens import make_token, verify_token
from newsletter.errors import ConfigError, NewsletterError
from newsletter.seams import utc_now
from newsletter.store import Archive
from newsletter.text import collapse

if TYPE_CHECKING:
    from waitress.server import BaseWSGIServer, MultiSocketServer

    from newsletter.delivery.send import Mailer

WSGIApp = Callable[[dict[str, Any], Callable[..., object]], Iterable[bytes]]

MAX_BODY = 10_000
CONFIRM_HOURS = 48
PER_ADDRESS_PER_DAY = 3
PER_CLIENT_PER_HOUR = 20
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


class _Request:
    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "").rstrip("/") or "/"
        self.query = parse_qs(environ.get("QUERY_STRING", ""))
        self.form: dict[str, list[str]] = {}
        self.too_large = False
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            self.too_large = True
        elif self.method == "POST" and length > 0:
            body = environ["wsgi.input"].read(length)
            self.form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        self.client = environ.get("REMOTE_ADDR", "")

    def value(self, name: str) -> str:
        return (self.form.get(name) or self.query.get(name) or [""])[0]

    def values(self, name: str) -> list[str]:
        return self.form.get(name) or []


Response = list[bytes]
StartResponse = Callable[..., object]


@dataclass(frozen=True)
class AppContext:
    """What every handler needs: the settings, the secret, the clock, the
    templates, and where confirmation emails go (``mailer``: tests)."""

    cfg: config_mod.Config
    env: Mapping[str, str]
    now: Callable[[], datetime]
    secret: str
    templates: jinja2.Environment
    mailer: Mailer | None = None

    @property
    def title(self) -> str:
        return collapse(self.cfg.title)

    @property
    def base_url(self) -> str:
        return (self.cfg.delivery.web_url or self.cfg.site_url).rstrip("/")

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(c, category_label(c)) for c in self.cfg.categories]

    def archive(self) -> Archive:
        return Archive(self.cfg.store_path)


class Pages:
    """The answers every handler gives: a page from a template, or a message
    with an optional button (a POST form) and links."""

    def __init__(self, ctx: AppContext, start_response: StartResponse):
        self.ctx, self.start_response = ctx, start_response

    def render(self, status: str, template: str, page_title: str, **context: Any) -> Response:
        html = self.ctx.templates.get_template(f"web/{template}").render(
            page_title=page_title, title=self.ctx.title, site_url=self.ctx.cfg.site_url, **context)
        data = html.encode("utf-8")
        self.start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                                     ("Content-Length", str(len(data))), *HEADERS])
        return [data]

    def message(self, status: str, page_title: str, *paragraphs: str, button: str | None = None,
                action: str = "", token: str = "", links: list[tuple[str, str]] | None = None) -> Response:
        return self.render(status, "message.html.j2", page_title, paragraphs=paragraphs, button=button,
                           action=action, token=token, links=links or [])

    def link_not_valid(self, what: str) -> Response:
        confirmation = what == "confirmation"
        return self.message("400 Bad Request", "Link not valid",
                            f"This {what} link is not valid{' or has expired' if confirmation else ''}.",
                            "Use the link from your latest email" + (", or subscribe again." if confirmation
                                                                     else ", or reply to it."),
                            links=[("Subscribe", "subscribe")] if confirmation else [])

    def check_inbox(self, address: str) -> Response:
        return self.message("200 OK", "Check your inbox",
                            f"If {collapse(address)[:200]} can receive email, a confirmation link is on its way. "
                            f"Click it within {CONFIRM_HOURS} hours to start getting {self.ctx.title}.",
                            "Nothing is sent to this address until it is confirmed.")


Handler = Callable[[AppContext, _Request, Pages], Response]


def subscribe(ctx: AppContext, req: _Request, pages: Pages) -> Response:
    """The sign-up form; a POST asks for a confirmation (rate limited, same answer for everyone)."""
    if req.method != "POST":
        return pages.render("200 OK", "subscribe.html.j2", "Subscribe", categories=ctx.choices, chosen=[],
                            email="", error="")
    from newsletter.delivery.addresses import InvalidAddress, check_address

    raw, chosen = req.value("email"), req.values("categories")
    if req.value("website"):  # the honeypot: a bot filled it; answer as to anyone
        return pages.check_inbox(raw)
    try:
        address = check_address(raw)
        prefs = parse(categories=chosen, allowed=ctx.cfg.categories)
    except (InvalidAddress, BadPreference) as exc:
        return pages.render("400 Bad Request", "subscribe.html.j2", "Subscribe", categories=ctx.choices,
                            chosen=chosen, email=collapse(raw)[:200], error=str(exc))
    t = ctx.now()
    with ctx.archive() as archive:
        subs = SubscriberStore(archive)
        limited = (subs.signups_since(email=address, since=t - timedelta(days=1)) >= PER_ADDRESS_PER_DAY or
                   subs.signups_since(client=req.client, since=t - timedelta(hours=1)) >= PER_CLIENT_PER_HOUR)
        if not limited:
            subs.request(address, t, req.client, prefs)
            subs.note_signup(address, req.client, t)
    if not limited:
        _send_confirmation(ctx, address, t, req)
    return pages.check_inbox(address)


def _send_confirmation(ctx: AppContext, address: str, t: datetime, req: _Request) -> None:
    from newsletter.delivery.message import MessageSettings, confirmation_message, to_bytes

    token = make_token(ctx.secret, address, "confirm", expires=t + timedelta(hours=CONFIRM_HOURS))
    link = f"{ctx.base_url}/confirm?{urlencode({'t': token})}"
    try:
        settings = MessageSettings.from_config(ctx.cfg, ctx.env)
        msg = confirmation_message(settings, address, link, ctx.title, t, CONFIRM_HOURS)
        if ctx.mailer is not None:
            ctx.mailer.send(settings.from_address, address, to_bytes(msg, settings.dkim))
            return
        from newsletter.deliver import smtp_mailer

        m = smtp_mailer(ctx.cfg, ctx.env)
        try:
            m.send(settings.from_address, address, to_bytes(msg, settings.dkim))
        finally:
            m.close()
    except Exception as exc:  # noqa: BLE001 - the reader sees the same answer; the operator the reason
        errors = req.environ.get("wsgi.errors") or sys.stderr
        print(f"newsletter: confirmation email to {address} not sent: {collapse(str(exc))}", file=errors)


def confirm(ctx: AppContext, req: _Request, pages: Pages) -> Response:
    """A confirmation link: GET shows a button (scanners follow links), POST confirms."""
    token = req.value("t")
    address = verify_token(ctx.secret, token, "confirm", now=ctx.now())
    if address is None:
        return pages.link_not_valid("confirmation")
    if req.method != "POST":
        return pages.message("200 OK", "Confirm your subscription", f"Start sending {ctx.title} to {address}?",
                             button="Confirm subscription", action="confirm", token=token)
    with ctx.archive() as archive:
        confirmed = SubscriberStore(archive).confirm(address, ctx.now())
    if not confirmed:  # erased meanwhile: never claim a change that did not happen
        return pages.message("200 OK", "Not subscribed", f"{address} is no longer on the list of {ctx.title}.",
                             "Please subscribe again.", links=[("Subscribe", "subscribe")])
    prefs = make_token(ctx.secret, address, "preferences")
    return pages.message("200 OK", "Subscribed", f"{address} will get {ctx.title} from the next issue on.",
                         links=[("Choose your topics and how often", f"preferences?{urlencode({'t': prefs})}")])


def _pause_weeks(raw: str) -> int:
    value = raw.strip() or "0"
    weeks = int(value) if value.isascii() and value.isdigit() and len(value) <= 2 else -1
    if not 0 <= weeks <= 52:
        raise BadPreference("pause must be a whole number of weeks from 0 to 52")
    return weeks


def _chosen_preferences(ctx: AppContext, req: _Request) -> Preferences:
    """The preferences form as posted; BadPreference says what is wrong."""
    weeks = _pause_weeks(req.value("pause_weeks"))
    chosen = parse(categories=req.values("categories"), keywords=req.value("keywords"),
                   authors=req.value("authors"), max_papers=req.value("max_papers") or None,
                   frequency=req.value("frequency") or None, allowed=ctx.cfg.categories)
    # an empty "papers per email" means the issue's own cap; the pause is set afresh
    return dataclasses.replace(chosen, max_papers=chosen.max_papers if req.value("max_papers") else None,
                               paused_until=ctx.now().date() + timedelta(weeks=weeks) if weeks else None)


def preferences(ctx: AppContext, req: _Request, pages: Pages) -> Response:
    """A reader's own page: topics, cap, frequency, pause; POST saves them."""
    token = req.value("t")
    address = verify_token(ctx.secret, token, "preferences")
    if address is None:
        return pages.link_not_valid("preferences")
    with ctx.archive() as archive:
        subs = SubscriberStore(archive)
        sub = subs.get(address)
        if sub is None:
            return pages.link_not_valid("preferences")
        prefs, saved, error, status = sub.prefs, "", "", "200 OK"
        if req.method == "POST":
            try:
                prefs = _chosen_preferences(ctx, req)
                subs.set_prefs(address, prefs, ctx.now())
                saved = _describe(prefs)
            except BadPreference as exc:
                error, status = f"Not saved: {exc}.", "400 Bad Request"
    weeks_left = max(0, -(-((prefs.paused_until - ctx.now().date()).days) // 7)) if prefs.paused_until else 0
    return pages.render(status, "preferences.html.j2", "Your preferences", address=address, token=token,
                        prefs=prefs, categories=ctx.choices, saved=saved, error=error,
                        default_cap=ctx.cfg.email.max_papers, pause_weeks=weeks_left,
                        unsubscribe_token=make_token(ctx.secret, address))


def unsubscribe(ctx: AppContext, req: _Request, pages: Pages) -> Response:
    """RFC 8058 one-click (POST) and by hand (GET shows a button); undo for UNDO_DAYS."""
    token = req.value("t")
    address = verify_token(ctx.secret, token, "unsubscribe")
    if address is None:
        return pages.link_not_valid("unsubscribe")
    with ctx.archive() as archive:
        subs = SubscriberStore(archive)
        sub = subs.get(address)
        if req.method == "POST":
            subs.set_status(address, "unsubscribed", ctx.now())
            return pages.message("200 OK", "Unsubscribed", f"{address} will get no more {ctx.title} emails.",
                                 f"Changed your mind? You can undo this within {UNDO_DAYS} days.",
                                 button="Resubscribe", action="resubscribe", token=token)
        if sub is not None and sub.status == "unsubscribed":
            already = f"{address} is already unsubscribed from {ctx.title}."
            if subs.can_undo(sub, ctx.now()):
                return pages.message("200 OK", "Already unsubscribed", already, button="Resubscribe",
                                     action="resubscribe", token=token)
            return pages.message("200 OK", "Already unsubscribed", already, links=[("Subscribe again", "subscribe")])
    return pages.message("200 OK", f"Unsubscribe from {ctx.title}?", f"Stop sending {ctx.title} to {address}?",
                         button="Unsubscribe", action="unsubscribe", token=token)


def resubscribe(ctx: AppContext, req: _Request, pages: Pages) -> Response:
    """Undo an unsubscribe within UNDO_DAYS, with the same preferences."""
    token = req.value("t")
    address = verify_token(ctx.secret, token, "unsubscribe")
    if address is None or req.method != "POST":
        return pages.link_not_valid("unsubscribe")
    with ctx.archive() as archive:
        subs = SubscriberStore(archive)
        sub = subs.get(address)
        if sub is None or not subs.can_undo(sub, ctx.now()):
            return pages.message("200 OK", "Subscribe again",
                                 f"It has been more than {UNDO_DAYS} days: please subscribe again and confirm.",
                                 links=[("Subscribe", "subscribe")])
        subs.set_status(address, "subscribed", ctx.now())
    return pages.message("200 OK", "Subscribed again",
                         f"{address} will get {ctx.title} again, with the same preferences.")


ROUTES: dict[str, Handler] = {"/subscribe": subscribe, "/confirm": confirm, "/preferences": preferences,
                              "/unsubscribe": unsubscribe, "/resubscribe": resubscribe}


def make_app(cfg: config_mod.Config, env: Mapping[str, str] = os.environ, now: Callable[[], datetime] = utc_now,
             mailer: Mailer | None = None) -> WSGIApp:
    """The WSGI app. Refuses to be made without the signing secret: an app that
    started without it would answer every genuine link with an error.
    ``mailer`` (tests) replaces the SMTP mailer for confirmation emails."""
    from newsletter.render.templates import environment

    ctx = AppContext(cfg, env, now, require_secret(cfg, env),
                     environment(str(cfg.templates_dir) if cfg.templates_dir else None), mailer)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "HEAD":  # the GET answer's headers, no body
            for _ in app(dict(environ, REQUEST_METHOD="GET"), start_response):
                pass
            return [b""]
        req, pages = _Request(environ), Pages(ctx, start_response)
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


def _describe(p: Preferences) -> str:
    parts = [f"Categories: {', '.join(p.categories) or 'all'}.",
             f"Keywords: {', '.join(p.keywords) or 'none'}.", f"Authors: {', '.join(p.authors) or 'none'}.",
             f"Papers per email: {p.max_papers or 'all'}.", f"How often: {p.frequency}."]
    if p.paused_until:
        parts.append(f"Paused until {p.paused_until.isoformat()}.")
    return " ".join(parts)


def deployable_app() -> WSGIApp:
    """The app for any WSGI server (``newsletter.web:app``): config from
    $NEWSLETTER_CONFIG or ./newsletter.toml; refuses to load without the secret."""
    return make_app(config_mod.load(None))


def make_server(cfg: config_mod.Config, host: str = "127.0.0.1", port: int = 8080,
                env: Mapping[str, str] = os.environ, threads: int = 8, mailer: Mailer | None = None
                ) -> BaseWSGIServer | MultiSocketServer:
    """A production WSGI server (waitress): several threads, so one slow or
    idle client cannot block the one-click unsubscribes mail providers send;
    idle connections time out; bodies are capped."""
    import waitress

    application = make_app(cfg, env, mailer=mailer)
    proxy = cfg.delivery.trusted_proxy
    try:
        return waitress.create_server(application, host=host, port=port, threads=threads, channel_timeout=20,
                                      max_request_body_size=MAX_BODY, max_request_header_size=16_384,
                                      ident="newsletter", clear_untrusted_proxy_headers=True,
                                      **({"trusted_proxy": proxy, "trusted_proxy_headers": {"x-forwarded-for",
                                                                                           "x-forwarded-proto"}}
                                         if proxy else {}))
    except OSError as exc:
        raise NewsletterError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
