"""arXiv API Atom pages in the current format (see fixtures/arxiv_api/new-*.xml)
for papers given in tests."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from newsletter.models import Paper


def entry(p: Paper, published: datetime) -> str:
    ts = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    cats = "".join(f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories)
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in p.authors)
    return (
        f"<entry><id>http://arxiv.org/abs/{p.arxiv_id}v{p.version}</id><title>{escape(p.title)}</title>"
        f"<updated>{ts}</updated>"
        f'<link href="https://arxiv.org/abs/{p.arxiv_id}v{p.version}" rel="alternate" type="text/html"/>'
        f'<link href="https://arxiv.org/pdf/{p.arxiv_id}v{p.version}" rel="related" type="application/pdf" title="pdf"/>'
        f"<summary>{escape(p.abstract)}</summary>{cats}<published>{ts}</published>"
        f'<arxiv:primary_category term={quoteattr(p.categories[0])}/>{authors}</entry>'
    )


def feed(papers: list[tuple[Paper, datetime]], total: int | None = None, start: int = 0) -> str:
    total = len(papers) if total is None else total
    entries = "".join(entry(p, t) for p, t in papers)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns="http://www.w3.org/2005/Atom"><id>https://arxiv.org/api/x</id><title>arXiv Query: test</title>'
        "<updated>2026-01-01T00:00:00Z</updated>"
        f"<opensearch:itemsPerPage>{len(papers)}</opensearch:itemsPerPage>"
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>{entries}</feed>"
    )
