"""Property tests for Payments.receive: correctly signed, arbitrarily shaped Creem events.

A signature only proves the body came from Creem, not that it has the shape we expect. Whatever the
JSON, a delivery is refused cleanly (WebhookRejected, 4xx, nothing recorded), applied or ignored
(a short outcome), or deliberately left for Creem to retry (PaymentNotApplied, the route's 500).
Nothing else may escape, and the ledger's books balance after every delivery.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from auth.users import Users
from billing.ledger import Ledger
from billing.payments import Payments
from billing.webhooks import SUBSCRIPTION_EVENTS, PaymentNotApplied, WebhookRejected
from config import Settings
from store.crypto import FieldCipher
from store.tables import credit_accounts, credit_entries
from tests.billing.creem_server import PACK, PLAN, WEBHOOK_SECRET, sign
from tests.fuzz import EXAMPLES

FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
EVENT_TYPES = ["checkout.completed", "subscription.paid", "refund.created", "dispute.created", *SUBSCRIPTION_EVENTS]


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """SQLite keeps the fuzz budget small; STUDIO_FUZZ_POSTGRES=1 runs it on PostgreSQL (stricter column types)."""
    if os.environ.get("STUDIO_FUZZ_POSTGRES") == "1":
        return request.getfixturevalue("postgres_schema_url")
    return f"sqlite:///{tmp_path / 'fuzz.db'}"


@pytest.fixture
def world(engine) -> tuple[Payments, list[int]]:
    settings_ = Settings(_env_file=None, creem_webhook_secret=WEBHOOK_SECRET, creem_packs=f"{PACK}:100",
                         creem_subscriptions=f"{PLAN}:300")
    users = Users(engine, FieldCipher.from_settings(settings_))
    user_ids = [users.create(f"buyer{i}@example.com").id for i in range(3)]
    ledger = Ledger(engine, signup_credits=10, hold_minutes=30)
    return Payments(engine, settings_, ledger, None), user_ids


HUGE = st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**30, 10**400, math.inf, -math.inf, math.nan, 1e308])
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), HUGE, st.floats(), st.text(max_size=30),
                   st.text(min_size=150, max_size=400))
JUNK = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)


EVENT_IDS = itertools.count()
ORDERS, TRANSACTIONS, SUBS = ["ord_1", "ord_2", "ord_3"], ["tran_1", "tran_2", "tran_3"], ["sub_1", "sub_2"]


def realistic(user_ids: list[int]) -> st.SearchStrategy[tuple[str, dict]]:
    """(eventType, object) shaped like Creem's documented payloads, over a few shared ids so events meet."""
    user = st.sampled_from(user_ids).map(lambda uid: {"user_id": str(uid)})
    order, tran, sub = st.sampled_from(ORDERS), st.sampled_from(TRANSACTIONS), st.sampled_from(SUBS)
    amount = st.integers(0, 2000)
    pack = st.builds(lambda o, a, m: ("checkout.completed", {
        "id": "ch_1", "object": "checkout", "order": {"id": o, "customer": "cust_1", "product": PACK, "amount": a,
                                                      "currency": "EUR", "type": "onetime"},
        "product": {"id": PACK, "price": a, "currency": "EUR"}, "customer": {"id": "cust_1"}, "metadata": m,
    }), order, amount, user)
    plan = st.builds(lambda s_, m: ("checkout.completed", {
        "id": "ch_2", "object": "checkout", "order": {"id": "ord_9", "product": PLAN, "type": "recurring"},
        "product": {"id": PLAN}, "subscription": {"id": s_, "status": "active", "metadata": m}, "metadata": m,
    }), sub, user)
    paid = st.builds(lambda s_, t, m, kind: (kind, {
        "id": s_, "object": "subscription", "product": {"id": PLAN, "price": 900, "currency": "EUR"},
        "customer": {"id": "cust_2"}, "last_transaction_id": t, "status": "active",
        "current_period_end_date": "2026-12-29T00:00:00.000Z", "metadata": m,
    }), sub, tran, user, st.sampled_from(["subscription.paid", *sorted(SUBSCRIPTION_EVENTS)]))
    clawback = st.builds(lambda kind, o, t, s_, a, r: (kind, {
        "id": "ref_1", "object": "refund", "refund_amount": r,
        "transaction": {"id": t, "amount": a, "amount_paid": a, "order": o, "subscription": s_}, "order": {"id": o},
    }), st.sampled_from(["refund.created", "dispute.created"]), order, tran, st.none() | sub, amount, amount)
    return st.one_of(pack, plan, paid, clawback)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside nested dicts."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found.extend(paths(inner, (*prefix, key)))
    return found


