"""HTTP routes for the data rights, for the page's download link and for API users with a key.

GET /account/export downloads everything held about the caller as one JSON file; POST
/account/delete closes the caller's account. Both act only on the caller: naming another
user's id is refused with 403, whatever the id. API users who never open the page read the
policy at GET /account/policy and accept that version with POST /account/accept-policy.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from auth.accounts import USER_PREFIX
from config import Settings
from policy.acceptance import PolicyAcceptance
from policy.data_rights import DataRights, DeletionRefused

SIGN_IN = "Sign in first (a session cookie, or Authorization: Bearer <API key>)."
ONLY_YOURS = "You can only export or delete your own data."


def rights_router(settings: Settings, rights: DataRights, acceptance: PolicyAcceptance,
                  identify: Callable[[Request], Awaitable[str]]) -> APIRouter:
    router = APIRouter(prefix="/account", include_in_schema=False)

    async def caller(request: Request, named: str | None) -> int:
        """The signed-in caller's id; 401 for nobody, 403 when the request names someone else."""
        who = await identify(request)  # a bad API key is already a 401 here
        if not who.startswith(USER_PREFIX):
            raise HTTPException(status_code=401, detail=SIGN_IN)
        user_id = int(who[len(USER_PREFIX):])
        if named not in (None, "", str(user_id)):
            raise HTTPException(status_code=403, detail=ONLY_YOURS)
        return user_id

    @router.get("/export")
    async def export(request: Request, user_id: str | None = None) -> Response:
        me = await caller(request, user_id)
        data = await run_in_threadpool(rights.export, me)
        name = f"{settings.brand_name.lower().replace(' ', '-')}-my-data-{datetime.now(UTC):%Y-%m-%d}.json"
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @router.post("/delete")
    async def delete(request: Request) -> Response:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than json recurses
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("confirm_email"), str):
            return JSONResponse({"error": 'Send JSON {"confirm_email": "<your address>"} to confirm.'},
                                status_code=400)
        named = body.get("user_id")
        me = await caller(request, None if named is None else str(named))
        try:
            deleted = await run_in_threadpool(rights.delete, me, body["confirm_email"])
        except DeletionRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        response = JSONResponse({"deleted": deleted})
        response.delete_cookie(settings.session_cookie_name, path="/", secure=settings.cookie_secure,
                               httponly=True, samesite=settings.cookie_samesite)
        return response

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
    async def accept_policy(request: Request) -> Response:
        me = await caller(request, None)
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than json recurses
            body = None
        version = body.get("version") if isinstance(body, dict) else None
        if version != acceptance.version:
            return JSONResponse({"error": f"Read the current policy and terms at GET /account/policy, then send "
                                          f'{{"version": "{acceptance.version}"}} to accept them.'}, status_code=409)
        await run_in_threadpool(acceptance.accept, me)
        return JSONResponse({"accepted": version})

    return router
