"""The ledger on SQLite and PostgreSQL: holds, charges, grants, debt, concurrency, the sweeper."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from auth.users import Users
from billing.ledger import InsufficientCredits, Ledger
from config import Settings
from store.crypto import FieldCipher
from store.db import create_engine
from store.tables import credit_accounts, credit_entries, credit_holds, signup_addresses


def ledger(engine, signup: int = 10) -> Ledger:
    return Ledger(engine, signup_credits=signup, hold_minutes=30)


def new_user(engine) -> int:
    users = Users(engine, FieldCipher.from_settings(Settings(_env_file=None)))
    return users.create(f"{uuid.uuid4().hex[:8]}@example.com").id


def assert_books_balance(engine) -> None:
    """Every account equals the sum of its entries; nothing is negative."""
    with engine.connect() as conn:
        e = credit_entries.c
        totals = sa.select(e.user_id, sa.func.sum(e.amount).label("amount"), sa.func.sum(e.held).label("held"),
                           sa.func.sum(e.debt).label("debt")).group_by(e.user_id)
        sums = {r.user_id: (r.amount, r.held, r.debt) for r in conn.execute(totals)}
        for row in conn.execute(sa.select(credit_accounts)):
            assert sums.get(row.user_id, (0, 0, 0)) == (row.balance, row.reserved, row.debt)
            assert row.balance >= 0 and row.reserved >= 0 and row.debt >= 0 and row.reserved <= row.balance


def test_a_new_account_gets_the_signup_grant_once(engine):
    books, user = ledger(engine), new_user(engine)
    assert books.balance(user).available == 10
    assert books.balance(user).available == 10
    assert [e.source for e in books.history(user)] == ["signup"]
    assert_books_balance(engine)


def test_a_run_is_held_then_charged_once(engine):
    books, user = ledger(engine), new_user(engine)
    books.hold(user, "run-1", 4)
    held = books.balance(user)
    assert (held.balance, held.reserved, held.available) == (10, 4, 6)
    assert books.capture("run-1") and not books.capture("run-1") and not books.release("run-1")
    assert books.balance(user).available == 6 and books.balance(user).reserved == 0
    assert_books_balance(engine)


def test_a_failed_run_is_released_and_costs_nothing(engine):
    books, user = ledger(engine), new_user(engine)
    books.hold(user, "run-2", 4)
    assert books.release("run-2") and not books.capture("run-2")
    assert books.balance(user).available == 10
    assert_books_balance(engine)


def test_too_few_credits_holds_nothing(engine):
    books, user = ledger(engine), new_user(engine)
    with pytest.raises(InsufficientCredits, match="costs 11 credits and you have 10"):
        books.hold(user, "run-3", 11)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(credit_holds)).scalar() == 0
    assert books.balance(user).available == 10


def test_where_credits_are_not_sold_the_refusal_does_not_point_to_a_shop(engine):
    books = Ledger(engine, signup_credits=10, hold_minutes=30, sold_here=False)
    user = new_user(engine)
    with pytest.raises(InsufficientCredits, match="cannot be bought on this server") as refused:
        books.hold(user, "run-4", 11)
    assert "Credits tab" not in str(refused.value)


def test_sign_up_credits_once_per_address_even_after_the_account_is_deleted(engine):
    people = Users(engine, FieldCipher.from_settings(Settings(_env_file=None)))
    books = ledger(engine)
    first = people.sign_in("email", "frida@example.com", "frida@example.com")
    assert books.balance(first.id).available == 10
    people.delete(first.id)

    again = people.sign_in("email", "Frida@Example.com", "frida@example.com")  # the same address, a new account
    assert again.id != first.id
    assert books.balance(again.id).available == 0
    assert [e.source for e in books.history(again.id)] == []
    other = people.create("someone.else@example.com")
    assert books.balance(other.id).available == 10  # other addresses still get theirs

    with engine.connect() as conn:  # only keyed hashes are kept, never an address
        kept = [r.email_hash for r in conn.execute(sa.select(signup_addresses))]
    assert len(kept) == 2 and not any("@" in value for value in kept)
    assert_books_balance(engine)


def test_remembered_sign_up_addresses_are_forgotten_after_their_retention(engine):
    people = Users(engine, FieldCipher.from_settings(Settings(_env_file=None)))
    books = ledger(engine)
    gone = people.create("gone@example.com")
    books.balance(gone.id)
    people.delete(gone.id)
    with engine.begin() as conn:
        conn.execute(signup_addresses.update().values(created_at=datetime(2020, 1, 1, tzinfo=UTC)))
    assert books.forget_signup_addresses(older_than_days=730) == 1
    assert books.balance(people.create("gone@example.com").id).available == 10  # a stranger again, after two years


def test_taking_back_spent_credits_records_a_debt_that_blocks_spending(engine):
    books, user = ledger(engine), new_user(engine)
    books.hold(user, "spend", 8)
    books.capture("spend")  # 2 left
    assert books.take_back(user, 10, kind="refund", source="creem", unique_key="clawback:order-1")
    account = books.balance(user)
    assert (account.balance, account.debt) == (0, 8)
    assert not books.take_back(user, 10, kind="refund", source="creem", unique_key="clawback:order-1")  # once
    books.grant(user, 5, kind="purchase", source="creem", unique_key="purchase:order-2")
    with pytest.raises(InsufficientCredits, match="owes 3 credits"):
        books.hold(user, "blocked", 1)
    books.grant(user, 10, kind="purchase", source="creem", unique_key="purchase:order-3")
    assert (books.balance(user).available, books.balance(user).debt) == (7, 0)
    assert_books_balance(engine)


def test_credits_held_for_a_run_in_progress_are_not_taken_back(engine):
    books, user = ledger(engine), new_user(engine)
    books.hold(user, "busy", 6)
    books.take_back(user, 10, kind="chargeback", source="creem", unique_key="clawback:x")
    account = books.balance(user)
    assert (account.balance, account.reserved, account.debt) == (6, 6, 6)
    books.capture("busy")
    assert_books_balance(engine)


def test_the_sweeper_releases_holds_of_runs_that_died(engine):
    books, user = ledger(engine), new_user(engine)
    books.hold(user, "died", 5)
    books.hold(user, "alive", 2)
    with engine.begin() as conn:
        conn.execute(credit_holds.update().where(credit_holds.c.run_id == "died")
                     .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    assert books.sweep() == 1
    assert books.balance(user).reserved == 2 and books.balance(user).available == 8
    assert [e.source for e in books.history(user)][:1] == ["sweeper"]
    assert_books_balance(engine)


def test_concurrent_spenders_never_overdraw(engine, database_url):
    """Two 'processes' (engines) with 16 threads each spend 3 at a time from 100: exactly 33 succeed."""
    user = new_user(engine)
    first = ledger(engine, signup=100)
    first.balance(user)
    second_engine = create_engine(database_url)
    books = [first, ledger(second_engine, signup=100)]
    charged, refused, errors = [], [], []

    def spender(book: Ledger, worker: int) -> None:
        for attempt in range(4):
            run_id = f"w{worker}-{attempt}-{uuid.uuid4().hex[:6]}"
            try:
                book.hold(user, run_id, 3)
            except InsufficientCredits:
                refused.append(run_id)
                continue
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
                continue
            book.capture(run_id)
            charged.append(run_id)

    threads = [threading.Thread(target=spender, args=(books[i % 2], i)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second_engine.dispose()
    assert errors == []
    assert len(charged) == 33 and len(refused) == 128 - 33
    assert first.balance(user).available == 1 and first.balance(user).reserved == 0
    assert_books_balance(engine)
