"""The Studio page in every language: one gr.I18n built from the tables of the UI modules.

Each module keeps its own `STRINGS = {"en": {...}, "sv": {...}}` (keys namespaced by module, see
kernel/language.py); operations and their inputs carry theirs (op.<id>.*, input.<name>.*). Texts
fixed when the page is built (labels, buttons, tabs, headings) go to the browser as keys,
`t("studio.run")`, and the browser shows them in its language. Texts handlers make
at run time (results, gr.Info/gr.Error, the priced Run button) use `text(key, language(request))`;
sentences from below the UI come in English and go through `localize`. The page and the server
decide the language the same way (kernel/language.py; ui/page_language.py tells the page).
"""

from __future__ import annotations

import html
import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from kernel import language as lang_rules
from pipelines import registry
from pipelines.registry import OPERATIONS

if TYPE_CHECKING:
    import gradio as gr
    from gradio.i18n import I18nData

# Every module with a STRINGS table the page uses; a new UI module with texts adds its name here.
MODULES = (
    "ui.studio", "ui.handlers", "ui.views", "ui.canvas", "ui.references", "ui.uploads", "ui.account", "ui.developers",
    "ui.gradio_texts",
    "ui.credits", "ui.messages", "ui.privacy", "ui.consent", "ui.my_data", "ui.admin",
    "auth.pages", "auth.messages", "billing.routes", "policy.rights_routes", "ui.compare", "pipelines.compare",
)


def strings() -> dict[str, dict[str, str]]:
    """All tables merged: the modules above and the registered operations with their inputs.

    Made again when an operation joins or leaves the registry (read when the page is built and
    whenever a handler translates, so it is cached per registry content).
    """
    return _merged(tuple(OPERATIONS.values()))


@cache
def _merged(_operations: tuple) -> dict[str, dict[str, str]]:
    return lang_rules.merge([*(importlib.import_module(name).STRINGS for name in MODULES), registry.tables()])


def i18n() -> gr.I18n:
    """For gr.mount_gradio_app(i18n=...): the browser picks its language's table, else English."""
    import gradio as gr

    return gr.I18n(**strings())


def t(key: str) -> I18nData:
    """A text the browser translates; an unknown key fails when the page is built, not in the page."""
    from gradio.i18n import I18nData

    if key not in strings()[lang_rules.DEFAULT]:
        raise KeyError(f"no text {key!r} in the tables of {', '.join(MODULES)}")
    return I18nData(key)


def language(request: gr.Request | None) -> str:
    """'sv' or 'en' for this visitor: the switch's cookie, else the browser's Accept-Language, else English."""
    return lang_rules.request_language(getattr(request, "request", None) if request is not None else None)


def text(key: str, lang: str, /, **values: Any) -> str:
    return lang_rules.translate(strings(), key, lang, **values)


def text_count(key: str, count: int, lang: str, /, **values: Any) -> str:
    """`key.one` or `key.other`, with {count}."""
    return lang_rules.translate_count(strings(), key, count, lang, **values)


def in_every_language(key: str, /, **values: Any) -> str:
    """HTML that carries the text in every language, for gr.HTML (Gradio translates no HTML);
    LANGUAGE_CSS shows the one of the page (<html lang>)."""
    return "".join(
        f'<span class="i18n" lang="{lang}">{html.escape(text(key, lang, **values))}</span>'
        for lang in lang_rules.LANGUAGES
    )


def _language_css() -> str:
    others = [lang for lang in lang_rules.LANGUAGES if lang != lang_rules.DEFAULT]
    rules = [f'html[lang="{lang}"] .i18n:not([lang="{lang}"])' for lang in others]
    default = "".join(f':not([lang="{lang}"])' for lang in others)
    rules.append(f'html{default} .i18n:not([lang="{lang_rules.DEFAULT}"])')
    return ",\n".join(rules) + " { display: none; }\n"


LANGUAGE_CSS = _language_css()


def localize(message: str, lang: str) -> str:
    """An English sentence from pipelines/, billing/ or auth/ in `lang`, when a table has it."""
    return lang_rules.localize(strings(), message, lang)
