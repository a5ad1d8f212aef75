import json
from datetime import date, datetime, timezone

import pytest
import responses

from sourcectx import ctx
from conftest import FIXTURES, make_config
from newsletter.errors import MalformedResponse, SourceError
from newsletter.http import HttpClient
from newsletter.mailing import Window
from newsletter.sources import huggingface as hf

HF = FIXTURES / "hf_daily_papers"
NOW = datetime(2026, 8, 1, tzinfo=timezone.utc)
API = "https://hf.test/api"


def http():
    return HttpClient(user_agent="t", retries=1, backoff=0, sleep=lambda s: None, service="Hugging Face")


def test_parse_real_daily_papers():
    posts = hf.parse_daily_papers(json.loads((HF / "daily_papers-2026-07-31-raw.json").read_text()), NOW).posts
    assert len(posts) == 30
    top = max(posts, key=lambda p: p.metrics["upvotes"])
    assert top.arxiv_ids == ("2607.28618",) and top.metrics == {"upvotes": 292, "comments": 2}
    assert top.url == "https://huggingface.co/papers/2607.28618"
    pretty = hf.parse_daily_papers(json.loads((HF / "daily_papers-2026-07-31-pretty.json").read_text()), NOW).posts
    assert {p.post_id for p in pretty} <= {p.post_id for p in posts}


def test_malformed():
    with pytest.raises(MalformedResponse):
        hf.parse_daily_papers({"error": "x"}, NOW)
    page = hf.parse_daily_papers([{"paper": {"id": "not-an-id"}}, 3, {"nope": 1}], NOW)
    assert page.posts == [] and page.bad == {"bad paper id": 1}


def test_days_in_window():
    w = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 1, 0, tzinfo=timezone.utc))
    assert hf.days_in(w, date(2026, 7, 31)) == [date(2026, 7, 31)]


@responses.activate
def test_fetch_dedupes_a_repeated_previous_day(tmp_path):
    body = (HF / "daily_papers-2026-07-31-raw.json").read_bytes()
    responses.get(f"{API}/daily_papers", body=body)  # every day answers the same list
    cfg = make_config(tmp_path, sources={"huggingface": {"api_url": API}}).source("huggingface")
    window = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 2, 0, tzinfo=timezone.utc))
    r = hf.collect(ctx(http(), cfg, window=window, now=NOW, day=date(2026, 7, 31)))
    assert r.requests == 2 and len(r.posts) == 30 and r.capped is None
    assert len({p.post_id for p in r.posts}) == 30  # the repeated list counted once
    assert [c.request.url.split("=")[-1] for c in responses.calls] == ["2026-07-31", "2026-08-01"]


@responses.activate
def test_fetch_errors(tmp_path):
    cfg = make_config(tmp_path, sources={"huggingface": {"api_url": API}}).source("huggingface")
    window = Window(datetime(2026, 7, 29, 18, tzinfo=timezone.utc), datetime(2026, 8, 1, 0, tzinfo=timezone.utc))
    responses.get(f"{API}/daily_papers", body="<html>")
    with pytest.raises(MalformedResponse, match="not JSON"):
        hf.collect(ctx(http(), cfg, window=window, now=NOW, day=date(2026, 7, 31)))
    responses.replace(responses.GET, f"{API}/daily_papers", status=404)
    with pytest.raises(SourceError, match="HTTP 404"):
        hf.collect(ctx(http(), cfg, window=window, now=NOW, day=date(2026, 7, 31)))
