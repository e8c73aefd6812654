"""Which language a visitor reads, and looking texts up in per-module tables. Nothing here imports gradio.

The choice, the same for the Gradio page, its handlers and the plain server pages:
  1. the `studio_lang` cookie, when the language switch has set it to a language we have;
  2. else the browser's Accept-Language, the first language we have in q order;
  3. else English.
A cookie or header that is garbage counts as absent: it never raises.

Tables follow one convention: `STRINGS = {"en": {key: text}, "sv": {key: text}}`, keys namespaced
by module ("studio.run"), placeholders in str.format style ("{credits}"). Adding a language is one
more entry in NAMES and one more dict in every table (tests/ui/test_i18n.py lists what is missing).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import HTTPConnection

# The switch shows them in this order, each in its own language.
NAMES = {"sv": "Svenska", "en": "English"}
LANGUAGES = tuple(NAMES)
DEFAULT = "en"
COOKIE = "studio_lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
_MAX_HEADER_CHARS = 500  # a real Accept-Language is far shorter; more is not worth parsing

Table = Mapping[str, Mapping[str, str]]


def from_accept_language(header: str | None) -> str | None:
    """The first language we have in the header's q order (ties keep the header's order), or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "")[:_MAX_HEADER_CHARS].split(",")):
        tag, *params = item.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and 0 < quality <= 1:  # q=0 means "not this one"; NaN fails both tests
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def decide(cookie: str | None, accept_language: str | None) -> str:
    chosen = (cookie or "").strip().lower()
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(accept_language) or DEFAULT


def request_language(connection: HTTPConnection | None) -> str:
    """The language for this request (any Starlette request or websocket; None gives English)."""
    if connection is None:
        return DEFAULT
    return decide(connection.cookies.get(COOKIE), connection.headers.get("accept-language"))


# ------------------------------------------------------------------ tables


def merge(tables: Iterable[Table]) -> dict[str, dict[str, str]]:
    """One table from many; a key defined twice is a mistake, not an override."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for table in tables:
        for lang, texts in table.items():
            into = merged.setdefault(lang, {})
            for key, text in texts.items():
                if key in into:
                    raise ValueError(f"the text key {key!r} ({lang}) is defined twice")
                into[key] = text
    return merged


def translate(table: Table, key: str, lang: str, /, **values: Any) -> str:
    """The text in `lang`, else in English; formatted only when values are given (so texts the
    browser shows as they are may contain braces)."""
    template = table.get(lang, {}).get(key) or table[DEFAULT][key]
    return template.format(**values) if values else template


def translate_count(table: Table, key: str, count: int, lang: str, /, **values: Any) -> str:
    """`key.one` for exactly one, `key.other` otherwise; `{count}` is filled in."""
    return translate(table, f"{key}.{'one' if count == 1 else 'other'}", lang, count=count, **values)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def localize(table: Table, message: str, lang: str) -> str:
    """A sentence made in English below the UI (an error from pipelines/, billing/, auth/) in `lang`.

    Those layers stay language-free and keep raising English; a table lists their sentences under
    keys, the English with placeholders where the sentence has values, and the sentence is found
    by its English (gettext's convention). A value that is itself a known sentence ("Picture 3 of 4:
    {reason}") is translated too. An unknown sentence stays English.
    """
    if lang == DEFAULT or not message:
        return message
    for key, template in table[DEFAULT].items():
        found = _pattern(template).fullmatch(message)
        if found is not None and key in table.get(lang, {}):
            values = {name: localize(table, value, lang) if len(value) < len(message) else value
                      for name, value in found.groupdict().items()}
            return translate(table, key, lang, **values)
    return message


_patterns: dict[str, re.Pattern[str]] = {}


def _pattern(template: str) -> re.Pattern[str]:
    """"Too many {what}." -> ^Too\\ many\\ (?P<what>.+?)\\.$ (the values are taken back out)."""
    if template not in _patterns:
        try:
            parts, seen = [], set()
            for literal, field, _spec, _conversion in string.Formatter().parse(template):
                parts.append(re.escape(literal))
                if field is not None:  # a field used twice must match the same text again
                    parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>.+?)")
                    seen.add(field)
            _patterns[template] = re.compile("".join(parts), re.DOTALL)
        except (ValueError, re.error):  # a text with braces of its own (code in Markdown): only itself
            _patterns[template] = re.compile(re.escape(template))
    return _patterns[template]
