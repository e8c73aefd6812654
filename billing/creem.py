"""A thin client for the parts of Creem's API this app uses, and its signature rules.

Creem is the merchant of record: checkout happens on its hosted page, so card data never reaches
this app. Hosts: https://api.creem.io (live), https://test-api.creem.io (test); every call sends
the `x-api-key` header; amounts are integer cents.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

import httpx

from config import Settings

log = logging.getLogger(__name__)
TIMEOUT_S = 15.0


class CreemUnavailable(RuntimeError):
    """Creem could not be reached or refused the call. The message is safe to show."""


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str


class CreemClient:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        if settings.creem_api_key is None:
            raise ValueError("CREEM_API_KEY is not set")
        self.api_key = settings.creem_api_key.get_secret_value()
        self.http = httpx.Client(
            base_url=settings.creem_base_url, timeout=TIMEOUT_S, transport=transport,
            headers={"x-api-key": self.api_key, "accept": "application/json"},
        )

    def _post(self, path: str, body: dict, what: str) -> dict:
        try:
            answer = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            log.error("Creem %s failed: %s", path, type(exc).__name__)
            raise CreemUnavailable(f"The payment provider could not be reached to {what}. Please try again.") from exc
        if answer.status_code >= 300:
            log.error("Creem %s answered %s", path, answer.status_code)
            raise CreemUnavailable(f"The payment provider refused to {what} ({answer.status_code}). Please try again.")
        return answer.json()

    def create_checkout(self, *, product_id: str, request_id: str, email: str, success_url: str,
                        metadata: dict[str, str]) -> Checkout:
        body = {
            "product_id": product_id, "request_id": request_id, "units": 1, "customer": {"email": email},
            "success_url": success_url, "metadata": metadata,
        }
        data = self._post("/v1/checkouts", body, "start the checkout")
        return Checkout(id=data["id"], url=data["checkout_url"])

    def portal_link(self, customer_id: str) -> str:
        data = self._post("/v1/customers/billing", {"customer_id": customer_id}, "open the billing portal")
        return data["customer_portal_link"]

    def cancel_subscription(self, subscription_id: str) -> None:
        self._post(f"/v1/subscriptions/{subscription_id}/cancel", {"mode": "immediate"}, "cancel the subscription")

    def moderate(self, prompt: str, external_id: str) -> str:
        """Creem's prompt screening: "allow", "flag" or "deny"."""
        data = self._post("/v1/moderation/prompt", {"prompt": prompt, "external_id": external_id}, "check the prompt")
        decision = str(data.get("decision", "")).lower()
        if decision not in ("allow", "flag", "deny"):
            raise CreemUnavailable("The payment provider's prompt check gave no decision. Please try again.")
        return decision


def webhook_signature(body: bytes, secret: str) -> str:
    """`creem-signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def redirect_signature(params: dict[str, str | None], api_key: str) -> str:
    """The success redirect's `signature`: HMAC-SHA256 (API key) over the sorted non-null parameters."""
    items = sorted((k, v) for k, v in params.items() if k != "signature" and v not in (None, "", "null"))
    message = "&".join(f"{k}={v}" for k, v in items)
    return hmac.new(api_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def valid_redirect(params: dict[str, str | None], api_key: str) -> bool:
    return hmac.compare_digest(str(params.get("signature") or ""), redirect_signature(params, api_key))
