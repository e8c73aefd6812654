"""The few plain HTML pages sign-in needs outside the Gradio app: a confirmation and a message.

They speak the visitor's language (kernel/language.py decides it, as for the Studio page): callers
pass it, and sentences from auth/ arrive in English and are translated here (auth/messages.py).
"""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

from auth import messages
from kernel.language import DEFAULT, localize, merge, translate

STRINGS = {
    "en": {
        "pages.back": "Back to {brand}",
        "pages.sign_in": "Sign in",
        "pages.sign_in_text": "Continue to sign in to {brand} in this browser.",
        "pages.change_email": "Confirm your new address",
        "pages.change_email_text": "Use this address for your {brand} account.",
    },
    "sv": {
        "pages.back": "Tillbaka till {brand}",
        "pages.sign_in": "Logga in",
        "pages.sign_in_text": "Fortsätt för att logga in på {brand} i den här webbläsaren.",
        "pages.change_email": "Bekräfta din nya adress",
        "pages.change_email_text": "Använd den här adressen för ditt konto på {brand}.",
    },
}
TEXTS = merge([STRINGS, messages.STRINGS])

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 34em; margin: 12vh auto; padding: 0 1.2em; line-height: 1.5; }
h1 { font-size: 1.4em; } .button { display: inline-block; padding: .6em 1.4em; border-radius: 8px; border: 0;
background: #f97316; color: white; font-size: 1em; cursor: pointer; text-decoration: none; }
"""


# A sign-in link's token is in the page's address: no other site may see it as a referrer. Not "no-referrer",
# which also blanks the Origin of the page's own form post, and web/origins.py refuses writes of unknown origin.
REFERRER_POLICY = "same-origin"


def page(brand: str, title: str, body: str, status: int = 200, lang: str = DEFAULT) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width, initial-scale=1'><title>{html.escape(title)} · {html.escape(brand)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": REFERRER_POLICY, "Vary": "Cookie, Accept-Language"},
    )


def back_link(brand: str, lang: str) -> str:
    return f"<p><a href='/'>{html.escape(translate(TEXTS, 'pages.back', lang, brand=brand))}</a></p>"


def message(brand: str, title: str, text: str, status: int, lang: str = DEFAULT) -> HTMLResponse:
    """A page that says one thing: `title` and `text` in English, shown in `lang` when translated."""
    title, text = localize(TEXTS, title, lang), localize(TEXTS, text, lang)
    return page(brand, title, f"<p id='message'>{html.escape(text)}</p>{back_link(brand, lang)}", status, lang)


def confirm_magic_link(brand: str, token: str, *, change_email: bool = False, lang: str = DEFAULT) -> HTMLResponse:
    """A button, not an automatic sign-in: mail scanners that open links must not use them up."""
    key = "pages.change_email" if change_email else "pages.sign_in"
    title, text = translate(TEXTS, key, lang), translate(TEXTS, f"{key}_text", lang, brand=brand)
    return page(
        brand, title,
        f"<p>{html.escape(text)}</p>"
        f"<form method='post' action='/auth/magic'><input type='hidden' name='token' value='{html.escape(token)}'>"
        f"<button class='button' type='submit' id='confirm'>{html.escape(title)}</button></form>",
        lang=lang,
    )
