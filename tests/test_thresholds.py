"""Every threshold at, just below and just above its value: a paper's score
(min_paper_score), a post's score (min_post_score), the posts shown per
paper, the daily cutoff (window_hours after the announcement), the weekly
window, and the papers per email. Boundaries are where off-by-one mistakes
live; the fixtures never land on them by chance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import make_config, only_sources
from factories import T0, paper, xpost
from newsletter import mailing
from newsletter.delivery.preferences import Preferences, select
from newsletter.issues import load_issue
from newsletter.rank import RankingRule, rank
from newsletter.store import Archive
from newsletter.weekly import load_week

DAY = date(2026, 7, 31)
EPS = timedelta(microseconds=1)


@pytest.mark.parametrize("likes, listed", [(49, False), (50, True), (51, True)])
def test_a_paper_is_listed_from_exactly_min_paper_score(likes, listed):
    ranked = rank([paper("2607.00001")], [xpost(1, "2607.00001", likes=likes)], RankingRule(min_paper_score=50))
    assert bool(ranked) is listed


@pytest.mark.parametrize("score, listed", [(49.5, False), (50.0, True)])
def test_a_weighted_score_meets_the_threshold_exactly(score, listed):
    posts = [xpost(1, "2607.00001", likes=99)]
    ranked = rank([paper("2607.00001")], posts, RankingRule(min_paper_score=50, weights={"x": score / 99}))
    assert bool(ranked) is listed


@pytest.mark.parametrize("likes, shown", [(24, False), (25, True), (26, True)])
def test_a_post_is_shown_from_exactly_min_post_score(likes, shown):
    posts = [xpost(1, "2607.00001", likes=100), xpost(2, "2607.00001", likes=likes)]
    (rp,) = rank([paper("2607.00001")], posts, RankingRule(min_post_score=25))
    assert ("2" in [p.post_id for p in rp.displayed_posts]) is shown
    assert rp.score == 100 + likes  # every post counts for the paper, shown or not


@pytest.mark.parametrize("posts, cap", [(9, 10), (10, 10), (11, 10), (3, 1)])
def test_at_most_max_posts_per_paper_are_shown(posts, cap):
    many = [xpost(i, "2607.00001", likes=30 + i) for i in range(posts)]
    (rp,) = rank([paper("2607.00001")], many, RankingRule(max_posts_per_paper=cap))
    assert len(rp.displayed_posts) == min(posts, cap)
    assert [p.post_id for p in rp.displayed_posts] == [str(i) for i in range(posts - 1, -1, -1)][:cap]


def _archive_one_post(tmp_path, created):
    cfg = make_config(tmp_path, sources={"window_hours": 24, **only_sources("x")})
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=80, created=created)])
        a.save_issue(DAY, T0, 1)
        return cfg, [rp.paper.arxiv_id for rp in load_issue(cfg, a, DAY).papers]


@pytest.mark.parametrize("offset, counts", [(-EPS, True), (timedelta(0), True), (EPS, False)])
def test_the_daily_issue_counts_posts_made_until_exactly_the_cutoff(tmp_path, offset, counts):
    cutoff = mailing.daily_cutoff(DAY, 24)
    assert cutoff == mailing.announced_at(DAY) + timedelta(hours=24)
    _, listed = _archive_one_post(tmp_path, cutoff + offset)
    assert (listed == ["2607.00001"]) is counts


@pytest.mark.parametrize("offset, counts", [(-EPS, True), (timedelta(0), True), (EPS, False)])
def test_the_weekly_issue_counts_posts_made_until_exactly_its_window_end(tmp_path, offset, counts):
    monday = date(2026, 7, 27)
    cfg = make_config(tmp_path, sources=only_sources("x"), weekly={"window_days": 2, "min_paper_score": 50})
    end = mailing.week_window(monday, 2, mailing.announced_at(date(2026, 7, 31)) + timedelta(days=30)).end
    with Archive(cfg.store_path) as a:
        a.save_day_papers(DAY, [paper("2607.00001")])
        a.save_posts([xpost(1, "2607.00001", likes=80, created=end + offset)])
        a.save_issue(DAY, T0, 1)
        a.save_week("2026-W31", end + timedelta(days=5), [])
        week = load_week(cfg, a, monday)
    assert ([rp.paper.arxiv_id for rp in week.papers] == ["2607.00001"]) is counts


@pytest.mark.parametrize("hot, cap", [(4, 5), (5, 5), (6, 5), (21, 20)])
def test_a_reader_gets_at_most_their_cap(tmp_path, hot, cap):
    papers = [paper(f"2607.{i:05d}") for i in range(hot)]
    posts = [xpost(i, p.arxiv_id, likes=100 + i) for i, p in enumerate(papers)]
    from newsletter.models import Issue
    issue = Issue(date=DAY, title="Hot Papers", created_at=T0, papers=tuple(rank(papers, posts)))
    chosen = select(issue, Preferences(max_papers=cap if cap in (5, 10, 20) else None), default_cap=20)
    assert len(chosen) == min(hot, cap)
    assert [rp.rank for rp in chosen] == list(range(1, min(hot, cap) + 1))  # rank order kept
