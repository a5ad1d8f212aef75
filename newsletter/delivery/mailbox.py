"""The bounce mailbox: ``newsletter bounces fetch`` reads every message in
``[bounces] mailbox`` over IMAP (verified TLS, or STARTTLS; never
plaintext), hands each to the classifier, and moves it to
``processed_folder``, so each bounce is read once."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.config import Config
from newsletter.delivery.bounces import Bounces
from newsletter.errors import ConfigError, SourceError
from newsletter.store import Archive


@dataclass
class MailboxSummary:
    read: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        k = self.kinds
        return (f"{self.read} messages read: {k.get('hard', 0)} hard bounces, {k.get('soft', 0)} soft, "
                f"{k.get('complaint', 0)} complaints, {k.get('none', 0)} not bounces")


def fetch_bounces(cfg: Config, archive: Archive, env: Mapping[str, str], now: datetime) -> MailboxSummary:
    import imapclient
    from imapclient.exceptions import IMAPClientError, LoginError

    b = cfg.bounces
    if not b.imap_host:
        raise ConfigError("[bounces] imap_host is not set: there is no mailbox to read")
    password = env.get(b.password_env, "")
    if not password:
        raise ConfigError(f"${b.password_env} is empty; export the bounce mailbox's password")
    context = ssl.create_default_context(cafile=b.ca_file or None)
    summary = MailboxSummary()
    bounces = Bounces(archive, soft_limit=b.soft_limit, soft_days=b.soft_days)
    local = cfg.email.return_path.rpartition("@")[0]
    try:
        client = imapclient.IMAPClient(b.imap_host, port=b.imap_port, ssl=b.security == "tls", ssl_context=context,
                                       timeout=30)
        try:
            if b.security == "starttls":
                client.starttls(context)
            client.login(b.imap_user, password)
            if not client.folder_exists(b.processed_folder):
                client.create_folder(b.processed_folder)
            client.select_folder(b.mailbox)
            for uid in client.search(["ALL"]):
                raw = client.fetch([uid], ["RFC822"])[uid][b"RFC822"]
                event = bounces.record(bytes(raw), local, now, via="imap")
                summary.read += 1
                summary.kinds[event.kind] = summary.kinds.get(event.kind, 0) + 1
                client.move([uid], b.processed_folder)
        finally:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                pass
    except LoginError:
        raise SourceError(f"the bounce mailbox {b.imap_host} refused the login of {b.imap_user!r}; "
                          f"check [bounces] imap_user and ${b.password_env}") from None
    except ssl.SSLError as exc:
        raise SourceError(f"TLS with the bounce mailbox {b.imap_host} failed ({exc.reason}); "
                          "check the certificate (or [bounces] ca_file)") from None
    except (IMAPClientError, OSError) as exc:
        raise SourceError(f"the bounce mailbox {b.imap_host}:{b.imap_port} failed: {exc}") from None
    return summary
