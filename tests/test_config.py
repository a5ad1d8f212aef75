import pytest

from newsletter import config
from newsletter.errors import ConfigError


def test_defaults_match_the_documented_contract(tmp_path):
    cfg = config.from_dict({}, base_dir=tmp_path)
    assert cfg.title == "Hot Papers" and cfg.categories == ["cs", "stat.ML"]
    assert cfg.arxiv.api_url == "https://export.arxiv.org/api/query" and cfg.arxiv.delay_seconds == 3.0
    x = cfg.source("x")
    assert x.token_env == "X_BEARER_TOKEN" and x.oembed_url == "https://publish.twitter.com/oembed"
    assert (cfg.ranking.min_paper_score, cfg.ranking.min_post_score, cfg.ranking.max_posts_per_paper) == (50, 25, 10)
    assert cfg.posts_dir == tmp_path / "content/posts" and cfg.store_path == tmp_path / "newsletter.db"
    assert cfg.email.subject == "Hot Papers {date}: {top_title}" and cfg.email.sender.startswith("Hot Papers <")


def test_the_commented_init_file_is_the_defaults(tmp_path):
    import tomllib
    written = config.from_dict(tomllib.loads(config.default_toml()), base_dir=tmp_path)
    defaults = config.from_dict({}, base_dir=tmp_path)
    assert written == defaults and written.sources.tables == defaults.sources.tables
    # every source's table is in the file, from the registry
    from newsletter.sources import REGISTRY
    for name in REGISTRY:
        assert f"[sources.{name}]" in config.default_toml()


@pytest.mark.parametrize("data, message", [
    ({"sources": {"x": {"tokn_env": "A"}}}, "unknown key 'sources.x.tokn_env'"),
    ({"sources": {"hackernews": {"queries": "arxiv.org"}}}, "'sources.hackernews.queries' in <config> must be a list"),
    ({"sources": {"hackernews": {"queries": [1]}}}, "'sources.hackernews.queries' in <config> must be a list of strings"),
    ({"ranking": {"max_posts_per_paper": True}}, "must be an integer, not True"),
    ({"ranking": {"weights": {"x": -1}}}, "'ranking.weights.x'"),
    ({"newsletter": {"categories": []}}, "'newsletter.categories' in <config> must not be empty"),
    ({"newsletter": {"categories": ["cs", " "]}}, "list of arXiv archives or categories"),
    ({"newsletter": {"categories": ["cs.NOPE"]}}, "not 'cs.NOPE'"),
    ({"newsletter": {"categories": ["cs.lg"]}}, "not 'cs.lg'"),
    ({"newsletter": {"categories": ["CS"]}}, "not 'CS'"),
    ({"newsletter": {"categories": ["cs+stat.ML"]}}, "not 'cs+stat.ML'"),
    ({"arxiv": {"api_url": "ftp://x"}}, "'arxiv.api_url' in <config> must be an http(s) URL"),
    ({"email": {"subject": "{nope}"}}, "may use {title}, {date}, {top_title} and {count} only"),
    ({"smtp": {"security": "ssl"}}, "'smtp.security'"),
    ({"smtp": {"host": "mail.example.org", "security": "none"}}, "only allowed for localhost"),
    ({"delivery": {"list_id": "a\nb"}}, "contains a line break"),
    ({"feeds": {"issues": 0}}, "'feeds.issues'"),
    ({"newsletter": "Hot"}, "'newsletter' in <config> must be a table"),
])
def test_bad_values_name_the_key(data, message):
    with pytest.raises(ConfigError) as e:
        config.from_dict(data)
    assert message in str(e.value)


def test_the_readme_shows_exactly_the_generated_configuration():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    a = readme.index("## Configuration\n")
    b = readme.index("```toml\n", a) + len("```toml\n")
    block = readme[b: readme.index("```", b)]
    assert block == config.default_toml().split("\n", 3)[3].rstrip() + "\n"
