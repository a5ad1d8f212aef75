"""Rendering on the other core: same outputs as inline, errors and a dying
child come back to the parent as one clear error, nothing half-written."""

from __future__ import annotations

import os
import signal

import pytest

from conftest import make_config
from factories import T0, paper, xpost
from newsletter import build, parallel
from newsletter.errors import ConfigError
from newsletter.store import Archive
from test_ranked_store import DAY, OTHER

@pytest.fixture
def forking():
    """Checked when the test runs (a thread left by another test would make
    jobs run inline, and a job that exits would then end pytest)."""
    import threading
    if not parallel.can_fork():
        pytest.skip(f"forking needs Linux, 2 cores and no other thread: {threading.enumerate()}")


class Unpicklable(Exception):
    def __init__(self, a, b):  # pickling calls __init__ with one argument: fails
        super().__init__(f"{a} {b}")


def test_values_and_errors_come_back_from_the_child():
    assert parallel.in_background(lambda: {"a.atom": b"x" * 3_000_000}).result() == {"a.atom": b"x" * 3_000_000}
    with pytest.raises(ConfigError, match="broken"):
        parallel.in_background(lambda: (_ for _ in ()).throw(ConfigError("broken template"))).result()
    with pytest.raises((RuntimeError, Unpicklable), match="Unpicklable|1 2"):
        parallel.in_background(lambda: (_ for _ in ()).throw(Unpicklable(1, 2))).result()


def test_a_child_that_dies_is_an_error_not_a_hang(forking):
    with pytest.raises(RuntimeError, match="died"):
        parallel.in_background(lambda: os._exit(3)).result()
    with pytest.raises(RuntimeError, match="died"):
        parallel.in_background(lambda: os.kill(os.getpid(), signal.SIGKILL)).result()


def test_an_abandoned_child_is_reaped(forking):
    job = parallel.in_background(lambda: 42)
    job.abandon()
    with pytest.raises(ChildProcessError):
        os.waitpid(job.pid, os.WNOHANG)  # type: ignore[attr-defined]


def _archive(cfg) -> None:
    with Archive(cfg.store_path) as a:
        ids = [f"2607.{i:05d}" for i in range(6)]
        a.save_day_papers(DAY, [paper(i, categories=("cs.LG", "math.ST")) for i in ids[:4]])
        a.save_day_papers(OTHER, [paper(i, categories=("cs.CL",)) for i in ids[4:]])
        a.save_posts([xpost(n, i, likes=60 + n, retweets=n) for n, i in enumerate(ids)])
        a.save_issue(DAY, T0, 4)
        a.save_issue(OTHER, T0, 2)


def _tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_build_on_two_cores_writes_what_a_build_on_one_does(tmp_path, monkeypatch, forking):
    outputs = {}
    for mode in ("forked", "inline"):
        monkeypatch.setattr(parallel, "ENABLED", mode == "forked")
        cfg = make_config(tmp_path / mode)
        _archive(cfg)
        with Archive(cfg.store_path) as a:
            build.build_day(cfg, OTHER, a)
            build.build_day(cfg, DAY, a)
        outputs[mode] = {k: v for k, v in _tree(tmp_path / mode).items() if not k.endswith(".db")
                         and ".db-" not in k}
    assert outputs["forked"] == outputs["inline"]
    assert "site/feeds/category/cs.LG.atom" in outputs["forked"] and "feeds/papers.atom" in outputs["forked"]


def test_a_broken_feed_template_fails_the_build_cleanly(tmp_path, forking):
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "feed_paper.html.j2").write_text("{% for %}\n")
    cfg = make_config(tmp_path, output={"templates_dir": str(mine)})
    _archive(cfg)
    with Archive(cfg.store_path) as a:
        with pytest.raises(ConfigError, match="feed_paper.html.j2, line 1"):
            build.build_day(cfg, DAY, a)
    assert not (tmp_path / "feeds").exists() and not (tmp_path / "site").exists()


def _pids(chunk: list[int]) -> list[tuple[int, int]]:
    return [(n * n, os.getpid()) for n in chunk]


def test_map_forked_gives_every_result_once_from_several_processes(forking):
    items = list(range(1000))
    out = parallel.map_forked(_pids, items, min_items=200)
    assert sorted(v for v, _ in out) == sorted(n * n for n in items)
    assert len({pid for _, pid in out}) >= 2  # the parent and at least one child took a share


def test_map_forked_runs_here_when_forking_is_not_safe(forking):
    import threading

    assert {pid for _, pid in parallel.map_forked(_pids, list(range(100)), min_items=200)} == {os.getpid()}
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # another thread running: a child could inherit its held locks, so no fork
        assert {pid for _, pid in parallel.map_forked(_pids, list(range(1000)), min_items=200)} == {os.getpid()}
    finally:
        stop.set()
        other.join()


def test_map_forked_brings_back_an_error_and_reaps_every_child(forking, monkeypatch):
    started = []
    real = parallel.in_background
    monkeypatch.setattr(parallel, "in_background", lambda fn: started.append(real(fn)) or started[-1])

    def fails_on_some(chunk: list[int]) -> list[int]:
        if 7 in chunk:
            raise ConfigError("template broke on 7")
        return chunk

    with pytest.raises(ConfigError, match="broke on 7"):
        parallel.map_forked(fails_on_some, list(range(1000)), min_items=200)
    assert started
    for job in started:  # no child left behind
        with pytest.raises(ChildProcessError):
            os.waitpid(job.pid, os.WNOHANG)
