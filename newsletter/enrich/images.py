"""A downloaded figure made safe to publish, with Pillow. Every image is
hostile input: its size is checked before its pixels are decoded (bombs), it
is decoded in full before it is trusted (truncated files), only raster
formats are opened (never SVG or markup), animations are refused, and what
is published is re-encoded from pixels alone, so no metadata survives."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10_000_000
MAX_PIXELS = 40_000_000
MIN_SIDE = 100  # logos and icons are smaller
SITE_WIDTH = 640  # the site's cards, the email, the feeds
CARD_WIDTH = 1280  # og:image
FORMATS = ["PNG", "JPEG", "GIF", "WEBP"]


class BadImage(ValueError):
    """Not an image we publish; the message says why, in a few words."""


@dataclass(frozen=True)
class Processed:
    """One figure, re-encoded: WebP for the site, JPEG for email and og:image."""

    webp: bytes
    jpeg: bytes
    card: bytes  # JPEG up to CARD_WIDTH wide
    width: int  # of webp and jpeg
    height: int
    card_width: int
    card_height: int

    @property
    def digest(self) -> str:
        """The content hash that names the published files."""
        return hashlib.sha256(self.webp + self.jpeg).hexdigest()


def _open(data: bytes) -> Image.Image:
    if not data:
        raise BadImage("empty file")
    if len(data) > MAX_BYTES:
        raise BadImage(f"over {MAX_BYTES // 1_000_000} MB")
    if data.lstrip()[:1] == b"<":
        raise BadImage("markup (SVG or HTML), not a raster image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)  # lazy: reads the header only
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise BadImage(f"{w}×{h} is over {MAX_PIXELS // 1_000_000} megapixels")
            if getattr(im, "n_frames", 1) > 1:
                raise BadImage("animated")
            im.verify()  # checksums; the image must be opened again after this
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            im.load()
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"over {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise BadImage("not a PNG, JPEG, GIF or WebP image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt
        raise BadImage(f"damaged image ({type(exc).__name__})") from None
    return im


def _flat(im: Image.Image) -> Image.Image:
    """Upright RGB on white (figures often have a transparent background)."""
    im = ImageOps.exif_transpose(im) or im
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        back = Image.new("RGB", im.size, "white")
        back.paste(im, mask=im.getchannel("A"))
        return back
    return im.convert("RGB")


def _fit(im: Image.Image, width: int, tall: float = 2.0) -> Image.Image:
    """At most ``width`` wide and ``tall`` times that tall (a strip of panels)."""
    scale = min(1.0, width / im.width, tall * width / im.height)
    if scale == 1.0:
        return im
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS)


def _encode(im: Image.Image, fmt: str, quality: int = 80) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        im.save(out, "WEBP", quality=80, method=4)
    else:
        im.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def process(data: bytes) -> Processed:
    """A figure for publishing, or BadImage saying why not."""
    im = _open(data)
    if min(im.size) < MIN_SIDE:
        raise BadImage(f"{im.width}×{im.height} is too small to be a figure")
    return from_pixels(_flat(im))


def from_pixels(im: Image.Image) -> Processed:
    """Re-encode trusted pixels (a rendered PDF page, or a checked download).
    The image is remade from its pixels alone: Pillow would otherwise carry
    a JPEG's comment (and other ``info``) into what it saves."""
    im = Image.frombytes("RGB", im.size, im.convert("RGB").tobytes())
    small, card = _fit(im, SITE_WIDTH), _fit(im, CARD_WIDTH, tall=1.0)
    return Processed(_encode(small, "WEBP"), _encode(small, "JPEG"), _encode(card, "JPEG", quality=72), small.width,
                     small.height, card.width, card.height)
