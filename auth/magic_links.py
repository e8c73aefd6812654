"""Sign-in links by e-mail: single-use, short-lived, stored as a hash, rate-limited.

The request always gets the same answer whether or not the address has an account: the account
is made when the link is followed, which is what proves the address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.mailer import Mailer
from auth.rate_limit import RateLimiter
from auth.tokens import hash_token, new_token, normalize_email, now, safe_next
from config import Settings
from store.tables import magic_links

HOUR = timedelta(hours=1)
SENT = "If that address can receive e-mail, a sign-in link is on its way. It works once, for {minutes} minutes."


class TooManyRequests(Exception):
    """The address or the IP asked for too many links. The message is safe to show."""


class LinkInvalid(Exception):
    """A link that is unknown, used, or expired. The message is safe to show."""


class MagicLinks:
    def __init__(self, engine: Engine, settings: Settings, limiter: RateLimiter, mailer: Mailer) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter
        self.mailer = mailer

    def request(self, raw_email: str, *, client_ip: str, base_url: str, next_path: str | None = None) -> str:
        """E-mail a sign-in link; returns the sentence to show, the same for every address."""
        email = normalize_email(raw_email)
        s = self.settings
        if not self.limiter.allow(f"ip:{self._keyed(client_ip)}", s.magic_link_per_ip_per_hour, HOUR):
            raise TooManyRequests("Too many sign-in requests from your network. Please wait an hour and try again.")
        if not self.limiter.allow(f"email:{self._keyed(email)}", s.magic_link_per_address_per_hour, HOUR):
            raise TooManyRequests("Too many sign-in links for this address. Please wait an hour and try again.")
        token = new_token()
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                magic_links.insert().values(
                    token_hash=hash_token(token), email=email, next_path=safe_next(next_path),
                    created_at=moment, expires_at=moment + timedelta(minutes=s.magic_link_minutes),
                )
            )
        link = f"{base_url.rstrip('/')}/auth/magic?token={token}"
        self.mailer.send(
            email,
            f"Your {s.brand_name} sign-in link",
            f"Hello,\n\nopen this link to sign in to {s.brand_name}:\n\n{link}\n\n"
            f"It works once, for {s.magic_link_minutes} minutes. If you did not ask for it, ignore this e-mail.\n",
            console_line=f"sign-in link: {link}",
        )
        return SENT.format(minutes=s.magic_link_minutes)

    def redeem(self, token: str | None) -> tuple[str, str]:
        """Use a link once: (the verified address, where to go next)."""
        if not token or len(token) > 200:
            raise LinkInvalid("This sign-in link is not valid. Please ask for a new one.")
        moment = now()
        with self.engine.begin() as conn:
            row = conn.execute(
                magic_links.update()
                .where(magic_links.c.token_hash == hash_token(token), magic_links.c.used_at.is_(None),
                       magic_links.c.expires_at > moment)
                .values(used_at=moment)
                .returning(magic_links.c.email, magic_links.c.next_path)
            ).first()
            if row is None:
                seen = conn.execute(
                    sa.select(magic_links.c.used_at).where(magic_links.c.token_hash == hash_token(token))
                ).first()
        if row is None:
            if seen is not None and seen.used_at is not None:
                raise LinkInvalid("This sign-in link was already used. Each link works once; please ask for a new one.")
            if seen is not None:
                raise LinkInvalid("This sign-in link has expired. Please ask for a new one.")
            raise LinkInvalid("This sign-in link is not valid. Please ask for a new one.")
        return row.email, row.next_path

    def _keyed(self, value: str) -> str:
        """Rate-limit buckets name addresses and IPs by a keyed hash, not in the clear."""
        key = self.settings.secret_key.get_secret_value().encode()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
