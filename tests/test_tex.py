"""TeX in titles and abstracts: MathML on the site, Unicode text in the email
and feeds, the seed's raw text in the Markdown post; anything that is not
clearly maths, or does not convert, stays as it was, escaped."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timezone

import feedparser
import lxml.html
import pytest

from conftest import make_config
from factories import paper, xpost
from newsletter.build import build_day
from newsletter.deliver import dry_run_day
from newsletter.delivery.ledger import SubscriberStore
from newsletter.render.tex import plain, rich
from newsletter.store import Archive

D = date(2026, 7, 31)
NOW = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)
TITLE = r"Attention in $\mathcal{O}(n \log n)$ Time for \emph{Long} Inputs"
ABSTRACT = r"We reach 88\% accuracy with $\alpha_1 + \beta^{2}$ and $\frac{1}{2}$ of the cost, for \$5 a run."


@pytest.mark.parametrize("text, html_has, text_is", [
    (TITLE, "<mi>𝒪</mi>", "Attention in 𝒪(n log n) Time for Long Inputs"),
    (r"$\sqrt{x}$ in $\mathbb{R}^d$", "<msqrt>", "√(x) in ℝ^d"),
    ("88\\% of $x^2$", "<msup>", "88% of x^2"),
])
def test_maths_converts(text, html_has, text_is):
    assert html_has in rich(text) and "$" not in rich(text)
    assert plain(text) == text_is


@pytest.mark.parametrize("text", [
    "Costs $5 vs $10 a month",          # money, not maths
    "between $5 and $10.",
    r"price \$5 and \$10",              # escaped dollars
    r"a cut-off $\frac{a$ span",        # braces that do not close
    "$$x$$ display maths",              # display maths is left alone
    "50% of C++ & Rust_code",           # prose that only looks like TeX
    "$ x$ and $x $",                    # space inside the dollars: not maths (pandoc's rule)
])
def test_what_is_not_clearly_maths_stays_as_it_was(text):
    expected = text.replace("\\$", "$")
    assert plain(text) == expected
    assert str(rich(text)) == expected.replace("&", "&amp;")


def test_hostile_text_inside_and_outside_maths_never_becomes_markup():
    out = str(rich(r"$\text{<script>alert(1)</script>}$ <b>x</b> $\mathrm{<img src=x onerror=alert(1)>}$"))
    doc = lxml.html.fromstring(f"<div>{out}</div>")
    assert not doc.xpath("//script | //img | //b | //*[@onerror]")
    assert "&lt;b&gt;x&lt;/b&gt;" in out


def test_a_tex_title_on_the_site_in_the_email_the_feeds_and_the_post(tmp_path):
    cfg = make_config(tmp_path, newsletter={"site_url": "https://hot.example.org"},
                      email={"subject": "Hot Papers {date}: {top_title}"})
    with Archive(cfg.store_path) as a:
        a.save_day_papers(D, [paper("2607.00001", title=TITLE, abstract=ABSTRACT)])
        a.save_posts([xpost(1, "2607.00001", likes=80)])
        a.save_issue(D, NOW, 1)
        build_day(cfg, D, a)
        SubscriberStore(a).add("ada@example.org", "", NOW, source="cli")
        dry_run_day(cfg, D, a)  # the message a reader gets, as .eml

    page = lxml.html.parse(str(cfg.site_dir / "hot-papers-2026-07-31" / "index.html")).getroot()
    link = page.xpath("//article[@class='paper']//h2/a")[0]
    assert link.xpath("*[local-name()='math']") and "$" not in link.text_content()
    assert "88% accuracy" in page.xpath("string(//p[@class='abstract'])")

    eml = next(tmp_path.rglob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Hot Papers 2026-07-31: Attention in 𝒪(n log n) Time for Long Inputs"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for part in (text, html):
        assert "𝒪(n log n)" in part and "88% accuracy" in part and "α_1 + β^2" in part
        assert "\\mathcal" not in part and "<math" not in part and "$\\" not in part

    atom = feedparser.parse((cfg.feeds_dir / "papers.atom").read_bytes())
    assert atom.entries[0].title == "Attention in 𝒪(n log n) Time for Long Inputs"

    post = next(cfg.posts_dir.iterdir()).read_text()
    assert TITLE in post  # the Markdown post keeps the seed's raw TeX


def test_an_upgrade_refreshes_the_titles_the_shared_pages_list(tmp_path):
    """Lists and search read each issue's stored entry: a new version (a new
    site fingerprint) must not keep showing an older day's title as the old
    version made it."""
    from newsletter.siteplan import SITE_FINGERPRINT

    older = date(2026, 7, 30)
    cfg = make_config(tmp_path, newsletter={"site_url": "https://hot.example.org"})
    with Archive(cfg.store_path) as a:
        for day, arxiv_id, title in [(older, "2607.00001", TITLE), (D, "2607.00002", "A plain title")]:
            a.save_day_papers(day, [paper(arxiv_id, title=title, abstract=ABSTRACT)])
            a.save_posts([xpost(int(arxiv_id[-1]), arxiv_id, likes=80)])
            a.save_issue(day, NOW, 1)
            build_day(cfg, day, a)
        # the older day as a previous version stored it: raw TeX, another fingerprint
        a.save_site_entries({older: a.site_entries()[older].replace("𝒪(n log n)", "$O(n)$")})
        a.set_meta(SITE_FINGERPRINT, "an older version")
        build_day(cfg, D, a)
    for shared in ("archive/2026-07/index.html", "category/cs.LG/index.html"):
        page = (cfg.site_dir / shared).read_text()
        assert "Attention in 𝒪(n log n) Time for Long Inputs" in page and "A plain title" in page, shared
        assert "$O(n)$" not in page, shared


@pytest.mark.parametrize("text", [
    "$" + "{" * 190 + "x" + "}" * 190 + "$",      # deep nesting
    "$" + "\\frac" * 120 + "$",                   # a macro missing every argument
    "$\\begin{matrix}a$",                          # an environment never closed
    "$a$ " * 5000,                                # many spans
])
def test_pathological_tex_never_fails_a_build(text):
    html, flat = str(rich(text)), plain(text)
    doc = lxml.html.fromstring(f"<div>{html}</div>")
    assert not doc.xpath("//script") and flat and "%s" not in flat
