"""Personal fields encrypted at rest (AES-256-GCM), and a keyed hash to find an e-mail address.

A stored value reads "<key id>:<base64url(nonce || ciphertext)>", so several keys can live side
by side while `manage.py rotate-key` moves rows to the newest one. The column's name is the
associated data: a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Connection, Engine, Row

from store.tables import identities, magic_links, signup_addresses, users

if TYPE_CHECKING:
    from config import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
DERIVED_KEY_ID = "s0"
DATA_KEY_LABEL = b"studio data key s0"  # HKDF info labels: changing one makes stored data unreadable
LOOKUP_KEY_LABEL = b"studio e-mail lookup key"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")

Column = str | sa.Column


class CipherError(ValueError):
    """A stored value that cannot be decrypted: unknown key id, wrong column, or altered bytes."""


def derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(secret.encode())


def parse_data_keys(entries: list[str]) -> dict[str, bytes]:
    """DATA_KEYS entries ("id:base64 of 32 bytes") in order; errors name the entry, never its key."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError(f"DATA_KEYS entry {number}: expected 'id:base64-of-32-bytes' with an id of "
                             f"letters, digits, '-' or '_' (at most 16)")
        try:
            key = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"DATA_KEYS entry {number} ({key_id!r}): the key must be {KEY_BYTES} bytes in base64 "
                             f"(make one with: python -c \"import os,base64;print(base64.b64encode(os.urandom(32))"
                             f".decode())\")")
        if key_id in keys:
            raise ValueError(f"DATA_KEYS: the id {key_id!r} is used twice")
        keys[key_id] = key
    return keys


def _associated_data(column: Column) -> bytes:
    name = column if isinstance(column, str) else f"{column.table.name}.{column.name}"
    return name.encode()


class FieldCipher:
    """Encrypts with the first key, decrypts with any; `lookup` is deterministic, for finding rows."""

    def __init__(self, keys: dict[str, bytes], lookup_key: bytes) -> None:
        if not keys:
            raise ValueError("FieldCipher needs at least one data key")
        self.keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = next(iter(keys))
        self._lookup_key = lookup_key

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        """DATA_KEYS in order, then the key derived from SECRET_KEY (decrypt-only once DATA_KEYS is set).

        Keeping the derived key readable lets a deployment move from it to explicit keys with one
        `manage.py rotate-key`.
        """
        secret = settings.secret_key.get_secret_value()
        keys = parse_data_keys(settings.data_keys)
        keys.setdefault(DERIVED_KEY_ID, derive(secret, DATA_KEY_LABEL))
        lookup = settings.lookup_key.get_secret_value().encode() if settings.lookup_key else None
        return cls(keys, lookup or derive(secret, LOOKUP_KEY_LABEL))

    def encrypt(self, value: str | None, column: Column) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current].encrypt(nonce, value.encode(), _associated_data(column))
        return f"{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None, column: Column) -> str | None:
        if stored is None:
            return None
        key_id, _, encoded = stored.partition(":")
        aead = self.keys.get(key_id)
        if aead is None:
            raise CipherError(f"data key {key_id!r} is not configured (DATA_KEYS); a key must stay listed until "
                              f"`manage.py rotate-key` has moved every value off it")
        try:
            raw = base64.urlsafe_b64decode(encoded)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(column)).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            name = _associated_data(column).decode()
            raise CipherError(f"cannot decrypt a value of {name}: altered, or written for another column") from exc

    def lookup(self, value: str) -> str:
        """HMAC-SHA256, hex: equal inputs give equal hashes, without the key they reveal nothing."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()

    def needs_rotation(self, stored: str | None) -> bool:
        return stored is not None and stored.partition(":")[0] != self.current


# ------------------------------------------------------------------ rotation


def rotate_keys(engine: Engine, cipher: FieldCipher, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt with the current data key and re-hash with the current lookup key; rows changed per table.

    Batches by primary key, one transaction each with its rows locked, so the app can keep running.
    Idempotent: a second run changes nothing.
    """
    changed = {"users": 0, "identities": 0, "magic_links": 0}

    def rotate_users(conn: Connection, rows: Sequence[Row]) -> None:
        for row in rows:
            email = cipher.decrypt(row.email_enc, users.c.email_enc)
            email_hash = cipher.lookup(email) if email is not None else None
            values = _reencrypted(cipher, row, (users.c.email_enc, users.c.name_enc))
            if email_hash != row.email_hash:
                values["email_hash"] = email_hash
                if row.email_hash is not None and email_hash is not None:  # its sign-up is still remembered
                    conn.execute(signup_addresses.update().where(signup_addresses.c.email_hash == row.email_hash)
                                 .values(email_hash=email_hash))
            if values:
                conn.execute(users.update().where(users.c.id == row.id).values(values))
                changed["users"] += 1
            if email_hash is not None:  # the e-mail identity's subject is the same hash
                changed["identities"] += conn.execute(
                    identities.update()
                    .where(identities.c.user_id == row.id, identities.c.provider == "email",
                           identities.c.subject != email_hash)
                    .values(subject=email_hash)
                ).rowcount

    def rotate_links(conn: Connection, rows: Sequence[Row]) -> None:
        for row in rows:
            values = _reencrypted(cipher, row, (magic_links.c.email_enc,))
            email_hash = cipher.lookup(cipher.decrypt(row.email_enc, magic_links.c.email_enc))
            if email_hash != row.email_hash:
                values["email_hash"] = email_hash
            if values:
                conn.execute(magic_links.update().where(magic_links.c.id == row.id).values(values))
                changed["magic_links"] += 1

    live = users.c.email_enc.is_not(None) | users.c.name_enc.is_not(None)
    _in_batches(engine, sa.select(users.c.id, users.c.email_hash, users.c.email_enc, users.c.name_enc).where(live),
                users.c.id, batch_size, rotate_users)
    _in_batches(engine, sa.select(magic_links.c.id, magic_links.c.email_enc, magic_links.c.email_hash),
                magic_links.c.id, batch_size,
                rotate_links)
    return changed


def _reencrypted(cipher: FieldCipher, row: Row, columns: tuple[sa.Column, ...]) -> dict[str, str | None]:
    """The new stored values of those columns that are not under the current key."""
    return {
        column.name: cipher.encrypt(cipher.decrypt(getattr(row, column.name), column), column)
        for column in columns if cipher.needs_rotation(getattr(row, column.name))
    }


def _in_batches(engine: Engine, query: sa.Select, key: sa.Column, size: int,
                apply: Callable[[Connection, Sequence[Row]], None]) -> None:
    """Hand consecutive slices of the query (by primary key) to `apply`, each slice in its own transaction."""
    last = None
    while True:
        with engine.begin() as conn:
            page = query if last is None else query.where(key > last)
            rows = conn.execute(page.order_by(key).limit(size).with_for_update()).all()
            if not rows:
                return
            apply(conn, rows)
        last = rows[-1].id


def migration_cipher() -> FieldCipher:
    """For migrations that encrypt or hash: the app's cipher (store.db.migrate hands it over), else Settings()'s."""
    from alembic import context

    cipher = context.config.attributes.get("cipher")
    if cipher is None:
        from config import Settings

        cipher = FieldCipher.from_settings(Settings())
    return cipher
