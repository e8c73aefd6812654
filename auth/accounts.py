"""Everything account-related the app needs, in one object built once in app.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from auth.magic_links import MagicLinks
from auth.mailer import Mailer
from auth.providers import build_oauth, configured_providers
from auth.rate_limit import RateLimiter
from auth.sessions import ApiKeys, Sessions
from auth.users import User, Users
from config import Settings
from store.crypto import FieldCipher

if TYPE_CHECKING:
    from authlib.integrations.starlette_client import OAuth


class InvalidApiKey(Exception):
    """An Authorization header that names no live key: the caller is refused, not taken for a guest."""


class Accounts:
    def __init__(self, engine: Engine, settings: Settings, mailer: Mailer | None = None) -> None:
        self.settings = settings
        self.cipher = FieldCipher.from_settings(settings)
        self.users = Users(engine, self.cipher)
        self.sessions = Sessions(
            engine, idle=timedelta(days=settings.session_idle_days), lifetime=timedelta(days=settings.session_max_days)
        )
        self.api_keys = ApiKeys(engine)
        self.magic_links = MagicLinks(engine, settings, RateLimiter(engine), mailer or Mailer(settings), self.cipher)
        self.providers = configured_providers(settings)

    @cached_property
    def oauth(self) -> OAuth:
        return build_oauth(self.settings)

    def start_session(self, user: User, user_agent: str | None) -> str:
        return self.sessions.create(user.id, describe_device(user_agent))

    def caller_id(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> int | None:
        """Who is calling: the user id behind a request's API key or session cookie; None for a guest.

        The one answer for every route and handler. `Authorization: Bearer <key>` wins over the cookie;
        a header that is there but names no live key raises InvalidApiKey, so that an API caller is told
        at once instead of being served as a guest.
        """
        header = headers.get("authorization")
        if header:
            scheme, _, key = header.partition(" ")
            user_id = self.api_keys.resolve(key.strip()) if scheme.lower() == "bearer" else None
            if user_id is None:
                raise InvalidApiKey
            return user_id
        session = self.sessions.resolve(cookies.get(self.settings.session_cookie_name))
        return session.user_id if session else None


def describe_device(user_agent: str | None) -> str:
    """'Firefox on Windows'-style, for the list of active sessions. No IP addresses are kept."""
    agent = user_agent or ""
    browser = next(
        (name for pattern, name in (
            (r"Edg/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/", "Firefox"), (r"Chrom(e|ium)/", "Chrome"),
            (r"Safari/", "Safari"), (r"python-httpx|gradio_client|python-requests", "Python client"),
        ) if re.search(pattern, agent)),
        "a browser",
    )
    system = next(
        (name for pattern, name in (
            (r"Android", "Android"), (r"iPhone|iPad", "iOS"), (r"Windows", "Windows"), (r"Mac OS X|Macintosh", "macOS"),
            (r"Linux", "Linux"),
        ) if re.search(pattern, agent)),
        None,
    )
    return f"{browser} on {system}" if system else browser
