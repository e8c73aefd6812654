"""Creem's webhooks through the app's real route: signatures, idempotency, order, refunds, bad bodies."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest
import sqlalchemy as sa

from store.tables import billing_events, subscriptions
from tests.billing.creem_server import PACK, PLAN, completed_checkout, deliver, event, sign


@pytest.fixture
def hook(live_app) -> str:
    return live_app.url + "webhooks/creem"


@pytest.fixture
def buyer(live_app):
    return live_app.new_user(credits=0)  # 10 sign-up credits


def available(live_app, user) -> int:
    return live_app.studio.ledger.balance(user.id).available


def pack_checkout(user, order_id: str | None = None, amount: int = 1000) -> tuple[dict, str]:
    order_id = order_id or f"ord_{secrets.token_hex(6)}"
    checkout = {"id": f"ch_{secrets.token_hex(6)}", "request_id": f"req_{secrets.token_hex(6)}",
                "product_id": PACK, "customer": {"email": user.email}, "metadata": {"user_id": str(user.id)}}
    body = completed_checkout(checkout, order_id)
    body["order"]["amount"] = amount
    return body, order_id


def refund(order_id: str, refund_amount: int, paid: int = 1210, kind: str = "refund.created") -> dict:
    transaction = {"id": f"tran_{secrets.token_hex(6)}", "amount": 1000, "amount_paid": paid, "tax_amount": 210,
                   "status": "refunded", "order": order_id}
    if kind == "refund.created":
        return event(kind, {"id": f"ref_{secrets.token_hex(6)}", "object": "refund", "status": "succeeded",
                            "refund_amount": refund_amount, "refund_currency": "EUR", "reason": "requested_by_customer",
                            "transaction": transaction, "order": {"id": order_id}})
    return event(kind, {"id": f"dis_{secrets.token_hex(6)}", "object": "dispute", "amount": paid, "currency": "EUR",
                        "transaction": {**transaction, "status": "chargeback"}, "order": {"id": order_id}})


def test_a_signed_purchase_grants_its_pack(live_app, hook, buyer):
    body, order_id = pack_checkout(buyer)
    answer = deliver(hook, event("checkout.completed", body))
    assert answer.status_code == 200 and answer.json()["outcome"] == "granted 100"
    assert available(live_app, buyer) == 110
    history = live_app.studio.ledger.history(buyer.id)
    assert history[0].kind == "purchase" and history[0].reference == f"order:{order_id}"


@pytest.mark.parametrize("signature", [None, "", "0" * 64, "not-hex", sign(b"other body")])
def test_bad_or_missing_signatures_change_nothing(live_app, hook, buyer, signature):
    body = json.dumps(event("checkout.completed", pack_checkout(buyer)[0])).encode()
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["creem-signature"] = signature
    assert httpx.post(hook, content=body, headers=headers).status_code == 401
    assert available(live_app, buyer) == 10


def test_a_signature_made_with_another_secret_is_refused(live_app, hook, buyer):
    answer = deliver(hook, event("checkout.completed", pack_checkout(buyer)[0]), secret="whsec_someone_else")
    assert answer.status_code == 401 and available(live_app, buyer) == 10


def test_the_same_event_five_times_credits_once(live_app, hook, buyer):
    payload = event("checkout.completed", pack_checkout(buyer)[0])
    outcomes = [deliver(hook, payload).json()["outcome"] for _ in range(5)]
    assert outcomes == ["granted 100"] + ["duplicate"] * 4
    assert available(live_app, buyer) == 110


def test_one_payment_through_two_different_events_credits_once(live_app, hook, buyer):
    body, _ = pack_checkout(buyer)
    assert deliver(hook, event("checkout.completed", body)).json()["outcome"] == "granted 100"
    assert deliver(hook, event("checkout.completed", body)).json()["outcome"] == "already granted"
    assert available(live_app, buyer) == 110


def test_subscriptions_are_granted_per_paid_period_not_at_checkout(live_app, hook, buyer):
    sub_id = f"sub_{secrets.token_hex(6)}"
    checkout, _ = pack_checkout(buyer)
    checkout["order"]["type"] = "recurring"
    checkout["product"] = {"id": PLAN, "billing_type": "recurring"}
    checkout["subscription"] = {"id": sub_id, "status": "active", "metadata": {"user_id": str(buyer.id)}}
    assert deliver(hook, event("checkout.completed", checkout)).json()["outcome"] == "subscription checkout recorded"
    assert available(live_app, buyer) == 10

    def paid(transaction: str) -> dict:
        return event("subscription.paid", {
            "id": sub_id, "object": "subscription", "product": {"id": PLAN, "price": 900, "currency": "EUR"},
            "customer": {"id": "cust_sub"}, "status": "active", "last_transaction_id": transaction,
            "current_period_end_date": "2026-12-29T00:00:00.000Z", "metadata": {"user_id": str(buyer.id)},
        })

    assert deliver(hook, paid("tran_1")).json()["outcome"] == "granted 300"
    assert deliver(hook, paid("tran_1")).json()["outcome"] == "already granted"  # the same period, another event
    assert deliver(hook, paid("tran_2")).json()["outcome"] == "granted 300"  # the next month
    assert available(live_app, buyer) == 610
    assert live_app.studio.payments.active_subscriptions(buyer.id)[0][1] == "active"


def test_subscription_status_follows_the_newest_event_whatever_the_order(live_app, hook, buyer):
    sub_id = f"sub_{secrets.token_hex(6)}"
    newer, older = int(time.time() * 1000), int(time.time() * 1000) - 60_000

    def status(kind: str, at: int) -> dict:
        payload = event(f"subscription.{kind}", {"id": sub_id, "object": "subscription", "product": PLAN,
                                                "metadata": {"user_id": str(buyer.id)}})
        payload["created_at"] = at
        return payload

    deliver(hook, status("canceled", newer))
    deliver(hook, status("active", older))  # arrives late: must not revive the subscription
    with live_app.studio.engine.connect() as conn:
        stored = conn.execute(sa.select(subscriptions.c.status).where(subscriptions.c.id == sub_id)).scalar()
    assert stored == "canceled"
    assert live_app.studio.payments.active_subscriptions(buyer.id) == []


def test_a_full_refund_takes_the_pack_back(live_app, hook, buyer):
    body, order_id = pack_checkout(buyer)
    deliver(hook, event("checkout.completed", body))
    assert deliver(hook, refund(order_id, 1210)).json()["outcome"] == "refund: took back 100"
    assert available(live_app, buyer) == 10


def test_a_partial_refund_takes_back_its_share_once(live_app, hook, buyer):
    body, order_id = pack_checkout(buyer)
    deliver(hook, event("checkout.completed", body))
    assert deliver(hook, refund(order_id, 605)).json()["outcome"] == "refund: took back 50"
    dispute = deliver(hook, refund(order_id, 1210, kind="dispute.created"))
    assert dispute.json()["outcome"] == "chargeback already applied"
    assert available(live_app, buyer) == 60


def test_a_refund_after_the_credits_were_spent_records_a_debt(live_app, hook, buyer):
    body, order_id = pack_checkout(buyer)
    deliver(hook, event("checkout.completed", body))
    ledger = live_app.studio.ledger
    ledger.hold(buyer.id, "spend-it", 105)
    ledger.capture("spend-it")  # 5 left
    deliver(hook, refund(order_id, 1210))
    account = ledger.balance(buyer.id)
    assert (account.available, account.debt) == (0, 95)
    body, _ = pack_checkout(buyer)
    deliver(hook, event("checkout.completed", body))  # the next purchase settles the debt first
    assert (ledger.balance(buyer.id).available, ledger.balance(buyer.id).debt) == (5, 0)


def test_a_refund_that_arrives_before_its_payment_still_applies(live_app, hook, buyer):
    body, order_id = pack_checkout(buyer)
    assert "before its payment" in deliver(hook, refund(order_id, 1210)).json()["outcome"]
    assert deliver(hook, event("checkout.completed", body)).status_code == 200
    assert available(live_app, buyer) == 10  # granted and taken back: net nothing


def test_unknown_events_are_acknowledged(hook):
    answer = deliver(hook, event("payout.sent", {"id": "po_1"}))
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (json.dumps({"id": "", "eventType": "checkout.completed", "object": {}}).encode(), "application/json", 400),
    (json.dumps({"id": "   ", "eventType": "checkout.completed", "object": {}}).encode(), "application/json", 400),
    (json.dumps({"eventType": "checkout.completed", "object": {}}).encode(), "application/json", 400),
    (b"{not json", "application/json", 400),
    (b"[1, 2, 3]", "application/json", 400),
    (json.dumps({"id": "evt_x", "eventType": "checkout.completed", "object": {}}).encode(), "text/plain", 415),
    (b"x" * 5_000_000, "application/json", 413),
], ids=["blank-id", "spaces-id", "no-id", "malformed", "not-an-object", "text-plain", "5-MB"])
def test_bad_deliveries_are_refused_cleanly(live_app, hook, body, content_type, status):
    with live_app.studio.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(billing_events)).scalar()
    answer = httpx.post(hook, content=body, headers={"content-type": content_type, "creem-signature": sign(body)})
    assert answer.status_code == status
    with live_app.studio.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(billing_events)).scalar() == before


def test_an_event_that_cannot_be_applied_answers_500_so_creem_retries(live_app, hook):
    stray = pack_checkout(live_app.new_user(credits=0))[0]
    stray["metadata"] = {"user_id": "999999"}  # nobody we know
    stray["request_id"] = None
    stray["customer"] = {"id": "cust_unknown"}
    stray["order"]["customer"] = "cust_unknown"
    payload = event("checkout.completed", stray)
    assert deliver(hook, payload).status_code == 500
    with live_app.studio.engine.connect() as conn:  # not recorded, so a retry is processed afresh
        assert conn.execute(sa.select(billing_events).where(billing_events.c.event_id == payload["id"])).first() is None
