"""Encryption at rest, on SQLite and PostgreSQL: no table holds an address or a name in the clear.

The privacy policy promises it; these tests read every row of every table as the database holds it.
"""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth.magic_links import MagicLinks
from auth.rate_limit import RateLimiter
from auth.sessions import Sessions
from auth.tokens import hash_token
from auth.users import EmailTaken, Users
from billing.ledger import Ledger
from config import Settings
from store.crypto import FieldCipher, rotate_keys
from store.db import create_engine, migrate
from store.tables import identities, magic_links, signup_addresses, users
from tests.auth.test_cookies import Outbox
from tests.conftest import POSTGRES_URL, postgres_available, require
from tests.policy.dump import database_text

ADDRESS, NAME = "alice.liddell@example.com", "Alice Liddell"


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def settings_with(**overrides) -> Settings:
    return Settings(_env_file=None, **overrides)


def links(engine, settings: Settings, cipher: FieldCipher) -> tuple[MagicLinks, Outbox]:
    outbox = Outbox(settings)
    return MagicLinks(engine, settings, RateLimiter(engine), outbox, cipher), outbox


def token_in(text: str) -> str:
    return text.split("token=", 1)[1].split()[0]


def dump(engine) -> str:
    return database_text(engine).casefold()


def assert_nothing_in_clear(engine, *texts: str) -> None:
    """Neither the texts nor their local parts (long enough not to turn up in base64 by chance)."""
    everything = dump(engine)
    for text in texts:
        for part in (text, text.split("@")[0]):
            assert part.casefold() not in everything, f"{part!r} is stored in the clear"


