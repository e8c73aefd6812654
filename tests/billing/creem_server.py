"""A loopback stand-in for Creem, built from its documented API and payloads.

It checks what the app sends (the x-api-key header, the checkout body's fields), hosts a tiny
checkout page, and when the buyer pays it does what Creem does: sends the signed
checkout.completed webhook and sends the buyer back to success_url with signed query
parameters (HMAC-SHA256 with the API key over the sorted non-null parameters).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

API_KEY = "creem_test_contract_key"
WEBHOOK_SECRET = "whsec_contract_secret"
PACK, PLAN = "prod_pack_100", "prod_plan_300"


@dataclass
class CreemState:
    webhook_url: str = ""
    checkouts: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)  # (path, headers, body) the app sent
    denied_words: tuple = ("forbidden",)
    flagged_words: tuple = ("borderline",)
    uncancellable: set = field(default_factory=set)  # subscription ids whose cancel fails


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def redirect_query(params: dict, api_key: str = API_KEY) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v not in (None, "", "null"))
    signature = hmac.new(api_key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**{k: v for k, v in params.items() if v is not None}, "signature": signature})


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{secrets.token_hex(8)}", "eventType": event_type,
            "created_at": int(time.time() * 1000), "object": obj}


def completed_checkout(checkout: dict, order_id: str) -> dict:
    """checkout.completed for a one-time pack, shaped like Creem's documented sample."""
    return {
        "id": checkout["id"], "object": "checkout", "request_id": checkout["request_id"],
        "order": {"id": order_id, "customer": "cust_contract", "product": checkout["product_id"], "amount": 1000,
                  "currency": "EUR", "status": "paid", "type": "onetime", "mode": "test"},
        "product": {"id": checkout["product_id"], "name": "100 credits", "price": 1000, "currency": "EUR",
                    "billing_type": "onetime", "billing_period": "once"},
        "customer": {"id": "cust_contract", "object": "customer", "email": checkout["customer"]["email"],
                     "name": "Buyer", "country": "SE"},
        "custom_fields": [], "status": "completed", "metadata": checkout["metadata"], "mode": "test",
    }


def deliver(url: str, payload: dict, secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    return httpx.post(url, content=body, headers={"content-type": "application/json", "creem-signature": sign(body,
                                                                                                            secret)})


def creem_app(state: CreemState) -> FastAPI:
    app = FastAPI()

    def refuse_without_key(x_api_key: str | None) -> JSONResponse | None:
        if x_api_key != API_KEY:
            return JSONResponse({"statusCode": 403, "message": ["Invalid API key"]}, status_code=403)
        return None

    @app.post("/v1/checkouts")
    async def create_checkout(request: Request, x_api_key: str | None = Header(None)):
        body = await request.json()
        state.requests.append(("/v1/checkouts", dict(request.headers), body))
        if refused := refuse_without_key(x_api_key):
            return refused
        missing = [f for f in ("product_id", "request_id", "success_url", "metadata") if not body.get(f)]
        if missing or not body.get("customer", {}).get("email"):
            return JSONResponse({"statusCode": 400, "message": [f"missing {missing or ['customer.email']}"]},
                                status_code=400)
        checkout_id = f"ch_{secrets.token_hex(8)}"
        base = str(request.base_url).rstrip("/")
        state.checkouts[checkout_id] = {**body, "id": checkout_id}
        return {"id": checkout_id, "object": "checkout", "product_id": body["product_id"], "status": "pending",
                "checkout_url": f"{base}/pay/{checkout_id}", "mode": "test"}

    @app.get("/pay/{checkout_id}", response_class=HTMLResponse)
    def checkout_page(checkout_id: str):
        return (f"<html><body><h1>Creem checkout (contract server)</h1>"
                f"<form method='post' action='/pay/{checkout_id}'><button id='pay'>Pay</button></form></body></html>")

    @app.post("/pay/{checkout_id}")
    def pay(checkout_id: str):
        checkout = state.checkouts[checkout_id]
        order_id = f"ord_{secrets.token_hex(8)}"
        deliver(state.webhook_url, event("checkout.completed", completed_checkout(checkout, order_id)))
        query = redirect_query({"checkout_id": checkout_id, "order_id": order_id, "customer_id": "cust_contract",
                                "subscription_id": None, "product_id": checkout["product_id"],
                                "request_id": checkout["request_id"]})
        return RedirectResponse(f"{checkout['success_url']}?{query}", status_code=303)

    @app.post("/v1/customers/billing")
    async def billing_portal(request: Request, x_api_key: str | None = Header(None)):
        if refused := refuse_without_key(x_api_key):
            return refused
        body = await request.json()
        return {"customer_portal_link": f"https://creem.io/my-orders/login/{body['customer_id']}"}

    @app.post("/v1/subscriptions/{subscription_id}/cancel")
    def cancel(subscription_id: str, x_api_key: str | None = Header(None)):
        if refused := refuse_without_key(x_api_key):
            return refused
        if subscription_id in state.uncancellable:  # Creem having a bad moment
            return JSONResponse({"error": "Internal Server Error"}, status_code=503)
        state.requests.append((f"/v1/subscriptions/{subscription_id}/cancel", {}, {}))
        return {"id": subscription_id, "object": "subscription", "status": "canceled"}

    @app.post("/v1/moderation/prompt")
    async def moderate(request: Request, x_api_key: str | None = Header(None)):
        if refused := refuse_without_key(x_api_key):
            return refused
        body = await request.json()
        state.requests.append(("/v1/moderation/prompt", dict(request.headers), body))
        prompt = body["prompt"].lower()
        decision = ("deny" if any(w in prompt for w in state.denied_words)
                    else "flag" if any(w in prompt for w in state.flagged_words) else "allow")
        return {"id": f"mod_{secrets.token_hex(6)}", "object": "moderation_result", "prompt": body["prompt"],
                "decision": decision, "usage": {"units": 1}, "external_id": body.get("external_id")}

    return app
