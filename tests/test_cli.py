"""The CLI through Typer's runner: commands, exit codes, one-line errors."""

from __future__ import annotations


import pytest
import responses
from typer.testing import CliRunner

import hotpapers
from conftest import FIXTURES
from newsletter.cli import app
from newsletter.store import Archive

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSLETTER_CONFIG", raising=False)
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)


def invoke(*args):
    return runner.invoke(app, list(args))


def test_help_explains_commands_and_exit_codes():
    r = invoke("--help")
    assert r.exit_code == 0
    for word in ("fetch", "build", "run", "rank", "init", "demo", "Exit codes"):
        assert word in r.output


def test_init_writes_a_config_that_loads(tmp_path):
    r = invoke("init")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "newsletter.toml").read_text()
    assert 'token_env = "X_BEARER_TOKEN"' in text and "min_paper_score = 50" in text
    from newsletter.config import load
    cfg = load(tmp_path / "newsletter.toml")
    assert cfg.categories == ["cs", "stat.ML"] and cfg.store_path == tmp_path / "newsletter.db"
    r = invoke("init")
    assert r.exit_code == 1 and "already exists; use --force" in r.output


def test_weekend_is_one_line_and_a_distinct_code():
    r = invoke("fetch", "--date", "2026-08-01")
    assert r.exit_code == 3
    assert r.output.strip() == "Error: arXiv has no mailing on Saturday 2026-08-01; pick a weekday"


def test_bad_date_and_broken_config(tmp_path):
    r = invoke("build", "--date", "31/07/2026")
    assert r.exit_code == 1 and "YYYY-MM-DD" in r.output
    (tmp_path / "bad.toml").write_text("[ranking]\nmin_paper_score = 'lots'\n")
    r = invoke("--config", "bad.toml", "rank", "--date", "2026-07-31")
    assert r.exit_code == 1
    assert r.output.strip() == "Error: 'ranking.min_paper_score' in bad.toml must be a number, not 'lots'"
    (tmp_path / "bad.toml").write_text("[newsletter]\ncategory = ['cs']\n")
    r = invoke("--config", "bad.toml", "rank")
    assert "unknown key 'newsletter.category' in bad.toml" in r.output
    (tmp_path / "bad.toml").write_text("[newsletter\n")
    r = invoke("--config", "bad.toml", "rank")
    assert r.exit_code == 1 and "is not valid TOML" in r.output and "Traceback" not in r.output
    r = invoke("--config", "missing.toml", "rank")
    assert "missing.toml does not exist; create one with 'newsletter init'" in r.output


def test_config_from_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "my.toml").write_text('[store]\npath = "data/archive.db"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(tmp_path / "sub" / "my.toml"))
    r = invoke("build", "--date", "2026-07-31")
    assert f"no archive at {tmp_path / 'sub' / 'data' / 'archive.db'}" in r.output  # relative to the config file
    assert not (tmp_path / "sub" / "data" / "archive.db").exists()  # a command that reads never creates one


def test_debug_shows_the_traceback():
    r = invoke("--debug", "fetch", "--date", "2026-08-01")
    assert r.exit_code != 0 and r.exception is not None and type(r.exception).__name__ == "NoMailing"


def _archive_real_post(tmp_path):
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-08-26---Hot-Papers.md").read_text())
    with Archive(tmp_path / "newsletter.db") as a:
        a.save_day_papers(parsed.day, parsed.papers)
        a.save_posts(parsed.posts)
        a.save_issue(parsed.day, parsed.created_at, 120)
    return parsed


def test_rank_and_build_from_the_archive(tmp_path):
    parsed = _archive_real_post(tmp_path)
    r = invoke("rank", "--date", str(parsed.day))
    assert r.exit_code == 0, r.output
    assert "3 of 120 papers ranked" in r.output
    lines = [l for l in r.output.splitlines() if "2108." in l]
    assert len(lines) == 3 and lines[0].split("│")[1].strip() == "1"
    r = invoke("build", "--date", str(parsed.day))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "content" / "posts" / "2021-08-26---Hot-Papers.md").exists()
    assert "2021-08-26: 3 papers ranked, " in r.output and (tmp_path / "site" / "hot-papers-2021-08-26" / "index.html").exists()


