"""Creem's webhooks: verifying a delivery, reading its event, and applying it.

Credits are granted only from verified webhooks, never from the browser's return to the site.
Each event is recorded by its id in the same transaction as its ledger effect, so a repeated
delivery changes nothing; each business fact also has its own unique key (an order, a
subscription period, a clawback), so the same payment seen through two events counts once.
The rows live in billing/payment_records.py and the credits in billing/ledger.py: this module
decides what an event means and hands both the one Connection of its transaction.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine

from billing.creem import webhook_signature
from billing.ledger import Ledger
from billing.payment_records import PaymentRecords
from config import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
SUBSCRIPTION_EVENTS = {
    "subscription.active", "subscription.canceled", "subscription.expired", "subscription.scheduled_cancel",
    "subscription.past_due", "subscription.paused", "subscription.trialing", "subscription.unpaid",
    "subscription.update",
}
KNOWN_EVENTS = {"checkout.completed", "subscription.paid", "refund.created", "dispute.created", *SUBSCRIPTION_EVENTS}


class WebhookRejected(Exception):
    """A delivery refused before anything was recorded; Creem gets `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PaymentNotApplied(Exception):
    """A signed, well-formed event that cannot be applied yet (an unknown user or product): nothing was recorded,
    and the route answers 500 so that Creem delivers it again."""


class CreemWebhooks:
    def __init__(self, engine: Engine, settings: Settings, records: PaymentRecords, ledger: Ledger) -> None:
        self.engine = engine
        self.settings = settings
        self.records = records
        self.ledger = ledger
        self.on_webhook: Callable[[str, str], None] | None = None  # (event type, outcome) per delivery: metrics

    def receive(self, body: bytes, signature: str | None, content_type: str | None) -> str:
        """Verify and apply one delivery. Returns a short outcome; raises WebhookRejected to refuse it."""
        seen = ["unknown"]  # the event type, once a signed body names one
        try:
            outcome = self._receive(body, signature, content_type, seen)
        except WebhookRejected:
            self._observe(seen[0], "rejected")
            raise
        except Exception:
            self._observe(seen[0], "error")
            raise
        self._observe(seen[0], outcome if outcome in ("duplicate", "ignored") else "applied")
        return outcome

    def _observe(self, event_type: str, outcome: str) -> None:
        """Report a delivery with a label from a fixed set: the type comes from outside."""
        if self.on_webhook is not None:
            self.on_webhook(event_type if event_type in KNOWN_EVENTS | {"unknown"} else "other", outcome)

    def _receive(self, body: bytes, signature: str | None, content_type: str | None, seen: list[str]) -> str:
        secret = self.settings.creem_webhook_secret
        if secret is None:
            raise WebhookRejected(404, "webhooks are not set up")
        if not (content_type or "").lower().startswith("application/json"):
            raise WebhookRejected(415, "expected application/json")
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRejected(413, "body too large")
        expected = webhook_signature(body, secret.get_secret_value())
        if not signature or not _same(signature, expected):
            raise WebhookRejected(401, "missing or invalid creem-signature")
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: "[[[[..." too deep
            raise WebhookRejected(400, "body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise WebhookRejected(400, "not a Creem event")
        event_id, event_type = event.get("id"), event.get("eventType")
        if not _text(event_id) or not _text(event_type):
            raise WebhookRejected(400, "an event needs an id and an eventType")
        seen[0] = event_type
        with self.engine.begin() as conn:
            if not self.records.record_event(conn, event_id, event_type):
                return "duplicate"
            outcome = self._apply(conn, event_type, event["object"], _millis(event.get("created_at")))
        log.info("Creem %s %s: %s", event_type, event_id, outcome)
        return outcome

    def _apply(self, conn: Connection, event_type: str, obj: dict, created_ms: int) -> str:
        if event_type == "checkout.completed":
            return self._checkout_completed(conn, obj, created_ms)
        if event_type == "subscription.paid":
            return self._subscription_paid(conn, obj, created_ms)
        if event_type in SUBSCRIPTION_EVENTS:
            return self._subscription_status(conn, obj, event_type.split(".", 1)[1], created_ms)
        if event_type in ("refund.created", "dispute.created"):
            return self._clawback(conn, obj, "refund" if event_type == "refund.created" else "chargeback")
        return "ignored"

    def _checkout_completed(self, conn: Connection, checkout: dict, created_ms: int) -> str:
        order = _dict(checkout.get("order"))
        product_id = _id(checkout.get("product")) or _id(order.get("product"))
        user_id = self._user(conn, checkout)
        self._remember_customer(conn, user_id, _id(checkout.get("customer")) or _id(order.get("customer")))
        request_id = _id(checkout.get("request_id"))
        if request_id:
            self.records.complete_intent(conn, request_id)
        subscription = _dict(checkout.get("subscription"))
        if order.get("type") != "onetime":  # subscriptions are granted per paid period, by subscription.paid
            if sub_id := _id(subscription.get("id")):
                self._set_subscription(conn, sub_id, user_id, product_id,
                                       _text(subscription.get("status")) or "active", created_ms, None)
            return "subscription checkout recorded"
        credits = self.settings.pack_credits.get(product_id or "")
        if credits is None:
            raise PaymentNotApplied(f"product {product_id!r} is not in CREEM_PACKS")
        order_id = _required_id(order, "a one-time checkout's order")
        return self._grant(conn, user_id, credits, kind="purchase", payment_key=f"order:{order_id}",
                           order_id=order_id, product_id=product_id, amount=order.get("amount"),
                           currency=order.get("currency"), unique_key=f"purchase:{order_id}")

    def _subscription_paid(self, conn: Connection, sub: dict, created_ms: int) -> str:
        product_id = _id(sub.get("product"))
        user_id = self._user(conn, sub)
        self._remember_customer(conn, user_id, _id(sub.get("customer")))
        transaction = _id(sub.get("last_transaction")) or _id(sub.get("last_transaction_id"))
        if not transaction:
            raise WebhookRejected(422, "subscription.paid without last_transaction_id")
        sub_id = _required_id(sub, "subscription.paid's subscription")
        self._set_subscription(conn, sub_id, user_id, product_id, "active", created_ms,
                               sub.get("current_period_end_date"))
        credits = self.settings.subscription_credits.get(product_id or "")
        if credits is None:
            raise PaymentNotApplied(f"product {product_id!r} is not in CREEM_SUBSCRIPTIONS")
        product = _dict(sub.get("product"))
        return self._grant(conn, user_id, credits, kind="subscription", payment_key=f"transaction:{transaction}",
                           order_id=None, product_id=product_id, amount=product.get("price"),
                           currency=product.get("currency"), unique_key=f"subscription:{sub_id}:{transaction}")

    def _grant(self, conn: Connection, user_id: int, credits: int, *, kind: str, payment_key: str,
               order_id: str | None, product_id: str | None, amount: Any, currency: Any, unique_key: str) -> str:
        self.records.record_payment(conn, payment_key, user_id=user_id, credits=credits, order_id=order_id,
                                    product_id=product_id, amount_cents=_amount(amount), currency=_text(currency, 8))
        granted = self.ledger.grant(user_id, credits, kind=kind, source="creem", unique_key=unique_key,
                                    reference=payment_key, conn=conn)
        self._take_back_if_refunded(conn, payment_key)  # a refund that arrived before the payment
        return f"granted {credits}" if granted else "already granted"

    def _subscription_status(self, conn: Connection, sub: dict, status: str, created_ms: int) -> str:
        sub_id = _required_id(sub, "a subscription event's subscription")
        user_id = self._user(conn, sub)
        self._set_subscription(conn, sub_id, user_id, _id(sub.get("product")), status, created_ms,
                               sub.get("current_period_end_date"))
        return f"subscription {status}"

    def _set_subscription(self, conn: Connection, sub_id: str, user_id: int, product_id: str | None, status: str,
                          created_ms: int, period_end: Any) -> None:
        self.records.set_subscription(conn, sub_id, user_id=user_id, product_id=product_id, status=status,
                                      status_at=created_ms, period_end=_text(period_end, 40))

    def _clawback(self, conn: Connection, obj: dict, kind: str) -> str:
        """Take back the credits of a refunded or disputed payment, once per payment."""
        transaction = _dict(obj.get("transaction"))
        transaction_id = _id(transaction)
        order_id = _id(transaction.get("order")) or _id(obj.get("order"))
        recurring = bool(_id(transaction.get("subscription")) or _id(obj.get("subscription")))
        # packs were recorded by order, subscription periods by transaction (see _checkout_completed and
        # _subscription_paid); the payment's own key is where a refund that arrives first waits for it
        own_key = f"order:{order_id}" if order_id and not recurring else f"transaction:{transaction_id}"
        keys = [k for k in (f"transaction:{transaction_id}" if transaction_id else None,
                            f"order:{order_id}" if order_id else None) if k]
        if not keys:
            raise WebhookRejected(422, f"{kind} names no transaction or order")
        payment = self.records.find_payment(conn, keys)
        paid = _amount(transaction.get("amount_paid")) or _amount(transaction.get("amount"))
        refunded = (_amount(obj.get("refund_amount")) if kind == "refund" else None) or paid
        if payment is None:  # the payment's own event has not arrived yet: remember, apply when it does
            self.records.record_refund_first(conn, own_key, order_id=order_id, amount_cents=paid,
                                             refunded_cents=refunded or 0)
            return f"{kind} recorded before its payment"
        self.records.record_refund(conn, payment, refunded_cents=refunded or 0, amount_cents=paid)
        taken = self._take_back_if_refunded(conn, payment.payment_key, kind)
        return f"{kind}: took back {taken}" if taken is not None else f"{kind} already applied"

    def _take_back_if_refunded(self, conn: Connection, payment_key: str, kind: str = "refund") -> int | None:
        payment = self.records.find_payment(conn, [payment_key])
        if payment is None or not payment.refunded_cents or not payment.credits or payment.user_id is None:
            return None
        share = 1.0 if not payment.amount_cents else max(0.0, min(1.0, payment.refunded_cents / payment.amount_cents))
        credits = min(payment.credits, math.ceil(payment.credits * share - 1e-9))
        if credits <= 0:
            return None
        applied = self.ledger.take_back(payment.user_id, credits, kind=kind, source="creem",
                                        unique_key=f"clawback:{payment_key}", reference=payment_key, conn=conn)
        return credits if applied else None

    # ------------------------------------------------------------ who paid

    def _user(self, conn: Connection, obj: dict) -> int:
        """The user a payload is about: our metadata, our checkout intent, the customer, the subscription."""
        metadata = {**_dict(_dict(obj.get("subscription")).get("metadata")), **_dict(obj.get("metadata")),
                    **_dict(_dict(obj.get("checkout")).get("metadata"))}
        candidates: list[int | None] = [_int(metadata.get("user_id"))]
        request_id = _id(obj.get("request_id")) or _id(_dict(obj.get("checkout")).get("request_id"))
        if request_id:
            candidates.append(self.records.intent_user(conn, request_id))
        customer = _id(obj.get("customer"))
        if customer:
            candidates.append(self.records.customer_user(conn, customer))
        sub_id = _id(obj.get("id") if obj.get("object") == "subscription" else obj.get("subscription"))
        if sub_id:
            candidates.append(self.records.subscription_user(conn, sub_id))
        for user_id in candidates:
            if user_id is not None and self.records.user_exists(conn, user_id):
                return user_id
        raise PaymentNotApplied("the payload names no known user")

    def _remember_customer(self, conn: Connection, user_id: int, customer_id: str | None) -> None:
        if customer_id:
            self.ledger.open(conn, user_id)  # the customer id is kept on the credit account
            self.records.remember_customer(conn, user_id, customer_id)



def _same(given: str, expected: str) -> bool:
    # as bytes: compare_digest refuses str with non-ASCII characters, and a header may hold any latin-1
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected.encode())


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


MAX_ID = 64  # Creem's ids are about 30 characters; ours are stored in columns of 80 (and keys of 160)
MAX_INT = 2**31 - 1  # amounts and user ids are 32-bit integer columns


def _text(value: Any, limit: int = 200) -> str | None:
    """A string the database can store (no NUL, valid UTF-8), cut to `limit`; None for anything else."""
    if not isinstance(value, str) or "\x00" in value or not value.strip():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can carry
        return None
    return value.strip()[:limit]


def _id(value: Any) -> str | None:
    """Creem sends related objects either expanded ({"id": ...}) or as a bare id string.

    Absent is None; present but not an id (a list, a number too big, 300 characters) refuses the event.
    """
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT:
        return str(value)
    text = _text(value, MAX_ID + 1)
    if text is None or len(text) > MAX_ID:
        raise WebhookRejected(422, f"an id must be a string of at most {MAX_ID} characters")
    return text


def _required_id(obj: dict, what: str) -> str:
    found = _id(obj.get("id"))
    if found is None:
        raise WebhookRejected(422, f"{what} has no id")
    return found


def _int(value: Any) -> int | None:
    """A 32-bit integer from a number or numeric string; None for anything else (junk, inf, nan, huge)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value) if str(value).strip() != "" else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and -MAX_INT <= number <= MAX_INT else None


def _amount(value: Any) -> int | None:
    """An amount in cents: a non-negative integer, or None."""
    number = _int(value)
    return number if number is not None and number >= 0 else None


def _millis(value: Any) -> int:
    """An event time in milliseconds since 1970, 0 when missing or absurd (it only orders subscription events)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if 0 <= number < 2**63 else 0
