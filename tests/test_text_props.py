"""Property tests: the fast text helpers give what the plain versions (kept
here as the specification) give, on random text."""

from __future__ import annotations

import random

from newsletter.render.email import _wrap
from newsletter.text import cut_at_word
from newsletter.text import _SPACE, collapse, strip_control


def test_wrap_is_the_greedy_wrap():
    def reference(text: str, width: int = 72, prefix: str = "") -> str:
        words = text.split()
        if not words:
            return prefix.rstrip()
        lines, line = [], prefix + words[0]
        for word in words[1:]:
            if len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = prefix + word
        lines.append(line)
        return "\n".join(lines)

    rng = random.Random(1)
    for _ in range(20000):
        words = ["".join(rng.choice("abcé-") for _ in range(rng.choice([1, 3, 8, 30, 71, 72, 73, 80])))
                 for _ in range(rng.randint(0, 30))]
        text = "".join(w + rng.choice([" ", "  ", "\n", " \t"]) for w in words)
        width, prefix = rng.choice([72, 20, 5, 3]), rng.choice(["", "> ", "-- "])
        assert _wrap(text, width, prefix) == reference(text, width, prefix), (text, width, prefix)


def test_collapse_and_cut_give_what_the_regex_passes_give():
    def collapse_ref(t: str) -> str:
        return _SPACE.sub(" ", strip_control(t)).strip() if t else ""

    def cut_ref(text: str, limit: int) -> str:
        text = collapse_ref(text)
        if len(text) <= limit:
            return text
        head = text[: limit - 1]
        if " " in head:
            head = head[: head.rindex(" ")]
        return head.rstrip(" ,;:.-") + "…"

    rng = random.Random(9)
    alphabet = "ab .,\n\t\r\x1c\x1f\x00\x85\xa0\u2028\u200b\u202e\u3000é  -"
    for _ in range(30000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 5, 40, 300, 2500])))
        assert collapse(t) == collapse_ref(t), repr(t)
        limit = rng.choice([1, 10, 50, 600])
        assert cut_at_word(t, limit) == cut_ref(t, limit), (repr(t), limit)
