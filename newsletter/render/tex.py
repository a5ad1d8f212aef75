"""TeX in titles and abstracts, for readers: arXiv metadata is TeX source
(``$\\mathcal{O}(n \\log n)$``, ``88\\%``, ``\\emph{…}``).

On the site inline maths becomes MathML, which browsers draw with no script;
mail clients and feed readers do not draw MathML, so there it becomes Unicode
text. Only ``$…$`` spans are read as maths and only a few text macros are
undone outside them, so plain prose (``50% of C++``) is never mistaken for TeX.
A span that fails to convert stays as it was, escaped. The Markdown post keeps
the seed's raw text and does not use this module.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from markupsafe import Markup

from newsletter.text import collapse

# inline maths as pandoc reads it: $…$ with no space just inside either
# dollar and no digit right after the closing one (so "$5 vs $10" is money),
# not escaped as \$, not $$display$$, bounded
_MATH = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]{0,400}?[^\s\\])\$(?![\d$])")
_MACRO_SPACE = re.compile(r"(\\[A-Za-z]+) +(?=[A-Za-z0-9])")
_ESCAPES = re.compile(r"\\([%&_#$])")
_STYLE = re.compile(r"\\(?:emph|textit|textbf|texttt|textsc|textrm|mathrm|text)\{([^{}\\]*)\}")

# what MathML may keep after conversion: latex2mathml copies \text{…} through
# unescaped, so its output is sanitised like any other untrusted HTML
_MATHML_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
                "msqrt", "mroot", "mover", "munder", "munderover", "mstyle", "mtable", "mtr", "mtd", "menclose",
                "mpadded", "mphantom", "semantics", "annotation"}
_MATHML_ATTRS = {"math": {"display"}, "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "form"},
                 "mstyle": {"displaystyle", "scriptlevel"}, "mfrac": {"linethickness"},
                 "mspace": {"width"}, "menclose": {"notation"}, "mi": {"mathvariant"}, "mtable": {"columnalign"},
                 "mover": {"accent"}, "munder": {"accentunder"}}


def _prose(text: str) -> str:
    """Outside maths: ``\\%`` is ``%``, ``\\emph{word}`` is ``word``."""
    return _ESCAPES.sub(r"\1", _STYLE.sub(r"\1", text))


@lru_cache(maxsize=4096)
def _mathml(tex: str) -> str | None:
    import latex2mathml.converter
    import nh3

    if not _balanced(tex):
        return None
    try:
        out = latex2mathml.converter.convert(tex)
    except Exception:  # noqa: BLE001 - a third-party parser on untrusted input: any failure keeps the text
        return None
    clean = nh3.clean(out, tags=_MATHML_TAGS, attributes=_MATHML_ATTRS)
    return clean if clean.startswith("<math") else None


@lru_cache(maxsize=4096)
def _unicode(tex: str) -> str | None:
    import logging

    from pylatexenc.latex2text import LatexNodes2Text

    if not _balanced(tex):
        return None
    logging.getLogger("pylatexenc").setLevel(logging.CRITICAL)  # it logs each macro it cannot fill in
    try:
        # "\log n": keep the space TeX would show, which the converter eats
        out = LatexNodes2Text(math_mode="text").latex_to_text(_MACRO_SPACE.sub(r"\1{} ", tex))
    except Exception:  # noqa: BLE001 - as above
        return None
    out = " ".join(out.split())
    return out if out and "%s" not in out else None


def _balanced(tex: str) -> bool:
    """Braces that close: a cut-off span is left as text, not half-drawn."""
    depth = 0
    for m in re.finditer(r"\\[{}]|[{}]", tex):
        if len(m.group()) == 1:
            depth += 1 if m.group() == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def tex_html(text: str) -> Markup:
    """HTML for the site: maths as MathML, everything else escaped."""
    parts, last = [], 0
    for m in _MATH.finditer(text):
        parts.append(html.escape(_prose(text[last:m.start()]), quote=False))
        mathml = _mathml(m.group(1))
        parts.append(mathml if mathml is not None else html.escape(m.group(0), quote=False))
        last = m.end()
    parts.append(html.escape(_prose(text[last:]), quote=False))
    return Markup("".join(parts))


def tex_text(text: str) -> str:
    """Plain Unicode for email and feeds: ``$\\alpha^2$`` reads ``α^2``."""
    parts, last = [], 0
    for m in _MATH.finditer(text):
        parts.append(_prose(text[last:m.start()]))
        parts.append(_unicode(m.group(1)) or m.group(0))
        last = m.end()
    parts.append(_prose(text[last:]))
    return "".join(parts)


def plain(text: str) -> str:
    """A title or abstract as one line of Unicode text (email, feeds, lists)."""
    return tex_text(collapse(text))


def rich(text: str) -> Markup:
    """A title or abstract as one line of HTML with MathML (the site)."""
    return tex_html(collapse(text))
