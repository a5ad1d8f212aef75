"""An issue's social card: the picture link previews show (``og:image``),
1200×630 PNG with the publication, the date and the top three titles, drawn
with Pillow at build time. A paper page uses its own figure instead when it
has one (enrich)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from newsletter.render.icons import BARS, BRAND

WIDTH, HEIGHT = 1200, 630


@lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def social_card(title: str, when: str, lead: str, titles: Sequence[str]) -> bytes:
    """``title`` (the publication), ``when`` ("Wednesday 16 June 2021"), ``lead``
    ("24 hot papers") and the first titles, ranked."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    pen = ImageDraw.Draw(im)
    pen.rectangle((0, 0, WIDTH, 150), fill=BRAND)
    for x, y, w, h in BARS:  # the site's icon, large
        pen.rounded_rectangle((60 + x * 3, 20 + y * 3, 60 + (x + w) * 3, 20 + (y + h) * 3), radius=3, fill="#ffffff")
    pen.text((190, 40), title, font=_font(48), fill="#ffffff")
    pen.text((192, 98), f"{when} · {lead}", font=_font(28), fill="#dbe6ff")
    y = 185
    for rank, text in enumerate(titles[:3], 1):
        lines = textwrap.wrap(text, 52)[:2]
        if len(textwrap.wrap(text, 52)) > 2:
            lines[-1] = lines[-1].rstrip(" ,;:.") + "…"
        pen.text((60, y), f"{rank}.", font=_font(36), fill=BRAND)
        for line in lines:
            pen.text((115, y), line, font=_font(36), fill="#1b1b1f")
            y += 46
        y += 24
    out = io.BytesIO()  # a palette is plenty for two colours and their anti-aliasing: a third of the bytes
    im.quantize(64, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=6)
    return out.getvalue()
