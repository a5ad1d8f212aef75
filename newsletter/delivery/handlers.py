"""The web app's pages, one handler each: subscribe, confirm, preferences,
unsubscribe (one-click and by hand) and its undo. A page says what
happened, never a change that did not happen."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from newsletter.delivery.ledger import UNDO_DAYS, Subscriber, SubscriberStore
from newsletter.delivery.preferences import BadPreference, Preferences, parse
from newsletter.delivery.signups import CONFIRM_HOURS, Confirmation, Signups
from newsletter.delivery.tokens import make_token, read_token
from newsletter.delivery.web import AppContext, Pages, Request, Response
from newsletter.errors import NewsletterError
from newsletter.store import Archive
from newsletter.text import collapse

LEGACY_LINK_DAYS = 60  # links that carried the address still work this long after handles began

Handler = Callable[[AppContext, Request, Pages], Response]


def reader(ctx: AppContext, archive: Archive, token: str, purpose: str) -> Subscriber | None:
    """The reader a genuine link names (by handle, or by address for a link
    made before handles, within LEGACY_LINK_DAYS), or None."""
    t = read_token(ctx.secret, token, purpose)
    if t is None:
        return None
    store = SubscriberStore(archive)
    if t.handle is not None:
        return store.by_handle(t.handle)
    since = store.setting("opaque_links_since")
    if since is None or ctx.now() > datetime.fromisoformat(since) + timedelta(days=LEGACY_LINK_DAYS):
        return None
    return store.get(t.address or "")


def check_inbox(ctx: AppContext, pages: Pages, address: str) -> Response:
    return pages.message("200 OK", "Check your inbox",
                         f"If {collapse(address)[:200]} can receive email, a confirmation link is on its way. "
                         f"Click it within {CONFIRM_HOURS} hours to start getting {ctx.title}.",
                         "Nothing is sent to this address until it is confirmed.")


def subscribe(ctx: AppContext, req: Request, pages: Pages) -> Response:
    """The sign-up form; a POST asks for a confirmation (rate limited, same answer for everyone)."""
    if req.method != "POST":
        return pages.render("200 OK", "subscribe.html.j2", "Subscribe", categories=ctx.choices, chosen=[],
                            email="", error="")
    from newsletter.delivery.addresses import InvalidAddress, check_address

    raw, chosen = req.value("email"), req.values("categories")
    if req.value("website"):  # the honeypot: a bot filled it; answer as to anyone
        return check_inbox(ctx, pages, raw)
    try:
        address = check_address(raw)
        prefs = parse(categories=chosen, allowed=ctx.cfg.categories)
    except (InvalidAddress, BadPreference) as exc:
        return pages.render("400 Bad Request", "subscribe.html.j2", "Subscribe", categories=ctx.choices,
                            chosen=chosen, email=collapse(raw)[:200], error=str(exc))
    _request_confirmation(ctx, req, address, prefs)
    return check_inbox(ctx, pages, address)


def _request_confirmation(ctx: AppContext, req: Request, address: str, prefs: Preferences) -> None:
    """Record the sign-up and queue its confirmation, in one transaction (or
    nothing at all when a limit is reached)."""
    from newsletter.delivery.message import to_bytes
    from newsletter.delivery.notices import confirmation_message
    from newsletter.delivery.outbox import Outbox

    t = ctx.now()
    try:
        settings = ctx.message_settings
    except NewsletterError as exc:  # the reader sees the same answer; the operator the reason
        print(f"newsletter: no confirmation can be made: {exc}", file=req.environ.get("wsgi.errors"))
        return

    def queue(nonce: str) -> None:
        token = make_token(ctx.secret, nonce, "confirm", expires=t + timedelta(hours=CONFIRM_HOURS))
        link = f"{ctx.base_url}/confirm?{urlencode({'t': token})}"
        msg = confirmation_message(settings, address, link, ctx.title, t, CONFIRM_HOURS)
        box.add("confirm", settings.from_address, address, to_bytes(msg, settings.dkim), t)

    with ctx.archive() as archive:
        box = Outbox(archive)
        queued = Signups(archive).request(address, req.client, prefs, t, then=queue)
    if queued:
        ctx.notify()


def confirm(ctx: AppContext, req: Request, pages: Pages) -> Response:
    """A confirmation link: GET shows a button (scanners follow links), POST confirms, once."""
    token = req.value("t")
    t = read_token(ctx.secret, token, "confirm", now=ctx.now())
    if t is None:
        return pages.link_not_valid("confirmation")
    if req.method != "POST":
        return pages.message("200 OK", "Confirm your subscription", f"Start sending {ctx.title} to your address?",
                             button="Confirm subscription", action="confirm", token=token)
    with ctx.archive() as archive:
        signups = Signups(archive)
        done = signups.confirm(t.handle, ctx.now()) if t.handle else signups.confirm_pending(t.address or "",
                                                                                              ctx.now())
        if done.result == "subscribed" and done.subscriber is not None:
            _queue_welcome(ctx, archive, done.subscriber, req)
    return _confirmed(ctx, pages, done)


CADENCE = {"daily": "the day's hot papers each arXiv mailing day (Monday to Friday), in the evening, US Eastern.",
           "weekly": "Hot Papers of the Week, each Saturday.",
           "both": "the day's hot papers each arXiv mailing day, and Hot Papers of the Week each Saturday."}


def _queue_welcome(ctx: AppContext, archive: Archive, sub: Subscriber, req: Request) -> None:
    """The welcome email, into the outbox (a reader who confirmed wants to know what comes next)."""
    from newsletter.delivery.message import to_bytes
    from newsletter.delivery.notices import welcome_message
    from newsletter.delivery.outbox import Outbox

    try:
        s = ctx.message_settings
    except NewsletterError as exc:
        print(f"newsletter: no welcome email can be made: {exc}", file=req.environ.get("wsgi.errors"))
        return
    msg = welcome_message(s, sub.email, ctx.title, CADENCE[sub.prefs.frequency], s.preferences_link(sub.handle),
                          f"{ctx.cfg.feeds_base_url}/papers.atom", s.unsubscribe_link(sub.handle), ctx.now())
    Outbox(archive).add("welcome", s.envelope_sender(sub.handle), sub.email, to_bytes(msg, s.dkim), ctx.now())
    ctx.notify()


def _confirmed(ctx: AppContext, pages: Pages, done: Confirmation) -> Response:
    sub = done.subscriber
    if done.result == "subscribed" and sub is not None:
        prefs = make_token(ctx.secret, sub.handle, "preferences")
        return pages.message("200 OK", "Subscribed", f"{sub.email} will get {ctx.title} from the next issue on.",
                             links=[("Choose your topics and how often", f"preferences?{urlencode({'t': prefs})}")])
    if done.result == "already" and sub is not None:
        return pages.message("200 OK", "Already subscribed", f"{sub.email} already gets {ctx.title}.")
    if done.result == "used":
        return pages.message("400 Bad Request", "Link already used",
                             "This confirmation link has been used already; it works once.",
                             "To subscribe again, please use the form.", links=[("Subscribe", "subscribe")])
    if done.result == "gone":
        return pages.message("400 Bad Request", "Not subscribed", f"This address is not on the list of {ctx.title}.",
                             "Please subscribe again.", links=[("Subscribe", "subscribe")])
    return pages.link_not_valid("confirmation")


def _pause_weeks(raw: str) -> int:
    value = raw.strip() or "0"
    weeks = int(value) if value.isascii() and value.isdigit() and len(value) <= 2 else -1
    if not 0 <= weeks <= 52:
        raise BadPreference("pause must be a whole number of weeks from 0 to 52")
    return weeks


def offered_languages(ctx: AppContext) -> list[str]:
    """The summary languages a reader may choose (none while summaries are off)."""
    s = ctx.cfg.summaries
    return [x for x in s.languages if x != s.language] if s.enabled else []


def _chosen_preferences(ctx: AppContext, req: Request) -> Preferences:
    """The preferences form as posted; BadPreference says what is wrong."""
    weeks = _pause_weeks(req.value("pause_weeks"))
    chosen = parse(categories=req.values("categories"), keywords=req.value("keywords"),
                   authors=req.value("authors"), max_papers=req.value("max_papers") or None,
                   frequency=req.value("frequency") or None, allowed=ctx.cfg.categories,
                   language=req.value("language"), languages=offered_languages(ctx))
    # an empty "papers per email" means the issue's own cap; the pause is set afresh
    return dataclasses.replace(chosen, max_papers=chosen.max_papers if req.value("max_papers") else None,
                               paused_until=ctx.now().date() + timedelta(weeks=weeks) if weeks else None)


def preferences(ctx: AppContext, req: Request, pages: Pages) -> Response:
    """A reader's own page: topics, cap, frequency, pause; POST saves them."""
    token = req.value("t")
    with ctx.archive() as archive:
        sub = reader(ctx, archive, token, "preferences")
        if sub is None:
            return pages.link_not_valid("preferences")
        prefs, saved, error, status = sub.prefs, "", "", "200 OK"
        if req.method == "POST":
            try:
                prefs = _chosen_preferences(ctx, req)
                SubscriberStore(archive).set_prefs(sub.email, prefs, ctx.now())
                saved = _describe(prefs)
            except BadPreference as exc:
                error, status = f"Not saved: {exc}.", "400 Bad Request"
    weeks_left = max(0, -(-((prefs.paused_until - ctx.now().date()).days) // 7)) if prefs.paused_until else 0
    return pages.render(status, "preferences.html.j2", "Your preferences", address=sub.email, token=token,
                        prefs=prefs, categories=ctx.choices, saved=saved, error=error,
                        default_cap=ctx.cfg.email.max_papers, pause_weeks=weeks_left,
                        languages=offered_languages(ctx), issue_language=ctx.cfg.summaries.language,
                        unsubscribe_token=make_token(ctx.secret, sub.handle))


def unsubscribe(ctx: AppContext, req: Request, pages: Pages) -> Response:
    """RFC 8058 one-click (POST) and by hand (GET shows a button); undo for UNDO_DAYS."""
    token = req.value("t")
    with ctx.archive() as archive:
        sub = reader(ctx, archive, token, "unsubscribe")
        if sub is None:
            return pages.link_not_valid("unsubscribe")
        store = SubscriberStore(archive)
        if sub.status == "unsubscribed":
            already = f"{sub.email} is already unsubscribed from {ctx.title}."
            if store.can_undo(sub, ctx.now()):
                return pages.message("200 OK", "Already unsubscribed", already, button="Resubscribe",
                                     action="resubscribe", token=token)
            return pages.message("200 OK", "Already unsubscribed", already, links=[("Subscribe again", "subscribe")])
        if req.method == "POST":
            if not store.set_status(sub.email, "unsubscribed", ctx.now()):
                return pages.link_not_valid("unsubscribe")  # erased meanwhile: nothing changed, say none did
            return pages.message("200 OK", "Unsubscribed", f"{sub.email} will get no more {ctx.title} emails.",
                                 f"Changed your mind? You can undo this within {UNDO_DAYS} days.",
                                 button="Resubscribe", action="resubscribe", token=token)
    return pages.message("200 OK", f"Unsubscribe from {ctx.title}?", f"Stop sending {ctx.title} to {sub.email}?",
                         button="Unsubscribe", action="unsubscribe", token=token)


def resubscribe(ctx: AppContext, req: Request, pages: Pages) -> Response:
    """Undo an unsubscribe within UNDO_DAYS, with the same preferences."""
    token = req.value("t")
    if req.method != "POST":
        return pages.link_not_valid("unsubscribe")
    with ctx.archive() as archive:
        sub = reader(ctx, archive, token, "unsubscribe")
        if sub is None:
            return pages.link_not_valid("unsubscribe")
        store = SubscriberStore(archive)
        if not store.can_undo(sub, ctx.now()):
            return pages.message("200 OK", "Subscribe again",
                                 f"It has been more than {UNDO_DAYS} days: please subscribe again and confirm.",
                                 links=[("Subscribe", "subscribe")])
        store.set_status(sub.email, "subscribed", ctx.now())
    return pages.message("200 OK", "Subscribed again",
                         f"{sub.email} will get {ctx.title} again, with the same preferences.")


def _describe(p: Preferences) -> str:
    parts = [f"Categories: {', '.join(p.categories) or 'all'}.",
             f"Keywords: {', '.join(p.keywords) or 'none'}.", f"Authors: {', '.join(p.authors) or 'none'}.",
             f"Papers per email: {p.max_papers or 'all'}.", f"How often: {p.frequency}."]
    if p.paused_until:
        parts.append(f"Paused until {p.paused_until.isoformat()}.")
    return " ".join(parts)


def webhook(service: str) -> Handler:
    """An email service's bounce and complaint reports (see ``webhooks.py``)."""
    def handle(ctx: AppContext, req: Request, pages: Pages) -> Response:
        from newsletter.delivery import webhooks
        from newsletter.delivery.bounces import Bounces

        if req.method != "POST":
            return pages.json("405 Method Not Allowed", {"error": "POST only"})
        b = ctx.cfg.bounces
        try:
            if service == "postmark":
                reports = webhooks.postmark_reports(req.body, str(req.environ.get("HTTP_AUTHORIZATION", "")),
                                                    req.value("token"), ctx.env.get(b.webhook_secret_env, ""))
            elif service == "mailgun":
                reports = webhooks.mailgun_reports(req.body, ctx.env.get(b.mailgun_key_env, ""))
            else:
                reports = webhooks.ses_reports(req.body, b.sns_hosts, webhooks.confirm_subscription)
        except webhooks.Refused as exc:
            return pages.json(f"{exc.status} {'Unauthorized' if exc.status == 401 else 'Forbidden'}",
                              {"error": str(exc)})
        except (ValueError, AttributeError, TypeError):
            return pages.json("400 Bad Request", {"error": "not a report this endpoint understands"})
        with ctx.archive() as archive:
            done = webhooks.act(Bounces(archive, soft_limit=b.soft_limit, soft_days=b.soft_days), reports,
                                req.body, f"webhook:{service}", ctx.now())
        return pages.json("200 OK", {"done": done})
    return handle


ROUTES: dict[str, Handler] = {"/subscribe": subscribe, "/confirm": confirm, "/preferences": preferences,
                              "/unsubscribe": unsubscribe, "/resubscribe": resubscribe,
                              "/webhooks/postmark": webhook("postmark"), "/webhooks/mailgun": webhook("mailgun"),
                              "/webhooks/ses": webhook("ses")}
