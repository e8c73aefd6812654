"""The user's rights from the policy: see and download everything held, correct it, delete the account.

Export walks every table that names a user, so a table added later is exported without anyone
remembering to: the test compares the export with the database, table by table. Encrypted
fields are decrypted for the owner; hashes (of tokens, keys, the address) are left out, they
are the locks, not data about the user.

Deletion erases what identifies the person and keeps what accounting must keep, anonymised:
the ledger and payments stay attached to a user row that no longer has an address, a name or a
way to sign in. Usage events lose their user id. Deleting twice does nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.magic_links import MagicLinks
from auth.sessions import forget_sessions_and_keys
from auth.tokens import normalize_email
from auth.users import Users
from billing.creem import CreemUnavailable
from billing.payments import Payments
from kernel.errors import UserError
from policy.consents import Consents
from store.tables import magic_links, metadata, signup_addresses, users  # the walk over every table naming a user
from store.usage import UsageLog

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1


WRONG_CONFIRMATION = ("The address you typed is not this account's address, so nothing was deleted. Type the "
                      "address you sign in with to confirm.")
NO_PAYMENTS = ("Your subscription could not be cancelled (payments are not set up here), so nothing was deleted. "
               "Please contact us.")
STILL_ACTIVE = ("Your subscription could not be cancelled at the payment provider, so it is still active and nothing "
                "was deleted. Please try again in a moment.")


class DeletionRefused(UserError):
    """The account was not deleted (wrong confirmation, subscription could not be cancelled). Safe to show."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status  # 400: the request was wrong; 409: try again later


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def tables_about_users() -> list[sa.Table]:
    """Every table with a user_id column, in a stable order; the users table itself comes first."""
    return [users, *(t for t in metadata.sorted_tables if "user_id" in t.c and t is not users)]


class DataRights:
    def __init__(self, engine: Engine, users_: Users, links: MagicLinks, consents: Consents, payments: Payments,
                 brand: str) -> None:
        self.engine = engine
        self.users = users_
        self.links = links
        self.consents = consents
        self.payments = payments
        self.usage = UsageLog(engine)
        self.brand = brand

    # --- access

    def export(self, user_id: int) -> dict[str, Any]:
        """Everything the database holds about this user, and nothing about anyone else."""
        tables: dict[str, list[dict[str, Any]]] = {}
        user = self.users.get(user_id)
        sent_to = self.links.addressed_to(user.email) if user else []  # sign-in links name an address, not an id
        with self.engine.connect() as conn:
            for table in tables_about_users():
                key = table.c.id if table is users else table.c.user_id
                where = key == user_id
                if table is magic_links and sent_to:
                    where = sa.or_(where, magic_links.c.id.in_(sent_to))
                rows = conn.execute(sa.select(table).where(where)).mappings().all()
                tables[table.name] = [self._readable(table.name, dict(row)) for row in rows]
            # found by the address's keyed hash, not by id: when the address had its sign-up credits
            had_signup = [] if user is None or not user.email else conn.execute(
                sa.select(signup_addresses.c.created_at)
                .where(signup_addresses.c.email_hash == self.users.cipher.lookup(user.email))
            ).mappings().all()
            tables[signup_addresses.name] = [self._readable(signup_addresses.name, dict(row)) for row in had_signup]
        return {
            "format": EXPORT_FORMAT,
            "service": self.brand,
            "exported_at": datetime.now(UTC).isoformat(),
            "user_id": user_id,
            "note": "Every row that names you, table by table. Hashes of your tokens, keys and address are "
                    "left out: they are locks, not data about you. signup_addresses says when your address had "
                    "its welcome credits (kept as a keyed hash, also after deletion: see the privacy policy). "
                    "Pictures and prompts are never stored.",
            "tables": tables,
        }

    def summary(self, user_id: int) -> dict[str, int]:
        """How many rows each table holds about the user: counted, nothing decrypted (the Account tab shows it)."""
        with self.engine.connect() as conn:
            return {
                table.name: conn.execute(sa.select(sa.func.count()).select_from(table).where(
                    (table.c.id if table is users else table.c.user_id) == user_id)).scalar_one()
                for table in tables_about_users()
            }

    def _readable(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for column, value in row.items():
            if column.endswith("_hash"):
                continue
            if column.endswith("_enc"):
                out[column.removesuffix("_enc")] = self.users.cipher.decrypt(value, column=f"{table}.{column}")
                continue
            if table == "identities" and column == "subject" and row.get("provider") == "email":
                continue  # a keyed hash of the address (the address is in the users row)
            out[column] = _plain(value)
        return out

    # --- deletion

    def delete(self, user_id: int, confirm_email: str) -> bool:
        """Close the account if `confirm_email` is its address. False when it was already gone."""
        user = self.users.get(user_id)
        if user is None:
            return False
        try:
            typed = normalize_email(confirm_email or "")
        except UserError:
            typed = ""
        if typed != user.email:
            raise DeletionRefused(WRONG_CONFIRMATION)
        self._cancel_subscriptions(user_id)
        self.links.forget(user.email)
        self.users.delete(user_id)
        forget_sessions_and_keys(self.engine, user_id)
        self.links.forget_user(user_id)
        self.usage.anonymise(user_id)
        self.payments.forget_customer(user_id)
        self.consents.forget(user_id)
        log.info("account %d deleted", user_id)
        return True

    def _cancel_subscriptions(self, user_id: int) -> None:
        """A deleted account must not go on paying: cancel at Creem first, or refuse to delete."""
        active = self.payments.active_subscriptions(user_id)
        if not active:
            return
        if self.payments.creem is None:
            raise DeletionRefused(NO_PAYMENTS, status=409)
        for subscription_id, _status, _end in active:
            try:
                self.payments.creem.cancel_subscription(subscription_id)
            except CreemUnavailable:
                raise DeletionRefused(STILL_ACTIVE, status=409) from None
            self.payments.mark_canceled(subscription_id)
