"""``newsletter doctor``: the checks an operator runs before the first send.
DNS (SPF, DKIM, DMARC and its alignment, MX, PTR) through dnspython, the
signed unsubscribe headers, the web app's one-click unsubscribe, the SMTP
login and TLS, and SpamAssassin's score of the newest issue. Each check is
ok, a warning or an error with its fix in one line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from newsletter.config import Config

Level = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Check:
    level: Level
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.level}: {self.name}: {self.detail}"


class Resolver:
    """TXT, MX, A and PTR look-ups; '' / [] when there is none."""

    def __init__(self, nameservers: list[str], port: int):
        import dns.resolver

        self.r = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            self.r.nameservers = nameservers
            self.r.port = port
        self.r.lifetime = 5.0

    def _ask(self, name: str, kind: str) -> list[object]:
        import dns.exception
        import dns.resolver

        try:
            return list(self.r.resolve(name, kind))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return []
        except dns.exception.Timeout:
            raise LookupError(f"no DNS answer for {name} {kind}") from None

    def txt(self, name: str) -> list[str]:
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._ask(name, "TXT")]  # type: ignore[attr-defined]

    def mx(self, name: str) -> list[str]:
        return [str(r.exchange).rstrip(".") for r in self._ask(name, "MX")]  # type: ignore[attr-defined]

    def addresses(self, name: str) -> list[str]:
        return [str(r) for r in self._ask(name, "A")]

    def ptr(self, address: str) -> list[str]:
        import dns.reversename

        return [str(r).rstrip(".") for r in self._ask(str(dns.reversename.from_address(address)), "PTR")]


def _aligned(a: str, b: str) -> bool:
    """Relaxed alignment: the same domain, or one under the other."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def dns_checks(cfg: Config, dns: Resolver) -> list[Check]:
    from newsletter.delivery.message import MessageSettings

    s = MessageSettings.from_config(cfg, {}, dry_run=True)
    from_domain = s.from_address.rpartition("@")[2]
    envelope_domain = (s.return_path or s.from_address).rpartition("@")[2]
    out = []
    spf = [t for t in dns.txt(envelope_domain) if t.lower().startswith("v=spf1")]
    out.append(Check("ok", "SPF", f"{envelope_domain}: {spf[0]}") if len(spf) == 1 else
               Check("error", "SPF", f"{envelope_domain} has {len(spf)} SPF records; publish one TXT "
                                     f"'v=spf1 include:<your relay> -all' (exactly one)"))
    out += _dkim_checks(cfg, dns)
    dmarc = [t for t in dns.txt(f"_dmarc.{from_domain}") if t.lower().startswith("v=dmarc1")]
    if not dmarc:
        out.append(Check("error", "DMARC", f"_dmarc.{from_domain} has no record; publish TXT "
                                           "'v=DMARC1; p=quarantine; rua=mailto:dmarc@your-domain'"))
    else:
        policy = dict(p.strip().split("=", 1) for p in dmarc[0].split(";") if "=" in p).get("p", "none")
        out.append(Check("warning" if policy == "none" else "ok", "DMARC",
                         f"_dmarc.{from_domain}: {dmarc[0]}" + ("; p=none protects nothing: use quarantine or "
                                                                 "reject once reports are clean" if policy == "none"
                                                                 else "")))
        dkim_domain = cfg.delivery.dkim_domain
        if _aligned(from_domain, envelope_domain) or (dkim_domain and _aligned(from_domain, dkim_domain)):
            out.append(Check("ok", "DMARC alignment", f"From {from_domain} aligns with "
                                                      f"{'SPF ' + envelope_domain if _aligned(from_domain, envelope_domain) else 'DKIM ' + dkim_domain}"))
        else:
            out.append(Check("error", "DMARC alignment", f"From {from_domain} aligns with neither the envelope "
                                                         f"domain {envelope_domain} nor DKIM d={dkim_domain or '-'}; "
                                                         "sign with the From domain or send from it"))
    mx = dns.mx(from_domain)
    out.append(Check("ok", "MX", f"{from_domain}: {', '.join(mx)}") if mx else
               Check("warning", "MX", f"{from_domain} has no MX: replies and bounces to it are lost; publish one"))
    out.append(_ptr_check(cfg, dns))
    return out


