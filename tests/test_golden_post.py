"""Rebuild real Hot Papers posts from archive data and compare line by line."""

from __future__ import annotations

import pytest

import hotpapers
from conftest import FIXTURES
from newsletter.build import build_day
from newsletter.store import Archive

POSTS = sorted((FIXTURES / "hotpapers").glob("*.md"))


@pytest.mark.parametrize("path", POSTS, ids=[p.name[:10] for p in POSTS])
def test_rebuilds_real_post(path, cfg, tmp_path):
    original = path.read_text(encoding="utf-8")
    parsed = hotpapers.parse(original)
    with Archive(tmp_path / "a.db") as archive:
        archive.save_day_papers(parsed.day, parsed.papers)
        archive.save_posts(parsed.posts)
        archive.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
        summary = build_day(cfg, parsed.day, archive)
    out = summary.files[0]
    assert out.name == path.name
    got = out.read_text(encoding="utf-8").split("\n")
    want = hotpapers.normalise(original)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"line {i + 1} differs"
    assert len(got) == len(want)


def test_rebuild_is_byte_identical(cfg, tmp_path):
    parsed = hotpapers.parse(POSTS[0].read_text(encoding="utf-8"))
    with Archive(tmp_path / "a.db") as archive:
        archive.save_day_papers(parsed.day, parsed.papers)
        archive.save_posts(parsed.posts)
        archive.save_issue(parsed.day, parsed.created_at, len(parsed.papers))
        first = build_day(cfg, parsed.day, archive).files[0].read_bytes()
        second = build_day(cfg, parsed.day, archive).files[0].read_bytes()
    assert first == second
