"""Who is calling, for FastAPI routes and for Gradio's auth dependency, from the one resolver (Accounts.caller_id).

A valid session cookie or `Authorization: Bearer <key>` names a user; no credentials name nobody
(guests may look around; routes and handlers that cost money or touch personal data require a
user). A key that does not work is refused with a 401 and a sentence by our own routes. Gradio's
routes let it in as a guest instead, and the handler that needs a user says the same sentence as
an error: gradio_client turns any 401 into "credentials were not provided", which tells a
researcher nothing, while an error from the handler reaches them word for word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from auth.accounts import Accounts, InvalidApiKey

BAD_KEY = "This API key is not valid: it was revoked or mistyped. Create a new one in the Account tab."
SIGN_IN = "Sign in first (a session cookie, or Authorization: Bearer <API key>)."
GUEST = "guest"


class CallerDependencies:
    """FastAPI dependencies that give the caller's user id; use as `me: int = Depends(caller.user_id)`.

    Built from the Accounts a router is given (not read from app.state), so a router works in any
    app it is included in.
    """

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    async def user_id_or_none(self, request: Request) -> int | None:
        """The caller's user id, None for a guest; a key that does not work answers 401."""
        try:
            return await run_in_threadpool(self.accounts.caller_id, request.headers, request.cookies)
        except InvalidApiKey:
            raise HTTPException(status_code=401, detail=BAD_KEY, headers={"WWW-Authenticate": "Bearer"}) from None

    async def user_id(self, request: Request) -> int:
        """The caller's user id; nobody signed in answers 401 (before a route reads its body)."""
        user_id = await self.user_id_or_none(request)
        if user_id is None:
            raise HTTPException(status_code=401, detail=SIGN_IN)
        return user_id

    async def gradio_username(self, request: Request) -> str:
        """Gradio's auth dependency, which must name the caller with a string.

        The string is for Gradio's own bookkeeping (it shows in /config): nothing of ours reads it back.
        Handlers resolve the caller from the request themselves (ui/account.py), and tell a caller
        with a key that does not work (see the module's docstring).
        """
        try:
            user_id = await run_in_threadpool(self.accounts.caller_id, request.headers, request.cookies)
        except InvalidApiKey:
            return GUEST
        return GUEST if user_id is None else f"user:{user_id}"


def make_auth_dependency(accounts: Accounts) -> Callable[[Request], Awaitable[str]]:
    return CallerDependencies(accounts).gradio_username
