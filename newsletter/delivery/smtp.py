"""The SMTP side of delivery: one connection (verified TLS, STARTTLS when
configured and never a plaintext fallback, AUTH, TCP_NODELAY) that carries
many messages, reconnects after a 421 or a drop, and turns the server's
replies into outcomes: sent, ``Deferred`` (4xx, try later), ``Rejected``
(5xx, this recipient), or ``SendError`` (delivery cannot go on at all)."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from typing import Protocol

from newsletter.config import SmtpConfig
from newsletter.delivery.addresses import envelope
from newsletter.errors import NewsletterError
from newsletter.pacing import Pacer


class SendError(NewsletterError):
    """Delivery cannot go on at all (wrong password, TLS failure, refused connection)."""


class Deferred(Exception):
    """A temporary refusal (4xx): try this recipient again later."""


class Rejected(Exception):
    """A permanent refusal (5xx) of this recipient."""


class Mailer(Protocol):
    def send(self, sender: str, recipient: str, data: bytes) -> str: ...
    def close(self) -> None: ...


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"


class SMTPMailer:
    """One verified-TLS connection for many messages; reconnects after 421
    or a dropped connection. Never falls back to plaintext."""

    def __init__(self, cfg_smtp: SmtpConfig, password: str, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, pacer: Pacer | None = None):
        self.c = cfg_smtp
        self.password = password
        self.conn: smtplib.SMTP | None = None
        self.connections = 0
        # one pacer may be shared by several mailers: the rate is the relay's, not a connection's
        self.pacer = pacer or Pacer(1.0 / cfg_smtp.rate if cfg_smtp.rate > 0 else 0.0, clock=clock, sleep=sleep)

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.c.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _where(self) -> str:
        return f"{self.c.host}:{self.c.port}"

    def connect(self) -> None:
        host, port, timeout = self.c.host, int(self.c.port), float(self.c.timeout)
        try:
            conn: smtplib.SMTP
            if self.c.security == "tls":
                conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._context())
            else:
                conn = smtplib.SMTP(host, port, timeout=timeout)
                conn.ehlo()
                if self.c.security == "starttls":
                    if not conn.has_extn("starttls"):
                        conn.close()
                        raise SendError(f"{self._where()} does not offer STARTTLS; refusing to send in plaintext "
                                        "(check [smtp] port and security)")
                    conn.starttls(context=self._context())
                    conn.ehlo()
            if self.c.username:
                self._login(conn)
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"SMTP login to {self._where()} as {self.c.username} failed "
                            f"({_reply(exc.smtp_code, exc.smtp_error)}); check ${self.c.password_env}") from None
        except smtplib.SMTPNotSupportedError:
            raise SendError(f"{self._where()} does not offer AUTH over this connection; check [smtp] security") from None
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"TLS certificate of {self._where()} not trusted ({exc.verify_message}); "
                            "set [smtp] ca_file if it uses a private CA") from None
        except ssl.SSLError as exc:
            raise SendError(f"TLS with {self._where()} failed ({exc.reason or exc}); check [smtp] security and port") from None
        except (ConnectionRefusedError, socket.gaierror, socket.timeout, TimeoutError, OSError) as exc:
            raise SendError(f"cannot connect to SMTP server {self._where()} ({exc}); is it running?") from None
        except smtplib.SMTPException as exc:
            raise SendError(f"SMTP server {self._where()} refused the session: {exc}") from None
        try:
            # SMTP is a chain of small request/replies: without this, Nagle's
            # algorithm and delayed ACKs add ~40 ms to every message
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        self.conn = conn
        self.connections += 1

    def _login(self, conn: smtplib.SMTP) -> None:
        """One AUTH attempt with the best mechanism offered (over TLS, PLAIN);
        smtplib's login() would try every mechanism in turn after a refusal."""
        if not conn.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("AUTH")
        offered = conn.esmtp_features["auth"].upper().split()
        conn.user, conn.password = self.c.username, self.password
        for mechanism, method in (("PLAIN", conn.auth_plain), ("LOGIN", conn.auth_login),
                                  ("CRAM-MD5", conn.auth_cram_md5)):
            if mechanism in offered:
                conn.auth(mechanism, method)
                return
        raise smtplib.SMTPNotSupportedError("AUTH " + " ".join(offered))

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        wire = envelope(recipient)
        self.pacer.wait()
        for attempt in (1, 2):
            if self.conn is None:
                self.connect()
            assert self.conn is not None
            options: list[str] = []
            if wire.smtputf8:
                if not self.conn.has_extn("smtputf8"):
                    raise Rejected(f"{self._where()} does not offer SMTPUTF8, which the non-ASCII address "
                                   f"{recipient} needs")
                options.append("SMTPUTF8")
            try:
                refused = self.conn.sendmail(sender, [wire.address], data, mail_options=options)
            except smtplib.SMTPRecipientsRefused as exc:
                code, msg = exc.recipients.get(wire.address, (550, b"refused"))
                return self._refused(code, msg)
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421:  # the server closes: reconnect, then defer this one
                    self._drop()
                    raise Deferred(_reply(exc.smtp_code, exc.smtp_error)) from None
                return self._refused(exc.smtp_code, exc.smtp_error)
            except (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError) as exc:
                self._drop()
                if attempt == 2:
                    raise Deferred(f"connection lost twice: {exc}") from None
                continue
            if refused:
                code, msg = refused[wire.address]
                return self._refused(code, msg)
            return "250 accepted"
        raise Deferred("not sent")

    @staticmethod
    def _refused(code: int, msg: bytes | str) -> str:
        reply = _reply(code, msg)
        if 400 <= code < 500:
            raise Deferred(reply)
        raise Rejected(reply)

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - the connection is gone anyway
                pass
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()


