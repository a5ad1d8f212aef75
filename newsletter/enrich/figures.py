"""Where a paper's figure comes from: the first real figure of its arXiv
HTML rendering (LaTeXML's ``<figure class="ltx_figure">`` holding an
``<img class="ltx_graphics">``), or else the first page of its PDF, drawn
with pypdfium2 as arxiv-sanity drew its thumbnails. One HTML request and at
most one image or PDF download per paper."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html

from newsletter.enrich.images import MAX_BYTES, MIN_SIDE, BadImage, Processed, from_pixels, process
from newsletter.errors import SourceError
from newsletter.http import HttpClient, TooLarge

MAX_PDF_BYTES = 60_000_000
MAX_HTML_BYTES = 20_000_000
PAGE_WIDTH = 1280  # pixels the first page is drawn at
TOP = 0.8  # how much of the first page is kept, as a share of its width
_SKIP_WORDS = ("logo", "icon", "badge", "orcid", "license", "arxiv")


@dataclass(frozen=True)
class Found:
    """A figure and where it came from ("html" or "pdf", and the URL)."""

    image: Processed
    origin: str
    url: str


def _px(value: str | None) -> int | None:
    try:
        return int(float((value or "").strip().removesuffix("px")))
    except ValueError:
        return None


def figure_src(html: bytes, page_url: str) -> str | None:
    """The absolute URL of the page's first real figure: an ``<img>`` inside a
    ``<figure>``, not a logo or an icon, not under 100 px, never SVG or data:."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    base = page_url
    for b in doc.iter("base"):
        if b.get("href"):
            base = urljoin(page_url, b.get("href", ""))
            break
    for img in doc.xpath("//figure//img[@src]"):
        src = str(img.get("src", "")).strip()
        words = f"{src} {img.get('class', '')} {img.get('alt', '')}".lower()
        w, h = _px(img.get("width")), _px(img.get("height"))
        if (not src or src.startswith("data:") or urlsplit(src).path.lower().endswith((".svg", ".svgz"))
                or any(k in words for k in _SKIP_WORDS) or (w is not None and w < MIN_SIDE)
                or (h is not None and h < MIN_SIDE)):
            continue
        url = urljoin(base, src)
        if urlsplit(url).scheme in ("http", "https"):
            return url
    return None


def first_page(pdf: bytes) -> Processed:
    """The PDF's first page as a figure."""
    import pypdfium2

    if not pdf.startswith(b"%PDF-"):
        raise BadImage("not a PDF")
    try:
        doc = pypdfium2.PdfDocument(io.BytesIO(pdf))
    except pypdfium2.PdfiumError as exc:
        raise BadImage(f"damaged PDF ({exc})") from None
    try:
        if len(doc) == 0:
            raise BadImage("a PDF without pages")
        page = doc[0]
        width, height = page.get_size()
        if width <= 0 or height <= 0 or height / width > 10:
            raise BadImage("a PDF page of no usable size")
        bitmap = page.render(scale=min(4.0, PAGE_WIDTH / width))
        im = bitmap.to_pil().convert("RGB")
        # the page's top: title, authors, abstract (and often a teaser figure), legible in a card
        return from_pixels(im.crop((0, 0, im.width, min(im.height, round(im.width * TOP)))))
    finally:
        doc.close()


def _download(http: HttpClient, url: str, limit: int) -> tuple[bytes, str]:
    try:
        resp = http.get(url, max_bytes=limit)
    except TooLarge:
        raise BadImage(f"over {limit // 1_000_000} MB") from None
    if resp.status_code != 200:
        raise SourceError(f"HTTP {resp.status_code}")
    return resp.content, resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def find_figure(http: HttpClient, html_url: str, pdf_url: str, arxiv_id: str) -> Found:
    """The paper's figure; SourceError or BadImage say why there is none."""
    page = http.get(f"{html_url.rstrip('/')}/{arxiv_id}", max_bytes=MAX_HTML_BYTES)
    if page.status_code == 200 and "html" in page.headers.get("Content-Type", "text/html"):
        src = figure_src(page.content, page.url)
        if src:
            data, ctype = _download(http, src, limit=MAX_BYTES)
            if ctype.startswith(("text/", "image/svg")):
                raise BadImage(f"the figure is served as {ctype}")
            return Found(process(data), "html", src)
    elif page.status_code not in (200, 404, 410):
        raise SourceError(f"the HTML rendering answered HTTP {page.status_code}")
    url = f"{pdf_url.rstrip('/')}/{arxiv_id}"
    data, _ = _download(http, url, limit=MAX_PDF_BYTES)
    return Found(first_page(data), "pdf", url)
