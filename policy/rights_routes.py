"""HTTP routes for the data rights, for the page's download link and for API users with a key.

GET /account/export downloads everything held about the caller as one JSON file; POST
/account/delete closes the caller's account. Both act only on the caller: naming another
user's id is refused with 403, whatever the id. API users who never open the page read the
policy at GET /account/policy and accept that version with POST /account/accept-policy.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from auth import pages
from auth.accounts import Accounts
from auth.cookies import expire_session_cookie
from auth.dependency import CallerDependencies
from kernel.language import request_language, translate
from policy.acceptance import PolicyAcceptance
from policy.data_rights import DataRights, DeletionRefused
from policy.json_body import declared_json, read_json

ONLY_YOURS = "You can only export or delete your own data."


def only_yours(me: int, named: str | None) -> None:
    """A request that names a user must name the caller: 403 otherwise, whatever the id."""
    if named not in (None, "", str(me)):
        raise HTTPException(status_code=403, detail=ONLY_YOURS)


STRINGS = {
    "en": {
        "deleted.title": "Your account is deleted",
        "deleted.lead": "You are signed out, and this is what happened to what we held about you:",
        "deleted.items": "Your e-mail address and your name are erased.\n"
                         "Every sign-in (on every device) and every API key stopped working and is deleted.\n"
                         "Sign-in links sent to your address are deleted, and so are your consent records.\n"
                         "A subscription, if you had one, was cancelled at the payment provider first.\n"
                         "Usage records (which operation ran, how long it took) no longer name you.\n"
                         "Credit entries and payments are kept for accounting, in anonymised form: tied to an "
                         "account that names no one.\n"
                         "Your pictures and prompts were never stored, so there was nothing of them to delete.",
        "deleted.again": "You are welcome to come back: signing in again makes a new, empty account.",
    },
    "sv": {
        "deleted.title": "Ditt konto är raderat",
        "deleted.lead": "Du är utloggad, och så här gick det med det vi hade om dig:",
        "deleted.items": "Din e-postadress och ditt namn är raderade.\n"
                         "Alla inloggningar (på alla enheter) och alla API-nycklar slutade fungera och är raderade.\n"
                         "Inloggningslänkar som skickats till din adress är raderade, liksom dina samtycken.\n"
                         "En prenumeration, om du hade en, avslutades först hos betalningsleverantören.\n"
                         "Användningsposter (vilken åtgärd som kördes, hur lång tid den tog) pekar inte längre "
                         "på dig.\n"
                         "Kreditposter och betalningar sparas för bokföringen i anonymiserad form, knutna till ett "
                         "konto som inte pekar ut någon.\n"
                         "Dina bilder och prompter sparades aldrig, så av dem fanns inget att radera.",
        "deleted.again": "Du är välkommen tillbaka: loggar du in igen skapas ett nytt, tomt konto.",
    },
}


def deleted_page(brand: str, lang: str) -> Response:
    """Where account deletion ends: what was deleted, what stays and why (the session is gone by now)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in translate(STRINGS, "deleted.items", lang).split("\n"))
    body = (f"<p>{html.escape(translate(STRINGS, 'deleted.lead', lang))}</p><ul id='deleted'>{items}</ul>"
            f"<p>{html.escape(translate(STRINGS, 'deleted.again', lang))}</p>{pages.back_link(brand, lang)}")
    return pages.page(brand, translate(STRINGS, "deleted.title", lang), body, lang=lang)


def not_json(example: str) -> Response:
    """415: see policy/json_body.py for why the type matters."""
    return JSONResponse({"error": f"Send JSON with Content-Type: application/json, e.g. {example}."}, status_code=415)


def rights_router(accounts: Accounts, rights: DataRights, acceptance: PolicyAcceptance) -> APIRouter:
    settings = accounts.settings
    caller = CallerDependencies(accounts)
    router = APIRouter(prefix="/account", include_in_schema=False)

    @router.get("/export")
    async def export(user_id: str | None = None, me: int = Depends(caller.user_id)) -> Response:
        only_yours(me, user_id)
        data = await run_in_threadpool(rights.export, me)
        name = f"{settings.brand_name.lower().replace(' ', '-')}-my-data-{datetime.now(UTC):%Y-%m-%d}.json"
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @router.post("/delete")
    async def delete(request: Request, me: int = Depends(caller.user_id)) -> Response:
        """The caller is known (401 otherwise) before the body is read: a guest's body is never taken in."""
        if not declared_json(request):
            return not_json('{"confirm_email": "<your address>"}')
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("confirm_email"), str):
            return JSONResponse({"error": 'Send JSON {"confirm_email": "<your address>"} to confirm.'},
                                status_code=400)
        named = body.get("user_id")
        only_yours(me, None if named is None else str(named))
        try:
            deleted = await run_in_threadpool(rights.delete, me, body["confirm_email"])
        except DeletionRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        response = JSONResponse({"deleted": deleted})
        expire_session_cookie(response, settings)
        return response

    @router.get("/deleted")
    def deleted(request: Request) -> Response:
        return deleted_page(accounts.settings.brand_name, request_language(request))

    @router.get("/policy")
    def policy(lang: str = "en") -> Response:
        """The documents a user accepts, and the version to name when accepting them."""
        documents = acceptance.documents
        return JSONResponse({
            "version": acceptance.version,
            "privacy_policy": documents.get("privacy", lang).text,
            "terms": documents.get("terms", lang).text,
        })

    @router.post("/accept-policy")
    async def accept_policy(request: Request, me: int = Depends(caller.user_id)) -> Response:
        if not declared_json(request):
            return not_json(f'{{"version": "{acceptance.version}"}}')
        body = await read_json(request)
        version = body.get("version") if isinstance(body, dict) else None
        if version != acceptance.version:
            return JSONResponse({"error": f"Read the current policy and terms at GET /account/policy, then send "
                                          f'{{"version": "{acceptance.version}"}} to accept them.'}, status_code=409)
        await run_in_threadpool(acceptance.accept, me)
        return JSONResponse({"accepted": version})

    return router
