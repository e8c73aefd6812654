"""The Credits tab: balance, prices, packs and subscriptions to buy, the billing portal, the history."""

from __future__ import annotations

import gradio as gr

from billing.creem import CreemUnavailable
from billing.ledger import Entry, Ledger
from billing.payments import Payments, Product
from billing.prices import price_list
from config import Settings
from kernel.errors import UserError
from kernel.language import DEFAULT
from pipelines.registry import OPERATIONS
from store.usage import UsageLog
from ui.account import AccountHandlers, table
from ui.i18n import language, localize, t, text, text_count
from ui.operations import label_key

STRINGS = {
    "en": {
        "credits.tab": "Credits",
        "credits.signed_out": "Sign in to see your credits and buy more.",
        "credits.available.one": "## {count} credit available",
        "credits.available.other": "## {count} credits available",
        "credits.reserved": "{count} held for a run in progress.",
        "credits.debt": "**Your account owes {count} credits** after a refunded or disputed payment; new credits "
                        "settle it first, and runs wait until it is settled.",
        "credits.subscription": "Subscription: {subscriptions}",
        "credits.until": "{status} (until {date})",
        "credits.prices": "### Prices",
        "credits.operation": "Operation",
        "credits.per_run": "Credits per run",
        "credits.per_megapixel": "Prices are per megapixel of the result, at least the amount shown. The Run button "
                                 "shows the exact price before you press it.",
        "credits.buy_heading": "### Buy credits",
        "credits.purchases_off": "Credits cannot be bought on this server; ask the people who run it for more.",
        "credits.secure": "Payment happens on Creem's secure checkout page; card details never reach this site.",
        "credits.buy": "Buy {credits} credits",
        "credits.subscribe": "Subscribe: {credits} credits each period",
        "credits.portal": "Manage subscription or invoices",
        "credits.history": "### History",
        "credits.when": "When",
        "credits.what": "What",
        "credits.credits": "Credits",
        "credits.reference": "Reference",
        "credits.kind.grant": "Credits granted",
        "credits.kind.purchase": "Credit pack",
        "credits.kind.subscription": "Subscription credits",
        "credits.kind.capture": "Run",
        "credits.kind.refund": "Refund",
        "credits.kind.chargeback": "Payment disputed",
        "credits.kind.signup": "Welcome credits",
        "credits.status.active": "active",
        "credits.status.paid": "paid",
        "credits.status.trialing": "on trial",
        "credits.status.paused": "paused",
        "credits.status.past_due": "payment overdue",
        "credits.status.unpaid": "unpaid",
    },
    "sv": {
        "credits.tab": "Krediter",
        "credits.signed_out": "Logga in för att se dina krediter och köpa fler.",
        "credits.available.one": "## {count} kredit tillgänglig",
        "credits.available.other": "## {count} krediter tillgängliga",
        "credits.reserved": "{count} reserverade för en pågående körning.",
        "credits.debt": "**Ditt konto är skyldigt {count} krediter** efter en återbetald eller bestriden betalning; "
                        "nya krediter reglerar skulden först, och körningar väntar tills den är reglerad.",
        "credits.subscription": "Prenumeration: {subscriptions}",
        "credits.until": "{status} (till {date})",
        "credits.prices": "### Priser",
        "credits.operation": "Åtgärd",
        "credits.per_run": "Krediter per körning",
        "credits.per_megapixel": "Priserna gäller per megapixel i resultatet, minst det belopp som visas. Kör-knappen "
                                 "visar det exakta priset innan du trycker på den.",
        "credits.buy_heading": "### Köp krediter",
        "credits.purchases_off": "Krediter går inte att köpa på den här servern; be dem som driver den om fler.",
        "credits.secure": "Betalningen sker på Creems säkra kassasida; kortuppgifterna når aldrig den här "
                          "webbplatsen.",
        "credits.buy": "Köp {credits} krediter",
        "credits.subscribe": "Prenumerera: {credits} krediter per period",
        "credits.portal": "Hantera prenumeration eller fakturor",
        "credits.history": "### Historik",
        "credits.when": "När",
        "credits.what": "Vad",
        "credits.credits": "Krediter",
        "credits.reference": "Referens",
        "credits.kind.grant": "Tilldelade krediter",
        "credits.kind.purchase": "Kreditpaket",
        "credits.kind.subscription": "Prenumerationskrediter",
        "credits.kind.capture": "Körning",
        "credits.kind.refund": "Återbetalning",
        "credits.kind.chargeback": "Bestriden betalning",
        "credits.kind.signup": "Välkomstkrediter",
        "credits.status.active": "aktiv",
        "credits.status.paid": "betald",
        "credits.status.trialing": "på prov",
        "credits.status.paused": "pausad",
        "credits.status.past_due": "betalning försenad",
        "credits.status.unpaid": "obetald",
    },
}
KINDS = ("grant", "purchase", "subscription", "capture", "refund", "chargeback")
STATUSES = ("active", "paid", "trialing", "paused", "past_due", "unpaid")
HIDDEN = {"hold", "release"}  # a hold and its release net to nothing; the charge is the capture
PRICE_COLUMNS = ("credits.operation", "credits.per_run")
HISTORY_COLUMNS = ("credits.when", "credits.what", "credits.credits", "credits.reference")

Runs = dict[str, tuple[str, tuple[int, int] | None]]  # run id -> (operation, result size), UsageLog.runs

GO_TO = "(url) => { if (url) { window.location.href = url; } }"
OPEN = "(url) => { if (url) { window.open(url, '_blank', 'noopener'); } }"


