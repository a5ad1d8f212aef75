from __future__ import annotations

import os
import sys
import shutil
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
sys.path.insert(0, str(TESTS))
# compiled templates are cached here, not in the user's ~/.cache (subprocesses inherit it)
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="newsletter-test-cache-")

from newsletter import config as config_mod  # noqa: E402


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def make_config(tmp_path: Path, **sections) -> config_mod.Config:
    data = {"arxiv": {"delay_seconds": 0.0}, "http": {"backoff": 0.0}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config_mod.from_dict(data, base_dir=tmp_path)


def only_sources(*names: str) -> dict:
    """[sources] tables that switch off every registered source but ``names``,
    so a test's expectations do not change when a source is added."""
    from newsletter.sources import REGISTRY
    return {name: {"enabled": False} for name in REGISTRY if name not in names}


@pytest.fixture
def cfg(tmp_path):
    return make_config(tmp_path)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never touch the network: any connection off the loopback fails loudly."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")) \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (which downloads no browser of its own);
    one per module, so a module may also start Playwright itself."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
