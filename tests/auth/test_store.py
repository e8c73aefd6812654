"""Accounts in the database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth.magic_links import LinkInvalid, MagicLinks, RedeemedLink, TooManyRequests
from auth.mailer import Mailer
from auth.rate_limit import RateLimiter
from auth.sessions import ApiKeys, Sessions
from auth.users import Users
from config import Settings
from store.crypto import FieldCipher
from store.db import create_engine
from store.tables import auth_sessions, identities, magic_links

CIPHER = FieldCipher.from_settings(Settings(_env_file=None))


def test_one_account_per_verified_address_across_providers(engine):
    users = Users(engine, CIPHER)
    by_google = users.sign_in("google", "g-123", "alice@example.com", "Alice")
    by_github = users.sign_in("github", "4242", "alice@example.com", "alice-gh")
    by_email = users.sign_in("email", "alice@example.com", "alice@example.com")
    assert by_google.id == by_github.id == by_email.id
    assert sorted(users.identities_of(by_google.id)) == [
        ("email", "alice@example.com"), ("github", "4242"), ("google", "g-123")
    ]
    assert users.get(by_google.id).name == "Alice"


def test_an_identity_belongs_to_one_user(engine):
    users = Users(engine, CIPHER)
    first = users.sign_in("github", "7", "first@example.com")
    # the same GitHub account later shows another address: it still reaches the same user
    again = users.sign_in("github", "7", "changed@example.com")
    assert again.id == first.id
    other = users.create("other@example.com")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(identities.insert().values(user_id=other.id, provider="github", subject="7",
                                                created_at=first.created_at))


def test_sessions_live_idle_and_absolute_lifetimes(engine):
    users, sessions = Users(engine, CIPHER), Sessions(engine, idle=timedelta(days=1), lifetime=timedelta(days=7))
    user = users.create("s@example.com")
    token = sessions.create(user.id, "Firefox on Linux")
    assert sessions.resolve(token).user_id == user.id
    assert sessions.resolve("forged-" + token) is None and sessions.resolve(None) is None
    with engine.begin() as conn:
        conn.execute(auth_sessions.update().values(last_seen_at=datetime(2000, 1, 1, tzinfo=UTC)))
    assert sessions.resolve(token) is None  # idle too long
    fresh = sessions.create(user.id, "Chrome on macOS")
    started = sessions.resolve(fresh).created_at
    with engine.begin() as conn:
        conn.execute(auth_sessions.update().where(auth_sessions.c.device == "Chrome on macOS")
                     .values(expires_at=started - timedelta(seconds=1)))
    assert sessions.resolve(fresh) is None  # past its absolute lifetime


def test_sign_out_here_and_everywhere(engine):
    users, sessions = Users(engine, CIPHER), Sessions(engine, idle=timedelta(days=1), lifetime=timedelta(days=7))
    user, other = users.create("a@example.com"), users.create("b@example.com")
    laptop, phone = sessions.create(user.id, "laptop"), sessions.create(user.id, "phone")
    theirs = sessions.create(other.id, "theirs")
    sessions.revoke(sessions.resolve(theirs).id, user.id)  # not yours to revoke
    assert sessions.resolve(theirs) is not None
    sessions.revoke(sessions.resolve(laptop).id, user.id)
    assert sessions.resolve(laptop) is None and sessions.resolve(phone) is not None
    assert [s.device for s in sessions.active(user.id)] == ["phone"]
    assert sessions.revoke_all(user.id) == 1
    assert sessions.resolve(phone) is None and sessions.resolve(theirs) is not None


def test_a_deleted_users_sessions_and_keys_stop_working(engine):
    users, keys = Users(engine, CIPHER), ApiKeys(engine)
    sessions = Sessions(engine, idle=timedelta(1), lifetime=timedelta(7))
    user = users.create("gone@example.com")
    token = sessions.create(user.id, "laptop")
    key, _ = keys.create(user.id, "k")
    users.delete(user.id)
    assert sessions.resolve(token) is None and keys.resolve(key) is None and users.get(user.id) is None
    again = users.sign_in("email", "gone@example.com", "gone@example.com")  # a new account, not the old one
    assert again.id != user.id


def test_api_keys_are_shown_once_stored_hashed_and_revocable(engine):
    users, keys = Users(engine, CIPHER), ApiKeys(engine)
    user = users.create("k@example.com")
    key, info = keys.create(user.id, "notebook")
    assert key.startswith("stu_") and info.prefix == key[:12]
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM api_keys")).mappings().one()
    assert key not in str(dict(stored)) and stored["prefix"] == key[:12]
    assert keys.resolve(key) == user.id
    assert keys.active(user.id)[0].last_used_at is not None
    assert keys.resolve(key[:-1] + ("y" if key.endswith("x") else "x")) is None  # one character off
    keys.revoke(info.id, user.id)
    assert keys.resolve(key) is None and keys.active(user.id) == []


class Outbox(Mailer):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, subject: str, text: str, *, console_line: str) -> None:
        self.sent.append((to, text))


def links(engine, **overrides) -> tuple[MagicLinks, Outbox]:
    settings = Settings(_env_file=None, **overrides)
    outbox = Outbox(settings)
    return MagicLinks(engine, settings, RateLimiter(engine), outbox), outbox


def token_from(text: str) -> str:
    return text.split("token=", 1)[1].split()[0]


def test_a_link_works_once(engine):
    magic, outbox = links(engine)
    answer = magic.request("Alice@Example.com", client_ip="1.2.3.4", base_url="http://x", next_path="/studio")
    assert "sign-in link is on its way" in answer
    token = token_from(outbox.sent[-1][1])
    assert magic.redeem(token) == RedeemedLink("alice@example.com", "/studio", "sign_in", None)
    with pytest.raises(LinkInvalid, match="already used"):
        magic.redeem(token)
    with engine.connect() as conn:
        assert token not in str(conn.execute(sa.select(magic_links)).all())  # only the hash is stored


def test_an_expired_link_fails(engine):
    magic, outbox = links(engine)
    magic.request("late@example.com", client_ip="1.2.3.4", base_url="http://x")
    with engine.begin() as conn:
        conn.execute(magic_links.update().values(expires_at=magic_links.c.created_at - timedelta(seconds=1)))
    with pytest.raises(LinkInvalid, match="expired"):
        magic.redeem(token_from(outbox.sent[-1][1]))


def test_the_answer_is_the_same_with_or_without_an_account(engine):
    magic, _ = links(engine)
    Users(engine, CIPHER).create("known@example.com")
    known = magic.request("known@example.com", client_ip="1.1.1.1", base_url="http://x")
    unknown = magic.request("nobody@example.com", client_ip="1.1.1.1", base_url="http://x")
    assert known == unknown


def test_links_are_limited_per_address_and_per_ip_across_processes(engine, database_url):
    first, _ = links(engine, magic_link_per_address_per_hour=3, magic_link_per_ip_per_hour=5)
    other_engine = create_engine(database_url)  # another app process sharing the database
    second, _ = links(other_engine, magic_link_per_address_per_hour=3, magic_link_per_ip_per_hour=5)
    answers = []
    for i in range(4):
        magic = first if i % 2 == 0 else second
        try:
            magic.request("FLOOD@example.com", client_ip="9.9.9.9", base_url="http://x")
            answers.append("sent")
        except TooManyRequests:
            answers.append("limited")
    assert answers == ["sent", "sent", "sent", "limited"]
    second.request("someone-else@example.com", client_ip="9.9.9.9", base_url="http://x")  # the 5th from this IP
    with pytest.raises(TooManyRequests, match="your network"):  # every request counted, refused ones too
        first.request("yet-another@example.com", client_ip="9.9.9.9", base_url="http://x")
    first.request("yet-another@example.com", client_ip="8.8.8.8", base_url="http://x")  # others are not affected
    other_engine.dispose()


def test_rate_limit_buckets_do_not_hold_addresses_in_the_clear(engine):
    magic, _ = links(engine)
    magic.request("private@example.com", client_ip="5.6.7.8", base_url="http://x")
    with engine.connect() as conn:
        buckets = " ".join(r.bucket for r in conn.execute(sa.text("SELECT bucket FROM rate_limit_hits")))
    assert "private@example.com" not in buckets and "5.6.7.8" not in buckets
