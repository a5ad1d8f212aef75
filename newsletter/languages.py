"""Names of the languages summaries may be written in, for prompts and forms."""

from __future__ import annotations

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
             "pt-BR": "Brazilian Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "tr": "Turkish",
             "ru": "Russian", "uk": "Ukrainian", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
             "ar": "Arabic", "hi": "Hindi"}


def language_name(code: str) -> str:
    """"de" -> "German"; a code without a name here is shown as it is."""
    return LANGUAGES.get(code, LANGUAGES.get(code.split("-")[0], code))
