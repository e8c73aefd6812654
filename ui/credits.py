"""The Credits tab: balance, prices, packs and subscriptions to buy, the billing portal, the history."""

from __future__ import annotations

import gradio as gr

from billing.creem import CreemUnavailable
from billing.ledger import Entry, Ledger
from billing.payments import Payments
from billing.prices import price_list
from config import Settings
from pipelines.errors import UserError
from ui.account import AccountHandlers

LABELS = {
    "grant": "Credits granted", "purchase": "Credit pack", "subscription": "Subscription credits",
    "capture": "Run", "refund": "Refund", "chargeback": "Payment disputed",
}
HIDDEN = {"hold", "release"}  # a hold and its release net to nothing; the charge is the capture

GO_TO = "(url) => { if (url) { window.location.href = url; } }"
OPEN = "(url) => { if (url) { window.open(url, '_blank', 'noopener'); } }"


def history_rows(entries: list[Entry]) -> list[list]:
    rows = []
    for e in entries:
        if e.kind in HIDDEN:
            continue
        label = "Welcome credits" if e.source == "signup" else LABELS.get(e.kind, e.kind)
        change = e.amount - (e.debt if e.kind in ("refund", "chargeback") else 0)
        rows.append([e.created_at.strftime("%Y-%m-%d %H:%M"), label, f"{change:+d}", (e.reference or "")[:12]])
    return rows


class CreditHandlers:
    def __init__(self, settings: Settings, ledger: Ledger, payments: Payments, account: AccountHandlers) -> None:
        self.settings = settings
        self.ledger = ledger
        self.payments = payments
        self.account = account

    def overview(self, request: gr.Request) -> tuple:
        user = self.account.user(request)
        if user is None:
            return "Sign in to see your credits and buy more.", []
        b = self.ledger.balance(user.id)
        text = f"## {b.available} credits available"
        if b.reserved:
            text += f"\n{b.reserved} held for a run in progress."
        if b.debt:
            text += (f"\n**Your account owes {b.debt} credits** after a refunded or disputed payment; "
                     "new credits settle it first, and runs wait until it is settled.")
        subs = self.payments.active_subscriptions(user.id)
        if subs:
            text += "\n\nSubscription: " + ", ".join(f"{status}" + (f" (until {end[:10]})" if end else "")
                                                   for _, status, end in subs)
        return text, history_rows(self.ledger.history(user.id))

    def checkout(self, product_id: str, request: gr.Request) -> str:
        user = self.account.require_user(request)
        starlette = request.request
        base = self.settings.public_url or str(starlette.base_url).rstrip("/")
        try:
            return self.payments.start_checkout(user, product_id, base)
        except (UserError, CreemUnavailable) as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def portal(self, request: gr.Request) -> str:
        user = self.account.require_user(request)
        try:
            return self.payments.portal_link(user.id)
        except (UserError, CreemUnavailable) as exc:
            raise gr.Error(str(exc), print_exception=False) from None


def build_credits_tab(handlers: CreditHandlers) -> gr.Tab:
    """Call inside gr.Blocks."""
    payments = handlers.payments
    with gr.Tab("Credits", elem_id="credits-tab") as tab:
        balance = gr.Markdown(elem_id="credits-balance")
        gr.Markdown("### Prices")
        gr.Dataframe(value=[[label, credits] for label, credits in price_list(handlers.settings)],
                     headers=["Operation", "Credits per run"], interactive=False, elem_id="price-list")
        if handlers.settings.price_per_megapixel:
            gr.Markdown("Prices are per megapixel of the result, at least the amount shown. "
                        "The Run button shows the exact price before you press it.")
        gr.Markdown("### Buy credits")
        if not payments.configured:
            gr.Markdown("Purchases are not set up on this server.", elem_id="purchases-off")
        else:
            gr.Markdown("Payment happens on Creem's secure checkout page; card details never reach this site.")
            url = gr.Textbox(visible=False)
            with gr.Row():
                for product in payments.products():
                    label = (f"Subscribe: {product.credits} credits each period" if product.recurring
                             else f"Buy {product.credits} credits")
                    button = gr.Button(label, elem_id=f"buy-{product.id}")
                    button.click(_checkout_for(handlers, product.id), None, url, api_visibility="private") \
                        .then(None, url, None, js=GO_TO)
            manage = gr.Button("Manage subscription or invoices", size="sm", elem_id="billing-portal")
            manage.click(handlers.portal, None, url, api_visibility="private").then(None, url, None, js=OPEN)
        gr.Markdown("### History")
        history = gr.Dataframe(headers=["When", "What", "Credits", "Reference"], interactive=False,
                               elem_id="credit-history")
    tab.select(handlers.overview, None, [balance, history], api_visibility="private")
    return tab


def _checkout_for(handlers: CreditHandlers, product_id: str):
    def start_checkout(request: gr.Request) -> str:
        return handlers.checkout(product_id, request)

    return start_checkout
