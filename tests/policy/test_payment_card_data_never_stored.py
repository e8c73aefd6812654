"""Policy: "Vi lagrar inte dina betalningsuppgifter" - payments go through Creem; no card data is kept here."""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import payments
from tests.billing.creem_server import WEBHOOK_SECRET, deliver, event
from tests.billing.test_webhooks import pack_checkout
from tests.policy.dump import database_text

CARD_WORDS = ("card", "last4", "pan", "cvc", "cvv", "expiry", "exp_month", "iban", "bank", "billing_address")


def test_no_card_fields_in_the_schema_and_none_kept_from_a_real_payload(live_app):
    buyer = live_app.new_user(credits=0)
    body, order_id = pack_checkout(buyer)
    body["customer"]["name"] = "Card Holder Name"
    body["customer"]["address"] = {"line1": "Kortgatan 4242", "postal_code": "11122"}
    body["payment_method"] = {"type": "card", "card": {"last4": "4242", "brand": "visa", "exp_month": 12,
                                                       "exp_year": 2031, "fingerprint": "fp_0a1b2c3d"}}
    answer = deliver(live_app.url + "webhooks/creem", event("checkout.completed", body))
    assert answer.status_code == 200 and answer.json()["outcome"] == "granted 100"

    engine = live_app.studio.engine
    columns = {c["name"].lower() for name in sa.inspect(engine).get_table_names()
               for c in sa.inspect(engine).get_columns(name)}
    assert not [c for c in columns if any(word in c.split("_") or c == word for word in CARD_WORDS)]
    dump = database_text(engine)
    assert order_id in dump  # the order is kept, for refunds and the books ...
    for secret in ("Card Holder Name", "fp_0a1b2c3d", "Kortgatan", WEBHOOK_SECRET, buyer.email):
        assert secret not in dump  # ... and nothing about the card, the buyer or the secret
    with engine.connect() as conn:  # short numbers could match inside any hash or time: look at this payment's row
        row = conn.execute(sa.select(payments).where(payments.c.order_id == order_id)).one()._mapping
    kept = {k: v for k, v in row.items() if k not in ("id", "created_at")}
    assert not [v for v in kept.values() if str(v) in ("4242", "11122", "2031", "12")], kept
