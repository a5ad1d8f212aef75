"""The operator's and the reader's day (issue: fail fast, sensible defaults,
filters that narrow, a demo that shows everything): readers' filters,
subjects and summaries; the CLI's defaults and answers."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from factories import T0, paper, xpost
from newsletter import config as config_mod
from newsletter.cli import app as cli
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.preferences import Preferences, select
from newsletter.models import Issue
from newsletter.rank import rank
from newsletter.store import Archive

DAY = date(2026, 7, 31)
SECRET = "s3cret-s3cret-s3cret-0123456789"
ENV = {"NEWSLETTER_SECRET": SECRET}


def issue_of(*specs):
    """An issue from (id, categories, title, authors) specs, ranked in order."""
    papers = [paper(i, categories=c, title=t, authors=a) for i, c, t, a in specs]
    posts = [xpost(n, p.arxiv_id, likes=500 - n) for n, p in enumerate(papers)]
    return Issue(date=DAY, title="Hot Papers", created_at=T0, papers=tuple(rank(papers, posts)))


ISSUE = issue_of(
    ("2607.00001", ("cs.CV",), "Diffusion models for images", ("A. Ng",)),
    ("2607.00002", ("cs.CV",), "Segmenting everything", ("B. Lee",)),
    ("2607.00003", ("cs.CL",), "Diffusion language models", ("C. Wu",)),
    ("2607.00004", ("stat.ML",), "Kernel methods", ("G. Hinton",)),
)


def chosen(prefs):
    return [rp.paper.arxiv_id for rp in select(ISSUE, prefs, 20)]


# ------------------------------------------------ filters that narrow
@pytest.mark.parametrize("prefs, ids", [
    (Preferences(("cs.CV",), ("diffusion",)), ["2607.00001"]),                        # category AND keyword
    (Preferences(("cs",), ("diffusion",)), ["2607.00001", "2607.00003"]),              # an archive covers its own
    (Preferences(("cs.CV",)), ["2607.00001", "2607.00002"]),
    (Preferences(keywords=("diffusion",)), ["2607.00001", "2607.00003"]),
    (Preferences(("cs.CV",), ("diffusion",), ("Hinton",)), ["2607.00001", "2607.00004"]),  # followed: always in
    (Preferences(authors=("Hinton",)), ["2607.00004"]),
    (Preferences(authors=("Nobody",)), []),
    (Preferences(("cs.CV",), ("diffusion",), match="any"), ["2607.00001", "2607.00002", "2607.00003"]),
])
def test_categories_and_keywords_narrow_and_followed_authors_always_get_in(prefs, ids):
    assert chosen(prefs) == ids


def test_earlier_preferences_keep_their_meaning_until_saved():
    old = json.dumps({"categories": ["cs.CV"], "keywords": ["diffusion"], "authors": [], "max_papers": None,
                      "frequency": "daily", "paused_until": None})  # stored before the narrowing rule
    legacy = Preferences.from_json(old)
    assert legacy.match == "any" and len(chosen(legacy)) == 3
    only_categories = Preferences.from_json(json.dumps({"categories": ["cs.CV"], "keywords": []}))
    assert only_categories.match == "narrow"  # the same meaning under both rules
    saved = Preferences.from_json(Preferences(("cs.CV",), ("diffusion",)).to_json())
    assert saved.match == "narrow" and chosen(saved) == ["2607.00001"]


def web_config(tmp_path, categories=("cs", "stat.ML")):
    return config_mod.from_dict({"newsletter": {"site_url": "https://hot.example.org",
                                                "categories": list(categories)},
                                 "email": {"from": "p@hot.example.org"}}, base_dir=tmp_path)


def call(app, method, path, form=None, query=""):
    import io
    body = urlencode(form or {}, doseq=True).encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "192.0.2.1",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO()}
    got = {}
    data = b"".join(app(environ, lambda s, h: got.setdefault("status", s)))
    return got["status"], data.decode()


def test_the_preference_page_says_how_filters_combine_and_saving_moves_to_the_new_rule(tmp_path):
    from newsletter.delivery.web import make_app
    from weblinks import token_for
    cfg = web_config(tmp_path)
    with Archive(cfg.store_path) as a:
        SubscriberStore(a).add("old@example.org", "", T0)
        a.db.execute("UPDATE subscribers SET prefs = ?", (json.dumps({"categories": ["cs.CV"],
                                                                        "keywords": ["diffusion"]}),))
    app = make_app(cfg, ENV)
    token = token_for(cfg.store_path, "old@example.org", SECRET, "preferences")
    status, html = call(app, "GET", "/preferences", query=urlencode({"t": token}))
    assert status == "200 OK"
    assert "a paper must be in one of your categories and match one of your keywords" in html
    assert "papers by authors you follow are always in" in html and "keeps the earlier rule" in html
    status, html = call(app, "POST", "/preferences", {"t": token, "categories": ["cs.CV"], "keywords": "diffusion",
                                                       "frequency": "daily"})
    assert status == "200 OK" and "keeps the earlier rule" not in html
    with Archive(cfg.store_path) as a:
        assert SubscriberStore(a).get("old@example.org").prefs.match == "narrow"


def test_subcategories_are_offered_under_each_configured_archive(tmp_path):
    from newsletter.delivery.web import make_app
    cfg = web_config(tmp_path)
    app = make_app(cfg, ENV)
    status, html = call(app, "GET", "/subscribe")
    assert "<legend>cs — Computer Science</legend>" in html
    assert '<label for="cat-cs">All of Computer Science (cs)</label>' in html
    assert '<label for="cat-cs-LG">cs.LG — Machine Learning</label>' in html
    assert '<label for="cat-stat-ML">stat.ML — Machine Learning</label>' in html and "stat.AP" not in html
    assert len(set(re.findall(r'id="(cat-[^"]+)"', html))) == len(re.findall(r'id="cat-', html))  # ids unique
    assert call(app, "POST", "/subscribe", {"email": "x@example.org", "categories": ["cs.LG"]})[0] == "200 OK"
    status, html = call(app, "POST", "/subscribe", {"email": "y@example.org", "categories": ["math.PR"]})
    assert status == "400 Bad Request" and "not among this newsletter" in html


# ------------------------------------------ a subject that fits the reader
def test_each_readers_subject_names_their_own_top_paper(tmp_path):
    from newsletter.delivery.editions import Editions
    from newsletter.render.email import EmailSettings
    cfg = web_config(tmp_path)
    editions = Editions(ISSUE, EmailSettings.from_config(cfg))
    from newsletter.delivery.ledger import Subscriber
    kernel = Subscriber("k@example.org", "", "subscribed", T0, T0, Preferences(keywords=("kernel",)))
    everyone = Subscriber("e@example.org", "", "subscribed", T0, T0)
    assert editions.for_reader(kernel).subject == "Hot Papers 2026-07-31: Kernel methods"
    assert editions.for_reader(everyone).subject == "Hot Papers 2026-07-31: Diffusion models for images"


# ------------------------------------------ summaries that count apart
def test_the_send_summary_counts_paused_weekly_only_and_nothing_matched_apart(tmp_path):
    from newsletter.delivery.send import DryRunSummary, SendSummary
    from newsletter.models import IssueKey
    s = SendSummary(IssueKey.of_day(DAY), sent=3, nothing=3, skips={"paused": 1, "frequency": 1, "nothing": 1})
    line = s.line()
    assert "1 paused" in line and "1 on the other frequency" in line and "1 with nothing on their topics" in line
    d = DryRunSummary(IssueKey.of_day(DAY), "S", skips={"paused": 2})
    assert "2 paused" in d.line() and "nothing on their topics" not in d.line()


# ------------------------------------------------ the CLI's defaults
def two_days(tmp_path):
    (tmp_path / "newsletter.toml").write_text('[newsletter]\nsite_url = "https://hot.example.org"\n')
    with Archive(tmp_path / "newsletter.db") as a:
        for d, n in ((date(2026, 7, 30), 1), (DAY, 2)):
            ids = [f"26{d.day:02d}.{i:05d}" for i in range(n)]
            a.save_day_papers(d, [paper(i, title=f"Paper {i}") for i in ids])
            a.save_posts([xpost(f"{d.day}{k}", i, likes=90) for k, i in enumerate(ids)])
            a.save_issue(d, T0, n)
    return tmp_path / "newsletter.toml"


def run(cfg_path, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg_path), *args])


def test_commands_that_read_the_archive_default_to_its_newest_issue(tmp_path):
    cfg_path = two_days(tmp_path)
    r = run(cfg_path, "rank")
    assert r.exit_code == 0 and "Hot Papers 2026-07-31: 2 of 2 papers ranked" in r.output
    r = run(cfg_path, "status")
    assert r.exit_code == 0 and "2026-07-31: 0 sent" in r.output
    r = run(cfg_path, "build")
    assert r.exit_code == 0 and "2026-07-31---Hot-Papers.md" in r.output
    r = run(cfg_path, "issues")
    assert r.exit_code == 0
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert lines == [["2026-07-31", "2", "2", "built", "not sent"], ["2026-07-30", "1", "1", "not built", "not sent"]]
    r = run(cfg_path, "status", "--week", "2026-07-29")
    assert r.exit_code == 0 and "2026-W31: 0 sent" in r.output


@pytest.mark.parametrize("command", [["rank"], ["status"], ["issues"], ["build"], ["send", "--dry-run"],
                                     ["preview", "--no-open"], ["subscribers", "list"]])
def test_a_command_that_reads_never_creates_an_archive(tmp_path, command):
    (tmp_path / "newsletter.toml").write_text("")
    r = run(tmp_path / "newsletter.toml", *command)
    assert r.exit_code == 1 and "no archive at" in r.output and "newsletter fetch" in r.output
    assert not (tmp_path / "newsletter.db").exists()


def test_help_documents_every_exit_code_and_the_commands_say_what_they_serve():
    r = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "400"})
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", r.output).split())
    for code in ("0 ok", "1 error", "2 wrong usage", "3 no arXiv mailing", "4 nothing reached", "5 some recipients",
                 "130 interrupted"):
        assert code in text, code
    r = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert "subscribe, confirm, preferences, unsubscribe" in r.output
    r = CliRunner().invoke(cli, ["preview", "--help"], env={"COLUMNS": "200"})
    assert "8765" in r.output and "8025" not in r.output  # not the SMTP sink's port
    r = CliRunner().invoke(cli, ["status", "--week", "nope"])
    assert r.exit_code == 1 and "2026-W31" in r.output


# ------------------------------------------------------- failing fast
def client(**kw):
    from newsletter.http import HttpClient
    sleeps = []
    return HttpClient(user_agent="t", retries=4, backoff=2.0, sleep=sleeps.append, service="arXiv", **kw), sleeps


@pytest.mark.parametrize("url, words", [
    ("http://newsletter-test.invalid/api", "cannot resolve newsletter-test.invalid: is the machine offline"),
    ("http://127.0.0.1:9/api", "127.0.0.1 refused the connection"),
])
def test_an_unreachable_host_fails_at_once_without_retries(url, words):
    from newsletter.errors import SourceError
    http, sleeps = client()
    with pytest.raises(SourceError) as e:
        http.get(url)
    assert words in str(e.value) and str(e.value).startswith("arXiv: ")
    assert sleeps == [] and http.request_count == 1  # one try, no backoff


def test_busy_servers_are_retried_and_each_retry_is_shown():
    import responses as rsps
    shown = []
    http, sleeps = client(on_retry=shown.append)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.GET, "https://export.arxiv.org/api/query", status=503)
        mock.add(rsps.GET, "https://export.arxiv.org/api/query", status=429, headers={"Retry-After": "8"})
        mock.add(rsps.GET, "https://export.arxiv.org/api/query", body="ok")
        assert http.get("https://export.arxiv.org/api/query").text == "ok"
    assert sleeps == [2.0, 8.0]
    assert shown == ["arXiv: retry 1/4 in 2 s (HTTP 503)", "arXiv: retry 2/4 in 8 s (HTTP 429)"]


def test_fetch_with_no_network_says_so_in_one_line(tmp_path):
    cfg_path = tmp_path / "newsletter.toml"
    cfg_path.write_text('[arxiv]\napi_url = "http://127.0.0.1:9/api/query"\nrss_url = "http://127.0.0.1:9/rss"\n'
                        'delay_seconds = 0.0\n')
    r = run(cfg_path, "fetch", "--date", "2026-07-31")
    assert r.exit_code == 1 and "retry" not in r.output  # a refused connection is not retried
    (line,) = [x for x in r.output.splitlines() if x.startswith("Error:")]
    assert "arXiv: 127.0.0.1 refused the connection" in line


# ---------------------------------------------- fidelity and leftovers
def test_a_post_linking_two_papers_of_the_day_is_embedded_once(tmp_path):
    import responses as rsps

    import arxiv_atom
    from newsletter.fetch import fetch_day
    from newsletter.seams import Seams
    from xpages import page, tweet
    from conftest import make_config, only_sources
    api, search, oembed = "https://export.test/api/query", "https://x.test/2/tweets/search/recent", "https://o.test"
    published = datetime(2026, 7, 30, 12, tzinfo=timezone.utc)
    both = tweet(1, "ada", ["https://arxiv.org/abs/2607.00001", "https://arxiv.org/abs/2607.00002"], likes=90)
    cfg = make_config(tmp_path, arxiv={"api_url": api},
                      sources={**only_sources("x"), "x": {"api_url": "https://x.test/2", "oembed_url": oembed}})
    with rsps.RequestsMock() as mock:
        mock.get(api, body=arxiv_atom.feed([(paper("2607.00001"), published), (paper("2607.00002"), published)]))
        mock.get(search, json=json.loads(json.dumps(page([both]))))
        mock.get(oembed, json={"html": '<blockquote class="twitter-tweet"><p>x</p></blockquote>'})
        with Archive(cfg.store_path) as a:
            s = fetch_day(cfg, DAY, a, Seams(now=lambda: datetime(2026, 8, 3, tzinfo=timezone.utc),
                                             env={"X_BEARER_TOKEN": "t"}, sleep=lambda s: None))
        oembeds = [c for c in mock.calls if c.request.url.startswith(oembed)]
    assert s.ranked == 2 and len(oembeds) == 1 and s.requests["x_oembed"] == 1


def test_an_entity_in_a_title_is_kept_as_written_never_expanded_or_cut():
    from newsletter.sources import arxiv as ax
    body = b'''<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY e "EXPANDED">]>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
<entry><id>http://arxiv.org/abs/2607.00001v1</id><title>Symbolic &xxe; Regression &amp; &e; more</title>
<summary>An abstract &e; with a tail</summary><published>2026-07-30T10:00:00Z</published>
<updated>2026-07-30T10:00:00Z</updated><author><name>A &e; Author</name></author>
<arxiv:primary_category term="cs.LG"/><category term="cs.LG"/><link title="pdf" href="x"/></entry></feed>'''
    p = ax.entry_to_paper(ax._parse_xml(body, "t").find("atom:entry", ax.NS))
    assert p.title == "Symbolic &xxe; Regression & &e; more"
    assert p.abstract == "An abstract &e; with a tail" and p.authors == ("A &e; Author",)
    assert "root:" not in p.title and "EXPANDED" not in p.title + p.abstract


def test_temporary_files_a_killed_build_left_are_removed_by_the_next_build(tmp_path):
    import os
    from newsletter.build import build_day
    from conftest import make_config
    cfg = make_config(tmp_path, output={"feeds_dir": str(tmp_path / "public-feeds"), "site_dir": str(tmp_path / "www")})
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=90)])
        a.save_issue(DAY, T0, 1)
        build_day(cfg, DAY, a)
        left = [cfg.feeds_dir / ".daily.atom.k1ll3d.tmp", cfg.feeds_dir / ".papers.atom.x9.tmp",
                cfg.site_dir / ".index.html.abc.tmp", cfg.posts_dir / ".2026-07-31---Hot-Papers.md.q.tmp"]
        for f in left:  # just now, as a SIGKILL leaves them
            f.write_text("half")
        build_day(cfg, DAY, a)
    assert not [f for f in left if f.exists()]
    assert (cfg.feeds_dir / "daily.atom").exists() and not os.listdir(cfg.feeds_dir) == []


def test_a_held_paper_the_signals_link_is_a_warning(tmp_path):
    import responses as rsps

    import arxiv_atom
    from newsletter.fetch import fetch_day
    from newsletter.seams import Seams
    from newsletter.sources.base import NullReporter
    from xpages import page, tweet
    from conftest import make_config, only_sources
    api, search = "https://export.test/api/query", "https://x.test/2/tweets/search/recent"
    published = datetime(2026, 7, 30, 12, tzinfo=timezone.utc)
    day_papers = [paper("2607.00001"), paper("2607.00005")]
    held, other = paper("2607.00003", categories=("cs.LG",)), paper("2607.00004", categories=("hep-th",))
    posts = [tweet(1, "a", ["https://arxiv.org/abs/2607.00003"], likes=10),
             tweet(2, "b", ["https://arxiv.org/abs/2607.00003"], likes=10),
             tweet(3, "c", ["https://arxiv.org/abs/2607.00004"], likes=10),
             tweet(4, "d", ["https://arxiv.org/abs/2607.00001"], likes=90)]
    cfg = make_config(tmp_path, arxiv={"api_url": api}, newsletter={"categories": ["cs"]},
                      sources={**only_sources("x"), "x": {"api_url": "https://x.test/2", "oembed_url": "https://o.t"}})
    reporter = NullReporter()
    calls = []

    def by_ids(request):
        calls.append(request.url)
        return 200, {}, arxiv_atom.feed([(held, published), (other, published)])

    with rsps.RequestsMock() as mock:
        ids = rsps.matchers.query_param_matcher({"id_list": "2607.00003,2607.00004", "max_results": "2"})
        mock.add_callback(rsps.GET, api, callback=by_ids, match=[ids])  # first: it matches only by ids
        mock.get(api, body=arxiv_atom.feed([(p, published) for p in day_papers]))
        mock.get(search, json=json.loads(json.dumps(page(posts))))
        mock.get("https://o.t", status=404)
        with Archive(cfg.store_path) as a:
            s = fetch_day(cfg, DAY, a, Seams(now=lambda: datetime(2026, 8, 3, tzinfo=timezone.utc),
                                             env={"X_BEARER_TOKEN": "t"}, sleep=lambda s: None), reporter)
    assert len(calls) == 1  # one request for the linked papers, whatever their number
    assert ("2 posts link 2607.00003, which is not in this mailing's archive (arXiv announced it on another day, "
            "likely held for moderation)") in reporter.warnings
    assert not any("2607.00004" in w for w in reporter.warnings)  # another category: not ours
    assert s.papers == 2


# ------------------------------------------------------------ catching up
def test_run_catches_up_on_missed_mailings_and_sends_only_the_newest(tmp_path):
    import re as _re
    from datetime import timedelta

    import responses as rsps

    import arxiv_atom
    from newsletter import mailing
    from newsletter.fetch import import_signals
    from newsletter.pipeline import run_day
    from newsletter.seams import Seams
    from conftest import make_config, only_sources
    api = "https://export.test/api/query"
    cfg = make_config(tmp_path, arxiv={"api_url": api, "rss_url": "https://rss.test/rss"}, sources=only_sources(),
                      run={"catch_up_days": 5})
    days = [date(2026, 7, 27), date(2026, 7, 28), date(2026, 7, 29), date(2026, 7, 30), DAY]
    ids = {d: f"2607.{d.day:05d}" for d in days}

    def answer(request):  # each day's window holds that day's one paper
        start = _re.search(r"submittedDate%3A%5B(\d{12})", request.url) or _re.search(r"submittedDate:\[(\d{12})",
                                                                                       request.url)
        for d in days:
            w = mailing.submission_window(d)
            if start and w.start.strftime("%Y%m%d%H%M") == start.group(1):
                return 200, {}, arxiv_atom.feed([(paper(ids[d]), w.start + timedelta(hours=1))])
        return 200, {}, arxiv_atom.feed([])

    now = mailing.announced_at(DAY) + timedelta(hours=3)
    seams = Seams(now=lambda: now, env={}, sleep=lambda s: None)
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(rsps.GET, api, callback=answer)
        mock.get("https://rss.test/rss/cs+stat.ML", status=503)
        with Archive(cfg.store_path) as a:
            csv = "arxiv,source,score\n" + "".join(f"{i},mastodon,120\n" for i in ids.values())
            import_signals(a, csv, "signals.csv", now)
            run_day(cfg, days[0], a, seams, send=False)  # the last run before the machine went off
            result = run_day(cfg, DAY, a, seams, send=False, catching_up=True)
            archived = a.issue_days()
    assert archived == sorted(days, reverse=True)  # no hole
    assert result.caught_up == ["2026-07-28 built", "2026-07-29 built", "2026-07-30 built"]
    assert "caught up 2026-07-28 built, 2026-07-29 built, 2026-07-30 built (not sent)" in result.line()
    for d in days:
        assert (cfg.posts_dir / f"{d}---Hot-Papers.md").exists()


def test_catching_up_is_bounded_and_skips_weekends(tmp_path):
    from newsletter.pipeline import missed_days
    from conftest import make_config
    cfg = make_config(tmp_path, run={"catch_up_days": 2})
    with Archive(cfg.store_path) as a:
        a.save_issue(date(2026, 7, 20), T0, 1)
        assert missed_days(cfg, a, date(2026, 7, 31)) == [date(2026, 7, 29), date(2026, 7, 30)]
        assert missed_days(cfg, a, date(2026, 7, 21)) == []
    cfg = make_config(tmp_path, run={"catch_up_days": 5})
    with Archive(cfg.store_path) as a:
        assert missed_days(cfg, a, date(2026, 7, 27)) == [date(2026, 7, 21), date(2026, 7, 22), date(2026, 7, 23),
                                                           date(2026, 7, 24)]  # Saturday and Sunday skipped


@pytest.mark.parametrize("n, plural, text", [(1, "replies", "1 reply"), (2, "replies", "2 replies"),
                                             (1, "likes", "1 like"), (0, "likes", "0 likes"),
                                             (1, "points", "1 point"), (1, "upvotes", "1 upvote")])
def test_figures_are_counted_in_the_right_number(n, plural, text):
    from newsletter.render.common import counted
    assert counted(n, plural) == text
