"""The email: golden render, size budget, escaping, text part, and a real
browser (headless Chromium) at phone and desktop widths."""

from __future__ import annotations

import json
import os
import quopri
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import lxml.html
import pytest

import hotpapers
from conftest import FIXTURES, TESTS, make_config
from factories import paper, xpost
from newsletter.models import Issue
from newsletter.build import build_day
from newsletter.issues import load_issue
from newsletter.text import cut_at_word
from newsletter.render.email import (UNSUBSCRIBE_PLACEHOLDER, EmailSettings, render_email,
                                     subject_line)
from newsletter.store import Archive

GOLDEN = TESTS / "golden"
ARTIFACTS = TESTS.parent / "test-artifacts"


def issue_from_post(tmp_path, day: str, paper_count: int = 500) -> tuple[Issue, object]:
    cfg = make_config(tmp_path)
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / f"{day}---Hot-Papers.md").read_text())
    with Archive(cfg.store_path) as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, paper_count)
        return load_issue(cfg, a, parsed.day), cfg


def heavy_issue(tmp_path) -> tuple[Issue, object]:
    """20+ papers with very long abstracts, many authors and long post texts."""
    issue, cfg = issue_from_post(tmp_path, "2021-06-16")
    long_text = "Transformers with attention scale to long contexts " * 60
    papers = []
    for rp in issue.papers:
        p = replace(rp.paper, abstract=long_text, authors=tuple(f"Author Number{i} Longname" for i in range(30)))
        posts = tuple(replace(post, text=("🤖 Thread about this result: " + "x" * 240)[:280],
                              author_name="A Very Long Display Name Here") for post in rp.displayed_posts)
        extra = (replace(posts[0], post_id=posts[0].post_id + "b"),) if posts else ()
        papers.append(replace(rp, paper=p, displayed_posts=posts + extra))
    return replace(issue, papers=tuple(papers)), cfg


