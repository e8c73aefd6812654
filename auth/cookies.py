"""The session cookie: one function sets it, one expires it, with the same attributes.

A browser keeps a cookie apart per (name, domain, path, partition): in a third-party iframe
(SameSite=None) the cookie is Partitioned (CHIPS), and only a deletion that says Partitioned
reaches it. A sign-out whose deletion lacked it left the revoked cookie in the browser, so
sign-in, both sign-outs and account deletion all go through here. Nothing here imports gradio.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response

from config import Settings


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.session_cookie_name, token,
        max_age=int(timedelta(days=settings.session_max_days).total_seconds()),
        path="/", httponly=True, secure=settings.cookie_secure, samesite=settings.cookie_samesite,
    )
    partition_last_cookie(response, settings)


def expire_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(settings.session_cookie_name, path="/", secure=settings.cookie_secure, httponly=True,
                           samesite=settings.cookie_samesite)
    partition_last_cookie(response, settings)


def partition_last_cookie(response: Response, settings: Settings) -> None:
    """In a third-party iframe (SameSite=None) ask for a partitioned cookie (CHIPS) for the cookie just set."""
    if settings.cookie_samesite == "none":
        name, value = response.raw_headers[-1]  # Python < 3.14 cannot write the attribute itself
        response.raw_headers[-1] = (name, value + b"; Partitioned")