def _dkim_checks(cfg: Config, dns: Resolver) -> list[Check]:
    import base64

    from cryptography.hazmat.primitives import serialization

    d = cfg.delivery
    if not (d.dkim_selector and d.dkim_domain and d.dkim_key_file):
        return [Check("warning", "DKIM", "not configured: set [delivery] dkim_selector, dkim_domain, dkim_key_file "
                                         "(and the unsubscribe headers are then signed too)")]
    name = f"{d.dkim_selector}._domainkey.{d.dkim_domain}"
    records = [t for t in dns.txt(name) if "p=" in t]
    if not records:
        return [Check("error", "DKIM", f"{name} has no key; publish TXT 'v=DKIM1; k=rsa; p=<your public key>'")]
    published = dict(p.strip().split("=", 1) for p in records[0].split(";") if "=" in p).get("p", "").replace(" ", "")
    try:
        key = serialization.load_pem_private_key(cfg.resolve(d.dkim_key_file).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        return [Check("error", "DKIM", f"cannot read the key {d.dkim_key_file}: {exc}")]
    mine = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    if published != mine:
        return [Check("error", "DKIM", f"{name} publishes another key than {d.dkim_key_file}; publish "
                                       f"'v=DKIM1; k=rsa; p={mine[:16]}…' (the whole key)")]
    return [Check("ok", "DKIM", f"{name} matches {d.dkim_key_file}"),
            Check("ok", "Signed unsubscribe", "List-Unsubscribe and List-Unsubscribe-Post are in every signature")]


def _ptr_check(cfg: Config, dns: Resolver) -> Check:
    host = cfg.smtp.host
    addresses = dns.addresses(host) if not host.replace(".", "").isdigit() else [host]
    if not addresses:
        return Check("warning", "PTR", f"{host} does not resolve")
    names = dns.ptr(addresses[0])
    return (Check("ok", "PTR", f"{addresses[0]} ({host}) is {names[0]}") if names else
            Check("warning", "PTR", f"{addresses[0]} ({host}) has no PTR: ask its owner for reverse DNS"))


def smtp_check(cfg: Config, env: Mapping[str, str]) -> Check:
    from newsletter.deliver import smtp_mailer
    from newsletter.errors import NewsletterError

    try:
        mailer = smtp_mailer(cfg, env)
        mailer.connect()
        mailer.close()
    except NewsletterError as exc:
        return Check("error", "SMTP", str(exc))
    return Check("ok", "SMTP", f"{cfg.smtp.host}:{cfg.smtp.port}: TLS verified and logged in"
                               if cfg.smtp.username else f"{cfg.smtp.host}:{cfg.smtp.port}: connected")


def spam_check(message: bytes, run: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run) -> Check:
    import re

    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        return Check("warning", "SpamAssassin", "not installed (apt-get install spamassassin): not scored")
    out = run([spamassassin, "-t", "-L"], input=message, capture_output=True, timeout=120).stdout.decode("utf-8",
                                                                                                          "replace")
    m = re.search(r"score=(-?[\d.]+)", out)
    if m is None:
        return Check("warning", "SpamAssassin", "no score came back")
    score = float(m.group(1))
    rules = re.findall(r"^\s*(-?\d+\.\d+)\s+([A-Z_0-9]+)", out, re.M)
    hits = ", ".join(f"{r} {p}" for p, r in rules if float(p) > 0)
    return Check("ok" if score <= 0 else "warning" if score < 5 else "error", "SpamAssassin",
                 f"the newest issue scores {score:g}{f' ({hits})' if hits else ''}")


def web_check(cfg: Config, env: Mapping[str, str], now: datetime) -> Check:
    """The one-click unsubscribe of ``[doctor] test_address``, POSTed to the
    live web app as a mail provider would; the address is put back after."""
    import requests

    from newsletter.delivery.ledger import SubscriberStore
    from newsletter.delivery.message import MessageSettings
    from newsletter.errors import NewsletterError
    from newsletter.store import Archive

    address = cfg.doctor.test_address
    if not address:
        return Check("warning", "One-click unsubscribe", "set [doctor] test_address (an address of yours) to check it")
    try:
        s = MessageSettings.from_config(cfg, env)
    except NewsletterError as exc:
        return Check("error", "One-click unsubscribe", str(exc))
    with Archive(cfg.store_path) as archive:
        store = SubscriberStore(archive)
        before = store.get(address)
        if before is None:
            store.add(address, "", now, source="doctor")
        elif before.status != "subscribed":
            store.set_status(address, "subscribed", now)
        sub = store.get(address)
        assert sub is not None
        link = s.unsubscribe_link(sub.handle)
        try:
            resp = requests.post(link, data="List-Unsubscribe=One-Click", timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
            code = str(resp.status_code)
        except requests.RequestException as exc:
            code = f"no answer ({type(exc).__name__})"
        after = store.get(address)
        if before is None:
            store.remove(address)
        elif before.status != (after.status if after else ""):
            store.set_status(address, before.status, now)
    host = s.unsubscribe_url.split("?")[0]
    if code == "200" and after is not None and after.status == "unsubscribed":
        return Check("ok", "One-click unsubscribe", f"{host} unsubscribed {address} (and it was put back)")
    return Check("error", "One-click unsubscribe", f"{host} answered {code} and {address} stayed "
                                                   f"{after.status if after else 'absent'}: is 'newsletter serve' "
                                                   "running there, with this archive and $NEWSLETTER_SECRET?")


def run_doctor(cfg: Config, env: Mapping[str, str], now: datetime, newest_email: bytes | None) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    checks: list[Check] = []
    try:
        checks += dns_checks(cfg, Resolver(cfg.doctor.nameservers, cfg.doctor.dns_port))
    except LookupError as exc:
        checks.append(Check("error", "DNS", f"{exc}: check the network, or [doctor] nameservers"))
    checks.append(smtp_check(cfg, env))
    checks.append(web_check(cfg, env, now))
    if newest_email is not None:
        checks.append(spam_check(newest_email))
    else:
        checks.append(Check("warning", "SpamAssassin", "no issue archived yet: nothing to score"))
    return checks
