"""DKIM signatures made with ``cryptography``, verified by dkimpy (an
independent implementation): real messages, odd bodies, folded headers,
several key sizes; a changed byte breaks the signature."""

from __future__ import annotations

import base64
import subprocess

import dkim as dkimpy
import pytest

from newsletter.delivery.dkim import relaxed_body, sign
from newsletter.delivery.message import DKIM_HEADERS


def keypair(tmp_path, bits=2048):
    key = tmp_path / f"k{bits}.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), str(bits)], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)


def verify(data, record):
    return dkimpy.verify(data, dnsfunc=lambda name, timeout=5: record if name == b"sel._domainkey.example.org." else None)


MESSAGE = (b"From: Hot Papers <papers@example.org>\r\nTo: reader@example.net\r\nSubject: Hot Papers 2021-06-16:\r\n"
           b" a folded   subject\r\nDate: Wed, 16 Jun 2021 09:00:00 +0000\r\nMessage-ID: <hp.1@example.org>\r\n"
           b"List-Id: Hot Papers <hot-papers.example.org>\r\n"
           b"List-Unsubscribe: <https://example.org/unsubscribe?t=h1.abc.def>\r\n"
           b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=\"utf-8\"\r\n\r\n")


@pytest.mark.parametrize("body", [
    b"Hello\r\n", b"", b"trailing spaces   \r\n\tand tabs\t\r\n\r\n\r\n", b"no final newline",
    b"caf=C3=A9 =\r\nsoft break\r\n" * 200, b"\r\n\r\n",
])
def test_signatures_verify_with_dkimpy(tmp_path, body):
    key, record = keypair(tmp_path)
    signed = sign(MESSAGE + body, "sel", "example.org", key, DKIM_HEADERS, now=1_623_834_000)
    assert verify(signed, record)
    h = signed.split(b"\r\n", 1)[0].split(b"h=")[1].split(b";")[0].split(b":")
    assert b"list-unsubscribe" in h and b"list-unsubscribe-post" in h and b"subject" in h


@pytest.mark.parametrize("bits", [1024, 3072])
def test_other_key_sizes(tmp_path, bits):
    key, record = keypair(tmp_path, bits)
    assert verify(sign(MESSAGE + b"x\r\n", "sel", "example.org", key, DKIM_HEADERS), record)


def test_a_changed_byte_breaks_the_signature(tmp_path):
    key, record = keypair(tmp_path)
    signed = sign(MESSAGE + b"the real body\r\n", "sel", "example.org", key, DKIM_HEADERS)
    assert verify(signed, record)
    assert not verify(signed.replace(b"the real body", b"the fake body"), record)
    assert not verify(signed.replace(b"One-Click", b"Two-Click"), record)  # the unsubscribe header is covered


def test_relaxed_body_canonicalisation():
    assert relaxed_body(b"a  b \t\r\nc\r\n\r\n\r\n") == b"a b\r\nc\r\n"
    assert relaxed_body(b"") == b"" and relaxed_body(b"\r\n\r\n") == b""
