"""The few plain HTML pages sign-in needs outside the Gradio app: a confirmation and a message."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 34em; margin: 12vh auto; padding: 0 1.2em; line-height: 1.5; }
h1 { font-size: 1.4em; } .button { display: inline-block; padding: .6em 1.4em; border-radius: 8px; border: 0;
background: #f97316; color: white; font-size: 1em; cursor: pointer; text-decoration: none; }
"""


def page(brand: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width, initial-scale=1'><title>{html.escape(title)} · {html.escape(brand)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def message(brand: str, title: str, text: str, status: int) -> HTMLResponse:
    back = f"<p><a href='/'>Back to {html.escape(brand)}</a></p>"
    return page(brand, title, f"<p id='message'>{html.escape(text)}</p>{back}", status)


def confirm_magic_link(brand: str, token: str) -> HTMLResponse:
    """A button, not an automatic sign-in: mail scanners that open links must not use them up."""
    return page(
        brand, "Sign in",
        f"<p>Continue to sign in to {html.escape(brand)} in this browser.</p>"
        f"<form method='post' action='/auth/magic'><input type='hidden' name='token' value='{html.escape(token)}'>"
        f"<button class='button' type='submit' id='confirm'>Sign in</button></form>",
    )
