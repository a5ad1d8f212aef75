"""arXiv sources against real recorded bodies (replayed HTTP)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import responses

from conftest import FIXTURES
from newsletter.errors import MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.mailing import Window, submission_window
from newsletter.sources import arxiv as ax

RSS = FIXTURES / "arxiv_rss"
API = FIXTURES / "arxiv_api"
API_URL = "https://export.test/api/query"
RSS_URL = "https://rss.test/rss"


class Sleeps(list):
    def __call__(self, s):
        self.append(s)


def client(sleeps=None, retries=3, delay=0.0, clock=None):
    kw = {}
    if clock:
        kw["clock"] = clock
    return HttpClient(user_agent="test", retries=retries, backoff=1.0, min_interval=delay,
                      sleep=sleeps if sleeps is not None else Sleeps(), service="arXiv", **kw)


def test_rss_keeps_new_and_cross_skips_replace():
    body = (RSS / "new-rss-cs.LG+cs.AI+cs.CL+stat.ML-2026-09-24-4items-new-cross-replace.xml").read_bytes()
    day, papers = ax.parse_rss(body, ["cs", "stat.ML"])
    assert day == date(2026, 9, 24)
    assert [(p.arxiv_id, p.version, p.announce_type) for p in papers] == [
        ("2609.26811", 1, "new"), ("2609.26820", 1, "new"), ("2205.06398", 2, "cross")]
    p = papers[1]
    assert p.title.startswith("Signal2Symbol: Neuro-Symbolic")
    assert p.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert p.categories == ("cs.LG", "cs.AI")
    assert p.abstract.startswith("Physiological time series") and "Announce Type" not in p.abstract
    assert "\n" not in p.abstract and "  " not in p.abstract
    assert p.abs_url == "https://arxiv.org/abs/2609.26820" and p.pdf_url == "https://arxiv.org/pdf/2609.26820"
    assert papers[2].categories[0] == "stat.ME"  # primary first


def test_rss_category_filter_archive_vs_category():
    body = (RSS / "new-rss-cs.LG+cs.AI+cs.CL+stat.ML-2026-09-24-4items-new-cross-replace.xml").read_bytes()
    _, papers = ax.parse_rss(body, ["cs"])
    assert [p.arxiv_id for p in papers] == ["2609.26811", "2609.26820"]
    _, papers = ax.parse_rss(body, ["stat.ML"])
    assert [p.arxiv_id for p in papers] == ["2205.06398"]


def test_rss_reserialized_feed_and_weekend():
    _, papers = ax.parse_rss((RSS / "new-rss-cs.LG-2026-04-27-first3items-reserialized.xml").read_bytes(), ["cs"])
    assert len(papers) == 3 and all(p.title and p.abstract for p in papers)
    day, papers = ax.parse_rss((RSS / "new-rss-cs.CL-weekend-empty-2026-08-01.xml").read_bytes(), ["cs"])
    assert day == date(2026, 8, 1) and papers == []


def test_rss_errors_are_clear():
    with pytest.raises(MalformedResponse, match="not well-formed"):
        ax.parse_rss(b"<rss><channel><item>", ["cs"])
    feed_error = b"<rss version='2.0'><channel><title>Feed error for query</title></channel></rss>"
    with pytest.raises(SourceError, match="categories"):
        ax.parse_rss(feed_error, ["cs.XX"])


def test_rss_hostile_text_is_kept_as_text():
    body = b"""<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
    version="2.0"><channel><title>t</title><pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>
    <item><title>A &lt;script&gt;alert(1)&lt;/script&gt; title &amp;
      wrapped</title><description>arXiv:2609.00001v1 Announce Type: new