def history_rows(entries: list[Entry], lang: str, runs: Runs | None = None) -> list[list]:
    """The history's rows, newest first; a charge names its run's operation and the result's size."""
    rows = []
    for e in entries:
        if e.kind in HIDDEN:
            continue
        kind = "signup" if e.source == "signup" else e.kind
        label = text(f"credits.kind.{kind}", lang) if kind in (*KINDS, "signup") else kind
        run = (runs or {}).get(e.reference or "") if kind == "capture" else None
        if run is not None and run[0] in OPERATIONS:
            operation, size = run
            label = text(label_key(operation), lang) + (f" · {size[0]}×{size[1]}" if size else "")
        change = e.amount - (e.debt if e.kind in ("refund", "chargeback") else 0)
        rows.append([e.created_at.strftime("%Y-%m-%d %H:%M"), label, f"{change:+d}", (e.reference or "")[:12]])
    return rows


class CreditHandlers:
    def __init__(self, settings: Settings, ledger: Ledger, payments: Payments, account: AccountHandlers,
                 usage: UsageLog | None = None) -> None:
        self.settings = settings
        self.usage = usage  # what each charged run was
        self.ledger = ledger
        self.payments = payments
        self.account = account

    def overview(self, request: gr.Request) -> tuple:
        """The balance, the prices, the history and the buy buttons, in the visitor's language."""
        lang = language(request)
        prices = [[text(label_key(op_id), lang), credits] for op_id, credits in price_list(self.settings)]
        buttons = [gr.update(value=self.product_label(product, lang)) for product in self.payments.products()]
        user = self.account.user(request)
        if user is None:
            return (text("credits.signed_out", lang), table(PRICE_COLUMNS, prices, lang),
                    table(HISTORY_COLUMNS, [], lang), *buttons)
        entries = self.ledger.history(user.id)
        runs = self.usage.runs([e.reference for e in entries if e.kind == "capture" and e.reference]) \
            if self.usage is not None else {}
        history = table(HISTORY_COLUMNS, history_rows(entries, lang, runs), lang)
        return self.balance_text(user.id, lang), table(PRICE_COLUMNS, prices, lang), history, *buttons

    def balance_text(self, user_id: int, lang: str) -> str:
        b = self.ledger.balance(user_id)
        lines = [text_count("credits.available", b.available, lang)]
        if b.reserved:
            lines.append(text("credits.reserved", lang, count=b.reserved))
        if b.debt:
            lines.append(text("credits.debt", lang, count=b.debt))
        subs = self.payments.active_subscriptions(user_id)
        if subs:
            states = [text(f"credits.status.{status}", lang) if status in STATUSES else status for _, status, _ in subs]
            described = [text("credits.until", lang, status=state, date=end[:10]) if end else state
                         for state, (_, _, end) in zip(states, subs, strict=True)]
            lines.append("\n" + text("credits.subscription", lang, subscriptions=", ".join(described)))
        return "\n".join(lines)

    @staticmethod
    def product_label(product: Product, lang: str) -> str:
        return text("credits.subscribe" if product.recurring else "credits.buy", lang, credits=product.credits)

    def checkout(self, product_id: str, request: gr.Request) -> str:
        user = self.account.require_user(request)
        starlette = request.request
        base = self.settings.public_url or str(starlette.base_url).rstrip("/")
        try:
            return self.payments.start_checkout(user, product_id, base)
        except (UserError, CreemUnavailable) as exc:
            raise gr.Error(localize(str(exc), language(request)), print_exception=False) from None

    def portal(self, request: gr.Request) -> str:
        user = self.account.require_user(request)
        try:
            return self.payments.portal_link(user.id)
        except (UserError, CreemUnavailable) as exc:
            raise gr.Error(localize(str(exc), language(request)), print_exception=False) from None


def build_credits_tab(handlers: CreditHandlers) -> gr.Tab:
    """Call inside gr.Blocks."""
    payments = handlers.payments
    buttons: list[gr.Button] = []
    with gr.Tab(t("credits.tab"), id="credits", elem_id="credits-tab") as tab:
        balance = gr.Markdown(elem_id="credits-balance")
        gr.Markdown(t("credits.prices"))
        # the prices, the history and their headers arrive in the visitor's language when the tab opens
        prices = gr.Dataframe(headers=[""] * len(PRICE_COLUMNS), interactive=False, elem_id="price-list")
        if handlers.settings.price_per_megapixel:
            gr.Markdown(t("credits.per_megapixel"))
        gr.Markdown(t("credits.buy_heading"))
        if not payments.configured:
            gr.Markdown(t("credits.purchases_off"), elem_id="purchases-off")
        else:
            gr.Markdown(t("credits.secure"))
            url = gr.Textbox(visible=False)
            with gr.Row():
                for product in payments.products():
                    button = gr.Button(handlers.product_label(product, DEFAULT), elem_id=f"buy-{product.id}")
                    button.click(_checkout_for(handlers, product.id), None, url, api_visibility="private") \
                        .then(None, url, None, js=GO_TO)
                    buttons.append(button)
            manage = gr.Button(t("credits.portal"), size="sm", elem_id="billing-portal")
            manage.click(handlers.portal, None, url, api_visibility="private").then(None, url, None, js=OPEN)
        gr.Markdown(t("credits.history"))
        history = gr.Dataframe(headers=[""] * len(HISTORY_COLUMNS), interactive=False, elem_id="credit-history")
    tab.select(handlers.overview, None, [balance, prices, history, *buttons], api_visibility="private")
    return tab


def _checkout_for(handlers: CreditHandlers, product_id: str):
    def start_checkout(request: gr.Request) -> str:
        return handlers.checkout(product_id, request)

    return start_checkout
