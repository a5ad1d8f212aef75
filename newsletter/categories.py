"""arXiv's category taxonomy, shipped with the project (``data/arxiv-taxonomy.json``):
the archives (``cs``, ``stat``...), their categories (``cs.LG``...) and their
names, for labels such as "cs.LG — Machine Learning" and for checking what
config, the CLI, CSV files and the web form ask for."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TAXONOMY = Path(__file__).parent / "data" / "arxiv-taxonomy.json"


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(every term's name, each archive's categories)."""
    data = json.loads(TAXONOMY.read_text(encoding="utf-8"))["archives"]
    names: dict[str, str] = {}
    children: dict[str, tuple[str, ...]] = {}
    for archive, entry in data.items():
        names[archive] = entry["name"]
        names.update(entry["categories"])
        children[archive] = tuple(entry["categories"])
    return names, children


def is_known(term: str) -> bool:
    """An arXiv archive (``cs``) or category (``cs.LG``), spelled as arXiv spells it."""
    return term in _taxonomy()[0]


def is_archive(term: str) -> bool:
    return term in _taxonomy()[1]


def subcategories(archive: str) -> tuple[str, ...]:
    """An archive's categories (none for one without, such as ``quant-ph``)."""
    return _taxonomy()[1].get(archive, ())


def name(term: str) -> str:
    return _taxonomy()[0].get(term, "")


def label(term: str) -> str:
    """'cs.LG — Machine Learning', or the term alone."""
    n = name(term)
    return f"{term} — {n}" if n else term


def groups(configured: list[str]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What a reader can choose, for forms: per configured term, (term, its
    heading, [(value, label)...]); an archive offers itself first, as "all of
    it", then each of its categories."""
    out = []
    for term in configured:
        if subcategories(term):
            choices = [(term, f"All of {name(term) or term} ({term})")] + [(c, label(c)) for c in subcategories(term)]
        else:
            choices = [(term, label(term))]
        out.append((term, label(term), choices))
    return out
