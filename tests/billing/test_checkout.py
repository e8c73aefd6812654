"""Starting a checkout against the Creem contract server; the success redirect's signature; the portal."""

from __future__ import annotations

import httpx
import pytest

from billing.creem import redirect_signature, valid_redirect
from billing.payments import Payments
from kernel.errors import UserError
from tests.billing.creem_server import API_KEY, PACK, redirect_query


def test_a_checkout_sends_the_documented_request_and_returns_creems_page(live_app, creem):
    user = live_app.new_user()
    url = live_app.studio.payments.start_checkout(user, PACK, "https://studio.example.com")
    path, headers, body = creem.state.requests[-1]
    assert path == "/v1/checkouts" and headers["x-api-key"] == API_KEY
    assert body["product_id"] == PACK and body["customer"] == {"email": user.email} and body["units"] == 1
    assert body["success_url"] == "https://studio.example.com/billing/success"
    assert body["metadata"] == {"user_id": str(user.id), "intent": body["request_id"]}
    assert url.startswith(creem.url + "/pay/ch_")


def test_products_not_on_sale_and_an_unconfigured_server_are_refused(live_app):
    user = live_app.new_user()
    with pytest.raises(UserError, match="not on sale"):
        live_app.studio.payments.start_checkout(user, "prod_unknown", "http://x")
    unconfigured = Payments(live_app.studio.engine, live_app.studio.settings, live_app.studio.ledger, None)
    with pytest.raises(UserError, match="not set up"):
        unconfigured.start_checkout(user, PACK, "http://x")


# Vectors built by Creem's documented rule: drop `signature` and null/empty values, sort by key,
# join as k=v with &, HMAC-SHA256 keyed with the API key, lowercase hex.
VECTORS = [
    {"checkout_id": "ch_1", "order_id": "ord_1", "customer_id": "cust_1", "product_id": "prod_1"},
    {"checkout_id": "ch_2", "customer_id": "cust_2", "subscription_id": "sub_2", "product_id": "prod_2",
     "order_id": None, "request_id": "req_2"},
    {"request_id": "r", "checkout_id": "ch_3", "order_id": "null", "product_id": "p"},
]


@pytest.mark.parametrize("params", VECTORS)
def test_redirect_signatures_follow_the_documented_rule(params):
    import hashlib
    import hmac

    kept = sorted((k, v) for k, v in params.items() if v not in (None, "", "null"))
    expected = hmac.new(API_KEY.encode(), "&".join(f"{k}={v}" for k, v in kept).encode(), hashlib.sha256).hexdigest()
    assert redirect_signature(params, API_KEY) == expected
    signed = {**params, "signature": expected}
    assert valid_redirect(signed, API_KEY)
    assert not valid_redirect({**signed, "product_id": "prod_other"}, API_KEY)
    assert not valid_redirect(signed, "another_key")
    assert not valid_redirect({k: v for k, v in signed.items() if k != "signature"}, API_KEY)


def test_the_success_page_only_displays(live_app):
    params = {"checkout_id": "ch_x", "order_id": "ord_x", "customer_id": "c", "product_id": PACK}
    good = httpx.get(f"{live_app.url}billing/success?{redirect_query(params)}")
    assert good.status_code == 200 and "Payment received" in good.text
    forged = httpx.get(f"{live_app.url}billing/success?{redirect_query(params, api_key='wrong')}")
    assert "could not confirm" in forged.text
    # nothing is granted by visiting it, however often
    user = live_app.new_user(credits=0)
    with httpx.Client(base_url=live_app.url) as client:
        client.cookies.set("studio_session", live_app.studio.accounts.start_session(user, "pytest"))
        client.get(f"billing/success?{redirect_query(params)}")
        assert client.get("billing/balance").json()["available"] == 10


def test_the_balance_endpoint_needs_a_session(live_app):
    assert httpx.get(live_app.url + "billing/balance").status_code == 401


def test_the_billing_portal_needs_a_purchase_first(live_app, creem):
    from tests.billing.creem_server import completed_checkout, deliver, event

    user = live_app.new_user()
    with pytest.raises(UserError, match="nothing to manage"):
        live_app.studio.payments.portal_link(user.id)
    checkout = {"id": "ch_portal", "request_id": "req_portal", "product_id": PACK,
                "customer": {"email": user.email}, "metadata": {"user_id": str(user.id)}}
    body = completed_checkout(checkout, f"ord_portal_{user.id}")
    body["customer"]["id"] = body["order"]["customer"] = f"cust_{user.id}"
    deliver(live_app.url + "webhooks/creem", event("checkout.completed", body))
    assert live_app.studio.payments.portal_link(user.id).endswith(f"/cust_{user.id}")
