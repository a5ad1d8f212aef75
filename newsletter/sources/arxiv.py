"""arXiv: the papers of one mailing.

The current mailing comes from the RSS feed (one request, abstracts included);
any other day from the API (Atom, read with lxml), asking for the configured
categories AND the mailing's submission window. Requests are paced
to arXiv's one-per-``delay_seconds`` and retried on 429/503 and on the empty or
short pages the API sometimes returns.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlparse

import requests
from lxml import etree

from newsletter.errors import MalformedResponse, SourceError
from newsletter.http import HttpClient, TransientError
from newsletter.links import split_version
from newsletter.mailing import Window
from newsletter.models import Paper
from newsletter.sources.common import BadRecord, skipping
from newsletter.text import collapse

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
KEEP_TYPES = ("new", "cross")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def full_text(parent: etree._Element, path: str) -> str:
    """The text of an element with every entity reference kept as written
    (``&xxe;``), never expanded and never cutting the text short: the parser
    does not resolve entities, and leaves them as nodes inside the text."""
    el = parent.find(path, NS)
    return "" if el is None else element_text(el)


def element_text(el: etree._Element) -> str:
    parts = [el.text or ""]
    for child in el:
        if isinstance(child, etree._Entity):
            parts.append(f"&{child.name};")
        elif isinstance(child.tag, str):
            parts.append(element_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def matches_categories(categories: Iterable[str], wanted: Iterable[str]) -> bool:
    """True if any category is wanted; an archive ("cs") wants every "cs.*"."""
    wanted = list(wanted)
    for cat in categories:
        for w in wanted:
            if cat == w or ("." not in w and cat.split(".")[0] == w):
                return True
    return False


# ---------------------------------------------------------------- RSS
def rss_query(categories: Iterable[str]) -> str:
    return "+".join(categories)


def _parse_xml(body: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(body, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"{what} is not well-formed XML ({exc}); try again later") from None


def parse_rss(body: bytes, categories: Iterable[str]) -> tuple[date | None, list[Paper]]:
    """The mailing date and the new and cross-listed papers of an arXiv RSS feed."""
    root = _parse_xml(body, "the arXiv RSS feed")
    channel = root.find("channel")
    if channel is None:
        raise MalformedResponse("the arXiv RSS feed has no <channel>; check [arxiv] rss_url")
    title = channel.findtext("title") or ""
    if title.lower().startswith("feed error"):
        raise SourceError(f"arXiv says '{collapse(title)}': check [newsletter] categories")
    pub = channel.findtext("pubDate")
    try:
        day = email.utils.parsedate_to_datetime(pub).date() if pub else None
    except (TypeError, ValueError, IndexError, OverflowError):
        raise MalformedResponse(f"the arXiv RSS feed has a pubDate that is not a date: {collapse(pub)[:60]!r}") from None
    papers = []
    for item in channel.findall("item"):
        kind = collapse(item.findtext("arxiv:announce_type", namespaces=NS)) or "new"
        if kind not in KEEP_TYPES:
            continue
        cats = tuple(collapse(c.text) for c in item.findall("category") if collapse(c.text))
        if not matches_categories(cats, categories):
            continue
        desc = full_text(item, "description")
        guid = item.findtext("guid") or ""
        m = re.match(r"\s*arXiv:(\S+)\s+Announce Type:\s*\S+\s*", desc)
        raw_id = m.group(1) if m else guid.rsplit(":", 1)[-1]
        if m:
            desc = desc[m.end():]
        desc = re.sub(r"^\s*Abstract:\s*", "", desc)
        try:
            arxiv_id, version = split_version(raw_id)
        except ValueError:
            continue
        creators = collapse(full_text(item, "dc:creator"))
        authors = tuple(a.strip() for a in creators.split(",") if a.strip())
        papers.append(
            Paper(
                arxiv_id=arxiv_id,
                version=version,
                title=collapse(full_text(item, "title")),
                abstract=collapse(desc),
                authors=authors,
                categories=cats,
                announce_type=kind,
                has_pdf=True,
            )
        )
    return day, papers


def fetch_rss(http: HttpClient, rss_url: str, categories: list[str]) -> tuple[date | None, list[Paper]]:
    url = f"{rss_url.rstrip('/')}/{rss_query(categories)}"
    resp = http.get(url)
    if resp.status_code != 200:
        raise SourceError(f"arXiv RSS answered HTTP {resp.status_code} for {url}")
    return parse_rss(resp.content, categories)


# ---------------------------------------------------------------- API
def api_query(categories: Iterable[str], window: Window) -> str:
    cats = " OR ".join(f"cat:{c}.*" if "." not in c else f"cat:{c}" for c in categories)
    fmt = "%Y%m%d%H%M"
    return f"({cats}) AND submittedDate:[{window.start.strftime(fmt)} TO {window.end.strftime(fmt)}]"


def check_api_page(resp: requests.Response) -> None:
    """Raise TransientError for the API's empty or short pages (a known quirk):
    a page with fewer entries than totalResults promises from its start."""
    try:
        root = etree.fromstring(resp.content, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise TransientError(f"arXiv API sent malformed XML ({exc})") from None
    total = root.findtext("opensearch:totalResults", namespaces=NS)
    if total is None or not total.strip().isdigit():
        raise TransientError("arXiv API sent a page without totalResults")
    entries = len(root.findall("atom:entry", NS))
    qs = parse_qs(urlparse(resp.url or "").query)
    start = int((qs.get("start") or ["0"])[0])
    size = int((qs.get("max_results") or ["0"])[0]) or entries
    expected = max(0, min(size, int(total) - start))
    if entries < expected:
        raise TransientError(f"arXiv API sent a short page ({entries} of {expected} entries)")
    setattr(resp, "parsed_root", root)  # parsed once: fetch_api reads it from here


def _api_error_text(body: bytes) -> str:
    try:
        root = etree.fromstring(body, _XML_PARSER)
        text = root.findtext("atom:entry/atom:summary", namespaces=NS)
        return collapse(text) or "no reason given"
    except etree.XMLSyntaxError:
        return collapse(body[:200].decode("utf-8", "replace"))


def _time(value: str | None) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord("bad date") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def entry_to_paper(entry: etree._Element) -> Paper:
    """One API Atom entry as a Paper; a BadRecord for an entry without a valid
    arXiv id or with a bad date."""
    raw = collapse(entry.findtext("atom:id", namespaces=NS))
    if "/abs/" not in raw:
        raise BadRecord("bad id")
    try:
        arxiv_id, version = split_version(raw.split("/abs/", 1)[1])
    except ValueError:
        raise BadRecord("bad id") from None
    primary_el = entry.find("arxiv:primary_category", NS)
    primary = collapse(primary_el.get("term")) if primary_el is not None else ""
    cats = [primary] + [collapse(c.get("term")) for c in entry.findall("atom:category", NS)]
    seen: dict[str, None] = {}
    for c in cats:
        if c:
            seen.setdefault(c, None)
    has_pdf = any(link.get("title") == "pdf" for link in entry.findall("atom:link", NS))
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=collapse(full_text(entry, "atom:title")),
        abstract=collapse(full_text(entry, "atom:summary")),
        authors=tuple(a for a in (collapse(element_text(n)) for n in entry.findall("atom:author/atom:name", NS)) if a),
        categories=tuple(seen),
        comment=collapse(full_text(entry, "arxiv:comment")),
        submitted=_time(entry.findtext("atom:published", namespaces=NS)),
        updated=_time(entry.findtext("atom:updated", namespaces=NS)),
        has_pdf=has_pdf,
        announce_type="new",
    )


@dataclass
class ApiResult:
    papers: list[Paper] = field(default_factory=list)
    requests: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> int:
        return sum(self.bad_reasons.values())

    @property
    def reasons(self) -> list[str]:
        return [f"{n} {r}" for r, n in sorted(self.bad_reasons.items())]


def fetch_api(
    http: HttpClient,
    api_url: str,
    categories: list[str],
    window: Window,
    *,
    page_size: int = 2000,
    max_results: int = 0,
    on_page: Callable[[int], None] | None = None,
) -> ApiResult:
    """Every paper first submitted in ``window`` in the categories, in pages of
    up to 2000 (the API's maximum): 1 + N/2000 requests for N papers. Entries
    that are malformed are skipped and counted, never fatal."""
    result = ApiResult()
    papers: dict[str, Paper] = {}
    query = api_query(categories, window)
    start = 0
    while True:
        size = min(page_size, max_results - start) if max_results else page_size
        resp = http.get(api_url, params={"search_query": query, "sortBy": "submittedDate", "sortOrder": "ascending",
                                         "start": start, "max_results": size}, ok=(200,), check=check_api_page)
        result.requests += 1
        if resp.status_code == 400:
            raise SourceError(f"arXiv API refused the query: {_api_error_text(resp.content)}")
        if resp.status_code != 200:
            raise SourceError(f"arXiv API answered HTTP {resp.status_code}")
        root = getattr(resp, "parsed_root", None)
        if root is None:
            root = _parse_xml(resp.content, "the arXiv API")
        total = int(root.findtext("opensearch:totalResults", namespaces=NS) or 0)
        entries = root.findall("atom:entry", NS)
        for entry in entries:
            with skipping(result.bad_reasons):
                paper = entry_to_paper(entry)
                if paper.submitted and not (window.start <= paper.submitted < window.end):
                    continue
                if not matches_categories(paper.categories, categories):
                    continue
                papers[paper.arxiv_id] = paper
        if on_page:
            on_page(len(papers))
        start += len(entries)
        if not entries or start >= total or (max_results and start >= max_results):
            break
    result.papers = list(papers.values())
    return result


def fetch_ids(http: HttpClient, api_url: str, ids: list[str]) -> list[Paper]:
    """These papers (any day, any category), 200 ids a request."""
    papers: list[Paper] = []
    for i in range(0, len(ids), 200):
        chunk = ids[i: i + 200]
        resp = http.get(api_url, params={"id_list": ",".join(chunk), "max_results": len(chunk)})
        if resp.status_code != 200:
            raise SourceError(f"arXiv API answered HTTP {resp.status_code}")
        bad: dict[str, int] = {}
        for entry in _parse_xml(resp.content, "the arXiv API").findall("atom:entry", NS):
            with skipping(bad):
                papers.append(entry_to_paper(entry))
    return papers
