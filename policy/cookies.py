"""The analytics-consent cookie: the visitor's choice, signed, so a changed value counts as no choice.

The cookie is HttpOnly. Scripts never read it: the page asks GET /consent/cookies
(policy/routes.py), which verifies the signature and answers true, false or null. A value that
fails the check, or that was made for an older cookie notice, is "no choice yet": the banner
shows again and analytics stays off. Nothing here imports gradio.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.accounts import Accounts, InvalidApiKey
from auth.cookies import partition_last_cookie
from config import Settings
from policy.consents import ANALYTICS, Consent, Consents

COOKIE_NAME = "studio_consent"
# The version of the cookie notice (the banner's text and what analytics does). Choices are recorded
# with it; when what is asked changes, a new version asks everyone again.
NOTICE_VERSION = "cookie-notice-2026-11"
MAX_AGE_S = 365 * 24 * 3600  # one year, then the visitor is asked again
_SALT = "studio.consent-cookie"  # keeps these signatures apart from anything else signed with SECRET_KEY
_MAX_VALUE_CHARS = 300

# Google Analytics' cookies: _ga, _ga_<container id>; _gid and _gat_* from older tags, deleted too.
ANALYTICS_COOKIE = re.compile(r"^(_ga|_ga_[A-Za-z0-9_-]+|_gid|_gat(_[A-Za-z0-9_-]+)?)$")


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=_SALT)


def sign_choice(settings: Settings, analytics: bool) -> str:
    return _serializer(settings).dumps({"analytics": analytics, "version": NOTICE_VERSION})


def read_choice(settings: Settings, value: str | None) -> bool | None:
    """The choice the cookie holds; None for no cookie, a bad signature, garbage or an old notice."""
    if not value or len(value) > _MAX_VALUE_CHARS:
        return None
    try:
        data = _serializer(settings).loads(value)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("version") != NOTICE_VERSION:
        return None
    analytics = data.get("analytics")
    return analytics if isinstance(analytics, bool) else None


@dataclass(frozen=True)
class CookieChoice:
    analytics: bool | None  # what applies: the cookie's choice, else the account's, else None (ask)
    from_account: bool  # the browser had no valid cookie and the account's choice applies
    on_account: Consent | None  # the account's record for the current notice, if any


def cookie_choice(settings: Settings, consents: Consents, cookie: str | None, user_id: int | None) -> CookieChoice:
    """The choice that applies to this browser; the Consent tab shows the same."""
    choice = read_choice(settings, cookie)
    stored = consents.current(user_id, ANALYTICS) if user_id is not None else None
    on_account = stored if stored is not None and stored.version == NOTICE_VERSION else None
    if choice is None and on_account is not None:
        return CookieChoice(on_account.granted, True, on_account)
    return CookieChoice(choice, False, on_account)


def analytics_check(settings: Settings, consents: Consents, accounts: Accounts) -> Callable[[HTTPConnection], bool]:
    """Has this visitor accepted analytics? For the page's Content-Security-Policy (web/headers.py), which
    names Google's hosts only then: the cookie's verified choice, else (a new browser) the signed-in account's."""

    def accepted(connection: HTTPConnection) -> bool:
        if not settings.ga_measurement_id:
            return False
        choice = read_choice(settings, connection.cookies.get(COOKIE_NAME))
        if choice is not None:
            return choice
        try:
            user_id = accounts.caller_id(connection.headers, connection.cookies)
        except InvalidApiKey:
            return False
        return user_id is not None and cookie_choice(settings, consents, None, user_id).analytics is True

    return accepted


def set_choice_cookie(response: Response, settings: Settings, analytics: bool) -> None:
    response.set_cookie(
        COOKIE_NAME, sign_choice(settings, analytics), max_age=MAX_AGE_S, path="/", httponly=True,
        secure=settings.cookie_secure, samesite=settings.cookie_samesite,
    )
    partition_last_cookie(response, settings)


def expire_analytics_cookies(
    response: Response, settings: Settings, sent: Iterable[str], hosts: Iterable[str | None]
) -> None:
    """Delete Google Analytics' cookies: those the browser sent, and _ga / _ga_<id> in any case.

    gtag.js sets them on the widest domain it may (example.com for studio.example.com), so each
    name is expired host-only and on the host and every parent domain.
    """
    names = {name for name in sent if ANALYTICS_COOKIE.match(name)} | {"_ga"}
    if settings.ga_measurement_id:
        names.add("_ga_" + settings.ga_measurement_id.removeprefix("G-"))
    domains = cookie_domains(hosts)
    for name in sorted(names):
        for domain in domains:
            response.delete_cookie(name, path="/", domain=domain, secure=settings.cookie_secure,
                                   samesite=settings.cookie_samesite)


def cookie_domains(hosts: Iterable[str | None]) -> list[str | None]:
    """None (host-only) and each host with its parent domains; an IP address or 'localhost' only host-only."""
    domains: list[str | None] = [None]
    for host in hosts:
        if not host or "." not in host or _is_ip(host):
            continue
        labels = host.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            domain = ".".join(labels[start:])
            if domain not in domains:
                domains.append(domain)
    return domains


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True

