"""Creem's webhook, the page Creem sends buyers back to, and the balance that page watches."""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from auth import pages
from auth.accounts import Accounts
from billing.creem import valid_redirect
from billing.ledger import Ledger
from billing.payments import MAX_BODY_BYTES, Payments, WebhookRejected

log = logging.getLogger(__name__)

# The success page polls the balance, so the visitor sees the credits arrive with the webhook.
WATCH_BALANCE = """
<p>Your balance: <strong id="balance">…</strong> credits</p>
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
    router = APIRouter(include_in_schema=False)

    @router.post("/webhooks/creem")
    async def creem_webhook(request: Request) -> Response:
        """Verify, record, apply; 2xx only once the effect is committed, 5xx so Creem retries."""
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
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

    def viewer(request: Request) -> int | None:
        session = accounts.sessions.resolve(request.cookies.get(settings.session_cookie_name))
        return session.user_id if session else None

    @router.get("/billing/success")
    def success(request: Request) -> Response:
        """For display only: the credits come from the webhook, whatever this page says."""
        params = dict(request.query_params)
        api_key = settings.creem_api_key.get_secret_value() if settings.creem_api_key else ""
        if api_key and valid_redirect(params, api_key):
            lead = "<p id='message'>Payment received. Your credits arrive in a moment.</p>"
            title = "Thank you"
        else:
            lead = ("<p id='message'>We could not confirm this payment link. If you paid, your credits still "
                    "arrive as soon as the payment provider tells us.</p>")
            title = "Payment"
        back = f"<p><a href='/'>Back to {html.escape(brand)}</a></p>"
        body = lead + (WATCH_BALANCE if viewer(request) else "") + back
        return pages.page(brand, title, body)

    @router.get("/billing/balance")
    def balance(request: Request) -> Response:
        user_id = viewer(request)
        if user_id is None:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        account = ledger.balance(user_id)
        return JSONResponse({"available": account.available, "reserved": account.reserved, "debt": account.debt},
                            headers={"Cache-Control": "no-store"})

    return router