@st.composite
def envelope(draw: st.DrawFn, user_ids: list[int]) -> Any:
    """A realistic event, then up to four fields changed to junk, huge numbers or wrong ids, or removed."""
    event_type, obj = draw(realistic(user_ids))
    # a fresh id, so events are applied rather than found duplicate (the database outlives examples); now and then
    # a repeat, as Creem's retries are
    event_id = "evt_repeat" if draw(st.integers(0, 9)) == 0 else f"evt_{next(EVENT_IDS)}"
    payload = {"id": event_id, "eventType": event_type,
               "created_at": draw(st.integers(0, 2**41)), "object": obj}
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(paths(payload)))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.integers(0, 4)) == 0:
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JUNK | HUGE | st.sampled_from([*ORDERS, *SUBS, PACK, PLAN, "", "x" * 300]))
        if not isinstance(payload, dict) or not paths(payload):
            break
    return payload


def assert_books_balance(engine: sa.Engine) -> None:
    """Every account equals the sum of its entries; nothing is negative."""
    e = credit_entries.c
    totals = sa.select(e.user_id, sa.func.sum(e.amount), sa.func.sum(e.held), sa.func.sum(e.debt)).group_by(e.user_id)
    with engine.connect() as conn:
        sums = {row[0]: tuple(row[1:]) for row in conn.execute(totals)}
        for row in conn.execute(sa.select(credit_accounts)):
            assert sums.get(row.user_id, (0, 0, 0)) == (row.balance, row.reserved, row.debt)
            assert row.balance >= 0 and row.reserved >= 0 and row.debt >= 0


def deliver(payments: Payments, payload: Any) -> str | None:
    """Sign and receive; None when refused or left for a retry, which the property allows."""
    body = json.dumps(payload).encode()  # json writes inf and nan as Infinity and NaN, which Python reads back
    try:
        outcome = payments.receive(body, sign(body), "application/json")
    except WebhookRejected as refusal:
        status, message = refusal.status, str(refusal)
    except PaymentNotApplied as retry:
        status, message = 500, str(retry)  # on purpose: the route answers 500 so that Creem retries
    else:
        event(outcome.split(":")[0].rstrip("0123456789 "))  # --hypothesis-show-statistics: what was reached
        return outcome
    event(f"{status} {message}"[:60])
    assert 400 <= status <= 500 and message
    return None


@FUZZ
@given(data=st.data())
def test_signed_events_of_any_shape_are_applied_refused_or_retried(world, engine, data) -> None:
    payments, user_ids = world
    outcome = deliver(payments, data.draw(envelope(user_ids) | JUNK))
    assert outcome is None or isinstance(outcome, str)
    assert_books_balance(engine)


@FUZZ
@given(data=st.data())
def test_a_run_of_events_keeps_the_books_balanced(world, engine, data) -> None:
    """Purchases, renewals, refunds and disputes in any order and shape, against one database."""
    payments, user_ids = world
    for payload in data.draw(st.lists(envelope(user_ids), min_size=1, max_size=6)):
        deliver(payments, payload)
    assert_books_balance(engine)


def test_a_body_nested_too_deep_for_json_is_refused(world) -> None:
    payments, _ = world
    body = b"[" * 100_000
    with pytest.raises(WebhookRejected) as refusal:
        payments.receive(body, sign(body), "application/json")
    assert refusal.value.status == 400


@pytest.mark.parametrize("signature", ["é", "\u00ff" * 64, " ", "sha256=abc"])
def test_any_signature_header_is_refused_with_401(world, signature: str) -> None:
    """A header may carry any latin-1 text; compare_digest refuses non-ASCII str, which once became a 500."""
    payments, _ = world
    with pytest.raises(WebhookRejected) as refusal:
        payments.receive(b"{}", signature, "application/json")
    assert refusal.value.status == 401
