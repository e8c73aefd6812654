"""The language switch at the top of the page: "Svenska | English", each name in its own language.

A click stores the choice in the `studio_lang` cookie (a year, same-site rules as the session
cookie) and reloads: the server reads the cookie for everything it writes (kernel/language.py) and
starts Gradio's page in that language (ui/page_language.py), so every label, message and server
page follows, now and on later visits.
"""

from __future__ import annotations

import html
import json

import gradio as gr

from config import Settings
from kernel.language import COOKIE, COOKIE_MAX_AGE_S, LANGUAGES, NAMES

CSS = """
.language-switch { display: flex; justify-content: flex-end; align-items: center; gap: 0.35em;
                   font-size: var(--text-sm); }
.language-switch button { background: none; border: 0; padding: 0; cursor: pointer; text-decoration: underline;
                          color: var(--link-text-color); font-size: inherit; }
.language-switch button[aria-current] { color: var(--body-text-color); font-weight: 600; text-decoration: none;
                                        cursor: default; }
"""

JS = """
const known = __LANGUAGES__;
element.querySelectorAll('button[data-lang]').forEach((button) => {
  if (button.dataset.lang === document.documentElement.lang) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => {
    const lang = button.dataset.lang;
    if (!known.includes(lang) || lang === document.documentElement.lang) return;
    document.cookie = `__COOKIE__=${lang}; __ATTRIBUTES__`;
    location.reload();
  });
});
"""


def cookie_attributes(settings: Settings) -> str:
    """Like the session cookie's: Lax by default; inside another site's iframe SameSite=None, Secure, Partitioned."""
    attributes = f"Path=/; Max-Age={COOKIE_MAX_AGE_S}; SameSite={settings.cookie_samesite.capitalize()}"
    if settings.cookie_secure:
        attributes += "; Secure"
    if settings.cookie_samesite == "none":
        attributes += "; Partitioned"
    return attributes


def build_language_switch(settings: Settings) -> gr.HTML:
    """Call inside gr.Blocks, first, so it sits at the top of the page."""
    buttons = '<span aria-hidden="true">|</span>'.join(
        f'<button type="button" id="language-{code}" data-lang="{code}" lang="{code}">{html.escape(name)}</button>'
        for code, name in NAMES.items()
    )
    js = (JS.replace("__LANGUAGES__", json.dumps(list(LANGUAGES))).replace("__COOKIE__", COOKIE)
          .replace("__ATTRIBUTES__", cookie_attributes(settings)))
    return gr.HTML(f'<nav class="language-switch" aria-label="Språk · Language">{buttons}</nav>',
                   css_template=CSS, js_on_load=js, elem_id="language-switch")
