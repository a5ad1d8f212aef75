from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
sys.path.insert(0, str(TESTS))

from newsletter import config as config_mod  # noqa: E402


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def make_config(tmp_path: Path, **sections) -> config_mod.Config:
    data = {"arxiv": {"delay_seconds": 0.0}, "http": {"backoff": 0.0}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config_mod.from_dict(data, base_dir=tmp_path)


@pytest.fixture
def cfg(tmp_path):
    return make_config(tmp_path)
