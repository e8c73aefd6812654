"""Links by e-mail: single-use, short-lived, stored as a hash, rate-limited, the address encrypted.

A sign-in link gets the same answer whether or not the address has an account: the account is
made when the link is followed, which is what proves the address. A change-of-address link goes
to the new address and moves an existing account to it when followed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.mailer import Mailer, MailUnavailable
from auth.rate_limit import RateLimiter
from auth.tokens import hash_token, new_token, normalize_email, safe_next
from auth.users import Users
from config import Settings
from kernel.clock import now
from store.crypto import FieldCipher
from store.tables import magic_links

HOUR = timedelta(hours=1)
SENT = "If that address can receive e-mail, a sign-in link is on its way. It works once, for {minutes} minutes."
SENT_CHANGE = ("A confirmation link is on its way to the new address. Your address changes when you open it "
               "(it works once, for {minutes} minutes).")
SIGN_IN, CHANGE_EMAIL = "sign_in", "change_email"


class TooManyRequests(Exception):
    """The address or the IP asked for too many links. The message is safe to show."""


class LinkInvalid(Exception):
    """A link that is unknown, used, or expired. The message is safe to show."""


@dataclass(frozen=True)
class RedeemedLink:
    """A link used: its address is now verified. user_id is set for change_email links."""

    email: str
    next_path: str
    purpose: str
    user_id: int | None


class MagicLinks:
    def __init__(
        self, engine: Engine, settings: Settings, limiter: RateLimiter, mailer: Mailer,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter
        self.mailer = mailer
        self.cipher = cipher or FieldCipher.from_settings(settings)
        self.users = Users(engine, self.cipher)

    def request(self, raw_email: str, *, client_ip: str, base_url: str, next_path: str | None = None) -> str:
        """E-mail a sign-in link; returns the sentence to show, the same for every address."""
        s = self.settings
        email = self._admit(raw_email, client_ip)
        token = self._store(email, safe_next(next_path), SIGN_IN, None)
        link = f"{base_url.rstrip('/')}/auth/magic?token={token}"
        self._send(
            token, email,
            f"Your {s.brand_name} sign-in link",
            f"Hello,\n\nopen this link to sign in to {s.brand_name}:\n\n{link}\n\n"
            f"It works once, for {s.magic_link_minutes} minutes. If you did not ask for it, ignore this e-mail.\n",
            console_line=f"sign-in link: {link}",
        )
        return SENT.format(minutes=s.magic_link_minutes)

    def request_email_change(self, user_id: int, new_email: str, *, client_ip: str, base_url: str) -> str:
        """E-mail the new address a link that moves this account to it; returns the sentence to show.

        Raises EmailTaken when another account has the address; that is checked again when the
        link is used. Checked after the rate limits, which bound how many addresses one can probe.
        """
        s = self.settings
        email = self._admit(new_email, client_ip)
        self.users.check_email_free(user_id, email)
        token = self._store(email, "/", CHANGE_EMAIL, user_id)
        link = f"{base_url.rstrip('/')}/auth/email-change?token={token}"
        self._send(
            token, email,
            f"Confirm your new {s.brand_name} e-mail address",
            f"Hello,\n\nopen this link to use this address for your {s.brand_name} account:\n\n{link}\n\n"
            f"It works once, for {s.magic_link_minutes} minutes. If you did not ask for it, ignore this e-mail: "
            f"nothing changes.\n",
            console_line=f"e-mail change link: {link}",
        )
        return SENT_CHANGE.format(minutes=s.magic_link_minutes)

    def _admit(self, raw_email: str, client_ip: str) -> str:
        """The normalised address, once the network and the address are within their hourly limits."""
        email = normalize_email(raw_email)
        s = self.settings
        if not self.limiter.allow(f"ip:{self._keyed(client_ip)}", s.magic_link_per_ip_per_hour, HOUR):
            raise TooManyRequests("Too many sign-in requests from your network. Please wait an hour and try again.")
        if not self.limiter.allow(f"email:{self._keyed(email)}", s.magic_link_per_address_per_hour, HOUR):
            raise TooManyRequests("Too many sign-in links for this address. Please wait an hour and try again.")
        return email

    def _store(self, email: str, next_path: str, purpose: str, user_id: int | None) -> str:
        """Record a new link (its hash, the address encrypted); returns the token for the e-mail."""
        token = new_token()
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                magic_links.insert().values(
                    token_hash=hash_token(token), email_enc=self.cipher.encrypt(email, magic_links.c.email_enc),
                    email_hash=self.cipher.lookup(email),
                    next_path=next_path, purpose=purpose, user_id=user_id, created_at=moment,
                    expires_at=moment + timedelta(minutes=self.settings.magic_link_minutes),
                )
            )
        return token

    def _send(self, token: str, email: str, subject: str, text: str, *, console_line: str) -> None:
        """Mail the link; when the SMTP server cannot take it, delete the stored link, so nothing is left behind."""
        try:
            self.mailer.send(email, subject, text, console_line=console_line)
        except MailUnavailable:
            with self.engine.begin() as conn:
                conn.execute(magic_links.delete().where(magic_links.c.token_hash == hash_token(token)))
            raise

    def redeem(self, token: str | None) -> RedeemedLink:
        """Use a link once: the verified address, where to go next, and what the link was for."""
        if not token or len(token) > 200:
            raise LinkInvalid("This sign-in link is not valid. Please ask for a new one.")
        moment = now()
        with self.engine.begin() as conn:
            row = conn.execute(
                magic_links.update()
                .where(magic_links.c.token_hash == hash_token(token), magic_links.c.used_at.is_(None),
                       magic_links.c.expires_at > moment)
                .values(used_at=moment)
                .returning(magic_links.c.email_enc, magic_links.c.next_path, magic_links.c.purpose,
                           magic_links.c.user_id)
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
        email = self.cipher.decrypt(row.email_enc, magic_links.c.email_enc)
        return RedeemedLink(email=email, next_path=row.next_path, purpose=row.purpose, user_id=row.user_id)

    def addressed_to(self, email: str) -> list[int]:
        """Ids of the links sent to this address, found by its keyed hash like users are."""
        query = sa.select(magic_links.c.id).where(magic_links.c.email_hash == self.cipher.lookup(email))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def forget(self, email: str) -> int:
        """For account deletion: no link keeps the address, even encrypted."""
        ids = self.addressed_to(email)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(magic_links.delete().where(magic_links.c.id.in_(ids)))
        return len(ids)

    def forget_user(self, user_id: int) -> None:
        """For account deletion: the links the account asked for (a change of address) go with it."""
        with self.engine.begin() as conn:
            conn.execute(magic_links.delete().where(magic_links.c.user_id == user_id))

    def purge_expired(self) -> int:
        """Links a day past their expiry serve no one (not even to say "expired"): delete them."""
        with self.engine.begin() as conn:
            result = conn.execute(magic_links.delete().where(magic_links.c.expires_at < now() - timedelta(days=1)))
        return result.rowcount or 0

    def _keyed(self, value: str) -> str:
        """Rate-limit buckets name addresses and IPs by a keyed hash, not in the clear."""
        key = self.settings.secret_key.get_secret_value().encode()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
