"""One-sentence summaries by a language model behind any OpenAI-compatible
endpoint (a local Ollama, llama.cpp or vLLM server, or a hosted one). Only a
paper's title and abstract are sent, never anything about readers. The
answer is untrusted text: markup, links, controls and anything over the
word limit are removed before it is stored."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import nh3

from newsletter.config import SummariesConfig
from newsletter.errors import ConfigError, SourceError
from newsletter.languages import language_name
from newsletter.text import collapse, cut_at_word

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)\S+|\b\S+@\S+\.\w+")
_MARKS = re.compile(r"(\*\*|__|`+|^#+\s*|^>\s*|^\s*[-*]\s+)", re.M)
_LABEL = re.compile(r"(?i)^\s*(?:one[- ]sentence\s+)?(?:summary|tl;?dr|answer)\s*[:\-–]\s*")


def clean_answer(answer: str, max_words: int) -> str:
    """The model's answer as one line of plain text, at most ``max_words``
    words (and 12 characters a word, for languages written without spaces)."""
    text = html.unescape(nh3.clean(answer, tags=set()))  # tags gone; script and style with their content
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _MARKS.sub("", text)
    text = collapse(_LABEL.sub("", collapse(text))).strip(" \"'“”")
    words = text.split(" ")
    if len(words) > max_words:
        text = " ".join(words[:max_words]).rstrip(" ,;:.-") + "…"
    return cut_at_word(text, max_words * 12) if text else ""


def prompt(title: str, abstract: str, language: str, max_words: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": (
            "You summarise research papers for a newsletter. Answer with exactly one sentence of plain text, at "
            f"most {max_words} words, in {language_name(language)}. No markdown, no links, no preamble.")},
        {"role": "user", "content": f"Title: {collapse(title)}\n\nAbstract: {collapse(abstract)[:4000]}"},
    ]


class Summarizer:
    """The configured endpoint, through the ``openai`` client library."""

    def __init__(self, cfg: SummariesConfig, env: Mapping[str, str], timeout: float):
        try:
            import openai
        except ImportError:
            raise ConfigError("[summaries] enabled needs the openai package: pip install 'newsletter[summaries]'"
                              ) from None
        self.cfg = cfg
        self.requests = 0
        self._errors: tuple[type[BaseException], ...] = (openai.OpenAIError,)
        self.client: Any = openai.OpenAI(base_url=cfg.api_url, api_key=env.get(cfg.api_key_env) or "none",
                                         timeout=timeout, max_retries=0)

    def summarise(self, title: str, abstract: str, language: str) -> str:
        """One clean sentence, or SourceError saying why there is none."""
        self.requests += 1
        try:
            answer = self.client.chat.completions.create(
                model=self.cfg.model, messages=prompt(title, abstract, language, self.cfg.max_words),
                temperature=0.2, max_tokens=self.cfg.max_words * 4)
        except self._errors as exc:
            status = getattr(exc, "status_code", None)
            raise SourceError(f"HTTP {status}" if status else type(exc).__name__) from None
        try:
            content = answer.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise SourceError("an answer without a message") from None
        text = clean_answer(str(content), self.cfg.max_words)
        if not text:
            raise SourceError("an empty answer")
        return text
