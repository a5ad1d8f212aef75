"""The site's icon: three rising bars (attention growing) on the brand blue.
One drawing, as SVG for browsers that take it and as ICO and PNG (Pillow)
for those that do not and for the web app manifest. Drawn, not shipped as
binaries, so the repository holds no image files and a rebuild gives the
same bytes."""

from __future__ import annotations

import io
import json
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

BRAND = "#0b57d0"
GRID = 32  # the drawing's units
CORNER = 6
BARS = ((7, 17, 4, 8), (14, 12, 4, 13), (21, 7, 4, 18))  # x, y, width, height
PNG_SIZES = (192, 512)


def favicon_svg() -> bytes:
    bars = "".join(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="1" fill="#fff"/>' for x, y, w, h in BARS)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">'
            f'<rect width="{GRID}" height="{GRID}" rx="{CORNER}" fill="{BRAND}"/>{bars}</svg>\n').encode()


def _draw(size: int) -> Image:
    from PIL import Image, ImageDraw

    scale = 2 * size / GRID  # drawn at twice the size, then scaled down: smooth edges
    big = Image.new("RGBA", (2 * size, 2 * size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(big)
    pen.rounded_rectangle((0, 0, 2 * size - 1, 2 * size - 1), radius=round(CORNER * scale), fill=BRAND)
    for x, y, w, h in BARS:
        pen.rounded_rectangle((x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1),
                              radius=round(scale), fill="#ffffff")
    return big.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    out = io.BytesIO()
    _draw(48).save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


@lru_cache(maxsize=len(PNG_SIZES))
def icon_png(size: int) -> bytes:
    out = io.BytesIO()
    _draw(size).save(out, format="PNG")
    return out.getvalue()


def manifest(title: str, description: str) -> bytes:
    """The web app manifest: name, colours and icons, paths relative to it."""
    icons = [{"src": "favicon.svg", "type": "image/svg+xml", "sizes": "any"}] + [
        {"src": f"icon-{n}.png", "type": "image/png", "sizes": f"{n}x{n}"} for n in PNG_SIZES]
    return (json.dumps({"name": title, "short_name": title[:12], "description": description, "start_url": "./",
                        "scope": "./", "display": "browser", "background_color": "#ffffff", "theme_color": BRAND,
                        "icons": icons}, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def icon_files(title: str, description: str) -> dict[str, bytes]:
    """Every icon file of the site, by its path under site_dir."""
    files = {"favicon.svg": favicon_svg(), "favicon.ico": favicon_ico(),
             "manifest.webmanifest": manifest(title, description)}
    files.update({f"icon-{n}.png": icon_png(n) for n in PNG_SIZES})
    return files
