"""Remake the demo's recording of a real Hot Papers day (newsletter/demo_data/).

The post tests/fixtures/hotpapers/2021-06-16---Hot-Papers.md holds that day's
ranked papers (ids, titles, authors, categories, abstracts) and the real
tweets it displayed (author, text, oEmbed HTML) with each paper's real
totals. This writes them in the formats the tool fetches: an arXiv API Atom
page, one X API v2 search page (with user expansions), and the oEmbed answers,
exactly as the end-to-end test serves them (tests/test_pipeline.py).

    python scripts/make_demo_recording.py
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import arxiv_atom  # noqa: E402
import hotpapers  # noqa: E402
from xpages import page, tweet  # noqa: E402

DAY = "2021-06-16"
OUT = ROOT / "newsletter" / "demo_data"


def main() -> None:
    parsed = hotpapers.parse((ROOT / "tests" / "fixtures" / "hotpapers" / f"{DAY}---Hot-Papers.md").read_text())
    published = datetime(2021, 6, 15, 10, tzinfo=timezone.utc)  # inside the mailing's submission window
    (OUT / f"arxiv-api-{DAY}.xml").write_text(arxiv_atom.feed([(p, published) for p in parsed.papers]))
    tweets = [
        tweet(p.post_id, p.author_handle or "someone", [f"https://arxiv.org/abs/{a}v1" for a in p.arxiv_ids],
              retweets=p.metrics["retweets"], likes=p.metrics["likes"], text=p.text or None,
              created=(published + timedelta(hours=20, seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        for i, p in enumerate(parsed.posts)
    ]
    for t in tweets:  # the post shows retweets and likes only: no reply or quote counts are invented
        t["public_metrics"] = {k: t["public_metrics"][k] for k in ("retweet_count", "like_count")}
    body = page(tweets)
    for user in body["includes"]["users"]:  # the real display names, where the post has them
        name = next((p.author_name for p in parsed.posts if p.author_handle and f"u-{p.author_handle}" == user["id"]), "")
        if name:
            user["name"] = name
    (OUT / f"x-search-{DAY}.json").write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    embeds = {f"https://twitter.com/{p.author_handle}/status/{p.post_id}": p.embed_html
              for p in parsed.posts if p.embed_html}
    (OUT / f"x-oembed-{DAY}.json").write_text(json.dumps(embeds, indent=1, ensure_ascii=False) + "\n")
    cats = sorted({c.split(".")[0] for p in parsed.papers for c in p.categories})
    print(f"{len(parsed.papers)} papers, {len(tweets)} posts, {len(embeds)} embeds; archives {cats}; "
          f"post made {parsed.created_at.isoformat()}")


if __name__ == "__main__":
    main()
