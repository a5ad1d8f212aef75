"""The house rules of the code, checked: modules and functions small enough
to read, the registry's promise (no module outside ``sources/`` names a
source), the package ships its type information."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from newsletter.sources import REGISTRY

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_450_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in modules() if (n := len(p.read_text().splitlines())) >
            MAX_MODULE_LINES}
    assert not long, long


def test_no_function_is_over_60_lines():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = n
    assert not long, long


def source_words() -> list[str]:
    """Every way a source is named: its key, its label, its post tag."""
    words = set()
    for s in REGISTRY.values():
        words |= {s.name, s.label}
        if s.post_tag:
            words.add(s.post_tag)
    return sorted(words)


def patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A source's longer names anywhere (any case); the short ones ("x") only
    as a whole string literal or a config table, where they cannot be a
    variable or part of a header name."""
    long_words = "|".join(re.escape(w) for w in source_words() if len(w) > 2)
    short_words = "|".join(re.escape(w) for w in source_words() if len(w) <= 2)
    long = re.compile(rf"(?i)(?<![\w-])(?:{long_words})(?![\w-])")
    short = re.compile(rf"""(["'])(?:{short_words})\1|(?<![\w.])sources\.(?:{short_words})(?![\w-])""")
    return long, short


def test_no_module_or_template_outside_sources_names_a_source():
    assert len(REGISTRY) >= 5
    long, short = patterns()
    found = []
    files = [p for p in modules() if "sources" not in p.relative_to(PACKAGE).parts]
    files += [p for p in TEMPLATES.rglob("*") if p.is_file()]
    for path in files:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = re.sub(r'name="twitter:\w+"', "", line)  # Twitter Cards meta names: a web protocol, not a source
            if long.search(line) or (path.suffix == ".py" and short.search(line)):
                found.append(f"{path.name}:{i}: {line.strip()[:80]}")
    assert not found, found


def test_the_check_finds_a_source_name():
    """The check above is no check if it cannot fail."""
    long, short = patterns()
    assert long.search('figs = sorted(s for s in sources if s != "reddit")')
    assert long.search("the Hacker News points") and not long.search("hackernewsletter")
    assert short.search('key=lambda s: (s != "x", s)') and short.search("[sources.x]")
    assert not short.search('("X-Frame-Options", "DENY")') and not short.search("for x in posts")


def test_the_package_ships_its_types():
    assert (PACKAGE / "py.typed").is_file()
