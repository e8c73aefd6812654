"""GET /developers: using the studio from Python, every operation with a snippet that works as pasted.

Gradio's own "Use via API" panel leaves out the Authorization header, so a copied snippet fails
with "credentials were not provided". This page is made from the registry like the endpoints
themselves, in the visitor's language, and its snippets carry the header. Nothing here imports gradio.
"""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from auth import pages
from config import Settings
from kernel.language import request_language
from pipelines.base import Operation
from pipelines.registry import OPERATIONS
from ui.i18n import text

STRINGS = {
    "en": {
        "developers.title": "Use {brand} from Python",
        "developers.lead": "Every operation is an API endpoint named after it. Sign in, create an API key in the "
                           "Account tab, and send it with every call; runs cost the same credits as on the page.",
        "developers.install": "Install the client once:",
        "developers.results": "Each call returns the picture as an inline PNG (its <code>url</code> is a data: URL), "
                              "the seed, the run id and its recipe (how it was made, as JSON: kept by you, not by the "
                              "server; <code>/replay</code> runs a recipe again on the same picture). Errors come "
                              "back as sentences, e.g. when a key was revoked or mistyped, or the credits are not "
                              "enough.",
        "developers.parameters": "Parameters",
        "developers.name": "Name",
        "developers.meaning": "What it is",
        "developers.default": "If left out",
        "developers.required": "required",
        "developers.model_default": "the model's default",
        "developers.more": "More in the README: using it from Python.",
    },
    "sv": {
        "developers.title": "Använd {brand} från Python",
        "developers.lead": "Varje åtgärd är en API-slutpunkt med samma namn. Logga in, skapa en API-nyckel under "
                           "fliken Konto och skicka den med varje anrop; körningar kostar samma krediter som på sidan.",
        "developers.install": "Installera klienten en gång:",
        "developers.results": "Varje anrop ger tillbaka bilden som en inbäddad PNG (dess <code>url</code> är en "
                              "data:-URL), seed, körningens id och dess recept (hur bilden gjordes, som JSON: det "
                              "sparas hos dig, inte på servern; <code>/replay</code> kör ett recept igen på samma "
                              "bild). Fel kommer som meningar, t.ex. när en nyckel har återkallats eller skrivits fel, "
                              "eller när krediterna inte räcker.",
        "developers.parameters": "Parametrar",
        "developers.name": "Namn",
        "developers.meaning": "Vad det är",
        "developers.default": "Om den utelämnas",
        "developers.required": "krävs",
        "developers.model_default": "modellens standardvärde",
        "developers.more": "Mer i README: använda den från Python.",
    },
}
README_SECTION = "#using-it-from-python"


def snippet(op: Operation, base_url: str) -> str:
    """A call that works when pasted (with a real key and a photo), with the operation's own example values."""
    arguments = ['handle_file("photo.png")']
    if op.masked:
        arguments.append('mask=handle_file("mask.png")')
    arguments += [f"{name}={json.dumps(value)}" for name, value in op.examples.items()]
    return (
        "from gradio_client import Client, handle_file\n\n"
        f'client = Client("{base_url}/", headers={{"Authorization": "Bearer YOUR_API_KEY"}})\n'
        f"result, seed, run_id, recipe = client.predict(\n    {', '.join(arguments)},\n"
        f"    api_name=\"/{op.id}\",\n)\n"
    )


def parameters(op: Operation, lang: str) -> str:
    rows = []
    for item in op.inputs:
        if item.name == "image":
            default = text("developers.required", lang)
        elif item.default in (None, "", ()):
            default = text("developers.model_default", lang) if item.kind == "number" else "—"
        else:
            default = json.dumps(list(item.default) if isinstance(item.default, tuple) else item.default)
        label_key = f"op.{op.id}.prompt" if item.name == "prompt" and op.prompt_label else item.key("label")
        rows.append(f"<tr><td><code>{item.name}</code></td><td>{html.escape(text(label_key, lang))}</td>"
                    f"<td>{html.escape(default)}</td></tr>")
    head = "".join(f"<th>{html.escape(text(f'developers.{k}', lang))}</th>" for k in ("name", "meaning", "default"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def developers_page(settings: Settings, lang: str, base_url: str) -> str:
    sections = [
        f"<p>{html.escape(text('developers.lead', lang))}</p>",
        f"<p>{html.escape(text('developers.install', lang))}</p><pre><code>pip install gradio_client</code></pre>",
        f"<p>{text('developers.results', lang)}</p>",
    ]
    for op in OPERATIONS.values():
        sections.append(
            f"<h2 id='{op.id}'>{html.escape(text(f'op.{op.id}.label', lang))} · <code>/{op.id}</code></h2>"
            f"<p>{html.escape(text(f'op.{op.id}.help', lang))}</p>"
            f"<pre><code>{html.escape(snippet(op, base_url))}</code></pre>"
            f"<h3>{html.escape(text('developers.parameters', lang))}</h3>{parameters(op, lang)}"
        )
    if settings.docs_url:
        link = html.escape(settings.docs_url.rstrip("/") + README_SECTION, quote=True)
        sections.append(f"<p><a href='{link}'>{html.escape(text('developers.more', lang))}</a></p>")
    return "".join(sections)


def developers_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/developers")
    def developers(request: Request) -> Response:
        lang = request_language(request)
        base_url = settings.public_url or str(request.base_url).rstrip("/")
        title = text("developers.title", lang, brand=settings.brand_name)
        body = developers_page(settings, lang, base_url) + pages.back_link(settings.brand_name, lang)
        return pages.page(settings.brand_name, title, body, lang=lang)

    return router
