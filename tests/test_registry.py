"""The seams: the registry drives config, ranking and rendering; one paging
loop; typed config generated into the init file; the clock and time zones."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import datetime, timezone

import pytest
import responses

from conftest import make_config
from newsletter import config
from newsletter.delivery.tokens import make_token, read_token
from newsletter.models import Post
from newsletter.rank import RankingRule, post_score, rank
from newsletter.render.common import figures_text
from newsletter.render.markdown import figure_line
from newsletter.sources import REGISTRY
from newsletter.sources.base import SearchResult
from newsletter.sources.common import Page, paginate, parse_time

NOW = datetime(2026, 8, 1, 12, tzinfo=timezone.utc)


def post(pid, source="x", **metrics):
    return Post(source, str(pid), f"https://example.org/{pid}", "h", "n", "t", None, metrics, NOW, ("2607.00001",))


def test_every_registered_source_has_a_config_table_weight_score_and_line():
    cfg = make_config(__import__("pathlib").Path("."))
    toml = config.default_toml()
    for name, s in REGISTRY.items():
        assert cfg.source(name).enabled is True and cfg.ranking.weights[name] == s.weight
        assert f"[sources.{name}]" in toml and f"{name} = " in toml.split("[ranking.weights]")[1]
        assert s.score and all(m in dict(s.shown) for m in s.score)
        metrics = {m: 3 for m in s.score}
        assert post_score(post(1, name, **metrics)) == 3 * len(s.score)  # never silently 0
        line = figure_line(name, {**metrics, "posts": 1}, NOW)
        assert line.startswith("- ") and "(08/01/2026 12:00:00)" in line


def test_an_imported_source_scores_its_score_and_shows_its_figures():
    p = post(1, "mastodon", score=60, boosts=4)
    (rp,) = rank([__import__("factories").paper("2607.00001")], [p], RankingRule())
    assert rp.score == 60
    assert figures_text(rp.figures[0]) == "mastodon: 4 boosts, 60 score"
    assert figure_line("mastodon", rp.figures[0].totals, NOW) == "- mastodon: boosts: 4, posts: 1, score: 60 (08/01/2026 12:00:00)"


def test_paginate_drops_posts_repeated_across_overlapping_pages_and_counts_bad_ones():
    pages = {None: Page([post(1), post(2)], "b", {"bad id": 1}), "b": Page([post(2), post(3)], "c", {"bad id": 2}),
             "c": Page([post(3)], None, {})}
    calls = []

    def get(cursor):
        calls.append(cursor)
        return pages[cursor]

    r = paginate(SearchResult(), get, label="t", max_requests=10)
    assert [p.post_id for p in r.posts] == ["1", "2", "3"] and calls == [None, "b", "c"]
    assert r.requests == 3 and r.bad == {"bad id": 3} and r.capped is None
    r = paginate(SearchResult(), get, label="t", max_requests=2)
    assert r.requests == 2 and r.capped == "t: stopped at max_requests = 2"
    r = paginate(SearchResult(), get, label="t", max_requests=9, max_posts=2)
    assert r.requests == 1 and r.capped == "t: stopped at max_posts = 2"


def test_tokens_name_a_handle_for_one_purpose_under_one_secret():
    token = make_token("s" * 32, "AbC-123_xyz")
    assert read_token("s" * 32, token).handle == "AbC-123_xyz"  # handles are case-sensitive, kept as made
    assert read_token("s" * 32, token, "preferences") is None and read_token("t" * 32, token) is None
    assert read_token("s" * 32, token.replace("AbC", "abc")) is None


@responses.activate
def test_the_configured_x_endpoint_is_used(tmp_path):
    from newsletter.http import HttpClient
    from newsletter.mailing import Window
    from newsletter.sources import x
    from sourcectx import ctx
    from xpages import page
    responses.get("https://x.test/2/tweets/search/all", json=page([]))
    cfg = make_config(tmp_path, sources={"x": {"api_url": "https://x.test/2", "endpoint": "all"}}).source("x")
    window = Window(datetime(2026, 7, 31, tzinfo=timezone.utc), datetime(2026, 8, 1, tzinfo=timezone.utc))
    x.collect(ctx(HttpClient(user_agent="t", retries=0), cfg, window=window, now=NOW, env={"X_BEARER_TOKEN": "T"}))
    assert responses.calls[0].request.url.startswith("https://x.test/2/tweets/search/all?")
    assert "max_results=500" in responses.calls[0].request.url


@pytest.mark.parametrize("value, want", [
    ("2026-07-31T10:00:00", datetime(2026, 7, 31, 10, tzinfo=timezone.utc)),
    ("2026-07-31T10:00:00Z", datetime(2026, 7, 31, 10, tzinfo=timezone.utc)),
    ("2026-07-31T12:00:00+02:00", datetime(2026, 7, 31, 10, tzinfo=timezone.utc)),
    ("yesterday", None), ("", None), (None, None), (12, None),
])
def test_times_without_a_zone_are_utc(value, want):
    assert parse_time(value) == want


def test_times_without_a_zone_do_not_depend_on_the_host_zone():
    code = ("from newsletter.sources.common import parse_time;"
            "from newsletter.sources.imported import parse;"
            "from datetime import datetime, timezone;"
            "p, e = parse('arxiv,source,score,created_at\\n2607.00001,lab,5,2026-07-31T10:00:00\\n', 's.csv', "
            "datetime(2026, 8, 1, tzinfo=timezone.utc));"
            "print(parse_time('2026-07-31T10:00:00').isoformat(), p[0].created_at.isoformat())")
    outs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": tz}, capture_output=True,
                           text=True, check=True).stdout for tz in ("UTC", "Asia/Tokyo", "America/Los_Angeles")}
    assert outs == {"2026-07-31T10:00:00+00:00 2026-07-31T10:00:00+00:00\n"}


def test_init_file_is_generated_from_the_definitions_and_loads_back(tmp_path):
    text = config.default_toml()
    data = tomllib.loads(text)
    assert set(data) == set(config.SECTIONS)
    assert config.from_dict(data, base_dir=tmp_path) == config.from_dict({}, base_dir=tmp_path)
    assert 'security = "starttls"' in text and "# starttls | tls | none" in text
    assert 'from = "Hot Papers <hotpapers@example.org>"' in text  # a TOML key that is a Python keyword
