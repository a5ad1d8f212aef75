"""The website: every link resolves, valid HTML (Nu checker), accessible
(axe-core in Chromium), responsive, dark mode, private (no third-party
request), hostile text shown as text, reproducible and incremental."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import time
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

import hotpapers
from conftest import FIXTURES, make_config
from factories import paper, xpost
from newsletter.build import build_day
from newsletter.preview import make_server, serve_in_background
from newsletter.store import Archive

SITE_URL = "https://hot.example.org/papers"  # published under a path: links must be relative
DAYS = ["2021-06-02", "2021-06-16", "2021-06-30"]
ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("WEB_TOOLS", ROOT / ".web-tools" / "node_modules"))
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = TOOLS / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = 'Attention <script>alert("x")</script> & </td> ]]> <!-- $a<b$'


def config(tmp_path, **delivery):
    return make_config(tmp_path, newsletter={"site_url": SITE_URL}, delivery=delivery)


def archive_days(cfg, days=DAYS, build=True):
    with Archive(cfg.store_path) as a:
        for d in days:
            parsed = hotpapers.parse((FIXTURES / "hotpapers" / f"{d}---Hot-Papers.md").read_text())
            a.save_day_papers(parsed.day, parsed.papers)
            a.save_posts(parsed.posts)
            a.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
            if build:
                build_day(cfg, parsed.day, a)


def store_media(a, arxiv_id, summary, model):
    """A figure and a summary for a paper, as the enrich stage stores them."""
    import io

    from PIL import Image, ImageDraw

    from newsletter.enrich.images import process
    from newsletter.enrich.store import MediaStore

    im = Image.new("RGB", (900, 500), "white")
    ImageDraw.Draw(im).rectangle((100, 100, 500, 400), fill="teal")
    out = io.BytesIO()
    im.save(out, "PNG")
    store = MediaStore(a)
    store.save_figure(arxiv_id, process(out.getvalue()), "html", "https://arxiv.org/html/x/x1.png",
                      datetime(2021, 7, 2, tzinfo=timezone.utc))
    store.save_summary(arxiv_id, model, "en", summary, datetime(2021, 7, 2, tzinfo=timezone.utc))


def snapshot(folder: Path) -> dict[str, bytes]:
    """The site's pages and files (the search index, remade by Pagefind after each build, aside)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "pagefind" not in p.parts}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    cfg = make_config(tmp, newsletter={"site_url": SITE_URL}, delivery={"web_url": "https://app.hot.example.org"},
                      summaries={"enabled": True})  # summaries and figures as the enrich stage stores them
    archive_days(cfg)
    day = date(2021, 7, 1)  # a hostile day, newest
    with Archive(cfg.store_path) as a:
        store_media(a, "2107.00001", summary=HOSTILE, model=cfg.summaries.model)
        a.save_day_papers(day, [paper("2107.00001", title=HOSTILE, abstract=HOSTILE, authors=("Eve </td>",),
                                      categories=("cs.CR",))])
        a.save_posts([xpost(1, "2107.00001", likes=90, created=datetime(2021, 7, 1, tzinfo=timezone.utc), text='<img src=x onerror=alert(1)> read',
                            embed_html='<blockquote class="twitter-tweet"><p>EMBED-MARKER</p></blockquote>')])
        a.save_issue(day, datetime(2021, 7, 2, tzinfo=timezone.utc), 1)
        build_day(cfg, day, a)
    return cfg


def pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def resolve(folder: Path, page: Path, href: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points to; None for external ones."""
    base = SITE_URL + "/" + str(page.relative_to(folder)).replace("index.html", "")
    url = urljoin(base, href)
    if not url.startswith(SITE_URL + "/") and url != SITE_URL:
        return None
    parts = urlsplit(url)
    rel = unquote(parts.path[len(urlsplit(SITE_URL).path):]).lstrip("/")
    target = folder / rel
    if rel == "" or rel.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        cache[path] = set(lxml.html.parse(str(path)).getroot().xpath("//@id"))
    return cache[path]


def test_every_internal_link_and_asset_resolves(site):
    folder = site.site_dir
    cache: dict = {}
    checked = 0
    for page in pages(folder):
        doc = lxml.html.parse(str(page)).getroot()
        for el, attr in [(e, "href") for e in doc.xpath("//a[@href] | //link[@href]")] + \
                        [(e, "src") for e in doc.xpath("//script[@src] | //img[@src]")] + \
                        [(e, "action") for e in doc.xpath("//form[@action]")]:
            href = el.get(attr)
            if attr == "action" and href == "#":
                continue
            hit = resolve(folder, page, href)
            if hit is None:
                assert urlsplit(href).scheme in ("https", "http", "mailto"), (page, href)
                continue
            target, fragment = hit
            assert target.is_file(), f"{page.relative_to(folder)}: {href} -> {target}"
            if fragment and target.suffix == ".html":
                assert fragment in ids(target, cache), f"{page.relative_to(folder)}: {href}"
            checked += 1
    assert checked > 500
    for name in ("404.html", "sitemap.xml", "robots.txt", "style.css", "search/index.html", "pagefind/shards.json",
                 "subscribe/index.html"):
        assert (folder / name).is_file()
    for loc in etree.parse(str(folder / "sitemap.xml")).getroot().iter("{*}loc"):
        target, _ = resolve(folder, folder / "index.html", loc.text)
        assert target.is_file(), loc.text


def test_the_email_and_every_feed_entry_link_to_a_built_page_and_anchor(site):
    folder, cache = site.site_dir, {}
    text = (site.email_dir / "2021-06-30.txt").read_text()
    web = next(line.split()[-1] for line in text.splitlines() if line.startswith("Web:"))
    target, _ = resolve(folder, folder / "index.html", web)
    assert target == folder / "hot-papers-2021-06-30" / "index.html" and target.is_file()
    feeds = sorted((folder / "feeds").rglob("*.atom")) + sorted((folder / "feeds").rglob("*.rss"))
    assert (folder / "feeds" / "category" / "cs.LG.atom").exists() and len(feeds) > 8
    n = 0
    for f in feeds:
        for entry in feedparser.parse(f.read_bytes()).entries:
            target, fragment = resolve(folder, folder / "index.html", entry.link)
            assert target.is_file(), (f.name, entry.link)
            if fragment:
                assert fragment in ids(target, cache), (f.name, entry.link)
            n += 1
    assert n > 50
    assert (site.feeds_dir / "category" / "cs.LG.atom").read_bytes() == (folder / "feeds/category/cs.LG.atom").read_bytes()
    assert (site.feeds_dir / "papers.atom").read_bytes() == (folder / "feeds/papers.atom").read_bytes()


def test_category_feeds_are_valid_atom(site):
    schema = etree.RelaxNG(etree.parse(str(FIXTURES / "schemas" / "atom.rng")))
    for f in sorted((site.site_dir / "feeds" / "category").glob("*.atom"))[:20]:
        schema.assertValid(etree.parse(str(f)))
        assert feedparser.parse(f.read_bytes()).bozo == 0


def test_every_page_has_feeds_canonical_and_card_meta(site):
    for page in pages(site.site_dir):
        doc = lxml.html.parse(str(page)).getroot()
        assert doc.xpath("//link[@rel='alternate'][@type='application/atom+xml']"), page
        canonical = doc.xpath("//link[@rel='canonical']/@href")
        assert canonical and canonical[0].startswith(SITE_URL + "/"), page
        for prop in ("og:title", "og:description", "og:url"):
            assert doc.xpath(f"//meta[@property='{prop}']/@content"), (page, prop)
        image = doc.xpath("//meta[@property='og:image']/@content")
        assert doc.xpath("//meta[@name='twitter:card']/@content") == ["summary_large_image" if image else "summary"]
        for url in image:  # an issue's social card, or a paper's figure
            assert re.fullmatch(re.escape(SITE_URL) + r"/(card/[-\dW]+\.png|media/[\w.]+-[0-9a-f]{16}-card\.jpg)", url)
            assert (site.site_dir / url[len(SITE_URL) + 1:]).is_file(), url
        loads = doc.xpath("//*[@src]/@src | //link[@rel='stylesheet']/@href")
        assert loads and all(not u.startswith("http") or u.startswith(SITE_URL + "/") for u in loads), page


def test_an_issue_page_holds_the_whole_issue(site):
    page = site.site_dir / "hot-papers-2021-06-16" / "index.html"
    doc = lxml.html.parse(str(page)).getroot()
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-06-16---Hot-Papers.md").read_text())
    articles = doc.xpath("//article[@class='paper']")
    assert len(articles) == 24 == len({a.get("id") for a in articles})
    first = articles[0]
    assert first.xpath(".//span[@class='rank']/text()") == ["1."]
    aid = first.get("id")
    assert first.xpath(f".//a[@href='https://arxiv.org/pdf/{aid}']") and \
        first.xpath(f".//a[@href='https://arxiv.org/html/{aid}']")
    assert "X: " in first.text_content() and "retweets" in first.text_content()
    assert first.xpath(".//blockquote[@class='quote']//a[contains(@href, 'twitter.com')]")
    assert any(p.abstract[:40] in first.text_content() for p in parsed.papers)
    assert doc.xpath("//a[@rel='prev']/@href") == ["../hot-papers-2021-06-02/"]
    assert doc.xpath("//a[@rel='next']/@href") == ["../hot-papers-2021-06-30/"]
    cats = first.xpath(".//p[@class='cats']/a/@href")
    assert cats and all(h.startswith("../category/") for h in cats)


def test_hostile_text_is_text_and_the_oembed_html_is_not_used(site):
    for page in pages(site.site_dir):
        raw = page.read_text()
        assert "EMBED-MARKER" not in raw and "<script>alert" not in raw, page
        # the only images: figures the site publishes itself
        assert all(re.fullmatch(r"(\.\./)*media/2107\.00001-[0-9a-f]{16}\.webp", src)
                   for src in re.findall(r'<img src="([^"]*)"', raw)), page
        assert raw.count("<img") == len(re.findall(r'<img src="', raw)), page
    doc = lxml.html.parse(str(site.site_dir / "hot-papers-2021-07-01" / "index.html")).getroot()
    summary = doc.xpath("//article[@class='paper']//p[@class='summary']")[0]
    assert summary.text_content() == HOSTILE + " AI summary" and not summary.xpath(".//script")
    (figure,) = doc.xpath("//article//figure[@class='thumb']//img")
    assert figure.get("alt").startswith("First figure of Attention <script>")
    # the TeX span is drawn as MathML; every other character is text
    as_read = HOSTILE.replace("$a<b$", "a<b")
    assert as_read in doc.xpath("string(//article[@class='paper']//h2/a)")
    assert doc.xpath("//article[@class='paper']//h2/a/*[local-name()='math']")
    assert "<img src=x onerror=alert(1)> read" in doc.xpath("string(//blockquote[@class='quote']/p)")
    assert not doc.xpath("//article//script | //article//img[not(ancestor::figure)] | "
                         "//article//td[not(ancestor::table[@class='chart-table'])]")
    paper_page = lxml.html.parse(str(site.site_dir / "paper" / "2107.00001" / "index.html")).getroot()
    assert paper_page.xpath("string(//h1)") == as_read and not paper_page.xpath("//article//script")


def test_the_subscribe_page_posts_to_the_web_app(site, tmp_path):
    doc = lxml.html.parse(str(site.site_dir / "subscribe" / "index.html")).getroot()
    (form,) = doc.xpath("//form[@method='post']")
    assert form.get("action") == "https://app.hot.example.org/subscribe"
    (email,) = form.xpath(".//input[@type='email']")
    assert form.xpath(f".//label[@for='{email.get('id')}']/text()") == ["Email"]
    assert form.xpath(".//button[@type='submit']/text()") == ["Subscribe"]
    assert "cs — Computer Science" in form.text_content()
    cfg = config(tmp_path)  # no web app: the page says how to follow by feed
    archive_days(cfg, DAYS[:1])
    doc = lxml.html.parse(str(cfg.site_dir / "subscribe" / "index.html")).getroot()
    assert not doc.xpath("//form[@method='post']") and "feed reader" in doc.text_content()


def test_rebuilding_gives_byte_identical_files(tmp_path):
    cfg = config(tmp_path)
    archive_days(cfg)
    first = snapshot(cfg.site_dir)
    with Archive(cfg.store_path) as a:
        summary = build_day(cfg, date(2021, 6, 16), a)
    assert snapshot(cfg.site_dir) == first
    assert not [p for p in summary.files if cfg.site_dir in p.parents]  # nothing rewritten
    with Archive(cfg.store_path) as a:  # a full rebuild from scratch: the same bytes
        a.set_meta("site_fingerprint", "")
    shutil.rmtree(cfg.site_dir)
    with Archive(cfg.store_path) as a:
        build_day(cfg, date(2021, 6, 30), a)
    assert snapshot(cfg.site_dir) == first


def test_adding_a_day_rewrites_only_what_changed(tmp_path):
    cfg = config(tmp_path)
    archive_days(cfg, ["2021-06-02", "2021-06-16"])
    before = snapshot(cfg.site_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in cfg.site_dir.rglob("*") if p.is_file() and "pagefind" not in p.parts}
    time.sleep(0.01)
    archive_days(cfg, ["2021-06-30"])
    after = snapshot(cfg.site_dir)
    changed = {k for k in after if before.get(k) != after[k]}
    touched = {str(p.relative_to(cfg.site_dir)) for p, m in mtimes.items() if p.stat().st_mtime_ns != m}
    assert touched == changed - {k for k in changed if k not in before}  # unchanged bytes are not rewritten
    new_papers = hotpapers.parse((FIXTURES / "hotpapers" / "2021-06-30---Hot-Papers.md").read_text()).papers
    new_cats = {c for p in new_papers for c in p.categories}
    allowed = {"hot-papers-2021-06-30/index.html", "hot-papers-2021-06-16/index.html", "index.html",
               "archive/index.html", "archive/2021-06/index.html", "category/index.html", "sitemap.xml",
               "search/index.html", "card/2021-06-30.png"} | {f"category/{c}/index.html" for c in new_cats} | \
        {f"category/{c}/2021/index.html" for c in new_cats} | \
        {f"feeds/category/{c}.{k}" for c in new_cats for k in ("atom", "rss")} | \
        {f"feeds/{f}.{k}" for f in ("papers", "daily") for k in ("atom", "rss", "json")} | \
        {f"paper/{p.arxiv_id}/index.html" for p in new_papers}
    assert changed <= allowed, changed - allowed
    assert {f"paper/{p.arxiv_id}/index.html" for p in new_papers} & changed  # the new day's papers have pages
    assert "hot-papers-2021-06-30/index.html" in changed and "hot-papers-2021-06-16/index.html" in changed
    assert "hot-papers-2021-06-02/index.html" not in changed  # not a neighbour


def test_no_temporary_files_stay_in_the_site(site):
    assert not [p for p in site.site_dir.rglob("*") if p.name.startswith(".")]


# ------------------------------------------------------------ real tools
@pytest.mark.skipif(not (VNU.exists() and shutil.which("java")), reason="vnu-jar or Java missing (.ci/run installs them)")
def test_pages_pass_the_nu_html_checker(site):
    r = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "gnu", "--skip-non-html",
                        str(site.site_dir)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr[:3000]


@pytest.fixture(scope="module")
def origin(site):
    server = make_server(None, 0, site.site_dir, prefix=urlsplit(SITE_URL).path)
    serve_in_background(server)
    yield f"http://127.0.0.1:{server.server_address[1]}{urlsplit(SITE_URL).path}"
    server.shutdown()
    server.server_close()


PAGES = ["", "hot-papers-2021-06-16/", "hot-papers-2021-07-01/", "category/cs.LG/", "category/", "archive/",
         "archive/2021-06/", "subscribe/", "404.html", "paper/2106.08254/", "paper/2107.00001/"]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core missing (.ci/run installs it)")
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violations(browser, origin, path):
    page = browser.new_page()
    page.goto(f"{origin}/{path}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run()")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    page.close()
    assert not bad, bad


@pytest.mark.parametrize("width", [375, 1280])
def test_no_horizontal_scrolling_and_nothing_leaves_the_origin(browser, origin, width, tmp_path):
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    for path in PAGES:
        page.goto(f"{origin}/{path}")
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (path, scroll)
    page.screenshot(path=str(tmp_path / f"site-{width}.png"))
    ctx.close()
    host = origin.split("/papers")[0]
    assert requests and all(r.startswith(host + "/") for r in requests), [r for r in requests if not r.startswith(host)]


def test_dark_mode_and_reading_without_javascript(browser, origin):
    colors = {}
    for scheme in ("light", "dark"):
        ctx = browser.new_context(color_scheme=scheme, java_script_enabled=scheme == "light")
        page = ctx.new_page()
        page.goto(f"{origin}/")
        colors[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        if scheme == "dark":  # JavaScript is off here: the issue reads in full; search says where to browse
            assert page.get_by_role("heading", level=1).first.inner_text().startswith("Hot Papers 2021-07-01")
            assert page.locator("article.paper").count() == 1
            page.get_by_label("Search papers").fill("kernel")
            page.get_by_role("button", name="Search").click()
            assert "Without it, browse all issues" in page.get_by_role("status").inner_text()
            page.get_by_role("status").get_by_role("link", name="all issues").click()
            assert page.url.endswith("/archive/")
        ctx.close()
    assert colors["light"] != colors["dark"]


def search(page, origin, query):
    page.goto(f"{origin}/archive/")
    page.get_by_label("Search papers").fill(query)
    page.get_by_role("button", name="Search").click()
    # the script's last word: results, none, or no index (before it runs, the no-JavaScript text is there)
    page.wait_for_function("/ results? for |^No papers match|not available/.test("
                           "document.getElementById('status').textContent)")
    return page.get_by_role("status").inner_text(), page.locator("#results a")


@pytest.mark.parametrize("query", ["Hilbert-Schmidt", "Gretton"])  # only in an abstract; a fourth author
def test_search_finds_a_paper_by_its_abstract_and_any_author(browser, origin, query):
    page = browser.new_page()
    status, links = search(page, origin, query)
    assert status.endswith(f"for “{query}”.")
    assert links.first.inner_text() == "Self-Supervised Learning with Kernel Dependence Maximization"
    links.first.click()
    assert page.url.endswith("/paper/2106.08320/")
    page.close()


def test_search_says_so_when_nothing_matches_and_keeps_the_query_as_text(browser, origin):
    page = browser.new_page()
    status, links = search(page, origin, "qqzzxx <b>")
    assert status == "No papers match “qqzzxx <b>”." and links.count() == 0
    assert page.locator("#results b, #status b").count() == 0
    page.close()


def test_tex_in_a_title_is_drawn_as_maths_by_the_browser(browser, origin):
    """``$a<b$`` in the hostile title: Chromium lays the MathML out (a box with
    a size, an operator in it) and the heading reads "a<b" with no dollars."""
    page = browser.new_page()
    page.goto(f"{origin}/hot-papers-2021-07-01/")
    heading = page.get_by_role("heading", level=2).first
    box = heading.locator("math").first.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert heading.locator("math mo").first.text_content() == "<"
    assert "$" not in heading.inner_text()
    page.close()


def test_favicon_icons_and_manifest(site):
    """A browser tab, a bookmark and a phone's home screen all find an icon."""
    from PIL import Image

    folder = site.site_dir
    with Image.open(folder / "favicon.ico") as ico:
        assert ico.format == "ICO" and {(16, 16), (32, 32), (48, 48)} <= set(ico.info["sizes"])
    svg = etree.fromstring((folder / "favicon.svg").read_bytes())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and not svg.xpath("//*[local-name()='script']")
    manifest = json.loads((folder / "manifest.webmanifest").read_text())
    assert manifest["name"] == "Hot Papers" and manifest["start_url"] == "./"
    for icon in manifest["icons"]:
        path = folder / icon["src"]
        assert path.is_file(), icon
        if icon["type"] == "image/png":
            with Image.open(path) as png:
                assert f"{png.width}x{png.height}" == icon["sizes"] and png.format == "PNG"
    for page in pages(folder):
        doc = lxml.html.parse(str(page)).getroot()
        rels = {link.get("rel") for link in doc.xpath("//head/link")}
        assert {"icon", "manifest"} <= rels, page


def test_long_abstracts_open_in_full_from_their_first_lines(browser, origin):
    """Each long abstract shows its first lines; "Full abstract" (a native
    <details>, so with JavaScript off too) opens the whole of it."""
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{origin}/hot-papers-2021-06-16/")
    cards = page.locator("article.paper")
    closed_height = page.evaluate("document.documentElement.scrollHeight")
    opened = 0
    for i in range(cards.count()):
        details = cards.nth(i).locator("details.abstract")
        if not details.count():
            continue
        full = details.locator("p.abstract")
        assert not full.is_visible() and details.locator(".teaser").inner_text().endswith("…")
        details.get_by_text("Full abstract").click()
        assert full.is_visible() and not details.locator(".teaser").is_visible()
        assert len(full.inner_text()) > len(details.locator(".teaser").text_content())
        opened += 1
    assert opened >= 10
    assert page.evaluate("document.documentElement.scrollHeight") > closed_height * 1.3
    ctx.close()


def test_a_failed_search_index_leaves_the_previous_one_working(tmp_path):
    from newsletter.errors import NewsletterError
    from newsletter.sitesearch import index_site

    cfg = config(tmp_path)
    archive_days(cfg, ["2021-06-16"])
    index = cfg.site_dir / "pagefind"
    before = {str(p.relative_to(index)) for p in index.rglob("*")}
    with pytest.raises(NewsletterError, match="the search index was not made"):
        index_site(cfg.site_dir, timeout=0.001)
    assert {str(p.relative_to(index)) for p in index.rglob("*")} == before and (index / "2106" / "pagefind.js").is_file()
    assert not [p for p in cfg.site_dir.rglob(".*")]


def test_a_new_day_indexes_only_its_month(tmp_path):
    from newsletter.sitesearch import all_shards, index_site

    cfg = config(tmp_path)
    archive_days(cfg, ["2020-06-29", "2020-07-14", "2021-06-16"])
    index = cfg.site_dir / "pagefind"
    assert json.loads((index / "shards.json").read_text()) == ["2106", "2007", "2006"] == sorted(
        all_shards(cfg.site_dir), reverse=True)
    stamps = {s: (index / s / "pagefind.js").stat().st_mtime_ns for s in ("2006", "2007", "2106")}
    archive_days(cfg, ["2021-06-30"])
    assert (index / "2006" / "pagefind.js").stat().st_mtime_ns == stamps["2006"]  # other months untouched
    assert (index / "2007" / "pagefind.js").stat().st_mtime_ns == stamps["2007"]
    assert index_site(cfg.site_dir, [Path("paper/2106.15110/index.html"), Path("archive/index.html")]) == ["2106"]


def test_a_search_index_that_cannot_be_made_is_a_warning_and_the_issue_is_out(tmp_path, monkeypatch):
    from newsletter import sitesearch

    monkeypatch.setattr(sitesearch.sys, "executable", str(tmp_path / "no-python-here"))
    cfg = config(tmp_path)
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-06-16---Hot-Papers.md").read_text())
    with Archive(cfg.store_path) as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
        summary = build_day(cfg, parsed.day, a)
    assert "warning: the search index was not made" in summary.line()
    assert (cfg.site_dir / "hot-papers-2021-06-16" / "index.html").is_file()
    assert (cfg.email_dir / "2021-06-16.html").is_file() and (cfg.posts_dir / "2021-06-16---Hot-Papers.md").is_file()
