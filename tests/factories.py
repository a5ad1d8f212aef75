"""Small builders for domain objects in tests."""

from datetime import datetime, timezone

from newsletter.models import Paper, Post

T0 = datetime(2026, 7, 31, 12, 0, tzinfo=timezone.utc)


def paper(arxiv_id="2607.00001", **kw) -> Paper:
    base = dict(arxiv_id=arxiv_id, version=1, title=f"Paper {arxiv_id}", abstract="An abstract.",
                authors=("A. Author", "B. Author"), categories=("cs.LG", "stat.ML"))
    base.update(kw)
    return Paper(**base)


def xpost(post_id, ids, retweets=0, likes=0, created=None, **kw) -> Post:
    base = dict(source="x", post_id=str(post_id), url=f"https://twitter.com/u{post_id}/status/{post_id}",
                author_handle=f"u{post_id}", author_name=f"User {post_id}", text=f"post {post_id}",
                created_at=created or T0, metrics={"retweets": retweets, "likes": likes, "replies": 0, "quotes": 0},
                collected_at=T0, arxiv_ids=tuple([ids] if isinstance(ids, str) else ids))
    base.update(kw)
    return Post(**base)
