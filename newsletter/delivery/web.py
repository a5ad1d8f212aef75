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
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode

from newsletter import config as config_mod
from newsletter.categories import label as category_label
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.preferences import BadPreference, Preferences, parse
from newsletter.delivery.tokens import make_token, verify_token
from newsletter.errors import ConfigError, NewsletterError
from newsletter.store import Archive
from newsletter.text import collapse

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


def make_app(cfg: config_mod.Config, env: Mapping[str, str] = os.environ,
             now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), mailer: Any = None) -> Any:
    """The WSGI app. Refuses to be made without the signing secret: an app that
    started without it would answer every genuine link with an error.
    ``mailer`` (tests) replaces the SMTP mailer for confirmation emails."""
    secret = require_secret(cfg, env)
    from newsletter.render.templates import environment

    templates = environment(str(cfg.templates_dir) if cfg.templates_dir else None)
    base_url = (cfg.delivery.web_url or cfg.site_url).rstrip("/")
    choices = [(c, category_label(c)) for c in cfg.categories]

    def render(start_response: Any, status: str, template: str, page_title: str, **context: Any) -> list[bytes]:
        html = templates.get_template(f"web/{template}").render(
            page_title=page_title, title=collapse(cfg.title), site_url=cfg.site_url, **context)
        data = html.encode("utf-8")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                *HEADERS])
        return [data]

    def message(start_response: Any, status: str, page_title: str, *paragraphs: str, **form: Any) -> list[bytes]:
        return render(start_response, status, "message.html.j2", page_title, paragraphs=paragraphs,
                      button=form.get("button"), action=form.get("action", ""), token=form.get("token", ""),
                      links=form.get("links", []))

    def link_not_valid(start_response: Any, what: str) -> list[bytes]:
        return message(start_response, "400 Bad Request", "Link not valid",
                       f"This {what} link is not valid{' or has expired' if what == 'confirmation' else ''}.",
                       "Use the link from your latest email" + (", or subscribe again." if what == "confirmation"
                                                                else ", or reply to it."),
                       links=[("Subscribe", "subscribe")] if what == "confirmation" else [])

    def store() -> Any:
        return Archive(cfg.store_path)

    # ---------------------------------------------------------- subscribe
    def subscribe(req: _Request, start_response: Any) -> list[bytes]:
        if req.method != "POST":
            return render(start_response, "200 OK", "subscribe.html.j2", "Subscribe", categories=choices,
                          chosen=[], email="", error="")
        from newsletter.delivery.message import InvalidAddress, check_address

        raw = req.value("email")
        chosen = req.values("categories")
        if req.value("website"):  # the honeypot: a bot filled it; answer as to anyone
            return _check_inbox(start_response, raw)
        try:
            address = check_address(raw)
            prefs = parse(categories=chosen, allowed=cfg.categories)
        except (InvalidAddress, BadPreference) as exc:
            return render(start_response, "400 Bad Request", "subscribe.html.j2", "Subscribe", categories=choices,
                          chosen=chosen, email=collapse(raw)[:200], error=str(exc))
        t = now()
        with store() as archive:
            subs = SubscriberStore(archive)
            limited = (subs.signups_since(email=address, since=t - timedelta(days=1)) >= PER_ADDRESS_PER_DAY or
                       subs.signups_since(client=req.client, since=t - timedelta(hours=1)) >= PER_CLIENT_PER_HOUR)
            if not limited:
                subs.request(address, t, req.client, prefs)
                subs.note_signup(address, req.client, t)
        if not limited:
            _send_confirmation(address, t, req)
        return _check_inbox(start_response, address)

    def _check_inbox(start_response: Any, address: str) -> list[bytes]:
        return message(start_response, "200 OK", "Check your inbox",
                       f"If {collapse(address)[:200]} can receive email, a confirmation link is on its way. "
                       f"Click it within {CONFIRM_HOURS} hours to start getting {collapse(cfg.title)}.",
                       "Nothing is sent to this address until it is confirmed.")

    def _send_confirmation(address: str, t: datetime, req: _Request) -> None:
        from newsletter.delivery.message import MessageSettings, confirmation_message, to_bytes

        token = make_token(secret, address, "confirm", expires=t + timedelta(hours=CONFIRM_HOURS))
        link = f"{base_url}/confirm?{urlencode({'t': token})}"
        try:
            settings = MessageSettings.from_config(cfg, env)
            msg = confirmation_message(settings, address, link, collapse(cfg.title), t, CONFIRM_HOURS)
            m = mailer
            if m is None:
                from newsletter.deliver import smtp_mailer
                m = smtp_mailer(cfg, env)
            try:
                m.send(settings.from_address, address, to_bytes(msg, settings.dkim))
            finally:
                if mailer is None:
                    m.close()
        except Exception as exc:  # noqa: BLE001 - the reader sees the same answer; the operator the reason
            errors = req.environ.get("wsgi.errors") or sys.stderr
            print(f"newsletter: confirmation email to {address} not sent: {collapse(str(exc))}", file=errors)

    # ------------------------------------------------------------ confirm
    def confirm(req: _Request, start_response: Any) -> list[bytes]:
        token = req.value("t")
        address = verify_token(secret, token, "confirm", now=now())
        if address is None:
            return link_not_valid(start_response, "confirmation")
        if req.method != "POST":
            return message(start_response, "200 OK", "Confirm your subscription",
                           f"Start sending {collapse(cfg.title)} to {address}?",
                           button="Confirm subscription", action="confirm", token=token)
        with store() as archive:
            subs = SubscriberStore(archive)
            subs.confirm(address, now())
        prefs = make_token(secret, address, "preferences")
        return message(start_response, "200 OK", "Subscribed",
                       f"{address} will get {collapse(cfg.title)} from the next issue on.",
                       links=[("Choose your topics and how often", f"preferences?{urlencode({'t': prefs})}")])

    # -------------------------------------------------------- preferences
    def preferences(req: _Request, start_response: Any) -> list[bytes]:
        token = req.value("t")
        address = verify_token(secret, token, "preferences")
        if address is None:
            return link_not_valid(start_response, "preferences")
        with store() as archive:
            subs = SubscriberStore(archive)
            sub = subs.get(address)
            if sub is None:
                return link_not_valid(start_response, "preferences")
            prefs, saved, error, status = sub.prefs, "", "", "200 OK"
            if req.method == "POST":
                try:
                    weeks_raw = req.value("pause_weeks").strip() or "0"
                    weeks = int(weeks_raw) if weeks_raw.isdigit() else -1
                    if not 0 <= weeks <= 52:
                        raise BadPreference("pause must be a whole number of weeks from 0 to 52")
                    paused = now().date() + timedelta(weeks=weeks) if weeks else None
                    chosen = parse(categories=req.values("categories"), keywords=req.value("keywords"),
                                   authors=req.value("authors"), max_papers=req.value("max_papers") or None,
                                   frequency=req.value("frequency") or None, allowed=cfg.categories)
                    # an empty "papers per email" means the issue's own cap; the pause is set afresh
                    prefs = dataclasses.replace(chosen, max_papers=chosen.max_papers if req.value("max_papers")
                                                else None, paused_until=paused)
                    subs.set_prefs(address, prefs, now())
                    saved = _describe(prefs)
                except BadPreference as exc:
                    error, status = f"Not saved: {exc}.", "400 Bad Request"
        weeks_left = max(0, -(-((prefs.paused_until - now().date()).days) // 7)) if prefs.paused_until else 0
        return render(start_response, status, "preferences.html.j2", "Your preferences", address=address,
                      token=token, prefs=prefs, categories=choices, saved=saved, error=error,
                      default_cap=cfg.email.max_papers, pause_weeks=weeks_left,
                      unsubscribe_token=make_token(secret, address))

    # -------------------------------------------------------- unsubscribe
    def unsubscribe(req: _Request, start_response: Any) -> list[bytes]:
        token = req.value("t")
        address = verify_token(secret, token, "unsubscribe")
        if address is None:
            return link_not_valid(start_response, "unsubscribe")
        with store() as archive:
            subs = SubscriberStore(archive)
            sub = subs.get(address)
            if req.method == "POST":
                subs.set_status(address, "unsubscribed", now())
                return message(start_response, "200 OK", "Unsubscribed",
                               f"{address} will get no more {collapse(cfg.title)} emails.",
                               f"Changed your mind? You can undo this within 30 days.",
                               button="Resubscribe", action="resubscribe", token=token)
            if sub is not None and sub.status == "unsubscribed":
                if subs.can_undo(sub, now()):
                    return message(start_response, "200 OK", "Already unsubscribed",
                                   f"{address} is already unsubscribed from {collapse(cfg.title)}.",
                                   button="Resubscribe", action="resubscribe", token=token)
                return message(start_response, "200 OK", "Already unsubscribed",
                               f"{address} is already unsubscribed from {collapse(cfg.title)}.",
                               links=[("Subscribe again", "subscribe")])
        return message(start_response, "200 OK", f"Unsubscribe from {collapse(cfg.title)}?",
                       f"Stop sending {collapse(cfg.title)} to {address}?",
                       button="Unsubscribe", action="unsubscribe", token=token)

    def resubscribe(req: _Request, start_response: Any) -> list[bytes]:
        token = req.value("t")
        address = verify_token(secret, token, "unsubscribe")
        if address is None or req.method != "POST":
            return link_not_valid(start_response, "unsubscribe")
        with store() as archive:
            subs = SubscriberStore(archive)
            sub = subs.get(address)
            if sub is None or not subs.can_undo(sub, now()):
                return message(start_response, "200 OK", "Subscribe again",
                               "It has been more than 30 days: please subscribe again and confirm.",
                               links=[("Subscribe", "subscribe")])
            subs.set_status(address, "subscribed", now())
        return message(start_response, "200 OK", "Subscribed again",
                       f"{address} will get {collapse(cfg.title)} again, with the same preferences.")

    routes = {"/subscribe": subscribe, "/confirm": confirm, "/preferences": preferences,
              "/unsubscribe": unsubscribe, "/resubscribe": resubscribe}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "HEAD":  # the GET answer's headers, no body
            for _ in app(dict(environ, REQUEST_METHOD="GET"), start_response):
                pass
            return [b""]
        req = _Request(environ)
        if req.too_large:
            return message(start_response, "413 Content Too Large", "Too large", "That request is too large.")
        if req.method not in ("GET", "POST"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD, POST"), ("Content-Length", "0")])
            return [b""]
        handler = routes.get(req.path)
        if handler is None:
            return message(start_response, "404 Not Found", "Not found", "Nothing here.",
                           links=[(collapse(cfg.title), cfg.site_url + "/")])
        return handler(req, start_response)

    return app


def _describe(p: Preferences) -> str:
    parts = [f"Categories: {', '.join(p.categories) or 'all'}.",
             f"Keywords: {', '.join(p.keywords) or 'none'}.", f"Authors: {', '.join(p.authors) or 'none'}.",
             f"Papers per email: {p.max_papers or 'all'}.", f"How often: {p.frequency}."]
    if p.paused_until:
        parts.append(f"Paused until {p.paused_until.isoformat()}.")
    return " ".join(parts)


def deployable_app() -> Any:
    """The app for any WSGI server (``newsletter.web:app``): config from
    $NEWSLETTER_CONFIG or ./newsletter.toml; refuses to load without the secret."""
    return make_app(config_mod.load(None))


def make_server(cfg: config_mod.Config, host: str = "127.0.0.1", port: int = 8080,
                env: Mapping[str, str] = os.environ, threads: int = 8, mailer: Any = None) -> Any:
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