@responses.activate
def test_run_fetches_then_builds(tmp_path):
    import arxiv_atom
    from datetime import datetime, timezone
    parsed = hotpapers.parse((FIXTURES / "hotpapers" / "2021-08-26---Hot-Papers.md").read_text())
    (tmp_path / "newsletter.toml").write_text(
        '[newsletter]\ncategories = ["cs", "stat", "q-bio", "physics", "eess", "math", "quant-ph"]\n'
        '[arxiv]\napi_url = "https://export.test/api/query"\ndelay_seconds = 0\n'
        '[sources.x]\nenabled = false\n[sources.huggingface]\nenabled = false\n[sources.hackernews]\nenabled = false\n'
        '[sources.bluesky]\nenabled = false\n[ranking]\nmin_paper_score = 0\n')
    responses.get("https://export.test/api/query", body=arxiv_atom.feed(
        [(p, datetime(2021, 8, 25, 12, tzinfo=timezone.utc)) for p in parsed.papers]))
    r = invoke("run", "--date", "2021-08-26")
    # no signals at all: fetched, then a clear "nothing to publish" with its own code
    assert r.exit_code == 4, r.output
    assert "no paper of 2021-08-26 reached 0 points (3 papers archived)" in r.output


def test_demo_runs_offline_from_a_fresh_folder(tmp_path):
    r = invoke("demo")
    assert r.exit_code == 0, r.output
    post = tmp_path / "demo" / "content" / "posts" / "2026-07-31---Hot-Papers.md"
    text = post.read_text()
    assert "# 1. AskChem: Claim-Centered Infrastructure" in text
    assert "- huggingface: upvotes: 292, comments: 2" in text
    assert "25 papers (arXiv API), 30 huggingface posts, 2 ranked" in r.output
    # the real Hot Papers day, replayed through the arXiv and X formats, gives the real post back
    real = (FIXTURES / "hotpapers" / "2021-06-16---Hot-Papers.md").read_text()
    got = (tmp_path / "demo" / "content" / "posts" / "2021-06-16---Hot-Papers.md").read_text()
    import re
    when = re.compile(r" \(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\)$")  # collection times: the replay's clock
    assert [when.sub("", x) for x in got.split("\n")] == [when.sub("", x) for x in hotpapers.normalise(real)]
    assert "2021-06-16: 24 papers (arXiv API), 26 x posts, 24 ranked" in r.output and "0 warnings" in r.output
    assert "0 warnings, 24 figures (stand-ins)" in r.output
    site = tmp_path / "demo" / "site"
    for page in ("index.html", "hot-papers-2021-06-16/index.html", "hot-papers-2026-07-31/index.html",
                 "category/cs.LG/index.html", "subscribe/index.html", "feeds/papers.atom", "feeds/category/cs.LG.atom"):
        assert (site / page).is_file(), page
    assert len(r.output.strip().splitlines()) == 2  # a summary and the next command, not 150 paths
    assert r.output.strip().splitlines()[-1].startswith("Next: newsletter --config demo/newsletter.toml preview")
    # a weekly issue too, and only the figures the recording really has (no invented replies or quotes)
    assert (tmp_path / "demo" / "content" / "posts" / "2021-W24---Hot-Papers-of-the-Week.md").is_file()
    assert (site / "weekly" / "2021-W24" / "index.html").is_file()
    html = (site / "hot-papers-2021-06-16" / "index.html").read_text()
    assert "retweets" in html and "replies" not in html and "quotes" not in html
    front = (tmp_path / "demo" / "content" / "posts" / "2026-07-31---Hot-Papers.md").read_text().split("---")[1]
    assert '"Twitter"' not in front  # the day used Hugging Face alone
    # the demo leaves a config so the day can be re-ranked from its archive
    r = invoke("--config", "demo/newsletter.toml", "rank", "--date", "2026-07-31")
    assert r.exit_code == 0 and "AskChem" in r.output
