"""Where templates come from: the user's folder first (``[output]
templates_dir``), then the bundled ``templates/``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import jinja2

from newsletter.errors import ConfigError

_PKG = Path(__file__).resolve().parent.parent


def bundled_dir() -> Path:
    """Installed wheels carry ``newsletter/templates``; a source checkout has
    the top-level ``templates/``."""
    for candidate in (_PKG / "templates", _PKG.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("the bundled templates are missing; reinstall newsletter")


@lru_cache(maxsize=8)
def environment(user_dir: str | None = None) -> jinja2.Environment:
    dirs = ([user_dir] if user_dir else []) + [str(bundled_dir())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "mjml.j2", "xml.j2")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


@contextmanager
def template_errors() -> Iterator[None]:
    """A missing or broken template is the user's to fix: one error that
    names the file and the line, not a traceback."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or "a template"
        raise ConfigError(f"template {where}, line {exc.lineno}: {exc.message}; fix it (nothing was written)") from None
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"template {exc.name} was not found (check [output] templates_dir and [email] "
                          "template; nothing was written)") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"a template failed: {exc} (nothing was written)") from None
