"""fetch + build end to end: servers speaking the real arXiv and X formats
(replayed HTTP) -> archive -> a real Hot Papers post, byte for byte."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

import arxiv_atom
import hotpapers
from conftest import FIXTURES, make_config, only_sources
from newsletter.errors import ArchiveError, AuthError, NothingToPublish
from newsletter.sources.base import NullReporter
from newsletter.seams import Seams
from newsletter.build import build_day
from newsletter.fetch import fetch_day
from newsletter.store import Archive
from xpages import page, tweet

API = "https://export.test/api/query"
RSS = "https://rss.test/rss"
X = "https://x.test/2"
OEMBED = "https://publish.test/oembed"
HF = "https://hf.test/api"
POST = FIXTURES / "hotpapers" / "2020-11-18---Hot-Papers.md"


def serve_day(parsed, *, x_pages=2):
    """Register the arXiv, X and oEmbed responses for a parsed Hot Papers post."""
    published = datetime(2020, 11, 17, 10, tzinfo=timezone.utc)
    responses.get(API, body=arxiv_atom.feed([(p, published) for p in parsed.papers]))
    tweets = [
        tweet(p.post_id, p.author_handle or "someone", [f"https://arxiv.org/abs/{a}v1" for a in p.arxiv_ids],
              retweets=p.metrics["retweets"], likes=p.metrics["likes"],
              created=(published + timedelta(hours=20, seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        for i, p in enumerate(parsed.posts)
    ]
    half = len(tweets) // 2
    pages = {None: page(tweets[:half], "page2"), "page2": page(tweets[half:])}

    def search(request):
        token = parse_qs(urlsplit(request.url).query).get("next_token", [None])[0]
        return (200, {}, json.dumps(pages[token]))

    responses.add_callback(responses.GET, f"{X}/tweets/search/recent", callback=search)
    embeds = {f"https://twitter.com/{p.author_handle}/status/{p.post_id}": p.embed_html
              for p in parsed.posts if p.embed_html}

    def oembed(request):
        url = parse_qs(urlsplit(request.url).query)["url"][0]
        return (200, {}, json.dumps({"html": embeds[url], "type": "rich"}))

    responses.add_callback(responses.GET, OEMBED, callback=oembed)
    return embeds


def config(tmp_path, parsed, **extra):
    cats = sorted({c for p in parsed.papers for c in p.categories})
    sections = dict(
        newsletter={"categories": cats},
        arxiv={"api_url": API, "rss_url": RSS},
        sources={**only_sources("x"), "x": {"api_url": X, "oembed_url": OEMBED}},
    )
    for k, v in extra.items():
        sections.setdefault(k, {}).update(v)
    return make_config(tmp_path, **sections)


@responses.activate
def test_fetch_and_build_reproduce_a_real_post(tmp_path):
    original = POST.read_text(encoding="utf-8")
    parsed = hotpapers.parse(original)
    embeds = serve_day(parsed)
    cfg = config(tmp_path, parsed)
    seams = Seams(now=lambda: parsed.created_at, sleep=lambda s: None, env={"X_BEARER_TOKEN": "secret-token"})
    with Archive(cfg.store_path) as archive:
        summary = fetch_day(cfg, parsed.day, archive, seams)
        assert summary.papers == len(parsed.papers) and summary.arxiv_via == "API"
        assert summary.requests["x"] == 2  # grows with posts, not papers
        assert summary.embeds == len(embeds) == summary.requests["x_oembed"]
    # the network is gone: build runs from the archive alone
    responses.reset()
    with Archive(cfg.store_path) as archive:
        built = build_day(cfg, parsed.day, archive)
    text = built.files[0].read_text(encoding="utf-8")
    assert text.split("\n") == hotpapers.normalise(original)
    assert "secret-token" not in text


@responses.activate
def test_refetch_updates_instead_of_duplicating(tmp_path):
    parsed = hotpapers.parse(POST.read_text(encoding="utf-8"))
    serve_day(parsed)
    cfg = config(tmp_path, parsed)
    seams = Seams(now=lambda: parsed.created_at, sleep=lambda s: None, env={"X_BEARER_TOKEN": "t"})
    with Archive(cfg.store_path) as archive:
        fetch_day(cfg, parsed.day, archive, seams)
        second = fetch_day(cfg, parsed.day, archive, seams)
        assert second.embeds == 0  # kept from the first run, not fetched again
        n_posts = archive.db.execute("SELECT count(*) FROM posts").fetchone()[0]
        n_papers = archive.db.execute("SELECT count(*) FROM day_papers").fetchone()[0]
    assert n_posts == len(parsed.posts) and n_papers == len(parsed.papers)


@responses.activate
def test_no_token_skips_x_with_a_warning_and_completes(tmp_path):
    parsed = hotpapers.parse(POST.read_text(encoding="utf-8"))
    serve_day(parsed)
    cfg = config(tmp_path, parsed)
    reporter = NullReporter()
    with Archive(cfg.store_path) as archive:
        summary = fetch_day(cfg, parsed.day, archive, Seams(now=lambda: parsed.created_at, env={}), reporter)
        assert summary.posts == {} and summary.papers == len(parsed.papers)
        assert reporter.warnings == ["X skipped: $X_BEARER_TOKEN is not set"]
        assert archive.issue(parsed.day).notes == ("X skipped: $X_BEARER_TOKEN is not set",)
        assert collection_statuses(archive, parsed.day) == [("arxiv", "ok"), ("x", "skipped")]
        with pytest.raises(NothingToPublish) as e:
            build_day(cfg, parsed.day, archive)
    assert e.value.exit_code == 4
    assert not cfg.posts_dir.exists()  # no empty post


@responses.activate
def test_bad_token_is_a_warning_or_with_strict_one_error(tmp_path):
    parsed = hotpapers.parse(POST.read_text(encoding="utf-8"))
    published = datetime(2020, 11, 17, 10, tzinfo=timezone.utc)
    responses.get(API, body=arxiv_atom.feed([(p, published) for p in parsed.papers]))
    responses.get(f"{X}/tweets/search/recent", status=401, json={"title": "Unauthorized", "status": 401,
                                                                  "detail": "Unauthorized", "type": "about:blank"})
    cfg = config(tmp_path, parsed)
    seams = Seams(now=lambda: parsed.created_at, env={"X_BEARER_TOKEN": "bad"})
    with Archive(cfg.store_path) as archive:
        with pytest.raises(AuthError, match=r"X rejected the bearer token \(HTTP 401: Unauthorized\); check \$X_BEARER_TOKEN"):
            fetch_day(cfg, parsed.day, archive, seams, strict=True)
        reporter = NullReporter()
        summary = fetch_day(cfg, parsed.day, archive, seams, reporter)
        assert summary.papers == len(parsed.papers)
        assert reporter.warnings == ["X failed and was skipped: X rejected the bearer token (HTTP 401: Unauthorized); "
                                     "check $X_BEARER_TOKEN"]
        assert archive.issue(parsed.day).notes == tuple(reporter.warnings)
        assert ("x", "failed") in collection_statuses(archive, parsed.day)
        assert "bad" not in " ".join(reporter.warnings)


@responses.activate
def test_current_mailing_uses_rss(tmp_path):
    body = (FIXTURES / "arxiv_rss" / "new-rss-cs.LG+cs.AI+cs.CL+stat.ML-2026-09-24-4items-new-cross-replace.xml")
    responses.get(f"{RSS}/cs+stat.ML", body=body.read_bytes())
    cfg = make_config(tmp_path, arxiv={"api_url": API, "rss_url": RSS},
                      sources={"x": {"enabled": False}, "huggingface": {"enabled": False},
                               "hackernews": {"enabled": False}, "bluesky": {"enabled": False}})
    now = datetime(2026, 9, 24, 9, tzinfo=timezone.utc)
    with Archive(cfg.store_path) as archive:
        summary = fetch_day(cfg, now.date(), archive, Seams(now=lambda: now, env={}))
        assert summary.arxiv_via == "RSS" and summary.papers == 3 and len(responses.calls) == 1
        assert [p.arxiv_id for p in archive.day_papers(now.date())] == ["2205.06398", "2609.26811", "2609.26820"]


def test_build_before_fetch_says_what_to_do(tmp_path, cfg):
    from datetime import date
    with Archive(cfg.store_path) as archive, pytest.raises(ArchiveError, match="newsletter fetch --date 2026-07-31"):
        build_day(cfg, date(2026, 7, 31), archive)


@responses.activate
def test_failed_build_keeps_the_previous_post(tmp_path, monkeypatch):
    original = POST.read_text(encoding="utf-8")
    parsed = hotpapers.parse(original)
    cfg = config(tmp_path, parsed)
    with Archive(cfg.store_path) as archive:
        archive.save_day_papers(parsed.day, parsed.papers)
        archive.save_posts(parsed.posts)
        archive.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
        path = build_day(cfg, parsed.day, archive).files[0]
        before = path.read_bytes()

        def boom(*a, **k):
            raise OSError("disk full")

        monkeypatch.setattr("os.fsync", boom)
        with pytest.raises(OSError):
            build_day(cfg, parsed.day, archive)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


@responses.activate
def test_rss_failure_falls_back_to_the_api_and_oembed_failure_to_static_quotes(tmp_path):
    original = POST.read_text(encoding="utf-8")
    parsed = hotpapers.parse(original)
    serve_day(parsed)
    responses.get(f"{RSS}/" + "+".join(sorted({c for p in parsed.papers for c in p.categories})), status=503)
    responses.replace(responses.GET, OEMBED, status=500)
    cfg = config(tmp_path, parsed, http={"retries": 0})
    # the next morning: 2020-11-18 is still the latest mailing, so RSS is tried first
    now = datetime(2020, 11, 18, 12, tzinfo=timezone.utc)
    reporter = NullReporter()
    with Archive(cfg.store_path) as archive:
        summary = fetch_day(cfg, parsed.day, archive, Seams(now=lambda: now, sleep=lambda s: None,
                                                             env={"X_BEARER_TOKEN": "t"}), reporter)
        assert summary.arxiv_via == "API" and summary.papers == len(parsed.papers)
        assert reporter.warnings[0].startswith("arXiv RSS failed (arXiv answered HTTP 503")
        assert summary.embeds == 0
        (note,) = [w for w in summary.warnings if "oEmbed" in w]
        assert note.startswith("X oEmbed failed for 6 of 6 posts")
        build_day(cfg, parsed.day, archive)
    text = (cfg.posts_dir / "2020-11-18---Hot-Papers.md").read_text()
    # static quotes in the oEmbed shape, escaped, built from the archived post
    assert text.count('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">') == 6
    assert "<script async src=\"https://platform.twitter.com/widgets.js\"" in text


def collection_statuses(archive, day):
    """Each source's recorded run for a day, as the archive file holds it."""
    rows = archive.db.execute("SELECT source, status FROM collections WHERE day = ? ORDER BY source",
                              (day.isoformat(),))
    return [(r[0], r[1]) for r in rows]
