from datetime import timedelta

from factories import T0, paper, xpost
from newsletter.models import Post
from newsletter.rank import RankingRule, post_score, rank


def test_hot_papers_rule():
    papers = [paper("2607.00001"), paper("2607.00002"), paper("2607.00003")]
    posts = [
        xpost(1, "2607.00001", retweets=10, likes=30),  # 40, shown
        xpost(2, "2607.00001", retweets=2, likes=20),  # 22, not shown (< 25)
        xpost(3, "2607.00002", retweets=20, likes=29),  # 49: paper below 50
        xpost(4, "2607.00003", retweets=50, likes=100),
    ]
    ranked = rank(papers, posts)
    assert [(r.rank, r.paper.arxiv_id, r.score) for r in ranked] == [(1, "2607.00003", 150), (2, "2607.00001", 62)]
    assert [p.post_id for p in ranked[1].displayed_posts] == ["1"]
    x = ranked[1].figures_for("x")
    assert x.totals["retweets"] == 12 and x.totals["likes"] == 50 and x.totals["posts"] == 2


def test_ties_broken_by_arxiv_id_whatever_the_input_order():
    papers = [paper("2607.00009"), paper("2607.00002"), paper("2607.00005")]
    posts = [xpost(i, p.arxiv_id, likes=60) for i, p in enumerate(papers)]
    assert [r.paper.arxiv_id for r in rank(papers, posts)] == ["2607.00002", "2607.00005", "2607.00009"]
    assert [r.paper.arxiv_id for r in rank(papers[::-1], posts[::-1])] == ["2607.00002", "2607.00005", "2607.00009"]


def test_paper_without_pdf_is_not_listed():
    assert rank([paper(has_pdf=False)], [xpost(1, "2607.00001", likes=500)]) == []


def test_at_most_max_posts_displayed_best_first():
    posts = [xpost(i, "2607.00001", likes=25 + i, created=T0 + timedelta(minutes=i)) for i in range(15)]
    (r,) = rank([paper()], posts, RankingRule(max_posts_per_paper=10))
    assert len(r.displayed_posts) == 10
    assert [post_score(p) for p in r.displayed_posts] == list(range(39, 29, -1))


def test_post_linking_two_papers_counts_for_each():
    posts = [xpost(1, ("2607.00001", "2607.00002"), likes=70)]
    ranked = rank([paper("2607.00001"), paper("2607.00002")], posts)
    assert [r.score for r in ranked] == [70, 70]


def test_thresholds_and_weights_are_configurable():
    hf = Post(source="huggingface", post_id="2607.00001", url="", author_handle="", author_name="", text="",
              created_at=None, metrics={"upvotes": 40, "comments": 3}, collected_at=T0, arxiv_ids=("2607.00001",))
    posts = [hf, xpost(1, "2607.00001", likes=20)]
    assert rank([paper()], posts, RankingRule(weights={"x": 1.0, "huggingface": 1.0}))[0].score == 60
    assert rank([paper()], posts, RankingRule(weights={"x": 1.0, "huggingface": 0.5})) == []
    (r,) = rank([paper()], posts, RankingRule(min_paper_score=40, weights={"x": 1.0, "huggingface": 0.5}))
    assert r.score == 40 and [f.source for f in r.figures] == ["x", "huggingface"]
    assert r.displayed_posts == ()  # HF entries are figures, not quotes
