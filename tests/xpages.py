"""X API v2 search pages in the recorded shape (see fixtures/x_api/*expansions.json),
carrying arXiv links, since no recorded page links arXiv."""

from __future__ import annotations

import copy
import json

from conftest import FIXTURES

REAL = json.loads((FIXTURES / "x_api" / "v2-search-all-commtwitter-5-results-expansions.json").read_text())


def tweet(tid, handle, urls, retweets=0, likes=0, created="2026-07-31T10:00:00.000Z", text=None, retweet_of=None):
    t = copy.deepcopy(REAL["data"][3])  # an original tweet with entities.urls
    t.update(
        id=str(tid), author_id=f"u-{handle}", created_at=created, text=text or f"Look at this {tid}",
        public_metrics={"retweet_count": retweets, "reply_count": 1, "like_count": likes, "quote_count": 2},
    )
    t["entities"] = {"urls": [{"start": 0, "end": 23, "url": "https://t.co/x", "expanded_url": u,
                               "display_url": u.split("//")[-1][:20]} for u in urls]}
    t.pop("referenced_tweets", None)
    if retweet_of:
        t["referenced_tweets"] = [{"type": "retweeted", "id": str(retweet_of)}]
        t["text"] = "RT @someone: " + t["text"]
    return t


def page(tweets, next_token=None):
    users = []
    for t in tweets:
        u = copy.deepcopy(REAL["includes"]["users"][0])
        handle = t["author_id"][2:]
        u.update(id=t["author_id"], username=handle, name=f"Name of {handle}")
        users.append(u)
    meta = {"result_count": len(tweets)}
    if tweets:
        meta.update(newest_id=tweets[0]["id"], oldest_id=tweets[-1]["id"])
    if next_token:
        meta["next_token"] = next_token
    body = {"data": tweets, "includes": {"users": users}, "meta": meta}
    if not tweets:
        body = {"meta": meta}
    return body