def stored_values(engine) -> list[str]:
    """Every encrypted value in the database."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.email_enc, users.c.name_enc)).all()
        rows += conn.execute(sa.select(magic_links.c.email_enc)).all()
    return [value for row in rows for value in row if value is not None]


def test_no_address_or_name_is_stored_in_the_clear(engine):
    settings = settings_with()
    cipher = FieldCipher.from_settings(settings)
    people, (magic, _) = Users(engine, cipher), links(engine, settings, cipher)
    alice = people.sign_in("google", "g-alice", ADDRESS, NAME)
    assert people.sign_in("email", ADDRESS, ADDRESS).id == alice.id
    people.sign_in("github", "4242", "bob.builder@example.com", "Bob Builder")
    magic.request(ADDRESS.upper(), client_ip="1.2.3.4", base_url="http://x", next_path="/studio")
    magic.request_email_change(alice.id, "alice.new@example.com", client_ip="1.2.3.4", base_url="http://x")
    Sessions(engine, idle=timedelta(days=1), lifetime=timedelta(days=2)).create(alice.id, "Firefox on Linux")

    assert cipher.lookup(ADDRESS) in dump(engine)  # the dump does see the rows
    assert_nothing_in_clear(engine, ADDRESS, NAME, "bob.builder@example.com", "Bob Builder", "alice.new@example.com")
    found = people.by_email(ADDRESS)
    assert (found.id, found.email, found.name) == (alice.id, ADDRESS, NAME)
    assert sorted(people.identities_of(alice.id)) == [("email", ADDRESS), ("google", "g-alice")]
    assert [u.email for u in people.all()] == [ADDRESS, "bob.builder@example.com"]


def test_rotate_key_moves_every_value_to_the_new_keys(engine):
    first_key = new_key("k1")
    before = settings_with(data_keys=first_key)
    old = FieldCipher.from_settings(before)
    people, (magic, outbox) = Users(engine, old), links(engine, before, old)
    alice = people.sign_in("email", ADDRESS, ADDRESS, NAME)
    people.create("nameless@example.com")
    magic.request(ADDRESS, client_ip="1.2.3.4", base_url="http://x", next_path="/later")
    people.delete(people.create("gone@example.com").id)  # nothing left to rotate
    assert {value.split(":")[0] for value in stored_values(engine)} == {"k1"}
    books = Ledger(engine, signup_credits=10, hold_minutes=30)
    assert books.balance(alice.id).available == 10  # her address is remembered as having had them

    after = settings_with(data_keys=f"{new_key('k2')},{first_key}", lookup_key="a new lookup key")
    new = FieldCipher.from_settings(after)
    assert rotate_keys(engine, new, batch_size=1) == {"users": 2, "identities": 1, "magic_links": 1}
    assert {value.split(":")[0] for value in stored_values(engine)} == {"k2"}
    assert rotate_keys(engine, new) == {"users": 0, "identities": 0, "magic_links": 0}  # idempotent

    people = Users(engine, new)
    assert people.by_email(ADDRESS) == people.get(alice.id) and people.get(alice.id).name == NAME
    assert people.sign_in("email", ADDRESS, ADDRESS).id == alice.id  # the identity's hash moved too
    assert people.by_email("nameless@example.com").name is None
    with engine.connect() as conn:  # the remembered sign-up moved to the new hash too
        assert conn.execute(sa.select(signup_addresses.c.email_hash)).scalars().all() == [new.lookup(ADDRESS)]
    assert len(links(engine, after, new)[0].addressed_to(ADDRESS)) == 1  # the link's hash moved with the key
    assert links(engine, after, new)[0].redeem(token_in(outbox.texts[-1])).email == ADDRESS
    assert_nothing_in_clear(engine, ADDRESS, NAME)

    only_new = FieldCipher.from_settings(settings_with(data_keys=after.data_keys[0], lookup_key="a new lookup key"))
    assert Users(engine, only_new).get(alice.id).email == ADDRESS  # the old key is no longer needed


def test_change_email_moves_the_account_and_refuses_a_taken_address(engine):
    people = Users(engine, FieldCipher.from_settings(settings_with()))
    alice = people.sign_in("email", ADDRESS, ADDRESS)
    bob = people.create("bob@example.com")
    with pytest.raises(EmailTaken, match="already belongs to another account"):
        people.change_email(alice.id, "Bob@Example.com")

    moved = people.change_email(alice.id, "Alice@New.example")
    assert moved.email == "alice@new.example" and people.by_email(ADDRESS) is None
    assert people.sign_in("email", "alice@new.example", "alice@new.example").id == alice.id
    assert people.identities_of(alice.id) == [("email", "alice@new.example")]
    assert people.sign_in("email", ADDRESS, ADDRESS).id not in (alice.id, bob.id)  # the old address is free
    assert people.change_email(alice.id, "alice@new.example").id == alice.id  # its own address: nothing to do


def test_names_are_trimmed_and_deletion_erases_every_personal_field(engine):
    people = Users(engine, FieldCipher.from_settings(settings_with()))
    alice = people.create(ADDRESS, "  " + NAME + "  ")
    assert alice.name == NAME
    assert people.set_name(alice.id, "x" * 500).name == "x" * 200
    assert people.set_name(alice.id, "   ").name is None
    people.set_name(alice.id, NAME)
    people.delete(alice.id)
    people.delete(alice.id)  # twice: nothing more happens
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == alice.id)).one()
    assert (row.email_hash, row.email_enc, row.name_enc) == (None, None, None) and row.deleted_at is not None
    assert people.get(alice.id) is None and people.by_email(ADDRESS) is None


# ------------------------------------------------------------------ migration 0005 on existing rows


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    """A database no migration has touched."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    require(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_migration_0005_encrypts_existing_rows(empty_database):
    engine = empty_database
    cipher = FieldCipher.from_settings(settings_with(data_keys=new_key("k1")))
    migrate(engine, cipher, revision="0004")
    moment = datetime.now(UTC)
    with engine.begin() as conn:
        insert = "INSERT INTO {} ({}) VALUES ({})"
        for table, values in (
            ("users", {"id": 1, "email": ADDRESS, "name": NAME, "created_at": moment}),
            ("users", {"id": 2, "email": "robert.tables@example.com", "name": None, "created_at": moment}),
            ("identities", {"user_id": 1, "provider": "email", "subject": ADDRESS, "created_at": moment}),
            ("identities", {"user_id": 2, "provider": "github", "subject": "77", "created_at": moment}),
            ("credit_accounts", {"user_id": 1, "balance": 5, "reserved": 0, "debt": 0, "updated_at": moment}),
            ("magic_links", {"token_hash": hash_token("pending"), "email": ADDRESS, "next_path": "/after",
                             "created_at": moment, "expires_at": moment + timedelta(minutes=15)}),
        ):
            conn.execute(sa.text(insert.format(table, ", ".join(values), ", ".join(f":{k}" for k in values))), values)

    migrate(engine, cipher)

    assert_nothing_in_clear(engine, ADDRESS, NAME, "robert.tables@example.com")
    people = Users(engine, cipher)
    alice = people.by_email(ADDRESS)
    assert (alice.id, alice.email, alice.name) == (1, ADDRESS, NAME)
    assert people.sign_in("email", ADDRESS, ADDRESS).id == 1  # found by the identity, now a hash
    assert people.sign_in("github", "77", "robert.tables@example.com").email == "robert.tables@example.com"
    with engine.connect() as conn:  # rows that point at users survived the table's rebuild
        assert conn.execute(sa.text("SELECT balance FROM credit_accounts WHERE user_id = 1")).scalar_one() == 5
        assert conn.execute(sa.select(sa.func.count()).select_from(identities)).scalar_one() == 2
    settings = settings_with()
    redeemed = links(engine, settings, cipher)[0].redeem("pending")
    assert (redeemed.email, redeemed.next_path, redeemed.purpose, redeemed.user_id) == (ADDRESS, "/after", "sign_in",
                                                                                          None)
