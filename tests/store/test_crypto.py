"""FieldCipher: AES-GCM per column, several keys side by side, a keyed hash for lookups."""

from __future__ import annotations

import base64
import os

import pytest

from config import Settings
from store.crypto import CipherError, FieldCipher
from store.tables import magic_links, users

COLUMN = "users.email_enc"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def cipher(**overrides) -> FieldCipher:
    return FieldCipher.from_settings(Settings(_env_file=None, **overrides))


def test_round_trip_with_a_random_nonce_each_time():
    c = cipher()
    sealed = c.encrypt("Åsa Öberg <åsa@example.com>", COLUMN)
    assert sealed.startswith("s0:") and "sa@example" not in sealed
    assert c.decrypt(sealed, COLUMN) == "Åsa Öberg <åsa@example.com>"
    assert c.encrypt("same", COLUMN) != c.encrypt("same", COLUMN)
    assert c.encrypt(None, COLUMN) is None and c.decrypt(None, COLUMN) is None
    assert c.decrypt(c.encrypt("x", users.c.email_enc), COLUMN) == "x"  # a Column names itself "table.column"


def test_tampered_ciphertext_is_refused():
    c = cipher()
    key_id, _, encoded = c.encrypt("alice@example.com", COLUMN).partition(":")
    raw = bytearray(base64.urlsafe_b64decode(encoded))
    raw[-1] ^= 1
    with pytest.raises(CipherError, match="altered"):
        c.decrypt(f"{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}", COLUMN)
    with pytest.raises(CipherError):
        c.decrypt(f"{key_id}:not base64!", COLUMN)


def test_a_value_moved_to_another_column_is_refused():
    c = cipher()
    with pytest.raises(CipherError, match=r"users\.name_enc"):
        c.decrypt(c.encrypt("alice@example.com", users.c.email_enc), users.c.name_enc)
    with pytest.raises(CipherError):
        c.decrypt(c.encrypt("alice@example.com", magic_links.c.email_enc), users.c.email_enc)


def test_an_unknown_key_id_is_named():
    sealed = cipher(data_keys=f"old:{b64(os.urandom(32))}").encrypt("alice@example.com", COLUMN)
    with pytest.raises(CipherError, match="'old' is not configured"):
        cipher().decrypt(sealed, COLUMN)


def test_the_first_key_encrypts_and_every_key_decrypts():
    old_key, new_key = b64(os.urandom(32)), b64(os.urandom(32))
    derived = cipher().encrypt("from SECRET_KEY", COLUMN)
    old = cipher(data_keys=f"k1:{old_key}").encrypt("under k1", COLUMN)
    both = cipher(data_keys=f"k2:{new_key},k1:{old_key}")
    assert both.current == "k2"
    assert both.decrypt(old, COLUMN) == "under k1" and both.needs_rotation(old)
    assert both.decrypt(derived, COLUMN) == "from SECRET_KEY"  # the derived key stays readable for the move
    fresh = both.encrypt("under k2", COLUMN)
    assert fresh.startswith("k2:") and not both.needs_rotation(fresh) and not both.needs_rotation(None)


def test_the_derived_key_depends_on_the_secret():
    sealed = cipher(secret_key="one-secret").encrypt("alice@example.com", COLUMN)
    with pytest.raises(CipherError):
        cipher(secret_key="another-secret").decrypt(sealed, COLUMN)


def test_lookup_is_deterministic_and_keyed():
    c = cipher()
    digest = c.lookup("alice@example.com")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == cipher().lookup("alice@example.com") != c.lookup("bob@example.com")
    assert cipher(lookup_key="a-lookup-key").lookup("alice@example.com") != digest
    assert cipher(secret_key="another-secret").lookup("alice@example.com") != digest
    assert cipher(data_keys=f"k1:{b64(os.urandom(32))}").lookup("alice@example.com") == digest  # data keys: unrelated


@pytest.mark.parametrize(("entry", "message"), [
    ("no-separator", "expected 'id:base64"),
    ("bad id!:" + b64(bytes(32)), "expected 'id:base64"),
    ("k1:" + b64(bytes(16)), "must be 32 bytes"),
    ("k1:%%%%", "must be 32 bytes"),
    ("k1:" + b64(bytes(32)) + ",k1:" + b64(bytes(32)), "used twice"),
])
def test_malformed_data_keys_fail_at_start_without_echoing_the_key(entry, message):
    with pytest.raises(ValueError, match=message) as failure:
        cipher(data_keys=entry)
    assert b64(bytes(16)) not in str(failure.value) and "%%%%" not in str(failure.value)


def test_url_safe_base64_keys_are_accepted():
    key = os.urandom(32)
    c = cipher(data_keys=f"k1:{base64.urlsafe_b64encode(key).decode()}")
    assert c.decrypt(c.encrypt("x", COLUMN), COLUMN) == "x"
