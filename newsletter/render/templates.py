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


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates, kept between runs in ``$XDG_CACHE_HOME/newsletter``
    (compiling them is most of a small build's time). Entries are keyed by the
    template's source, so an edited template is compiled again. The folder
    must be the user's own and closed to others (cached code is run); when it
    is not, or cannot be made, templates are compiled each run."""
    import os
    import stat

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "newsletter" / "templates"
    try:
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        st = folder.lstat()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=8)
def environment(user_dir: str | None = None) -> jinja2.Environment:
    dirs = ([user_dir] if user_dir else []) + [str(bundled_dir())]
    env = jinja2.Environment(
        bytecode_cache=bytecode_cache(),
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "mjml.j2", "xml.j2")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    from newsletter.render.email import _wrap  # the text email's paragraphs: {{ text | wrap(prefix="> ") }}

    env.filters["wrap"] = _wrap
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
