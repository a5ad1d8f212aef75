"""A real SMTP server on 127.0.0.1 for delivery tests: aiosmtpd with STARTTLS
(a certificate made for the test, verified by the client) and AUTH, plus
fault injection per recipient."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "mailer", "correct horse battery staple"


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Faults:
    rcpt: dict[str, list[str]] = field(default_factory=dict)  # address -> replies to give, one per try
    data: dict[str, list[str]] = field(default_factory=dict)  # "DROP" closes the connection
    data_delay: float = 0.0


class Recorder:
    def __init__(self, faults: Faults):
        self.faults = faults
        self.messages: list[tuple[str, bytes]] = []
        self.senders: dict[str, str] = {}  # recipient -> the envelope sender (MAIL FROM) of its message
        self.sessions = 0
        self.lock = threading.Lock()
        self.in_data = 0  # DATA commands being answered right now
        self.most_in_data = 0  # the most at once: several connections really sending together

    def received(self) -> Counter:
        return Counter(rcpt for rcpt, _ in self.messages)

    def parsed(self, rcpt: str):
        return [message_from_bytes(d, policy=policy.default) for r, d in self.messages if r == rcpt]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        queue = self.faults.rcpt.get(address)
        if queue:
            reply = queue.pop(0) if len(queue) > 1 else queue[0]  # the last reply repeats
            if reply != "PASS":
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        queue = self.faults.data.get(rcpt)
        if queue:
            reply = queue.pop(0)
            if not queue:
                del self.faults.data[rcpt]
            if reply == "DROP":
                server.transport.close()
                return "421 closing"
            return reply
        with self.lock:
            self.messages.append((rcpt, envelope.original_content or envelope.content))
            self.senders[rcpt] = envelope.mail_from
        if self.faults.data_delay:
            import asyncio
            self.in_data += 1
            self.most_in_data = max(self.most_in_data, self.in_data)
            try:
                await asyncio.sleep(self.faults.data_delay)
            finally:
                self.in_data -= 1
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535 itself


class Server:
    def __init__(self, cert: Path, key: Path, faults: Faults | None = None, *, starttls: bool = True,
                 smtputf8: bool = False):
        self.faults = faults or Faults()
        self.handler = Recorder(self.faults)
        self.port = free_port()
        kwargs = dict(authenticator=authenticator, auth_required=True, enable_SMTPUTF8=smtputf8)
        if starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            kwargs.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
        else:
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> "Server":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def wait_for(self, n: int, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while len(self.handler.messages) < n and time.monotonic() < end:
            time.sleep(0.02)
