"""The cookie choice over HTTP: GET tells the page the verified choice, POST makes one.

GET /consent/cookies -> {"analytics": true | false | null, "measurement_id": "G-..." | null, "version": ...}
    The signed cookie's choice; without one, a signed-in user's choice on the account (and the
    cookie is set, so a new browser follows the account). A guest's choice made before signing in
    is copied to the account the first time the account has none.
POST /consent/cookies {"analytics": bool}
    Sets the cookie (a year), records the choice on the account when signed in, and on withdrawal
    expires Google Analytics' cookies. Only `application/json` is accepted (policy/json_body.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from auth.accounts import Accounts
from auth.dependency import CallerDependencies
from policy.consents import ANALYTICS, Consents
from policy.cookies import (
    COOKIE_NAME,
    NOTICE_VERSION,
    CookieChoice,
    cookie_choice,
    expire_analytics_cookies,
    set_choice_cookie,
)
from policy.json_body import UNREADABLE, declared_json, read_json

EXAMPLE = 'Send {"analytics": true} to allow analytics cookies or {"analytics": false} for essential cookies only.'


def consent_router(accounts: Accounts, consents: Consents) -> APIRouter:
    settings = accounts.settings
    caller = CallerDependencies(accounts)
    router = APIRouter(prefix="/consent", include_in_schema=False)

    def answer(analytics: bool | None) -> JSONResponse:
        body = {"analytics": analytics, "measurement_id": settings.ga_measurement_id, "version": NOTICE_VERSION}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def refuse(status_code: int, message: str) -> JSONResponse:
        return JSONResponse({"message": message}, status_code=status_code, headers={"Cache-Control": "no-store"})

    def current_choice(request: Request, user_id: int | None) -> CookieChoice:
        found = cookie_choice(settings, consents, request.cookies.get(COOKIE_NAME), user_id)
        if user_id is not None and found.analytics is not None and found.on_account is None:
            consents.record(user_id, ANALYTICS, NOTICE_VERSION, found.analytics)  # chosen as a guest, then signed in
        return found

    @router.get("/cookies")
    async def read(request: Request, user_id: int | None = Depends(caller.user_id_or_none)) -> Response:
        found = await run_in_threadpool(current_choice, request, user_id)
        response = answer(found.analytics)
        if found.from_account and found.analytics is not None:
            set_choice_cookie(response, settings, found.analytics)  # this browser follows the account from now on
        return response

    @router.post("/cookies")
    async def choose(request: Request, user_id: int | None = Depends(caller.user_id_or_none)) -> Response:
        if not declared_json(request):
            return refuse(415, f"The choice must be sent as JSON (Content-Type: application/json). {EXAMPLE}")
        data = await read_json(request)  # a kilobyte at most (web/limits.py)
        if data is UNREADABLE:
            return refuse(400, f"The request body is not valid JSON. {EXAMPLE}")
        if not isinstance(data, dict) or set(data) != {"analytics"} or not isinstance(data["analytics"], bool):
            return refuse(422, f"The choice was not understood. {EXAMPLE}")
        analytics: bool = data["analytics"]
        if user_id is not None:
            await run_in_threadpool(consents.record, user_id, ANALYTICS, NOTICE_VERSION, analytics)
        response = answer(analytics)
        set_choice_cookie(response, settings, analytics)
        if not analytics:
            hosts = [request.url.hostname, urlsplit(settings.public_url or "").hostname]
            expire_analytics_cookies(response, settings, request.cookies, hosts)
        return response

    return router
