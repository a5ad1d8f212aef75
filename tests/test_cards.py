"""The demo site as a reader sees it in Chromium: paper cards with attention
badges, a page per paper with its attention chart, an issue chart, and the
page heights the cards keep (issue 21)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import CHROMIUM

from newsletter import demo
from newsletter.preview import make_server, serve_in_background

DAY = "hot-papers-2021-06-16"


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    demo.run(folder)
    server = make_server(None, 0, folder / "site", prefix="")
    serve_in_background(server)
    yield f"http://127.0.0.1:{server.server_address[1]}", folder / "site"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("width, limit", [(1280, 6000), (375, 12000)])
def test_the_demo_issue_fits_its_height_with_everything_reachable(browser, demo_site, width, limit):
    origin, _ = demo_site
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{origin}/{DAY}/")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < limit, height
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    cards = page.locator("article.paper")
    assert cards.count() == 24
    for i in range(cards.count()):  # every abstract opens in full from its card
        card = cards.nth(i)
        details = card.locator("details.abstract")
        if details.count():
            details.get_by_text("Full abstract").click()
            assert card.locator("p.abstract").is_visible()
    page.close()


def test_each_card_shows_attention_as_badges_that_say_it_in_full(browser, demo_site):
    origin, _ = demo_site
    page = browser.new_page()
    page.goto(f"{origin}/{DAY}/")
    first = page.locator("article.paper").first
    badge = first.get_by_role("listitem").filter(has_text="X 2,638")
    assert badge.count() == 1
    assert badge.get_attribute("title") == "X: 2350 retweets, 288 likes (1 post)"
    assert first.get_by_text("X: 2350 retweets, 288 likes (1 post)").count() == 1  # what a screen reader reads
    assert badge.locator("svg use").get_attribute("href") == "#i-x"
    assert page.locator("svg.sprite symbol#i-x").count() == 1
    page.close()


def test_every_paper_link_opens_the_papers_own_page(browser, demo_site):
    origin, folder = demo_site
    page = browser.new_page()
    page.goto(f"{origin}/{DAY}/")
    links = page.locator("article.paper h2 a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) == 24 and all(re.fullmatch(r"\.\./paper/\d{4}\.\d{5}/", h) for h in hrefs), hrefs
    for href in hrefs:
        assert (folder / DAY / href / "index.html").resolve().is_file(), href
    links.first.click()
    assert page.url.endswith("/paper/2106.08254/")
    assert page.get_by_role("heading", level=1).inner_text() == "BEiT: BERT Pre-Training of Image Transformers"
    assert page.get_by_role("link", name="Hot Papers 2021-06-16").get_attribute("href") == f"../../{DAY}/#2106.08254"
    issues = page.locator("ul.appearances").inner_text()
    assert "Hot Papers 2021-06-16: rank 1 of 24" in issues  # its daily issue, and the week it was in
    assert re.search(r"Hot Papers of the Week 2021-W24: rank 1 of \d+", issues)
    assert page.get_by_role("link", name="Hot Papers of the Week 2021-W24").get_attribute("href") == \
        "../../weekly/2021-W24/#2106.08254"
    page.close()


def test_charts_are_svg_with_a_text_equivalent(browser, demo_site):
    origin, _ = demo_site
    page = browser.new_page()
    page.goto(f"{origin}/paper/2106.08254/")
    chart = page.get_by_role("img", name="Attention to arXiv:2106.08254 over time")
    assert chart.count() == 1
    desc = page.locator("svg.chart desc").text_content()
    assert "X: 2,638 points" in desc
    page.get_by_text("The chart as a table").click()
    table = page.get_by_role("table", name="Attention to arXiv:2106.08254 over time")
    assert table.is_visible() and "2,638" in table.inner_text()
    page.goto(f"{origin}/{DAY}/")
    issue_chart = page.get_by_role("img", name="Attention to the top 10 papers of 2021-06-16")
    assert issue_chart.count() == 1 and page.locator("svg.chart polyline").count() == 10
    assert page.locator("svg.chart script").count() == 0  # static: nothing runs in it
    page.close()


@pytest.mark.parametrize("path", [f"{DAY}/", "paper/2106.08254/"])
def test_no_short_link_is_visible_in_quotes(browser, demo_site, path):
    origin, _ = demo_site
    page = browser.new_page()
    page.goto(f"{origin}/{path}")
    quotes = page.locator("blockquote.quote")
    assert quotes.count() >= 1
    shown = page.locator("main").inner_text()
    assert "t.co/" not in shown and "pic.twitter.com" not in shown
    assert "[image]" in shown
    page.close()


LIGHTHOUSE = Path(__file__).resolve().parent.parent / ".web-tools" / "node_modules" / ".bin" / "lighthouse"


@pytest.mark.skipif(not LIGHTHOUSE.exists() or CHROMIUM is None, reason="lighthouse or Chromium missing (.ci/run installs them)")
@pytest.mark.parametrize("path", ["", f"{DAY}/", "paper/2106.08254/"])
def test_lighthouse_scores_at_least_98_with_nothing_in_the_console(demo_site, path):
    origin, _ = demo_site
    run = subprocess.run([str(LIGHTHOUSE), f"{origin}/{path}", "--output=json", "--quiet", f"--chrome-path={CHROMIUM}",
                          "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                          "--only-categories=performance,accessibility,best-practices,seo"],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    scores = {name: round(c["score"] * 100) for name, c in report["categories"].items()}
    assert min(scores.values()) >= 98, scores
    assert report["audits"]["errors-in-console"]["score"] == 1
