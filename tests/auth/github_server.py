"""A loopback stand-in for GitHub's OAuth endpoints and the two API calls sign-in makes.

Built from GitHub's documented payloads: the authorize redirect (code, state; error=access_denied
when the user declines), POST /login/oauth/access_token (answers 200 with an "error" field for a
bad or reused code), GET /user and GET /user/emails. Tests choose who signs in and how the
server misbehaves through `GitHubState`.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID, CLIENT_SECRET = "studio-github-client", "studio-github-secret"


@dataclass
class GitHubState:
    user: dict = field(default_factory=lambda: {"id": 1001, "login": "octo", "name": "Octo Cat"})
    emails: list = field(default_factory=lambda: [
        {"email": "octo@example.com", "primary": True, "verified": True, "visibility": "private"}
    ])
    deny: bool = False  # the user presses "Cancel" on GitHub's consent page
    slow_token_s: float = 0.0  # the token endpoint takes this long to answer
    codes: dict = field(default_factory=dict)  # code -> (redirect_uri, user, emails), single use
    tokens: dict = field(default_factory=dict)  # access token -> (user, emails)


def github_app(state: GitHubState) -> FastAPI:
    app = FastAPI()

    @app.get("/login/oauth/authorize")
    def authorize(request: Request, client_id: str, redirect_uri: str):
        given_state = request.query_params.get("state", "")
        if client_id != CLIENT_ID:
            return JSONResponse({"error": "unknown client"}, status_code=404)
        if state.deny:
            query = urlencode({"error": "access_denied", "error_description": "The user has denied your application "
                               "access.", "state": given_state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)
        code = secrets.token_hex(10)
        state.codes[code] = (redirect_uri, dict(state.user), [dict(e) for e in state.emails])
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': given_state})}", status_code=302)

    @app.post("/login/oauth/access_token")
    def access_token(
        code: str = Form(""), redirect_uri: str = Form(""), client_id: str = Form(""), client_secret: str = Form(""),
        authorization: str | None = Header(None),
    ):
        if authorization and authorization.lower().startswith("basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if state.slow_token_s:
            time.sleep(state.slow_token_s)
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "incorrect_client_credentials",
                                 "error_description": "The client_id and/or client_secret passed are incorrect."})
        grant = state.codes.pop(code, None)
        if grant is None or grant[0] != redirect_uri:
            return JSONResponse({"error": "bad_verification_code",
                                 "error_description": "The code passed is incorrect or expired."})
        token = "gho_" + secrets.token_hex(16)
        state.tokens[token] = grant[1:]
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})

    def who(authorization: str | None):
        token = (authorization or "").split(" ", 1)[-1]
        return state.tokens.get(token)

    @app.get("/user")
    def user(authorization: str | None = Header(None)):
        found = who(authorization)
        if found is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return found[0]

    @app.get("/user/emails")
    def emails(authorization: str | None = Header(None)):
        found = who(authorization)
        if found is None:
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        return found[1]

    return app
