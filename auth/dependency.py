"""Gradio's auth dependency: who is asking, from a session cookie or an API key.

It runs before every Gradio route. A valid cookie or `Authorization: Bearer <key>` gives
"user:<id>"; no credentials give "guest" (guests may look around; handlers that cost money or
touch personal data check for a real user themselves). A key that does not work is refused
with a 401 and a sentence, so API callers learn why at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from auth.accounts import GUEST, Accounts, username_for

BAD_KEY = "This API key is not valid: it was revoked or mistyped. Create a new one in the Account tab."


def make_auth_dependency(accounts: Accounts) -> Callable[[Request], Awaitable[str]]:
    async def identify(request: Request) -> str:
        header = request.headers.get("authorization")
        if header:
            scheme, _, key = header.partition(" ")
            user_id = None
            if scheme.lower() == "bearer":
                user_id = await run_in_threadpool(accounts.api_keys.resolve, key.strip())
            if user_id is None:
                raise HTTPException(status_code=401, detail=BAD_KEY, headers={"WWW-Authenticate": "Bearer"})
            return username_for(user_id)
        user_id = await run_in_threadpool(accounts.signed_in, request.cookies)
        return username_for(user_id) if user_id is not None else GUEST

    return identify
