"""Random tokens, their hashes, and e-mail addresses in one canonical form."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from kernel.errors import UserError

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Only this is stored: a leaked table does not give working cookies, links or keys."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(raw: str | None) -> str:
    """One spelling per address: Unicode NFKC, trimmed, case-folded. Refuses anything malformed."""
    if raw is None or not raw.strip():
        raise UserError("Please type your e-mail address.")
    if len(raw) > MAX_EMAIL_LENGTH * 2:
        raise UserError("That e-mail address is too long.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in raw.strip()):
        raise UserError("That e-mail address contains characters an address cannot have.")
    email = unicodedata.normalize("NFKC", raw).strip().casefold()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise UserError("That does not look like an e-mail address (name@example.com).")
    return email


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after sign-in: only a path on this site, never another host or a script."""
    if not target:
        return default
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
        or len(target) > 500
    ):
        return default
    return target
