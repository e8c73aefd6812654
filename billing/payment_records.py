"""The payments area's rows: checkout intents, payments, subscriptions, Creem's event ids, the customer id.

Only ids, amounts, currency and status are kept, never card data. Methods that take a Connection
work inside the caller's transaction, so that billing/webhooks.py records an event, its rows and
its ledger effect together; the others open their own. Values are cut to their columns here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kernel.clock import now
from store.db import insert_or_skip
from store.tables import billing_events, checkout_intents, credit_accounts, payments, subscriptions, users

OVER = ("canceled", "expired")  # subscription statuses after which nothing more is paid


@dataclass(frozen=True)
class PaymentRecord:
    """One payment as recorded; user_id is None while a refund waits for the payment it refunds."""

    id: int
    payment_key: str
    user_id: int | None
    credits: int
    amount_cents: int | None
    refunded_cents: int | None


class PaymentRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------ checkout, portal, account deletion

    def open_intent(self, user_id: int, product_id: str) -> str:
        """Record that a user is about to pay; returns the intent's id, which travels as Creem's request_id."""
        intent = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(checkout_intents.insert().values(
                id=intent, user_id=user_id, product_id=product_id, status="created", created_at=now()
            ))
        return intent

    def attach_checkout(self, intent: str, checkout_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(checkout_intents.update().where(checkout_intents.c.id == intent)
                         .values(checkout_id=checkout_id))

    def customer_id(self, user_id: int) -> str | None:
        """The user's customer id at Creem, known once a payment's webhook named it."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(credit_accounts.c.creem_customer_id).where(credit_accounts.c.user_id == user_id)
            ).scalar()

    def forget_customer(self, user_id: int) -> None:
        """For account deletion: the credit account stays (accounting), its link to Creem's customer goes."""
        with self.engine.begin() as conn:
            conn.execute(
                credit_accounts.update().where(credit_accounts.c.user_id == user_id).values(creem_customer_id=None)
            )

    def active_subscriptions(self, user_id: int) -> list[tuple[str, str, str | None]]:
        """(subscription id, status, current period end) of a user's subscriptions that are not over."""
        query = sa.select(subscriptions).where(subscriptions.c.user_id == user_id, subscriptions.c.status.notin_(OVER))
        with self.engine.connect() as conn:
            return [(r.id, r.status, r.current_period_end) for r in conn.execute(query)]

    def mark_canceled(self, subscription_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(subscriptions.update().where(subscriptions.c.id == subscription_id)
                         .values(status="canceled", updated_at=now()))

    # ------------------------------------------------------------ inside a webhook's transaction

    @staticmethod
    def record_event(conn: Connection, event_id: str, event_type: str) -> bool:
        """Remember a delivered event by its id; False when it was seen before (a retry)."""
        return insert_or_skip(conn, billing_events, {
            "event_id": event_id.strip()[:80], "event_type": event_type[:60], "received_at": now(),
        }, ["event_id"])

    @staticmethod
    def complete_intent(conn: Connection, intent: str) -> None:
        conn.execute(checkout_intents.update().where(checkout_intents.c.id == intent).values(status="completed"))

    @staticmethod
    def remember_customer(conn: Connection, user_id: int, customer_id: str) -> None:
        """Keep Creem's customer id on the user's credit account, which must exist (Ledger.open)."""
        conn.execute(credit_accounts.update().where(credit_accounts.c.user_id == user_id)
                     .values(creem_customer_id=customer_id[:64]))

    @staticmethod
    def set_subscription(conn: Connection, subscription_id: str, *, user_id: int, product_id: str | None,
                         status: str, status_at: int, period_end: str | None) -> None:
        """Newest event wins: an older event (by `status_at`, ms) arriving late does not undo a newer status."""
        values = {"user_id": user_id, "product_id": product_id, "status": status[:20], "status_at": status_at,
                  "current_period_end": period_end, "updated_at": now()}
        if not insert_or_skip(conn, subscriptions, {"id": subscription_id, **values}, ["id"]):
            conn.execute(subscriptions.update()
                         .where(subscriptions.c.id == subscription_id, subscriptions.c.status_at <= status_at)
                         .values(**values))

    @staticmethod
    def record_payment(conn: Connection, payment_key: str, *, user_id: int, credits: int, order_id: str | None,
                       product_id: str | None, amount_cents: int | None, currency: str | None) -> None:
        """A paid payment and the credits it grants; a row a refund left first gains its user and credits."""
        insert_or_skip(conn, payments, {
            "payment_key": payment_key, "order_id": order_id, "user_id": user_id, "product_id": product_id,
            "credits": 0, "amount_cents": amount_cents, "currency": currency, "created_at": now(),
        }, ["payment_key"])
        conn.execute(payments.update().where(payments.c.payment_key == payment_key)
                     .values(user_id=user_id, credits=credits, product_id=product_id))

    @staticmethod
    def record_refund_first(conn: Connection, payment_key: str, *, order_id: str | None, amount_cents: int | None,
                            refunded_cents: int) -> None:
        """A refund whose payment has not arrived yet: it waits under the payment's key, with no user."""
        insert_or_skip(conn, payments, {
            "payment_key": payment_key, "order_id": order_id, "user_id": None, "credits": 0,
            "amount_cents": amount_cents, "refunded_cents": refunded_cents, "created_at": now(),
        }, ["payment_key"])

    @staticmethod
    def record_refund(conn: Connection, payment: PaymentRecord, *, refunded_cents: int,
                      amount_cents: int | None) -> None:
        """The first refund of a payment counts; a later one changes nothing."""
        conn.execute(payments.update().where(payments.c.id == payment.id).values(
            refunded_cents=sa.func.coalesce(payments.c.refunded_cents, refunded_cents),
            amount_cents=amount_cents or payment.amount_cents,
        ))

    @staticmethod
    def find_payment(conn: Connection, payment_keys: list[str]) -> PaymentRecord | None:
        """The payment recorded under any of these keys."""
        row = conn.execute(sa.select(payments).where(payments.c.payment_key.in_(payment_keys))).first()
        if row is None:
            return None
        return PaymentRecord(row.id, row.payment_key, row.user_id, row.credits, row.amount_cents, row.refunded_cents)

    # ------------------------------------------------------------ whom a payload is about

    @staticmethod
    def intent_user(conn: Connection, intent: str) -> int | None:
        return conn.execute(sa.select(checkout_intents.c.user_id).where(checkout_intents.c.id == intent)).scalar()

    @staticmethod
    def customer_user(conn: Connection, customer_id: str) -> int | None:
        return conn.execute(sa.select(credit_accounts.c.user_id)
                            .where(credit_accounts.c.creem_customer_id == customer_id)).scalar()

    @staticmethod
    def subscription_user(conn: Connection, subscription_id: str) -> int | None:
        return conn.execute(sa.select(subscriptions.c.user_id).where(subscriptions.c.id == subscription_id)).scalar()

    @staticmethod
    def user_exists(conn: Connection, user_id: int) -> bool:
        """Any user row, deleted accounts included: their payments are still booked (anonymised)."""
        return conn.execute(sa.select(users.c.id).where(users.c.id == user_id)).first() is not None
