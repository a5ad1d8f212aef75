"""One email message for one recipient: MIME structure, headers (List-Id,
one-click List-Unsubscribe), and optional DKIM signing. Pure apart from the
DKIM key, which is read once by ``MessageSettings.from_config``."""

from __future__ import annotations

import email.policy
import re
from email import quoprimime
from html import escape as html_escape
import secrets
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from urllib.parse import urlencode, urlsplit

from newsletter.delivery.addresses import Envelope, InvalidAddress, check_address, envelope
from newsletter.errors import ConfigError
from newsletter.models import IssueKey
from newsletter.render.email import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER, RenderedEmail
from newsletter.delivery.tokens import make_token
from newsletter.text import collapse

if TYPE_CHECKING:
    from newsletter.config import Config

DKIM_HEADERS = [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"List-Id",
                b"List-Unsubscribe", b"List-Unsubscribe-Post", b"Feedback-ID", b"MIME-Version", b"Content-Type"]


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to; ``handle`` is what their links carry."""

    email: str
    name: str
    handle: str


@dataclass(frozen=True)
class Dkim:
    selector: str
    domain: str
    key: bytes


@dataclass(frozen=True)
class MessageSettings:
    from_header: str
    from_address: str
    reply_to: str
    list_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    msgid_domain: str
    secret: str
    dkim: Dkim | None = None
    preferences_url: str = ""
    return_path: str = ""  # "bounces@example.org": envelope senders bounces+HANDLE@example.org

    def envelope_sender(self, handle: str) -> str:
        """The MAIL FROM of a reader's message: their own VERP address (the
        opaque handle, never their address), or the From address."""
        if not self.return_path:
            return self.from_address
        local, _, domain = self.return_path.rpartition("@")
        return f"{local}+{handle}@{domain}"

    @classmethod
    def from_config(cls, cfg: Config, env: Mapping[str, str], *, dry_run: bool = False) -> "MessageSettings":
        """The settings of real messages; a dry run without the secret signs
        its links with a throw-away one (they go nowhere, and cannot work)."""
        d, e = cfg.delivery, cfg.email
        name, addr = email.utils.parseaddr(e.sender)
        try:
            addr = check_address(addr)
            reply_to = check_address(e.reply_to) if e.reply_to else ""
        except InvalidAddress as exc:
            raise ConfigError(f"[email] from/reply_to: {exc}") from None
        from_header = str(Address(display_name=collapse(name), addr_spec=addr)) if name else addr
        host = urlsplit(cfg.site_url).hostname or "localhost"
        return cls(
            from_header=from_header, from_address=addr, reply_to=reply_to,
            list_id=d.list_id or f"{collapse(cfg.title)} <hot-papers.{host}>",
            unsubscribe_url=d.unsubscribe_url or f"{(d.web_url or cfg.site_url).rstrip('/')}/unsubscribe",
            unsubscribe_mailto=_mailto(cfg), msgid_domain=d.message_id_domain or addr.rsplit("@", 1)[1],
            secret=_secret(cfg, env, dry_run), dkim=_dkim(cfg), return_path=_return_path(cfg),
            preferences_url=f"{(d.web_url or cfg.site_url).rstrip('/')}/preferences",
        )

    def preferences_link(self, handle: str) -> str:
        if not self.preferences_url:
            return ""
        return f"{self.preferences_url}?{urlencode({'t': make_token(self.secret, handle, 'preferences')})}"

    def unsubscribe_link(self, handle: str) -> str:
        sep = "&" if "?" in self.unsubscribe_url else "?"
        return f"{self.unsubscribe_url}{sep}{urlencode({'t': make_token(self.secret, handle)})}"


def _secret(cfg: Config, env: Mapping[str, str], dry_run: bool) -> str:
    name = cfg.delivery.secret_env
    secret = env.get(name, "")
    if len(secret) >= 16:
        return secret
    if dry_run:
        return "dry-run-" + secrets.token_hex(16)
    raise ConfigError(f"${name} must hold a secret of at least 16 characters "
                      f"(it signs the unsubscribe links); e.g. export {name}=$(openssl rand -hex 32)")


def _dkim(cfg: Config) -> Dkim | None:
    d = cfg.delivery
    if not (d.dkim_selector or d.dkim_domain or d.dkim_key_file):
        return None
    if not (d.dkim_selector and d.dkim_domain and d.dkim_key_file):
        raise ConfigError("DKIM needs [delivery] dkim_selector, dkim_domain and dkim_key_file together")
    try:
        key = cfg.resolve(d.dkim_key_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the DKIM key {d.dkim_key_file}: {exc.strerror}") from None
    return Dkim(d.dkim_selector, d.dkim_domain, key)


def _return_path(cfg: Config) -> str:
    value = cfg.email.return_path
    try:
        address = check_address(value) if value else ""
    except InvalidAddress as exc:
        raise ConfigError(f"[email] return_path: {exc}") from None
    if "+" in address.rpartition("@")[0]:
        raise ConfigError(f"[email] return_path {address} already holds a '+': give the plain bounce address")
    return address


def _mailto(cfg: Config) -> str:
    mailto = cfg.delivery.unsubscribe_mailto
    try:
        return check_address(mailto) if mailto else ""
    except InvalidAddress as exc:
        raise ConfigError(f"[delivery] unsubscribe_mailto: {exc}") from None


def to_header(name: str, wire: Envelope) -> str:
    """The To header. The email package refuses a non-ASCII local part in an
    Address even under SMTPUTF8, so that case is written out by hand (quoted
    name, raw UTF-8 address: RFC 6532)."""
    if not name:
        return wire.address
    if not wire.smtputf8:
        return str(Address(display_name=name, addr_spec=wire.address))
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{wire.address}>'


class MessageFactory:
    """Messages for many recipients, fast: each edition's two parts are
    quoted-printable-encoded once, split at the per-recipient links; a
    recipient's message joins the encoded pieces around their own encoded
    links (a soft line break between pieces keeps it valid QP) under their own
    headers. A test checks the decoded message part by part."""

    def __init__(self, settings: MessageSettings):
        self.s = settings
        self._bodies: dict[int, tuple[Any, ...]] = {}

    @staticmethod
    def _split(text: str) -> list[str]:
        return re.split(f"({re.escape(UNSUBSCRIBE_PLACEHOLDER)}|{re.escape(PREFERENCES_PLACEHOLDER)})", text)

    @staticmethod
    def _qp(text: str) -> str:
        raw = text.replace("\r\n", "\n").encode("utf-8").decode("latin-1")
        return quoprimime.body_encode(raw, 76, eol="\r\n")

    def _body(self, rendered: RenderedEmail) -> tuple[Any, ...]:
        key = id(rendered)
        if key not in self._bodies:
            boundary = f"==hp{secrets.token_hex(12)}=="
            parts = []
            for text, subtype in ((rendered.text, "plain"), (rendered.html, "html")):
                pieces = self._split(text if text.endswith("\n") else text + "\n")  # as set_content does
                parts.append((subtype, [self._qp(x) if i % 2 == 0 else x for i, x in enumerate(pieces)]))
            self._bodies[key] = (rendered, boundary, parts)  # keeps ``rendered`` alive, so its id stays its own
        return self._bodies[key]

    def make(self, rendered: RenderedEmail, recipient: Recipient, key: IssueKey, now: datetime
             ) -> tuple[bytes, str]:
        """(the message's bytes, its Message-ID) for one recipient."""
        _, boundary, parts = self._body(rendered)
        to, name = recipient.email, recipient.name
        unsub, prefs = self.s.unsubscribe_link(recipient.handle), self.s.preferences_link(recipient.handle)
        links = {UNSUBSCRIBE_PLACEHOLDER: unsub, PREFERENCES_PLACEHOLDER: prefs or unsub}
        wire = envelope(to)
        # headers up to RFC 5322's 998 characters, unfolded: a long List-Unsubscribe URL stays one URL
        policy = (email.policy.SMTPUTF8 if wire.smtputf8 else email.policy.SMTP).clone(max_line_length=998)
        msg = EmailMessage(policy=policy)
        _headers(msg, rendered.subject, to, name, self.s, key, now, unsub)
        msg["MIME-Version"] = "1.0"
        msg["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
        chunks = [policy.fold_binary(k, v) for k, v in msg.items()] + [b"\r\n"]
        for subtype, pieces in parts:
            chunks.append(f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                          "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode())
            encoded = []
            for i, piece in enumerate(pieces):
                if i % 2:
                    link = links[piece]
                    encoded.append(self._qp(html_escape(link) if subtype == "html" else link))
                else:
                    encoded.append(piece)
            chunks.append("=\r\n".join(encoded).encode("ascii") + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        data = b"".join(chunks)
        return _sign(data, msg, self.s.dkim), str(msg["Message-ID"]).strip()


SUBJECT_MAX = 150


def subject_header(subject: str) -> str:
    """One line, at most SUBJECT_MAX characters, cut at a word with an ellipsis."""
    text = collapse(subject)
    if len(text) <= SUBJECT_MAX:
        return text
    head = text[: SUBJECT_MAX - 1]
    if " " in head[SUBJECT_MAX // 2:]:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:.-") + "…"


def _headers(msg: EmailMessage, subject: str, to: str, name: str, s: MessageSettings, key: IssueKey, now: datetime,
             unsubscribe: str) -> None:
    msg["Subject"] = subject_header(subject)
    msg["From"] = s.from_header
    msg["To"] = to_header(collapse(name), envelope(to))
    if s.reply_to:
        msg["Reply-To"] = s.reply_to
    msg["Date"] = email.utils.format_datetime(now)
    # short enough never to be folded: <hp.20210826.9f2c4e1a7b3d5c60@example.org>
    stamp = re.sub(r"\W", "", str(key))
    msg["Message-ID"] = f"<hp.{stamp}.{secrets.token_hex(8)}@{s.msgid_domain}>"
    msg["List-Id"] = s.list_id
    targets = [f"<{unsubscribe}>"]
    if s.unsubscribe_mailto:
        targets.append(f"<mailto:{s.unsubscribe_mailto}?subject=unsubscribe>")
    msg["List-Unsubscribe"] = ", ".join(targets)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Gmail's feedback loop groups complaints by these: issue, kind, list, sender
    kind = "weekly" if key.is_week else "daily"
    msg["Feedback-ID"] = f"{stamp}:{kind}:hotpapers:{s.msgid_domain}"


def _sign(data: bytes, msg: EmailMessage, dkim: Dkim | None) -> bytes:
    if dkim is None:
        return data
    from newsletter.delivery import dkim as dkim_signing

    return dkim_signing.sign(data, dkim.selector, dkim.domain, dkim.key, DKIM_HEADERS)


def to_bytes(msg: EmailMessage, dkim: Dkim | None) -> bytes:
    """A message made with the email package (confirmations), signed."""
    return _sign(msg.as_bytes(policy=msg.policy), msg, dkim)
