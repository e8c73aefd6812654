"""Creem's webhook, the page Creem sends buyers back to, and the balance that page watches."""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from auth import pages
from auth.accounts import Accounts
from auth.dependency import CallerDependencies
from billing.creem import valid_redirect
from billing.ledger import Ledger
from billing.payments import Payments
from billing.webhooks import WebhookRejected
from kernel.language import request_language, translate

log = logging.getLogger(__name__)

STRINGS = {
    "en": {
        "billing.thanks": "Thank you",
        "billing.received": "Payment received. Your credits arrive in a moment.",
        "billing.payment": "Payment",
        "billing.unconfirmed": "We could not confirm this payment link. If you paid, your credits still arrive as "
                               "soon as the payment provider tells us.",
        "billing.balance": "Your balance: {balance} credits",
    },
    "sv": {
        "billing.thanks": "Tack",
        "billing.received": "Betalningen är mottagen. Dina krediter kommer om en liten stund.",
        "billing.payment": "Betalning",
        "billing.unconfirmed": "Vi kunde inte bekräfta den här betalningslänken. Om du har betalat kommer dina "
                               "krediter ändå så snart betalningsleverantören meddelar oss.",
        "billing.balance": "Ditt saldo: {balance} krediter",
    },
}

# The success page polls the balance, so the visitor sees the credits arrive with the webhook.
BALANCE = '<strong id="balance">…</strong>'
WATCH_BALANCE = """
<script>
async function refresh() {
  const answer = await fetch('/billing/balance', {credentials: 'same-origin'});
  if (answer.ok) document.getElementById('balance').textContent = (await answer.json()).available;
}
refresh(); setInterval(refresh, 2000);
</script>
"""


def billing_router(accounts: Accounts, ledger: Ledger, payments: Payments) -> APIRouter:
    settings = accounts.settings
    brand = settings.brand_name
    caller = CallerDependencies(accounts)
    router = APIRouter(include_in_schema=False)

    @router.post("/webhooks/creem")
    async def creem_webhook(request: Request) -> Response:
        """Verify, record, apply; 2xx only once the effect is committed, 5xx so Creem retries.

        The body is at most billing/webhooks.py's MAX_BODY_BYTES by the time it is read (web/limits.py).
        """
        body = await request.body()
        try:
            outcome = await run_in_threadpool(
                payments.receive, body, request.headers.get("creem-signature"), request.headers.get("content-type")
            )
        except WebhookRejected as refusal:
            return JSONResponse({"error": str(refusal)}, status_code=refusal.status)
        except Exception:
            log.exception("a Creem webhook could not be applied; Creem will retry")
            return JSONResponse({"error": "not applied, please retry"}, status_code=500)
        return JSONResponse({"received": True, "outcome": outcome})

    @router.get("/billing/success")
    def success(request: Request, user_id: int | None = Depends(caller.user_id_or_none)) -> Response:
        """For display only: the credits come from the webhook, whatever this page says."""
        params = dict(request.query_params)
        api_key = settings.creem_api_key.get_secret_value() if settings.creem_api_key else ""
        lang = request_language(request)
        confirmed = bool(api_key) and valid_redirect(params, api_key)
        title = translate(STRINGS, "billing.thanks" if confirmed else "billing.payment", lang)
        lead = translate(STRINGS, "billing.received" if confirmed else "billing.unconfirmed", lang)
        body = f"<p id='message'>{html.escape(lead)}</p>"
        if user_id is not None:
            body += f"<p>{html.escape(translate(STRINGS, 'billing.balance', lang)).format(balance=BALANCE)}</p>"
            body += WATCH_BALANCE
        return pages.page(brand, title, body + pages.back_link(brand, lang), lang=lang)

    @router.get("/billing/balance")
    def balance(user_id: int | None = Depends(caller.user_id_or_none)) -> Response:
        if user_id is None:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        account = ledger.balance(user_id)
        return JSONResponse({"available": account.available, "reserved": account.reserved, "debt": account.debt},
                            headers={"Cache-Control": "no-store"})

    return router