def test_golden_render(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    e = render_email(issue, EmailSettings.from_config(cfg))
    got = {"subject": e.subject, "preheader": e.preheader, "html": e.html, "text": e.text}
    path = GOLDEN / "email-2021-08-26.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    want = json.loads(path.read_text())
    assert got["subject"] == want["subject"] == "Hot Papers 2021-08-26: " + issue.papers[0].paper.title
    assert got["preheader"] == want["preheader"]
    assert got["text"] == want["text"]
    assert got["html"].splitlines() == want["html"].splitlines()


def test_twenty_paper_issue_stays_under_the_clipping_budget(tmp_path):
    issue, cfg = heavy_issue(tmp_path)
    assert len(issue.papers) >= 20
    e = render_email(issue, EmailSettings.from_config(cfg))
    raw = e.html.encode("utf-8")
    assert len(raw) < 90 * 1024, len(raw)
    encoded = quopri.encodestring(raw)  # how it travels (quoted-printable)
    assert len(encoded) < 102 * 1024, len(encoded)
    first_unsub = raw.index(UNSUBSCRIBE_PLACEHOLDER.encode())
    assert first_unsub < 10 * 1024  # at the top, far before Gmail's ~102 KB clipping point
    doc = lxml.html.fromstring(e.html)
    assert len(doc.xpath("//a[@class='paper-title']")) == 20  # max_papers
    assert all(len(p.text_content()) <= 601 for p in doc.xpath("//div[@class='paper']/p[not(@class)]"))


def test_structure_preheader_dark_mode_and_responsive_rules(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26")
    html = render_email(issue, EmailSettings.from_config(cfg)).html
    assert html.lower().startswith("<!doctype html>")
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html and "@media only screen and (min-width:480px)" in html
    doc = lxml.html.fromstring(html)
    (hidden,) = doc.xpath("//div[@class='preheader']")
    assert "display:none" in hidden.get("style") and "color" not in hidden.get("style")  # no low-contrast trick
    assert issue.papers[0].paper.title[:40] in hidden.text_content()
    assert html.index('class="preheader"') < html.index("<h1")  # before any visible text
    assert not doc.xpath("//script | //iframe | //img[starts-with(@src,'http')]")
    assert 'style="margin: 0 0 6px;font-size: 18px' in html  # targeted inlining of our rules
    assert "max-width:600px" in html


def test_hostile_text_is_shown_as_text(tmp_path):
    cfg = make_config(tmp_path)
    title = 'Attacks </td></tr></table> <script>alert("x")</script> & <b>bold</b>\x1b'
    p = paper(title=title, abstract="a < b & <img src=x onerror=alert(1)>", authors=("<i>Eve</i>",))
    post = xpost(1, p.arxiv_id, likes=100, text='<a href="javascript:evil()">click</a>', author_name="</p>Bob")
    from newsletter.rank import rank
    issue = Issue(date(2026, 7, 31), "Hot Papers", datetime(2026, 8, 1, tzinfo=timezone.utc), tuple(rank([p], [post])))
    e = render_email(issue, EmailSettings.from_config(cfg))
    doc = lxml.html.fromstring(e.html)
    assert not doc.xpath("//script | //img | //b | //i | //a[starts-with(@href,'javascript')]")
    assert doc.xpath("//a[@class='paper-title']")[0].text_content() == title.replace("\x1b", "")
    assert '<a href="javascript:evil()">click</a>' in doc.text_content()
    assert "\x1b" not in e.subject and "\n" not in subject_line(
        replace(issue, papers=(replace(issue.papers[0], paper=replace(p, title="Line\r\nBcc: x@evil")),)),
        cfg.email.subject)


def test_text_part_spells_out_every_link(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-06-30")
    e = render_email(issue, EmailSettings.from_config(cfg))
    hrefs = set(lxml.html.fromstring(e.html).xpath("//a/@href"))
    assert hrefs and all(h in e.text for h in hrefs), hrefs - {h for h in hrefs if h in e.text}
    assert "Unsubscribe: " + UNSUBSCRIBE_PLACEHOLDER in e.text
    assert max(len(line) for line in e.text.splitlines() if "http" not in line) <= 72
    assert "<" not in e.text.replace("<=", "")


def test_abstract_cut_at_a_word_boundary():
    assert cut_at_word("short one", 600) == "short one"
    cut = cut_at_word("alpha beta gamma delta", 14)
    assert cut == "alpha beta…" and len(cut) <= 14


def test_recipient_link_replaces_the_placeholder(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26")
    e = render_email(issue, EmailSettings.from_config(cfg)).for_recipient("https://hot.example.org/unsubscribe?t=a&b")
    assert UNSUBSCRIBE_PLACEHOLDER not in e.html + e.text
    assert 'href="https://hot.example.org/unsubscribe?t=a&amp;b"' in e.html
    assert "https://hot.example.org/unsubscribe?t=a&b" in e.text


def test_build_writes_the_email_files_and_a_user_template_wins(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26")
    with Archive(cfg.store_path) as a:
        build_day(cfg, issue.date, a)
    assert (cfg.email_dir / "2021-08-26.html").read_text().lower().startswith("<!doctype html>")
    assert (cfg.email_dir / "2021-08-26.txt").read_text().startswith("Hot Papers 2021-08-26")
    mine = tmp_path / "mine.mjml.j2"
    mine.write_text("<mjml><mj-body><mj-section><mj-column><mj-text>Mine: {{ shown|length }} papers "
                    "<a href='{{ unsubscribe_url }}'>u</a></mj-text></mj-column></mj-section></mj-body></mjml>")
    cfg2 = make_config(tmp_path, email={"template": str(mine)})
    html = render_email(issue, EmailSettings.from_config(cfg2)).html
    assert "Mine: 3 papers" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Runs inside the email (in an iframe as wide as the screen under test: headless
# Chromium will not make a window narrower than 500 px) and reports to the host page.
PROBE = """<script>
window.addEventListener('load', function () {
  var titles = Array.prototype.slice.call(document.querySelectorAll('a.paper-title'));
  var visible = titles.filter(function (a) {
    var r = a.getBoundingClientRect(), s = getComputedStyle(a);
    return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 1 &&
           s.visibility !== 'hidden' && s.display !== 'none';
  }).length;
  parent.document.title = JSON.stringify({scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth, titles: titles.length, visible: visible});
});
</script>"""
HOST = """<!doctype html><html><head><title>pending</title></head>
<body style="margin:0;background:#888"><iframe src="{src}" style="display:block;width:{w}px;height:{h}px;border:0"></iframe></body></html>"""


def chromium(args: list[str], tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / f'profile-{name}'}", *args],
        capture_output=True, text=True, timeout=120)


@pytest.fixture
def served(tmp_path):
    import functools
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")
@pytest.mark.parametrize("width", [375, 600])
def test_real_browser_no_overflow_and_every_title_visible(tmp_path, served, width):
    issue, cfg = heavy_issue(tmp_path)
    html = render_email(issue, EmailSettings.from_config(cfg)).html
    (tmp_path / "probe.html").write_text(html.replace("</body>", PROBE + "</body>"))
    (tmp_path / "email.html").write_text(html)
    for name, src, h in (("probe", "probe.html", 2400), ("shot", "email.html", 1600)):
        (tmp_path / f"host-{name}.html").write_text(HOST.format(src=src, w=width, h=h))
    window = f"--window-size={max(width, 500)},2400"
    proc = chromium(["--virtual-time-budget=5000", window, "--dump-dom", f"{served}/host-probe.html"], tmp_path, "p")
    m = re.search(r"<title>(\{.*?\})</title>", proc.stdout)
    assert m, (proc.stdout[-500:], proc.stderr[-2000:])
    result = json.loads(m.group(1).replace("&quot;", '"'))
    assert result["inner"] == width
    assert result["scroll"] <= result["inner"], result
    assert result["titles"] == 20 and result["visible"] == 20, result
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"email-{width}.png"
    chromium([f"--window-size={max(width, 500)},1600", "--virtual-time-budget=3000", f"--screenshot={shot}",
              f"{served}/host-shot.html"], tmp_path, "s")
    assert shot.exists() and shot.stat().st_size > 10_000


def test_preview_serves_both_parts_on_loopback(tmp_path):
    import urllib.request

    from newsletter.preview import make_server, serve_in_background
    issue, cfg = issue_from_post(tmp_path, "2021-08-26")
    e = render_email(issue, EmailSettings.from_config(cfg))
    server = make_server(e, 0)  # no site: the email alone
    serve_in_background(server)
    try:
        host, port = server.server_address
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as r:  # redirected to /email/
            assert r.headers["Content-Type"] == "text/html; charset=utf-8"
            assert r.read().decode() == e.html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/email/text") as r:
            assert r.read().decode() == e.text
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/etc/passwd")
    finally:
        server.shutdown()
        server.server_close()


def test_the_date_is_said_once_and_hidden_papers_are_a_link_away(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-06-16", paper_count=500)
    e = render_email(issue, EmailSettings.from_config(cfg))
    doc = lxml.html.fromstring(e.html)
    visible = " ".join(doc.xpath("//body//text()[not(ancestor::*[@class='preheader'])]"))
    assert visible.count("2021-06-16") == 0 and visible.count("Wednesday 16 June 2021") == 1
    hidden = len(issue.papers) - 20
    (more,) = doc.xpath("//p[@class='more']/a")
    assert more.text == f"+{hidden} more hot papers on the web" and more.get("href").endswith("/hot-papers-2021-06-16/")
    assert f"+{hidden} more hot papers on the web: https://" in e.text
    whole = render_email(issue, replace(EmailSettings.from_config(cfg), max_papers=100))
    assert "more hot paper" not in whole.html and "more hot paper" not in whole.text
