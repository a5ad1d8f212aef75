"""Addresses are checked like email-validator checks them; the per-domain
fast path must give exactly its answer, for every shape of address."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.delivery.addresses import InvalidAddress, _domain_name, check_address

SHAPES = [
    "reader@example.org", "Reader.Name+tag@Example.ORG", "a@b.co", "x@sub.domain.example.com.",
    "first.last@xn--bcher-kva.example", "jörg@bücher.example", "a@bücher.example", "用户@例子.广告",
    "Postmaster@example.org", "ABUSE@Example.org", "NoReply@example.org", "root@example.org",
    '"quoted"@example.org', '"a b"@example.org', "a..b@example.org", ".a@example.org", "a.@example.org",
    "a@example", "a@localhost", "a@example.local", "a@example.invalid", "a@test", "a@[192.0.2.1]",
    "a@-example.org", "a@example-.org", "a@exa_mple.org", "a@@example.org", "@example.org", "a@",
    "a@example..org", "a" * 64 + "@example.org", "a" * 65 + "@example.org",
    "a@" + "b" * 63 + ".org", "a@" + "b" * 64 + ".org", "x" * 60 + "@" + ("d" * 60 + ".") * 3 + "org",
    "a" * 40 + "@" + ("ü" * 30 + ".") * 4 + "org", "user%host@example.org", "a!#$%&'*+/=?^_`{|}~-@example.org",
    "a@123.123.123.123", "a@example.123", "a@EXAMPLE.ORG", "a@exämple.org", "a@ex\u0101mple.org",
    "a@xn--nxasmq6b.example", "a@xn--invalid-.example", "Ⅻ@example.org", "a@ℌ.example", "a@example.org\u200b",
]


def reference(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def ours(value: str) -> str | None:
    try:
        return check_address(value)
    except InvalidAddress:
        return None


@pytest.mark.parametrize("value", SHAPES)
def test_each_shape_gets_the_libraries_answer(value):
    if any(c in value for c in "<>,;\""):  # display names, lists, quoting: refused before the library
        assert ours(value) is None
    else:
        assert ours(value) == reference(value)


def test_mixed_lists_whatever_the_order_the_domain_cache_fills_in():
    rng = random.Random(3)
    locals_ = ["a", "Reader.Name", "x+y", "Postmaster", "a..b", "jörg", "abuse", "q" * 64, "q" * 70]
    domains = ["example.org", "EXAMPLE.org", "bücher.example", "example", "-bad.org", "xn--bcher-kva.example",
               "example.local", "[192.0.2.1]", "b" * 64 + ".org", ("d" * 63 + ".") * 3 + "org"]
    values = [f"{rng.choice(locals_)}@{rng.choice(domains)}" for _ in range(3000)]
    _domain_name.cache_clear()
    assert [ours(v) for v in values] == [reference(v) for v in values]
    assert _domain_name.cache_info().misses <= len(domains)  # each domain validated once


def test_a_bad_address_says_why():
    with pytest.raises(InvalidAddress, match="not a valid email address: .*after the @-sign"):
        check_address("a@")
    with pytest.raises(InvalidAddress, match="special-use or reserved name"):
        check_address("reader@example.invalid")
