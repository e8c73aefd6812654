"""My data, in the Account tab: see what is held, download it, correct it, delete the account."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr

from auth.magic_links import TooManyRequests
from auth.mailer import MailUnavailable
from kernel.errors import UserError
from ui.account import POST_TO, AccountHandlers
from ui.i18n import in_every_language, language, localize, t, text

if TYPE_CHECKING:
    from services import Studio

STRINGS = {
    "en": {
        "my_data.heading": "### My data",
        "my_data.signed_out": "Sign in to see, download, correct or delete the data held about you.",
        "my_data.held": "**What we hold about you:** {rows}. Pictures and prompts are never stored.",
        "my_data.nothing": "nothing yet",
        "my_data.download": "Download my data (JSON)",
        "my_data.name": "Your name",
        "my_data.save_name": "Save name",
        "my_data.name_saved": "Your name is saved.",
        "my_data.new_email": "New e-mail address",
        "my_data.change_email": "Send a confirmation link",
        "my_data.email_sent": "We sent a link to {email}. Your address changes when you open it (within {minutes} "
                              "minutes); until then you sign in with the old one.",
        "my_data.delete_heading": "#### Delete my account",
        "my_data.delete_help": "Sign-ins and API keys stop working at once, your e-mail address and name are "
                               "erased, an active subscription is cancelled, and your remaining credits are lost. "
                               "Credit and usage records are kept only in anonymised form. This cannot be undone.",
        "my_data.confirm": "Type your e-mail address to confirm",
        "my_data.delete": "Delete my account",
        "my_data.deleted": "Your account is deleted. You are being signed out.",
    },
    "sv": {
        "my_data.heading": "### Mina uppgifter",
        "my_data.signed_out": "Logga in för att se, ladda ned, rätta eller radera uppgifterna vi har om dig.",
        "my_data.held": "**Det här har vi om dig:** {rows}. Bilder och instruktioner sparas aldrig.",
        "my_data.nothing": "inget ännu",
        "my_data.download": "Ladda ned mina uppgifter (JSON)",
        "my_data.name": "Ditt namn",
        "my_data.save_name": "Spara namn",
        "my_data.name_saved": "Ditt namn är sparat.",
        "my_data.new_email": "Ny e-postadress",
        "my_data.change_email": "Skicka en bekräftelselänk",
        "my_data.email_sent": "Vi har skickat en länk till {email}. Adressen byts när du öppnar den (inom {minutes} "
                              "minuter); till dess loggar du in med den gamla.",
        "my_data.delete_heading": "#### Radera mitt konto",
        "my_data.delete_help": "Inloggningar och API-nycklar slutar fungera direkt, din e-postadress och ditt namn "
                               "raderas, en aktiv prenumeration avslutas och dina kvarvarande krediter går förlorade. "
                               "Kredit- och användningsposter sparas bara i anonymiserad form. Det går inte att ångra.",
        "my_data.confirm": "Skriv din e-postadress för att bekräfta",
        "my_data.delete": "Radera mitt konto",
        "my_data.deleted": "Ditt konto är raderat. Du loggas ut.",
    },
}
# How each table is named in the summary: the rows a user can recognise.
TABLE_NAMES = {
    "en": {"users": "profile", "identities": "sign-in methods", "auth_sessions": "sessions", "api_keys": "API keys",
           "consents": "consent records", "credit_entries": "credit entries", "payments": "payments",
           "subscriptions": "subscriptions", "usage_events": "usage events"},
    "sv": {"users": "profil", "identities": "inloggningssätt", "auth_sessions": "sessioner", "api_keys": "API-nycklar",
           "consents": "samtyckesposter", "credit_entries": "kreditposter", "payments": "betalningar",
           "subscriptions": "prenumerationer", "usage_events": "användningshändelser"},
}
DOWNLOAD = '<a class="studio-download" id="export-data" href="/account/export" download>{label}</a>'


def error(exc: Exception, request: gr.Request) -> gr.Error:
    return gr.Error(localize(str(exc), language(request)), print_exception=False)


class MyDataHandlers:
    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.studio = studio
        self.users = studio.accounts.users
        self.account = account

    def overview(self, request: gr.Request) -> tuple:
        lang = language(request)
        user = self.account.user(request)
        if user is None:
            return text("my_data.signed_out", lang), "", gr.update(visible=False)
        counts = self.studio.rights.summary(user.id)
        names = TABLE_NAMES[lang]
        rows = ", ".join(f"{names[t]}: {counts[t]}" for t in names if counts.get(t))
        held = text("my_data.held", lang, rows=rows or text("my_data.nothing", lang))
        return held, user.name or "", gr.update(visible=True)

    def save_name(self, name: str, request: gr.Request) -> tuple:
        user = self.account.require_user(request)
        try:
            self.users.set_name(user.id, name or "")
        except UserError as exc:
            raise error(exc, request) from None
        gr.Info(text("my_data.name_saved", language(request)))
        return self.overview(request)

    def change_email(self, new_email: str, request: gr.Request) -> str:
        user = self.account.require_user(request)
        starlette = request.request
        settings = self.studio.settings
        try:
            self.studio.accounts.magic_links.request_email_change(
                user.id, new_email or "",
                client_ip=starlette.client.host if starlette.client else "unknown",
                base_url=settings.public_url or str(starlette.base_url).rstrip("/"),
            )
        except (UserError, TooManyRequests, MailUnavailable) as exc:
            raise error(exc, request) from None
        return text("my_data.email_sent", language(request), email=html.escape(new_email.strip()),
                    minutes=settings.magic_link_minutes)

    def delete(self, confirm: str, request: gr.Request) -> str:
        user = self.account.require_user(request)
        try:
            self.studio.rights.delete(user.id, confirm or "")
        except UserError as exc:
            raise error(exc, request) from None
        return text("my_data.deleted", language(request))


def build_my_data(handlers: MyDataHandlers, tab: gr.Tab) -> None:
    """Call inside gr.Blocks: adds the My data section to the Account tab."""
    with tab:
        gr.Markdown(t("my_data.heading"))
        held = gr.Markdown(elem_id="my-data-held")
        with gr.Column(visible=False) as tools:
            gr.HTML(DOWNLOAD.format(label=in_every_language("my_data.download")), elem_id="my-data-download")
            with gr.Row(equal_height=False):
                name = gr.Textbox(label=t("my_data.name"), max_lines=1, elem_id="my-data-name")
                save = gr.Button(t("my_data.save_name"), scale=0, min_width=160, elem_id="save-name")
            with gr.Row(equal_height=False):
                new_email = gr.Textbox(label=t("my_data.new_email"), max_lines=1, elem_id="new-email")
                change = gr.Button(t("my_data.change_email"), scale=0, min_width=220, elem_id="change-email")
            email_status = gr.Markdown(elem_id="email-change-status")
            gr.Markdown(t("my_data.delete_heading"))
            gr.Markdown(t("my_data.delete_help"))
            with gr.Row(equal_height=False):
                confirm = gr.Textbox(label=t("my_data.confirm"), max_lines=1, elem_id="delete-confirm")
                delete = gr.Button(t("my_data.delete"), variant="stop", scale=0, min_width=200,
                                   elem_id="delete-account")
            deleted = gr.Markdown(elem_id="delete-status")

    overview = [held, name, tools]
    tab.select(handlers.overview, None, overview, api_visibility="private")
    save.click(handlers.save_name, name, overview, api_visibility="private")
    change.click(handlers.change_email, new_email, email_status, api_visibility="private")
    # Only a deletion that went through signs the browser out (the session is already gone on the server).
    delete.click(handlers.delete, confirm, deleted, api_visibility="private") \
        .success(None, js=POST_TO.format(path="/auth/logout", next="/account/deleted"))
