"""The benchmark suite keeps working (CI runs it once on a small size; it
asserts nothing about time)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_runs_on_a_small_size():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--small"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    table = r.stdout
    for row in ("arXiv API requests", "X search requests", "newsletter --help", "email render", "send rate",
                "subscribers import"):
        assert f"| {row}" in table, row