Abstract: x &lt; y &#x200B;ok</description><category>cs.LG</category>
    <arxiv:announce_type>new</arxiv:announce_type><dc:creator>A, B</dc:creator></item></channel></rss>"""
    _, (p,) = ax.parse_rss(body, ["cs"])
    assert p.title == "A <script>alert(1)</script> title & wrapped"
    assert p.abstract == "x < y ok"
    with pytest.raises(MalformedResponse):  # a control character is not XML: said, not crashed
        ax.parse_rss(body.replace(b"&#x200B;", b"&#x1;"), ["cs"])


def test_api_query_has_categories_and_window():
    w = submission_window(date(2026, 7, 31))
    q = ax.api_query(["cs", "stat.ML"], w)
    assert q == "(cat:cs.* OR cat:stat.ML) AND submittedDate:[202607291800 TO 202607301800]"


WINDOW_25 = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 7, 30, 18, tzinfo=timezone.utc))


@responses.activate
def test_api_fetch_parses_real_page():
    responses.get(API_URL, body=(API / "new-search-cat-cs.AI-OR-cs.LG-OR-cs.CL-25-results.xml").read_bytes())
    papers = ax.fetch_api(client(), API_URL, ["cs"], WINDOW_25, page_size=25, max_results=25).papers
    assert len(papers) == 25
    first = next(p for p in papers if p.arxiv_id == "2607.28628")
    assert first.categories[0] == "hep-th" and "cs.AI" in first.categories  # cross-list kept
    assert first.submitted == datetime(2026, 7, 30, 17, 59, 56, tzinfo=timezone.utc)
    assert first.comment.startswith("59 pages") and first.has_pdf and first.version == 1
    req = responses.calls[0].request
    assert "submittedDate" in req.url and "sortBy=submittedDate" in req.url
    assert len(responses.calls) == 1


@responses.activate
def test_api_pages_through_results_and_paces_requests():
    responses.get(API_URL, body=(API / "new-search-testing-start0-max10.xml").read_bytes(),
                  match=[responses.matchers.query_param_matcher({"start": "0"}, strict_match=False)])
    responses.get(API_URL, body=(API / "new-search-testing-start10-max10.xml").read_bytes(),
                  match=[responses.matchers.query_param_matcher({"start": "10"}, strict_match=False)])
    sleeps = Sleeps()
    t = [1000.0]
    papers = ax.fetch_api(client(sleeps, delay=3.0, clock=lambda: t[0]), API_URL, ["cs", "math", "physics",
                          "quant-ph", "astro-ph", "cond-mat", "hep-th", "stat", "q-bio", "econ", "eess", "gr-qc",
                          "nlin", "q-fin", "hep-ph", "hep-ex", "nucl-th", "math-ph", "hep-lat", "nucl-ex"],
                          Window(datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc)),
                          page_size=10, max_results=20).papers
    assert len(responses.calls) == 2
    assert len(papers) >= 15
    assert sleeps == [3.0]  # one pause of delay_seconds between the two requests


@responses.activate
def test_api_retries_429_and_503_honouring_retry_after():
    body = (API / "new-search-cat-cs.AI-OR-cs.LG-OR-cs.CL-25-results.xml").read_bytes()
    responses.get(API_URL, status=429, headers={"Retry-After": "7"})
    responses.get(API_URL, status=503)
    responses.get(API_URL, body=body)
    sleeps = Sleeps()
    papers = ax.fetch_api(client(sleeps), API_URL, ["cs"], WINDOW_25, page_size=25, max_results=25).papers
    assert len(papers) == 25
    assert sleeps == [7.0, 2.0]  # Retry-After, then exponential backoff


@responses.activate
def test_api_retries_empty_and_short_pages():
    full = (API / "new-search-cat-cs.AI-OR-cs.LG-OR-cs.CL-25-results.xml").read_text()
    head, _, _ = full.partition("<entry>")
    empty = head + "</feed>"
    short = full[: full.index("<entry>", full.index("<entry>") + 10)] + "</feed>"  # one entry only
    responses.get(API_URL, body=empty)
    responses.get(API_URL, body=short)
    responses.get(API_URL, body=full)
    papers = ax.fetch_api(client(), API_URL, ["cs"], WINDOW_25, page_size=25, max_results=25).papers
    assert len(papers) == 25 and len(responses.calls) == 3


@responses.activate
def test_api_gives_up_with_a_clear_error():
    responses.get(API_URL, status=503)
    with pytest.raises(SourceError, match=r"arXiv answered HTTP 503 after 4 tries; try again later"):
        ax.fetch_api(client(retries=3), API_URL, ["cs"], WINDOW_25)
    assert len(responses.calls) == 4


@responses.activate
def test_api_malformed_xml_is_retried_then_reported():
    responses.get(API_URL, body=b"<feed><entry>broken")
    with pytest.raises(SourceError, match="malformed XML"):
        ax.fetch_api(client(retries=1), API_URL, ["cs"], WINDOW_25)


@responses.activate
def test_api_400_reports_arxivs_reason():
    responses.get(API_URL, status=400, body=(API / "new-error-malformed-id-abc-http400.xml").read_bytes())
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        ax.fetch_api(client(), API_URL, ["cs"], WINDOW_25)
    assert len(responses.calls) == 1  # a refused query is not retried


@responses.activate
def test_api_empty_day_is_no_papers():
    responses.get(API_URL, body=(API / "new-idlist-empty-0000.0000.xml").read_bytes())
    assert ax.fetch_api(client(), API_URL, ["cs"], WINDOW_25).papers == []


def test_entry_to_paper_old_style_ids():
    from lxml import etree
    root = etree.fromstring((API / "new-idlist-old-style-quant-ph-0201082v1.xml").read_bytes())
    p = ax.entry_to_paper(root.find("atom:entry", ax.NS))
    assert p.arxiv_id == "quant-ph/0201082" and p.version == 1
    assert p.abs_url == "https://arxiv.org/abs/quant-ph/0201082"
    assert p.categories[0] == "quant-ph" and p.has_pdf and p.authors
