"""Quotes that read like posts: short links replaced by what X's
entities.urls says they stand for, pictures as "[image]", and nothing of a
link's target trusted beyond being an http(s) URL."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import FIXTURES
from factories import xpost
from newsletter.render.common import post_html, post_pieces, post_plain
from newsletter.sources.x import short_links
from newsletter.store import Archive

AT = datetime(2026, 7, 31, 12, tzinfo=timezone.utc)


def test_short_links_come_from_a_real_search_answer():
    payload = json.loads((FIXTURES / "x_api" / "v2-search-all-commtwitter-5-results-expansions.json").read_text())
    found = {}
    for tweet in payload["data"]:
        found.update({s: (t, d) for s, t, d in short_links(tweet)})
    assert found == {
        "https://t.co/stoYToSHfz": ("https://www.natcom.org/convention-events/nca-sponsored-events/"
                                    "nca-doctoral-honors-seminar", "Natcom.org/DHS"),
        "https://t.co/AQhHUXbAhH": ("https://www.natcom.org/convention-events/nca-sponsored-events/"
                                    "nca-chairs-summer-institute", "Natcom.org/CSI")}


def test_a_tweet_only_keeps_links_it_shows_with_web_targets():
    tweet = {"text": "see https://t.co/aaa and https://t.co/bbb", "entities": {"urls": [
        {"url": "https://t.co/aaa", "expanded_url": "https://arxiv.org/abs/2106.08254", "display_url": "arxiv.org/abs/2106…"},
        {"url": "https://t.co/bbb", "expanded_url": "javascript:alert(1)", "display_url": "x"},
        {"url": "https://t.co/ccc", "expanded_url": "https://elsewhere.example", "display_url": "elsewhere"},
        "junk", {"url": None}]}}
    assert short_links(tweet) == (("https://t.co/aaa", "https://arxiv.org/abs/2106.08254", "arxiv.org/abs/2106…"),)


def test_links_are_expanded_pictures_marked_and_unknown_short_links_hidden():
    post = xpost(1, "2106.08254", text="BEiT pdf: https://t.co/aaa, code https://github.com/microsoft/unilm/tree/"
                 "master/beit. More https://t.co/zzz pic.twitter.com/abMaWZ1aZ8 https://t.co/pic",
                 links=(("https://t.co/aaa", "https://arxiv.org/pdf/2106.08254", "arxiv.org/pdf/2106.08254"),
                        ("https://t.co/pic", "https://twitter.com/ak92501/status/1/photo/1", "pic.twitter.com/x")))
    assert post_pieces(post) == [
        ("BEiT pdf: ", ""), ("arxiv.org/pdf/2106.08254", "https://arxiv.org/pdf/2106.08254"), (", code ", ""),
        ("github.com/microsoft/unilm/tree/master/…", "https://github.com/microsoft/unilm/tree/master/beit"),
        (". More ", ""), ("[link]", "https://t.co/zzz"), (" ", ""),
        ("[image]", "https://pic.twitter.com/abMaWZ1aZ8"), (" ", ""),
        ("[image]", "https://twitter.com/ak92501/status/1/photo/1")]
    html = str(post_html(post))
    assert '<a href="https://arxiv.org/pdf/2106.08254">arxiv.org/pdf/2106.08254</a>' in html
    assert ">t.co" not in html and "t.co/zzz</a>" not in html
    assert "https://arxiv.org/pdf/2106.08254" in post_plain(post) and "https://t.co/aaa" not in post_plain(post)


def test_hostile_text_and_targets_stay_text():
    post = xpost(1, "2106.08254", text='<script>alert(1)</script> https://t.co/a"onmouseover=alert(1) x',
                 links=(("https://t.co/a", 'https://e.example/"><script>', '<b>bold</b>'),))
    html = str(post_html(post))
    assert "<script>" not in html and "<b>" not in html and 'onmouseover=alert(1) x' in html
    assert '<a href="https://e.example/&#34;&gt;&lt;script&gt;">&lt;b&gt;bold&lt;/b&gt;</a>' in html


def test_the_archive_keeps_what_links_stand_for(tmp_path):
    from newsletter.store import Archive
    from factories import paper

    post = xpost(7, "2607.00001", text="new https://t.co/q",
                 links=(("https://t.co/q", "https://arxiv.org/abs/2607.00001", "arxiv.org/abs/2607.00001"),))
    with Archive(tmp_path / "a.db") as a:
        a.save_day_papers(AT.date(), [paper("2607.00001")])
        a.save_posts([post])
        (back,) = a.day_posts(AT.date())
    assert back.links == post.links
