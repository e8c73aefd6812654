"""Google and Hugging Face (OpenID Connect) and GitHub (OAuth2) through authlib's Starlette client.

Every endpoint is a setting, so tests point them at providers on loopback. A sign-in yields a
Profile only with a verified e-mail address; anything else is a SignInFailed with a sentence.
Hugging Face's settings are the ones a Space with `hf_oauth: true` sets (OAUTH_CLIENT_ID, ...,
OPENID_PROVIDER_URL); its discovery document is checked at start, so a provider that cannot be
used hides its button instead of failing visitors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from starlette.requests import Request

from auth.tokens import normalize_email
from config import Settings
from kernel.errors import UserError

if TYPE_CHECKING:  # authlib is imported when sign-in is first used, not at start-up
    from authlib.integrations.starlette_client import OAuth

log = logging.getLogger(__name__)

LABELS = {"huggingface": "Hugging Face", "google": "Google", "github": "GitHub"}
OIDC_NEEDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")  # of a discovery document


@dataclass(frozen=True)
class Profile:
    provider: str
    subject: str
    email: str
    name: str | None


class SignInFailed(Exception):
    """Why a sign-in did not complete, in words for the visitor."""


def _http_exceptions() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(timeouts, other HTTP errors) of every HTTP library authlib may use: httpx, or httpx2 when installed."""
    timeouts: list[type[Exception]] = [httpx.TimeoutException]
    failures: list[type[Exception]] = [httpx.HTTPError]
    try:
        import httpx2
    except ImportError:
        pass
    else:
        timeouts.append(httpx2.TimeoutException)
        failures.append(httpx2.HTTPError)
    return tuple(timeouts), tuple(failures)


TIMEOUTS, HTTP_ERRORS = _http_exceptions()


def configured_providers(settings: Settings) -> list[str]:
    """The sign-in providers this deployment can use, Hugging Face first (on a Space, most visitors have it)."""
    found = ["huggingface"] if settings.oauth_client_id and huggingface_usable(settings) else []
    return found + [name for name, client_id in (("google", settings.google_client_id),
                                                  ("github", settings.github_client_id)) if client_id]


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def huggingface_usable(settings: Settings) -> bool:
    """Whether OPENID_PROVIDER_URL's discovery document answers with what a sign-in needs; logs why not."""
    if not settings.openid_provider_url:
        log.warning("OAUTH_CLIENT_ID is set but OPENID_PROVIDER_URL is not: Hugging Face sign-in is off")
        return False
    url = discovery_url(settings.openid_provider_url)
    try:
        answer = httpx.get(url, timeout=settings.oauth_timeout_s, follow_redirects=True)
        answer.raise_for_status()
        document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("Hugging Face sign-in is off: %s did not answer with a discovery document (%s)",
                    url, type(exc).__name__)
        return False
    missing = [key for key in OIDC_NEEDS if not isinstance(document, dict) or not document.get(key)]
    if missing:
        log.warning("Hugging Face sign-in is off: the discovery document at %s lacks %s", url, ", ".join(missing))
        return False
    return True


def build_oauth(settings: Settings) -> OAuth:
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    client_kwargs = {"timeout": settings.oauth_timeout_s}
    if settings.google_client_id:
        oauth.register(
            "google",
            client_id=settings.google_client_id,
            client_secret=_secret(settings.google_client_secret),
            server_metadata_url=settings.google_discovery_url,
            client_kwargs={"scope": "openid email profile", **client_kwargs},
        )
    if settings.oauth_client_id and settings.openid_provider_url:
        oauth.register(
            "huggingface",
            client_id=settings.oauth_client_id,
            client_secret=_secret(settings.oauth_client_secret),
            server_metadata_url=discovery_url(settings.openid_provider_url),
            client_kwargs={"scope": _with_email(settings.oauth_scopes), **client_kwargs},
        )
    if settings.github_client_id:
        oauth.register(
            "github",
            client_id=settings.github_client_id,
            client_secret=_secret(settings.github_client_secret),
            authorize_url=settings.github_authorize_url,
            access_token_url=settings.github_token_url,
            api_base_url=settings.github_api_url,
            client_kwargs={"scope": "read:user user:email", **client_kwargs},
        )
    return oauth


def _with_email(scopes: str) -> str:
    """The scopes the Space granted, plus openid and email, which a sign-in here needs."""
    names = scopes.replace(",", " ").split()
    return " ".join(names + [name for name in ("openid", "email") if name not in names])


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


async def finish_sign_in(oauth: OAuth, provider: str, request: Request) -> Profile:
    """Exchange the callback's code for a token and read a verified profile."""
    from authlib.integrations.base_client import OAuthError

    client = oauth.create_client(provider)
    label = LABELS[provider]
    if "error" in request.query_params:
        reason = request.query_params.get("error")
        if reason == "access_denied":
            raise SignInFailed(f"You cancelled the sign-in with {label}. Nothing was changed.")
        raise SignInFailed(f"{label} did not sign you in ({reason[:60]}). Please try again.")
    try:
        token = await client.authorize_access_token(request)
        profile = await (_github(client, token) if provider == "github" else _openid(provider, token))
    except OAuthError as exc:
        log.warning("%s sign-in refused: %s", provider, exc.error)
        raise SignInFailed(
            f"The sign-in with {label} could not be completed (it may have expired or been used already). "
            "Please start again."
        ) from None
    except TIMEOUTS:
        raise SignInFailed(f"{label} did not answer in time. Please try again in a moment.") from None
    except HTTP_ERRORS as exc:
        log.warning("%s sign-in failed: %s", provider, type(exc).__name__)
        raise SignInFailed(f"{label} could not be reached. Please try again in a moment.") from None
    return profile


async def _openid(provider: str, token: dict) -> Profile:
    """Google's and Hugging Face's verified claims: the subject, the address (verified), the name."""
    label = LABELS[provider]
    claims = token.get("userinfo") or {}
    if not claims.get("sub") or not claims.get("email"):
        raise SignInFailed(f"{label} did not share an e-mail address, which this site needs to sign you in.")
    if claims.get("email_verified") not in (True, "true"):
        raise SignInFailed(f"Your {label} e-mail address is not verified. Verify it with {label}, then try again.")
    name = claims.get("name") or claims.get("preferred_username")
    return Profile(provider, str(claims["sub"]), _email(claims["email"], label), name)


async def _github(client, token: dict) -> Profile:
    account = await client.get("user", token=token)
    account.raise_for_status()
    user = account.json()
    emails = await client.get("user/emails", token=token)
    emails.raise_for_status()
    primary = next((e for e in emails.json() if e.get("primary") and e.get("verified")), None)
    if primary is None:
        raise SignInFailed(
            "Your GitHub account has no verified primary e-mail address. Verify one on GitHub, then try again."
        )
    return Profile("github", str(user["id"]), _email(primary["email"], "GitHub"), user.get("name") or user.get("login"))


def _email(raw: str, label: str) -> str:
    try:
        return normalize_email(raw)
    except UserError:
        raise SignInFailed(f"{label} gave an e-mail address this site cannot use.") from None
