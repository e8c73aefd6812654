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

GUEST = "guest"
USER_PREFIX = "user:"


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

    def signed_in(self, cookies: Mapping[str, str]) -> int | None:
        """The user id behind a request's session cookie, if it is a live session."""
        session = self.sessions.resolve(cookies.get(self.settings.session_cookie_name))
        return session.user_id if session else None

    def user_from_username(self, username: str | None) -> User | None:
        """The user Gradio's auth dependency named (see auth/dependency.py), if still there."""
        if not username or not username.startswith(USER_PREFIX):
            return None
        try:
            return self.users.get(int(username[len(USER_PREFIX):]))
        except ValueError:
            return None


def username_for(user_id: int) -> str:
    return f"{USER_PREFIX}{user_id}"


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
