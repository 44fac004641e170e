"""The languages the assistant speaks, and how a text written in each is read from the content files.

Every text a visitor may see is written once per language, side by side (`en:` and `es:`), by the
team; nothing is translated at run time.
"""

from typing import Any, Callable, Dict

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "es")
# The slot holding the conversation's language (domain/conversation.yml; unset: the default).
LANGUAGE_SLOT = "language"


def texts(raw: Any, where: str, fail: Callable[[str, str], None]) -> Dict[str, str]:
    """language -> text, as written under `where`; every language given."""
    if not isinstance(raw, dict):
        fail(where, f"must give the text in each language ({', '.join(f'{lang}:' for lang in LANGUAGES)})")
    for language in LANGUAGES:
        if language not in raw:
            fail(f"{where}.{language}", "is missing: every text is written in each language")
    for language, text in raw.items():
        if language not in LANGUAGES:
            fail(f"{where}.{language}", f"is not a language the assistant speaks ({', '.join(LANGUAGES)})")
        if not isinstance(text, str) or not text.strip():
            fail(f"{where}.{language}", "must be a non-empty text")
    return {language: text.strip() for language, text in raw.items()}


def in_language(written: Dict[str, str], language: str) -> str:
    """The text in `language`, or in the default language where it has none."""
    return written.get(language) or written[DEFAULT_LANGUAGE]
