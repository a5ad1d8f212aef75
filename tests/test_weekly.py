"""Hot Papers of the Week on loopback, in the real arXiv and X formats: a
paper noticed late (absent from its daily issue, new in the week's), a paper
hot at once (in both), a paper of the previous week that is hot during this
week (absent), a holiday; X searched once for the week, paged by what it finds."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
import responses

import arxiv_atom
from conftest import make_config, only_sources
from factories import paper
from newsletter import mailing
from newsletter.delivery.ledger import SubscriberStore
from newsletter.delivery.preferences import Preferences
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.build import build_day
from newsletter.fetch import fetch_day
from newsletter.issues import load_issue
from newsletter.store import Archive
from newsletter.weekly import build_week, dry_run_week, fetch_week, load_week
from xpages import page, tweet

API = "https://export.test/api/query"
X = "https://x.test/2"
MON = date(2026, 7, 27)
WED = date(2026, 7, 29)  # a holiday: arXiv announces nothing
PREV_FRI = date(2026, 7, 24)
PER_PAGE = 2


def published(day):
    return mailing.submission_window(day).start + timedelta(hours=1)


PAPERS = {  # arXiv id -> (mailing day, title)
    "2607.10001": (MON, "Hot at once"),
    "2607.10002": (MON + timedelta(days=1), "Noticed late"),
    "2607.10003": (MON + timedelta(days=3), "Quiet on Thursday"),
    "2607.10004": (MON + timedelta(days=4), "Friday paper"),
    "2607.09999": (PREV_FRI, "Last week's paper, hot this week"),
}


def at(day, hours):
    return mailing.announced_at(day) + timedelta(hours=hours)


TWEETS = [  # (id, paper, when, likes)
    *[(100 + i, "2607.10001", at(MON, 3 + i), 40) for i in range(3)],          # hot at once: 120 + retweets
    *[(200 + i, "2607.10002", at(MON + timedelta(days=1), 70 + i), 50) for i in range(3)],  # after 48 h
    *[(300 + i, "2607.09999", at(WED, 1 + i), 60) for i in range(3)],            # previous week's paper
    (400, "2607.10004", at(MON + timedelta(days=4), 2), 10),
]


def serve():
    def api(request):
        q = parse_qs(urlsplit(request.url).query)["search_query"][0]
        lo, hi = re.search(r"submittedDate:\[(\d+) TO (\d+)\]", q).groups()
        start = datetime.strptime(lo, "%Y%m%d%H%M").replace(tzinfo=timezone.utc)
        end = datetime.strptime(hi, "%Y%m%d%H%M").replace(tzinfo=timezone.utc)
        rows = [(paper(i, title=t, categories=("cs.LG",)), published(d)) for i, (d, t) in PAPERS.items()
                if start <= published(d) < end and d != WED]
        return 200, {}, arxiv_atom.feed(rows)

    def search(request):
        q = parse_qs(urlsplit(request.url).query)
        start = datetime.fromisoformat(q["start_time"][0].replace("Z", "+00:00"))
        end = datetime.fromisoformat(q["end_time"][0].replace("Z", "+00:00"))
        found = [tweet(t, f"user{t}", [f"https://arxiv.org/abs/{p}"], likes=likes, retweets=5,
                       created=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
                 for t, p, when, likes in TWEETS if start <= when < end]
        offset = int(q.get("next_token", ["0"])[0])
        chunk = found[offset: offset + PER_PAGE]
        more = offset + PER_PAGE < len(found)
        return 200, {}, json.dumps(page(chunk, str(offset + PER_PAGE) if more else None))

    responses.add_callback(responses.GET, API, callback=api)
    responses.add_callback(responses.GET, f"{X}/tweets/search/all", callback=search)
    responses.add_callback(responses.GET, f"{X}/tweets/search/recent", callback=search)
    responses.get("https://oembed.test/oembed", status=404)


def config(tmp_path):
    return make_config(tmp_path, arxiv={"api_url": API}, newsletter={"site_url": "https://hot.example.org"},
                       sources={**only_sources("x"), "x": {"api_url": X, "oembed_url": "https://oembed.test/oembed"}},
                       weekly={"min_paper_score": 100},
                       email={"from": "Hot Papers <papers@hot.example.org>"})


def seams(now):
    return Seams(now=lambda: now, env={"X_BEARER_TOKEN": "t", "NEWSLETTER_SECRET": "s" * 32}, sleep=lambda s: None)


def x_searches():
    return [c for c in responses.calls if "/tweets/search/" in c.request.url]


@responses.activate
def test_a_week_with_a_late_bloomer_a_hot_paper_an_old_paper_and_a_holiday(tmp_path):
    serve()
    cfg = config(tmp_path)
    with Archive(cfg.store_path) as a:
        for d in [PREV_FRI, MON, MON + timedelta(days=1), MON + timedelta(days=3), MON + timedelta(days=4)]:
            fetch_day(cfg, d, a, seams(at(d, 50)), NullReporter())  # each day fetched after its 48 h window
        daily = {d: [rp.paper.arxiv_id for rp in load_issue(cfg, a, d).papers]
                 for d in [MON, MON + timedelta(days=1)]}
        assert daily[MON] == ["2607.10001"]
        assert daily[MON + timedelta(days=1)] == []  # its posts came after the daily window

        responses.calls.reset()
        week_now = at(MON + timedelta(days=4), 24 * 8)
        summary = fetch_week(cfg, WED, a, seams(week_now), NullReporter())
        assert summary.week == "2026-W31"
        assert summary.days["2026-07-29"] == "no mailing (holiday?)"
        assert summary.days["2026-07-27"] == "archived"
        in_window = [t for t in TWEETS if mailing.week_window(MON, 7, week_now).start <= t[2]]
        # one paged search for the whole week: requests follow the posts found, not days or papers
        assert len(x_searches()) == math.ceil(len(in_window) / PER_PAGE) == summary.signals.requests["x"]
        assert all("2026-07-23" in c.request.url or "start_time=2026-07-23" in c.request.url
                   for c in x_searches()[:1])

        week = load_week(cfg, a, MON)
        ids = [rp.paper.arxiv_id for rp in week.papers]
        assert ids == ["2607.10002", "2607.10001"]  # 165 then 135 points; last week's paper is absent
        assert week.is_late("2607.10002") and not week.is_late("2607.10001")
        assert week.mailing_date("2607.10002") == MON + timedelta(days=1)
        # the daily issues stay as they were: late posts do not change them
        assert [rp.paper.arxiv_id for rp in load_issue(cfg, a, MON + timedelta(days=1)).papers] == []

        build_day(cfg, MON, a)
        built = build_week(cfg, WED, a)
    assert str(built.key) == "2026-W31" and built.late == 1
    post = (cfg.posts_dir / "2026-W31---Hot-Papers-of-the-Week.md").read_text()
    assert "title: Hot Papers of the Week 2026-W31" in post and 'slug: "hot-papers-of-the-week-2026-w31"' in post
    assert "- arXiv mailing: 2026-07-28 (new this week)" in post and "- arXiv mailing: 2026-07-27\n" in post
    page_html = (cfg.site_dir / "weekly" / "2026-W31" / "index.html").read_text()
    assert "new this week" in page_html and "Noticed late" in page_html and "Last week" not in page_html
    assert 'href="weekly/2026-W31/"' in (cfg.site_dir / "index.html").read_text()
    assert (cfg.site_dir / "weekly" / "index.html").exists()
    assert "https://hot.example.org/weekly/2026-W31/" in (cfg.site_dir / "sitemap.xml").read_text()
    feed = feedparser.parse((cfg.feeds_dir / "weekly.atom").read_bytes())
    assert feed.bozo == 0 and feed.entries[0].title == "Hot Papers of the Week 2026-W31"
    assert feed.entries[0].link == "https://hot.example.org/weekly/2026-W31/"
    assert "new this week" in feed.entries[0].content[0].value
    assert (cfg.site_dir / "feeds" / "weekly.rss").exists() and (cfg.feeds_dir / "weekly.json").exists()
    text = (cfg.email_dir / "2026-W31.txt").read_text()
    assert text.startswith("Hot Papers of the Week 2026-W31") and "Mailing of 2026-07-28 (new this week)" in text


@responses.activate
def test_refetching_a_week_refreshes_figures_and_never_shrinks(tmp_path):
    serve()
    cfg = config(tmp_path)
    with Archive(cfg.store_path) as a:
        fetch_week(cfg, MON, a, seams(at(MON + timedelta(days=4), 24 * 3)), NullReporter())
        count = {d: a.day_paper_count(d) for d in mailing.week_mailings(MON)}
        first = {rp.paper.arxiv_id: rp.score for rp in load_week(cfg, a, MON).papers}
        responses.replace(responses.GET, API, body=arxiv_atom.feed([]))  # arXiv now answers nothing
        fetch_week(cfg, MON, a, seams(at(MON + timedelta(days=4), 24 * 8)), NullReporter(), replace=False)
        assert {d: a.day_paper_count(d) for d in mailing.week_mailings(MON)} == count
        later = {rp.paper.arxiv_id: rp.score for rp in load_week(cfg, a, MON).papers}
    assert "2607.10002" in later and later.get("2607.10002", 0) >= first.get("2607.10002", 0)


@responses.activate
def test_weekly_readers_get_the_weekly_issue_and_daily_only_readers_do_not(tmp_path):
    serve()
    cfg = config(tmp_path)
    with Archive(cfg.store_path) as a:
        fetch_week(cfg, MON, a, seams(at(MON + timedelta(days=4), 24 * 8)), NullReporter())
        store = SubscriberStore(a)
        t0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
        store.add("daily@example.org", "", t0)
        store.add("weekly@example.org", "", t0, prefs=Preferences(frequency="weekly"))
        store.add("both@example.org", "", t0, prefs=Preferences(frequency="both"))
        mailer = dry_run_week(cfg, MON, a, seams(datetime(2026, 8, 8, tzinfo=timezone.utc)))
    names = sorted(re.sub(r"^\d+-", "", p.stem) for p in mailer.files)
    assert names == ["both@example.org", "weekly@example.org"]
    assert [n.split(":")[0] for n in mailer.nothing] == ["daily@example.org"]
    assert all(p.parent.name == "2026-W31" for p in mailer.files)
    body = mailer.files[0].read_bytes()
    assert b"Subject: Hot Papers of the Week 2026-W31: Noticed late" in body


def test_week_keys_and_windows():
    assert mailing.week_key(date(2026, 7, 29)) == "2026-W31"
    assert mailing.parse_week("2026-W31") == mailing.parse_week("2026-08-01") == date(2026, 7, 27)
    assert mailing.week_mailings(date(2026, 8, 2)) == [date(2026, 7, 27) + timedelta(days=i) for i in range(5)]
    w = mailing.week_window(date(2026, 7, 29), 7, datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert w.start == mailing.submission_window(date(2026, 7, 27)).start
    assert w.end == mailing.announced_at(date(2026, 7, 31)) + timedelta(days=7)
    with pytest.raises(ValueError):
        mailing.parse_week("2026-W99")
