"""The sign-in routes: OAuth redirects and callbacks, magic links, signing out.

Every failure answers with a page that says what happened, and creates no session.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from auth import pages
from auth.accounts import Accounts
from auth.cookies import expire_session_cookie, set_session_cookie
from auth.magic_links import CHANGE_EMAIL, LinkInvalid, TooManyRequests
from auth.mailer import MailUnavailable
from auth.providers import LABELS, SignInFailed, finish_sign_in
from auth.tokens import safe_next
from auth.users import EmailTaken, User
from kernel.errors import UserError
from kernel.language import localize, request_language


def base_url(accounts: Accounts, request: Request) -> str:
    """PUBLIC_URL when set (right behind an HTTPS proxy), else what the request says."""
    return accounts.settings.public_url or str(request.base_url).rstrip("/")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def auth_router(accounts: Accounts) -> APIRouter:
    settings = accounts.settings
    brand = settings.brand_name
    router = APIRouter(prefix="/auth", include_in_schema=False)

    def signed_in(user: User, request: Request, next_path: str) -> Response:
        token = accounts.start_session(user, request.headers.get("user-agent"))
        response = RedirectResponse(safe_next(next_path), status_code=303)
        set_session_cookie(response, settings, token)
        return response

    def explain(request: Request, title: str, text: str, status: int) -> Response:
        """A page that says what happened, in the visitor's language."""
        return pages.message(brand, title, text, status, request_language(request))

    def signed_out(request: Request, next_path: str | None = None) -> Response:
        response = RedirectResponse(safe_next(next_path), status_code=303)
        expire_session_cookie(response, settings)
        return response

    # ------------------------------------------------------------------ Google and GitHub

    @router.get("/login/{provider}")
    async def login(provider: str, request: Request, next: str | None = None) -> Response:
        if provider not in accounts.providers:
            return explain(request, "Sign-in unavailable", "That way of signing in is not set up here.", 404)
        request.session.clear()
        request.session["next"] = safe_next(next)
        client = accounts.oauth.create_client(provider)
        try:
            return await client.authorize_redirect(request, f"{base_url(accounts, request)}/auth/callback/{provider}")
        except Exception:  # noqa: BLE001 - discovery document unreachable, and the like
            label = LABELS[provider]
            return explain(request, "Sign-in unavailable", f"{label} could not be reached. Please try again.", 502)

    @router.get("/callback/{provider}")
    async def callback(provider: str, request: Request) -> Response:
        if provider not in accounts.providers:
            return explain(request, "Sign-in unavailable", "That way of signing in is not set up here.", 404)
        next_path = request.session.get("next", "/")
        try:
            profile = await finish_sign_in(accounts.oauth, provider, request)
        except SignInFailed as failure:
            request.session.clear()
            return explain(request, "Not signed in", str(failure), 400)
        request.session.clear()
        user = await run_in_threadpool(
            accounts.users.sign_in, profile.provider, profile.subject, profile.email, profile.name
        )
        return signed_in(user, request, next_path)

    # ------------------------------------------------------------------ magic links

    @router.post("/email")
    def email_link(request: Request, email: str = Form(""), next: str | None = Form(None)) -> Response:
        """Ask for a sign-in link. The answer is the same whether or not the address has an account."""
        lang = request_language(request)

        def said(sentence: object) -> dict:
            return {"message": localize(pages.TEXTS, str(sentence), lang)}

        try:
            text = accounts.magic_links.request(
                email, client_ip=client_ip(request), base_url=base_url(accounts, request), next_path=next
            )
        except UserError as exc:
            return JSONResponse(said(exc), status_code=400)
        except TooManyRequests as exc:
            return JSONResponse(said(exc), status_code=429, headers={"Retry-After": "3600"})
        except MailUnavailable as exc:
            return JSONResponse(said(exc), status_code=503)
        return JSONResponse(said(text))

    @router.get("/magic")
    def confirm(request: Request, token: str = "") -> Response:
        if not token:
            return explain(request, "Not signed in", "This sign-in link is not valid.", 400)
        return pages.confirm_magic_link(brand, token, lang=request_language(request))

    @router.get("/email-change")
    def confirm_email_change(request: Request, token: str = "") -> Response:
        if not token:
            return explain(request, "Address not changed", "This confirmation link is not valid.", 400)
        return pages.confirm_magic_link(brand, token, change_email=True, lang=request_language(request))

    @router.post("/magic")
    def redeem(request: Request, token: str = Form("")) -> Response:
        try:
            link = accounts.magic_links.redeem(token)
        except LinkInvalid as failure:
            return explain(request, "Not signed in", str(failure), 400)
        if link.purpose == CHANGE_EMAIL:
            try:
                accounts.users.change_email(link.user_id, link.email)
            except EmailTaken as taken:
                return explain(request, "Address not changed", str(taken), 409)
            except UserError as failure:  # the account was deleted meanwhile
                return explain(request, "Address not changed", str(failure), 400)
            return RedirectResponse("/?email_changed=1", status_code=303)
        user = accounts.users.sign_in("email", link.email, link.email)
        return signed_in(user, request, link.next_path)

    # ------------------------------------------------------------------ signing out

    @router.post("/logout")
    def logout(request: Request, next: str | None = Form(None)) -> Response:
        session = accounts.sessions.resolve(request.cookies.get(settings.session_cookie_name))
        if session is not None:
            accounts.sessions.revoke(session.id, session.user_id)
        return signed_out(request, next)

    @router.post("/logout-all")
    def logout_everywhere(request: Request, next: str | None = Form(None)) -> Response:
        session = accounts.sessions.resolve(request.cookies.get(settings.session_cookie_name))
        if session is not None:
            accounts.sessions.revoke_all(session.user_id)
        return signed_out(request, next)

    return router
