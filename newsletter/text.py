"""Cleaning text that comes from the outside world."""

from __future__ import annotations

import re

# C0 and C1 controls (tab, newline and CR kept), bidi overrides and isolates
# (they reorder what a reader sees), zero-width space, BOM, lone surrogates
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def strip_control(text: str | None) -> str:
    """Remove control characters (XML-illegal and invisible ones), keep newlines/tabs."""
    if not text:
        return ""
    if text.isprintable():  # no Cc, Cf (bidi, zero-width), Cs or Zl/Zp at all: nothing to remove
        return text
    return _CONTROL.sub("", text)


def collapse(text: str | None) -> str:
    """One line: control characters removed, runs of white space made one space."""
    if not text:
        return ""
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text  # already one clean line (most archived text): no regex pass
    plain = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    if plain.isprintable():  # only line breaks and tabs to fold: their only white space is " " now
        return " ".join(plain.split())
    return _SPACE.sub(" ", strip_control(text)).strip()


def cut_at_word(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters at a word boundary, with an ellipsis.
    Only the start of a long text is cleaned: enough of it to fill ``limit``."""
    head = collapse(text[: 4 * limit + 8])
    text = head if len(head) > limit or len(text) <= 4 * limit + 8 else collapse(text)
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:.-") + "…"
