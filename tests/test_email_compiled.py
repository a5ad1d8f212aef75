"""The email template is put through MJML and css-inline once; each render
is Jinja over finished HTML. Whatever the issue holds, that gives the same
document as the long way (Jinja -> MJML -> css-inline on every render), and
templates it cannot compile faithfully take the long way."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import lxml.html
import pytest

from test_email import heavy_issue, issue_from_post
from newsletter.render import email as email_mod
from newsletter.render.email import EmailSettings, _wrap, cut_at_word, render_email
from newsletter.text import _SPACE, collapse, strip_control

HOSTILE = ['<script>alert(1)</script>', 'He said "yes" & \'no\'', "{{ 7*7 }} {% raw %}x{% endraw %}",
           "zzjinja0zz <!--zzjinja3zz--> zzjinja12zz", "ctrl\x00\x1b\x7f\x85 bidi\u202eevil\u202c zero\u200bwidth",
           "</mj-text><mj-raw><b>x</b></mj-raw>", "emoji 🤖 and ünïcödé", "a\n\nb\tc   d"]


def tree(html: str) -> list[tuple[object, ...]]:
    """The document as a comparable list: every element with its attributes,
    text and tail, in order (comments and how entities are spelled aside)."""
    doc = lxml.html.document_fromstring(html)
    return [(el.tag, sorted(el.attrib.items()), (el.text or "").strip(), (el.tail or "").strip())
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


def both_ways(issue, settings, **kw):
    fast = render_email(issue, settings, **kw)
    slow = render_email(issue, settings, long_way=True, **kw)
    return fast, slow


@pytest.mark.parametrize("kind", ["golden", "heavy", "hostile", "weekly", "personal"])
def test_compiled_and_long_way_give_the_same_document(tmp_path, kind):
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
    fast, slow = both_ways(issue, settings, **kw)
    assert email_mod._compiled.cache_info().currsize >= 1  # the compiled way was taken
    assert tree(fast.html) == tree(slow.html)
    assert fast.text == slow.text and fast.subject == slow.subject and fast.preheader == slow.preheader
    assert fast.html.count("zzjinja") == slow.html.count("zzjinja")  # no marker left but those in the text
    if kind == "hostile":
        assert "<script>alert" not in fast.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in fast.html
        assert "{{ 7*7 }}" in fast.html and ">49<" not in fast.html  # values are never templates
        assert not re.search("[\x00\x1b\x7f\x85\u202e\u200b]", fast.html + fast.text)


def test_templates_it_cannot_compile_take_the_long_way(tmp_path):
    issue, cfg = issue_from_post(tmp_path, "2021-08-26", paper_count=120)
    mine = tmp_path / "templates"
    mine.mkdir()
    bundled = (email_mod.bundled_dir() / "email.mjml.j2").read_text()
    (mine / "_footer.mjml.j2").write_text("<mj-text>Footer {{ title }}</mj-text>\n")
    cases = {
        "include": bundled.replace("<mj-column>\n        <mj-text>\n          <p class=\"small\">You get",
                                   "<mj-column>\n{% include \"_footer.mjml.j2\" %}\n        <mj-text>\n          "
                                   "<p class=\"small\">You get"),
        "tag inside a tag": bundled.replace('<mj-section css-class="card" padding-top="8px">',
                                            '<mj-section {% if true %}css-class="card"{% endif %} padding-top="8px">'),
    }
    for name, source in cases.items():
        assert source != bundled, name
        (mine / "email.mjml.j2").write_text(source)
        s = replace(EmailSettings.from_config(cfg), template=str(mine / "email.mjml.j2"))
        fast, slow = both_ways(issue, s)
        assert tree(fast.html) == tree(slow.html), name
        assert fast.html.count("zzjinja") == 0, name
    assert email_mod._compiled(cases["include"], email_mod._css_path(None)) is None


def test_a_template_printing_raw_values_still_gets_no_control_characters(tmp_path):
    issue, cfg = hostile_issue(tmp_path)
    mine = tmp_path / "templates"
    mine.mkdir()
    source = (email_mod.bundled_dir() / "email.mjml.j2").read_text().replace("{{ p.title }}", "{{ p.rp.paper.title }}")
    (mine / "email.mjml.j2").write_text(source)
    s = replace(EmailSettings.from_config(cfg), template=str(mine / "email.mjml.j2"))
    fast, slow = both_ways(issue, s)
    assert email_mod._compiled(source, email_mod._css_path(None)) is not None
    assert tree(fast.html) == tree(slow.html)
    assert not re.search("[\x00\x1b\x7f\x85\u202e\u200b]", fast.html)


def test_wrap_is_the_greedy_wrap():
    def reference(text: str, width: int = 72, prefix: str = "") -> str:
        words = text.split()
        if not words:
            return prefix.rstrip()
        lines, line = [], prefix + words[0]
        for word in words[1:]:
            if len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                lines.append(line)
                line = prefix + word
        lines.append(line)
        return "\n".join(lines)

    rng = random.Random(1)
    for _ in range(20000):
        words = ["".join(rng.choice("abcé-") for _ in range(rng.choice([1, 3, 8, 30, 71, 72, 73, 80])))
                 for _ in range(rng.randint(0, 30))]
        text = "".join(w + rng.choice([" ", "  ", "\n", " \t"]) for w in words)
        width, prefix = rng.choice([72, 20, 5, 3]), rng.choice(["", "> ", "-- "])
        assert _wrap(text, width, prefix) == reference(text, width, prefix), (text, width, prefix)


def test_collapse_and_cut_give_what_the_regex_passes_give():
    def collapse_ref(t: str) -> str:
        return _SPACE.sub(" ", strip_control(t)).strip() if t else ""

    def cut_ref(text: str, limit: int) -> str:
        text = collapse_ref(text)
        if len(text) <= limit:
            return text
        head = text[: limit - 1]
        if " " in head:
            head = head[: head.rindex(" ")]
        return head.rstrip(" ,;:.-") + "…"

    rng = random.Random(9)
    alphabet = "ab .,\n\t\r\x1c\x1f\x00\x85\xa0\u2028\u200b\u202e\u3000é  -"
    for _ in range(30000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 5, 40, 300, 2500])))
        assert collapse(t) == collapse_ref(t), repr(t)
        limit = rng.choice([1, 10, 50, 600])
        assert cut_at_word(t, limit) == cut_ref(t, limit), (repr(t), limit)
