"""Email addresses: one check for every way an address comes in (CLI,
CSV, the web form), how an address goes on the wire (IDNA, SMTPUTF8), and
the one canonical key that identifies a reader.

The key is what storage, lookups and rate limits compare, so that
``ÖMER@Example.org``, ``ömer@example.org`` and their full-width or
decomposed spellings are one reader: the local part is NFKC-normalised and
case-folded (Unicode's case-insensitive form, so ``ΣΟΦΊΑ`` and ``σοφία`` and
``Straße`` and ``strasse`` match), the domain is converted to its IDNA ASCII
form (UTS 46, which lower-cases and maps full-width letters) and
lower-cased. Mail is still sent to the address as the reader gave it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import email_validator
import idna
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, DOT_ATOM_TEXT
from email_validator.syntax import validate_email_domain_name

from newsletter.errors import NewsletterError
from newsletter.text import collapse


class InvalidAddress(NewsletterError):
    pass


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NOT_PLAIN = re.compile('[<>,;"]')


def check_address(value: str) -> str:
    """A normalised deliverable-looking address, or InvalidAddress saying why."""
    value = (value or "").strip()
    if not value:
        raise InvalidAddress("an empty line is not an email address")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise InvalidAddress(f"'{collapse(value)}' holds a control character (U+{ord(bad.group()):04X}); "
                             "remove it from the file")
    if _NOT_PLAIN.search(value):
        raise InvalidAddress(f"'{collapse(value)}' is not a plain email address (one address, no name or brackets)")
    fast = _plain_address(value)
    if fast is not None:
        return fast
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidAddress(f"'{collapse(value)}' is not a valid email address: {exc}") from None


def _plain_address(value: str) -> str | None:
    """What ``validate_email`` returns for the common shape (an ASCII
    dot-atom local part, a domain name), with the domain's validation done
    once per domain (a list of 100,000 readers has a few thousand domains and
    validating one is most of the work): the same library functions, in the
    same order. Anything else (quoting, non-ASCII local parts, role names
    that get lowercased, domain literals, lengths near the limit, any error)
    returns None and goes through ``validate_email`` itself."""
    local, at, domain = value.rpartition("@")
    if not at or len(value) > 200 or not DOT_ATOM_TEXT.match(local) or local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        return None
    normalized = _domain_name(domain)
    if normalized is None or len(local) + 1 + len(normalized[1]) > 200:
        return None
    address = f"{local}@{normalized[0]}"
    return address if len(address.encode("utf-8")) <= 200 else None  # the library also counts UTF-8 octets


@lru_cache(maxsize=65536)
def _domain_name(domain: str) -> tuple[str, str] | None:
    """(domain, its ASCII form), or None when it is not a valid domain name."""
    if not domain or domain.startswith("["):
        return None
    try:
        info = validate_email_domain_name(domain, test_environment=email_validator.TEST_ENVIRONMENT,
                                          globally_deliverable=email_validator.GLOBALLY_DELIVERABLE)
    except EmailNotValidError:
        return None
    return info["domain"], info["ascii_domain"]


@dataclass(frozen=True)
class Envelope:
    """How an address goes on the wire: the domain in IDNA (xn--) form, and
    whether its local part needs the server's SMTPUTF8."""

    address: str
    smtputf8: bool


def envelope(address: str) -> Envelope:
    try:
        v = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"'{collapse(address)}' is not a valid email address: {exc}") from None
    if v.ascii_email:
        return Envelope(v.ascii_email, False)
    return Envelope(f"{v.local_part}@{v.ascii_domain}", True)


def address_key(address: str) -> str:
    """The canonical key of an address (see the module's docstring)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{unicodedata.normalize('NFKC', local).casefold()}@{_domain_key(domain)}"


@lru_cache(maxsize=65536)
def _domain_key(domain: str) -> str:
    domain = unicodedata.normalize("NFKC", domain).strip(".")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        pass  # not a name IDNA accepts (a literal, say): compared as written, case aside
    return domain.casefold()
