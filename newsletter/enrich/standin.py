"""Stand-in PDFs for the demo: a paper's title, authors and abstract laid
out on a page. They are not the papers' real first pages; the demo serves
them where arXiv's PDFs would be, so its figures come out of the same
enrich code (PDF first page, pypdfium2, Pillow) a real day runs."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from newsletter.models import Paper
from newsletter.render.tex import plain

PAGE = (612, 792)  # US Letter in points, drawn at one pixel a point


def standin_pdf(paper: Paper) -> bytes:
    im = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(im)
    title_font, body_font, small = (ImageFont.load_default(size=s) for s in (20, 11, 9))
    y = 60
    for line in textwrap.wrap(plain(paper.title) or paper.arxiv_id, 46)[:4]:
        draw.text((PAGE[0] // 2, y), line, fill="black", font=title_font, anchor="ma")
        y += 26
    y += 8
    authors = ", ".join(paper.authors[:8]) + (" et al." if len(paper.authors) > 8 else "")
    for line in textwrap.wrap(authors, 90)[:3]:
        draw.text((PAGE[0] // 2, y), line, fill="#333333", font=small, anchor="ma")
        y += 13
    y += 18
    draw.text((PAGE[0] // 2, y), "Abstract", fill="black", font=body_font, anchor="ma")
    y += 20
    for line in textwrap.wrap(plain(paper.abstract), 92)[:30]:
        draw.text((72, y), line, fill="black", font=body_font)
        y += 15
    draw.text((72, PAGE[1] - 40), f"arXiv:{paper.arxiv_id} · demo stand-in, not the paper's own page",
              fill="#777777", font=small)
    out = io.BytesIO()
    im.save(out, "PDF", resolution=72.0)
    return out.getvalue()
