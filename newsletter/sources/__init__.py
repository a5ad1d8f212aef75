"""The signal sources, one module each. Adding a source is one module in this
folder and one line below; config, ranking, rendering and import read this
registry and nothing else."""

from __future__ import annotations

import importlib

from newsletter.sources.base import Source

_MODULES = (
    "x",
    "huggingface",
    "hackernews",
    "bluesky",
    "reddit",
)

REGISTRY: dict[str, Source] = {
    s.name: s for s in (importlib.import_module(f"newsletter.sources.{m}").SOURCE for m in _MODULES)
}


def get(name: str) -> Source | None:
    """The registered source of that name (imported sources have none)."""
    return REGISTRY.get(name)
