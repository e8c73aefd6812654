"""Buying credits through Creem: starting a checkout, and applying Creem's webhook events.

Credits are granted only from verified webhooks, never from the browser's return to the site.
Each event is recorded by its id in the same transaction as its ledger effect, so a repeated
delivery changes nothing; each business fact also has its own unique key (an order, a
subscription period, a clawback), so the same payment seen through two events counts once.
From Creem's payloads only ids, amounts, currency and status are kept: never card data.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth.tokens import now
from auth.users import User
from billing.creem import CreemClient, webhook_signature
from billing.ledger import Ledger, insert_or_skip
from config import Settings
from pipelines.errors import UserError
from store.tables import billing_events, checkout_intents, credit_accounts, payments, subscriptions, users

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
SUBSCRIPTION_EVENTS = {
    "subscription.active", "subscription.canceled", "subscription.expired", "subscription.scheduled_cancel",
    "subscription.past_due", "subscription.paused", "subscription.trialing", "subscription.unpaid",
    "subscription.update",
}


class WebhookRejected(Exception):
    """A delivery refused before anything was recorded; Creem gets `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Product:
    id: str
    credits: int
    recurring: bool


class Payments:
    def __init__(self, engine: Engine, settings: Settings, ledger: Ledger, creem: CreemClient | None) -> None:
        self.engine = engine
        self.settings = settings
        self.ledger = ledger
        self.creem = creem

    @property
    def configured(self) -> bool:
        return self.creem is not None

    def products(self) -> list[Product]:
        packs = [Product(pid, credits, False) for pid, credits in self.settings.pack_credits.items()]
        plans = [Product(pid, credits, True) for pid, credits in self.settings.subscription_credits.items()]
        return packs + plans

    # ------------------------------------------------------------ checkout

    def start_checkout(self, user: User, product_id: str, base_url: str) -> str:
        """Record our intent, ask Creem for a checkout page, return its URL."""
        if self.creem is None:
            raise UserError("Purchases are not set up on this server.")
        if product_id not in {p.id for p in self.products()}:
            raise UserError("That product is not on sale here.")
        intent = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(checkout_intents.insert().values(
                id=intent, user_id=user.id, product_id=product_id, status="created", created_at=now()
            ))
        checkout = self.creem.create_checkout(
            product_id=product_id, request_id=intent, email=user.email,
            success_url=f"{base_url.rstrip('/')}/billing/success",
            metadata={"user_id": str(user.id), "intent": intent},
        )
        with self.engine.begin() as conn:
            conn.execute(checkout_intents.update().where(checkout_intents.c.id == intent)
                         .values(checkout_id=checkout.id))
        return checkout.url

    def portal_link(self, user_id: int) -> str:
        if self.creem is None:
            raise UserError("Purchases are not set up on this server.")
        with self.engine.connect() as conn:
            customer = conn.execute(
                sa.select(credit_accounts.c.creem_customer_id).where(credit_accounts.c.user_id == user_id)
            ).scalar()
        if not customer:
            raise UserError("There is nothing to manage yet: no purchase has been made with this account.")
        return self.creem.portal_link(customer)

    def active_subscriptions(self, user_id: int) -> list[tuple[str, str, str | None]]:
        """(subscription id, status, current period end) of a user's subscriptions that are not over."""
        query = sa.select(subscriptions).where(
            subscriptions.c.user_id == user_id, subscriptions.c.status.notin_(["canceled", "expired"])
        )
        with self.engine.connect() as conn:
            return [(r.id, r.status, r.current_period_end) for r in conn.execute(query)]

    def mark_canceled(self, subscription_id: str) -> None:
        """After cancelling at Creem ourselves (account deletion); its own webhook confirms it later."""
        with self.engine.begin() as conn:
            conn.execute(subscriptions.update().where(subscriptions.c.id == subscription_id)
                         .values(status="canceled", updated_at=now()))

    # ------------------------------------------------------------ webhooks

    def receive(self, body: bytes, signature: str | None, content_type: str | None) -> str:
        """Verify and apply one delivery. Returns a short outcome; raises WebhookRejected to refuse it."""
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
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise WebhookRejected(400, "body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise WebhookRejected(400, "not a Creem event")
        event_id, event_type = event.get("id"), event.get("eventType")
        if not isinstance(event_id, str) or not event_id.strip() or not isinstance(event_type, str):
            raise WebhookRejected(400, "an event needs an id and an eventType")
        with self.engine.begin() as conn:
            new = insert_or_skip(conn, billing_events, {
                "event_id": event_id.strip()[:80], "event_type": event_type[:60], "received_at": now(),
            }, ["event_id"])
            if not new:
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
        request_id = checkout.get("request_id")
        if request_id:
            conn.execute(checkout_intents.update().where(checkout_intents.c.id == str(request_id))
                         .values(status="completed"))
        subscription = _dict(checkout.get("subscription"))
        if order.get("type") != "onetime":  # subscriptions are granted per paid period, by subscription.paid
            if subscription.get("id"):
                self._set_subscription(conn, subscription["id"], user_id, product_id,
                                       str(subscription.get("status") or "active"), created_ms, None)
            return "subscription checkout recorded"
        credits = self.settings.pack_credits.get(product_id or "")
        if credits is None:
            raise ValueError(f"product {product_id!r} is not in CREEM_PACKS")
        order_id = str(order["id"])
        return self._grant(conn, user_id, credits, kind="purchase", payment_key=f"order:{order_id}",
                           order_id=order_id, product_id=product_id, amount=order.get("amount"),
                           currency=order.get("currency"), unique_key=f"purchase:{order_id}")

    def _subscription_paid(self, conn: Connection, sub: dict, created_ms: int) -> str:
        product_id = _id(sub.get("product"))
        user_id = self._user(conn, sub)
        self._remember_customer(conn, user_id, _id(sub.get("customer")))
        transaction = _id(sub.get("last_transaction")) or sub.get("last_transaction_id")
        if not transaction:
            raise ValueError("subscription.paid without last_transaction_id")
        self._set_subscription(conn, str(sub["id"]), user_id, product_id, "active", created_ms,
                               sub.get("current_period_end_date"))
        credits = self.settings.subscription_credits.get(product_id or "")
        if credits is None:
            raise ValueError(f"product {product_id!r} is not in CREEM_SUBSCRIPTIONS")
        product = _dict(sub.get("product"))
        return self._grant(conn, user_id, credits, kind="subscription", payment_key=f"transaction:{transaction}",
                           order_id=None, product_id=product_id, amount=product.get("price"),
                           currency=product.get("currency"), unique_key=f"subscription:{sub['id']}:{transaction}")

    def _grant(self, conn: Connection, user_id: int, credits: int, *, kind: str, payment_key: str,
               order_id: str | None, product_id: str | None, amount: Any, currency: Any, unique_key: str) -> str:
        insert_or_skip(conn, payments, {
            "payment_key": payment_key, "order_id": order_id, "user_id": user_id, "product_id": product_id,
            "credits": 0, "amount_cents": _int(amount), "currency": currency, "created_at": now(),
        }, ["payment_key"])
        conn.execute(payments.update().where(payments.c.payment_key == payment_key)
                     .values(user_id=user_id, credits=credits, product_id=product_id))
        granted = self.ledger.grant(user_id, credits, kind=kind, source="creem", unique_key=unique_key,
                                    reference=payment_key, conn=conn)
        self._take_back_if_refunded(conn, payment_key)  # a refund that arrived before the payment
        return f"granted {credits}" if granted else "already granted"

    def _subscription_status(self, conn: Connection, sub: dict, status: str, created_ms: int) -> str:
        sub_id = str(sub["id"])
        user_id = self._user(conn, sub)
        self._set_subscription(conn, sub_id, user_id, _id(sub.get("product")), status, created_ms,
                               sub.get("current_period_end_date"))
        return f"subscription {status}"

    def _set_subscription(self, conn: Connection, sub_id: str, user_id: int, product_id: str | None, status: str,
                          created_ms: int, period_end: Any) -> None:
        """Newest event wins: an older event arriving late does not undo a newer status."""
        values = {"user_id": user_id, "product_id": product_id, "status": status[:20], "status_at": created_ms,
                  "current_period_end": str(period_end)[:40] if period_end else None, "updated_at": now()}
        if not insert_or_skip(conn, subscriptions, {"id": sub_id, **values}, ["id"]):
            conn.execute(subscriptions.update()
                         .where(subscriptions.c.id == sub_id, subscriptions.c.status_at <= created_ms).values(**values))

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
            raise ValueError(f"{kind} names no transaction or order")
        row = conn.execute(sa.select(payments).where(payments.c.payment_key.in_(keys))).first()
        paid = _int(transaction.get("amount_paid")) or _int(transaction.get("amount"))
        refunded = (_int(obj.get("refund_amount")) if kind == "refund" else None) or paid
        if row is None:  # the payment's own event has not arrived yet: remember, apply when it does
            insert_or_skip(conn, payments, {
                "payment_key": own_key, "order_id": order_id, "user_id": None, "credits": 0,
                "amount_cents": paid, "refunded_cents": refunded or 0, "created_at": now(),
            }, ["payment_key"])
            return f"{kind} recorded before its payment"
        conn.execute(payments.update().where(payments.c.id == row.id).values(
            refunded_cents=sa.func.coalesce(payments.c.refunded_cents, refunded or 0),
            amount_cents=paid or row.amount_cents,
        ))
        taken = self._take_back_if_refunded(conn, row.payment_key, kind)
        return f"{kind}: took back {taken}" if taken is not None else f"{kind} already applied"

    def _take_back_if_refunded(self, conn: Connection, payment_key: str, kind: str = "refund") -> int | None:
        row = conn.execute(sa.select(payments).where(payments.c.payment_key == payment_key)).first()
        if row is None or not row.refunded_cents or not row.credits or row.user_id is None:
            return None
        share = 1.0 if not row.amount_cents else min(1.0, row.refunded_cents / row.amount_cents)
        credits = min(row.credits, math.ceil(row.credits * share - 1e-9))
        applied = self.ledger.take_back(row.user_id, credits, kind=kind, source="creem",
                                        unique_key=f"clawback:{payment_key}", reference=payment_key, conn=conn)
        return credits if applied else None

    # ------------------------------------------------------------ who paid

    def _user(self, conn: Connection, obj: dict) -> int:
        """The user a payload is about: our metadata, our checkout intent, the customer, the subscription."""
        metadata = {**_dict(_dict(obj.get("subscription")).get("metadata")), **_dict(obj.get("metadata")),
                    **_dict(_dict(obj.get("checkout")).get("metadata"))}
        candidates: list[int | None] = [_int(metadata.get("user_id"))]
        request_id = obj.get("request_id") or _dict(obj.get("checkout")).get("request_id")
        if request_id:
            candidates.append(conn.execute(sa.select(checkout_intents.c.user_id)
                                           .where(checkout_intents.c.id == str(request_id))).scalar())
        customer = _id(obj.get("customer"))
        if customer:
            candidates.append(conn.execute(sa.select(credit_accounts.c.user_id)
                                           .where(credit_accounts.c.creem_customer_id == customer)).scalar())
        sub_id = obj.get("id") if str(obj.get("object", "")) == "subscription" else _id(obj.get("subscription"))
        if sub_id:
            candidates.append(conn.execute(sa.select(subscriptions.c.user_id)
                                           .where(subscriptions.c.id == str(sub_id))).scalar())
        for user_id in candidates:
            if user_id is not None and conn.execute(sa.select(users.c.id).where(users.c.id == user_id)).first():
                return user_id
        raise ValueError("the payload names no known user")

    def _remember_customer(self, conn: Connection, user_id: int, customer_id: str | None) -> None:
        if customer_id:
            self.ledger.open(conn, user_id)
            conn.execute(credit_accounts.update().where(credit_accounts.c.user_id == user_id)
                         .values(creem_customer_id=customer_id[:64]))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip(), expected)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    """Creem sends related objects either expanded ({"id": ...}) or as a bare id string."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() != "" else None
    except (TypeError, ValueError):
        return None


def _millis(value: Any) -> int:
    return _int(value) or 0
