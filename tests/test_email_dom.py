"""The email is rendered one way: Jinja, then MJML, then css-inline. Its
document (every element, attribute and text, in order) is what the issue
holds, for the golden, heavy, hostile, weekly and personal issues; the
stored trees were made before the one-time compiled path was removed, so
this also shows that removal changed nothing a reader sees. Values are
escaped, never templates, and carry no control characters."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest

from test_email import heavy_issue, issue_from_post
from newsletter.render import email as email_mod
from newsletter.render.email import EmailSettings, render_email

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = ['<script>alert(1)</script>', 'He said "yes" & \'no\'', "{{ 7*7 }} {% raw %}x{% endraw %}",
           "zzjinja0zz <!--zzjinja3zz--> zzjinja12zz", "ctrl\x00\x1b\x7f\x85 bidi\u202eevil\u202c zero\u200bwidth",
           "</mj-text><mj-raw><b>x</b></mj-raw>", "emoji 🤖 and ünïcödé", "a\n\nb\tc   d"]
KINDS = ["golden", "heavy", "hostile", "weekly", "personal"]


def tree(html: str) -> list[list[object]]:
    """The document as a comparable list: every element with its attributes,
    text and tail, in order (comments and how entities are spelled aside)."""
    doc = lxml.html.document_fromstring(html)
    return [[el.tag, sorted([k, v] for k, v in el.attrib.items()), (el.text or "").strip(), (el.tail or "").strip()]
            for el in doc.iter() if isinstance(el.tag, str)]


def hostile_issue(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-06-16")
    n = len(HOSTILE)
    papers = []
    for i, rp in enumerate(issue.papers):  # every hostile string in every field, in turn
        p = replace(rp.paper, title=HOSTILE[i % n] + " " + rp.paper.title, abstract=(HOSTILE + [""])[(i + 1) % (n + 1)],
                    authors=(HOSTILE[(i + 2) % n], "B. Author"))
        posts = tuple(replace(x, text=HOSTILE[(i + 3 + j) % n], author_name=HOSTILE[(i + 4 + j) % n],
                              url=[x.url, "", "https://x.example/?a=1&b=<2>"][(i + j) % 3])
                      for j, x in enumerate(rp.displayed_posts))
        papers.append(replace(rp, paper=p, displayed_posts=posts))
    return replace(issue, papers=tuple(papers), notes=tuple(HOSTILE[:2])), cfg


def render_kind(tmp_path, kind):
    if kind == "golden":
        issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    elif kind == "heavy":
        issue, cfg = heavy_issue(tmp_path)
    else:
        issue, cfg = hostile_issue(tmp_path)
    settings = EmailSettings.from_config(cfg, weekly=kind == "weekly")
    kw = {}
    if kind == "weekly":
        ids = [rp.paper.arxiv_id for rp in issue.papers]
        issue = replace(issue, week="2021-W24", paper_dates=tuple((i, issue.date) for i in ids),
                        late=frozenset(ids[::3]))
    if kind == "personal":
        kw = {"papers": issue.papers[1:4], "filtered_by": "cs.LG · <b>diffusion</b>"}
    return render_email(issue, settings, **kw)


@pytest.mark.parametrize("kind", KINDS)
def test_the_email_document_is_what_the_issue_holds(tmp_path, kind):
    e = render_kind(tmp_path, kind)
    got = {"subject": e.subject, "preheader": e.preheader, "text": e.text, "tree": tree(e.html)}
    path = GOLDEN / f"email-dom-{kind}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, ensure_ascii=False, indent=0) + "\n")
    want = json.loads(path.read_text())
    assert got["subject"] == want["subject"] and got["preheader"] == want["preheader"]
    assert got["text"] == want["text"]
    assert got["tree"] == want["tree"]
    if kind == "hostile":
        doc = lxml.html.document_fromstring(e.html)
        assert not doc.xpath("//script") and not doc.xpath("//mj-raw | //b[. = 'x']")  # text, never markup
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in e.html
        assert "{{ 7*7 }}" in e.html and ">49<" not in e.html  # values are never templates
        assert not re.search("[\x00\x1b\x7f\x85\u202e\u200b]", e.html + e.text)


def test_a_template_printing_raw_values_still_gets_no_control_characters(tmp_path):
    issue, cfg = hostile_issue(tmp_path)
    mine = tmp_path / "templates"
    mine.mkdir()
    source = (email_mod.bundled_dir() / "email.mjml.j2").read_text().replace("{{ p.title }}", "{{ p.rp.paper.title }}")
    assert "p.rp.paper.title" in source
    (mine / "email.mjml.j2").write_text(source)
    e = render_email(issue, replace(EmailSettings.from_config(cfg), template=str(mine / "email.mjml.j2")))
    assert not re.search("[\x00\x1b\x7f\x85\u202e\u200b]", e.html)
    assert "bidievil" in e.html.replace(" ", "")  # the text is kept, only the controls go


def test_a_template_that_includes_another_renders(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    mine = tmp_path / "templates"
    mine.mkdir()
    bundled = (email_mod.bundled_dir() / "email.mjml.j2").read_text()
    (mine / "_footer.mjml.j2").write_text("<mj-text>Footer of {{ title }}</mj-text>\n")
    source = bundled.replace("<mj-column>\n        <mj-text>\n          <p class=\"small\">You get",
                             "<mj-column>\n{% include \"_footer.mjml.j2\" %}\n        <mj-text>\n          "
                             "<p class=\"small\">You get")
    assert source != bundled
    (mine / "email.mjml.j2").write_text(source)
    e = render_email(issue, replace(EmailSettings.from_config(cfg), template=str(mine / "email.mjml.j2")))
    assert "Footer of Hot Papers" in e.html


def test_a_title_cannot_break_out_of_an_attribute(tmp_path):
    """The subject goes into <title> and MJML's aria-label: quotes in it stay text."""
    issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    first = issue.papers[0]
    evil = '" onmouseover="alert(1)" x="<img src=x onerror=alert(2)>'
    issue = replace(issue, papers=(replace(first, paper=replace(first.paper, title=evil)),) + issue.papers[1:])
    e = render_email(issue, EmailSettings.from_config(cfg))
    doc = lxml.html.document_fromstring(e.html)
    assert not doc.xpath("//@onmouseover | //@onerror | //img[@src='x']")
    assert any(evil.strip() in (v or "") for el in doc.iter() for v in el.attrib.values())  # kept, as text
