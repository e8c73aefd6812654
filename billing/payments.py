"""Buying credits through Creem: what is on sale, starting a checkout, the billing portal, and Creem's webhooks.

Credits are granted only from verified webhooks (billing/webhooks.py), never from the browser's
return to the site. The rows are kept by billing/payment_records.py; this is the one object the
routes, the UI and account deletion talk to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from auth.users import User
from billing.creem import CreemClient
from billing.ledger import Ledger
from billing.payment_records import PaymentRecords
from billing.webhooks import CreemWebhooks
from config import Settings
from kernel.errors import UserError


@dataclass(frozen=True)
class Product:
    id: str
    credits: int
    recurring: bool


class Payments:
    def __init__(self, engine: Engine, settings: Settings, ledger: Ledger, creem: CreemClient | None) -> None:
        self.settings = settings
        self.creem = creem
        self.records = PaymentRecords(engine)
        self.webhooks = CreemWebhooks(engine, settings, self.records, ledger)

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
        intent = self.records.open_intent(user.id, product_id)
        checkout = self.creem.create_checkout(
            product_id=product_id, request_id=intent, email=user.email,
            success_url=f"{base_url.rstrip('/')}/billing/success",
            metadata={"user_id": str(user.id), "intent": intent},
        )
        self.records.attach_checkout(intent, checkout.id)
        return checkout.url

    def portal_link(self, user_id: int) -> str:
        if self.creem is None:
            raise UserError("Purchases are not set up on this server.")
        customer = self.records.customer_id(user_id)
        if not customer:
            raise UserError("There is nothing to manage yet: no purchase has been made with this account.")
        return self.creem.portal_link(customer)

    # ------------------------------------------------------------ subscriptions and account deletion

    def active_subscriptions(self, user_id: int) -> list[tuple[str, str, str | None]]:
        """(subscription id, status, current period end) of a user's subscriptions that are not over."""
        return self.records.active_subscriptions(user_id)

    def mark_canceled(self, subscription_id: str) -> None:
        """After cancelling at Creem ourselves (account deletion); its own webhook confirms it later."""
        self.records.mark_canceled(subscription_id)

    def forget_customer(self, user_id: int) -> None:
        """For account deletion: no link to the person at Creem is kept."""
        self.records.forget_customer(user_id)

    # ------------------------------------------------------------ webhooks

    def receive(self, body: bytes, signature: str | None, content_type: str | None) -> str:
        """Verify and apply one delivery (billing/webhooks.py). Returns a short outcome; raises WebhookRejected."""
        return self.webhooks.receive(body, signature, content_type)
