"""Signing in and the Account tab: who you are, where you are signed in, your API keys."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import gradio as gr

from auth.accounts import Accounts, InvalidApiKey
from auth.dependency import BAD_KEY
from auth.magic_links import TooManyRequests
from auth.mailer import MailUnavailable
from auth.providers import LABELS
from auth.users import User
from kernel.errors import UserError
from ui.i18n import in_every_language, language, localize, t, text

STRINGS = {
    "en": {
        "account.sign_in_first": "Please sign in to run edits: continue with one of the options at the top of the "
                                 "page.",
        "account.sign_in_first_title": "Sign in first",
        "account.bad_key_title": "API key not valid",
        "account.bad_key": BAD_KEY,
        "account.lead": "Sign in to run edits:",
        "account.or_email": "or get a link by e-mail:",
        "account.continue_with": "Continue with {provider}",
        "account.email_placeholder": "you@example.com",
        "account.email_label": "Your e-mail address",
        "account.send_link": "Email me a sign-in link",
        "account.signed_in_as": "Signed in as **{email}**",
        "account.sign_out": "Sign out",
        "account.signed_out": "Sign in to see your account, your sessions and your API keys.",
        "account.email_link": "e-mail link",
        "account.since": "Account since {date}",
        "account.signs_in_with": "signs in with {ways}",
        "account.never": "never",
        "account.choose_key": "Choose the key to revoke first.",
        "account.revoked": "The key is revoked; programs using it now get 401.",
        "account.tab": "Account",
        "account.where": "### Where you are signed in",
        "account.device": "Device",
        "account.signed_in": "Signed in",
        "account.last_active": "Last active",
        "account.sign_out_here": "Sign out here",
        "account.sign_out_everywhere": "Sign out everywhere",
        "account.api_keys": "### API keys\nUse a key from Python: "
                            '`Client(url, headers={"Authorization": "Bearer <key>"})`.',
        "account.key_name_column": "Name",
        "account.key_column": "Key",
        "account.created": "Created",
        "account.last_used": "Last used",
        "account.key_name": "Name for a new key",
        "account.key_name_placeholder": "laptop notebook",
        "account.create_key": "Create key",
        "account.new_key": "Your new key: copy it now, it is shown only once",
        "account.key_to_revoke": "Key to revoke",
        "account.revoke": "Revoke",
    },
    "sv": {
        "account.sign_in_first": "Logga in för att köra redigeringar: fortsätt med något av alternativen högst upp "
                                 "på sidan.",
        "account.sign_in_first_title": "Logga in först",
        "account.bad_key_title": "API-nyckeln är inte giltig",
        "account.bad_key": "Den här API-nyckeln är inte giltig: den har återkallats eller skrivits fel. Skapa en ny "
                           "under fliken Konto.",
        "account.lead": "Logga in för att köra redigeringar:",
        "account.or_email": "eller få en länk via e-post:",
        "account.continue_with": "Fortsätt med {provider}",
        "account.email_placeholder": "du@exempel.se",
        "account.email_label": "Din e-postadress",
        "account.send_link": "Mejla mig en inloggningslänk",
        "account.signed_in_as": "Inloggad som **{email}**",
        "account.sign_out": "Logga ut",
        "account.signed_out": "Logga in för att se ditt konto, dina sessioner och dina API-nycklar.",
        "account.email_link": "e-postlänk",
        "account.since": "Konto sedan {date}",
        "account.signs_in_with": "loggar in med {ways}",
        "account.never": "aldrig",
        "account.choose_key": "Välj först vilken nyckel du vill återkalla.",
        "account.revoked": "Nyckeln är återkallad; program som använder den får nu 401.",
        "account.tab": "Konto",
        "account.where": "### Här är du inloggad",
        "account.device": "Enhet",
        "account.signed_in": "Inloggad",
        "account.last_active": "Senast aktiv",
        "account.sign_out_here": "Logga ut här",
        "account.sign_out_everywhere": "Logga ut överallt",
        "account.api_keys": "### API-nycklar\nAnvänd en nyckel från Python: "
                            '`Client(url, headers={"Authorization": "Bearer <nyckel>"})`.',
        "account.key_name_column": "Namn",
        "account.key_column": "Nyckel",
        "account.created": "Skapad",
        "account.last_used": "Senast använd",
        "account.key_name": "Namn på en ny nyckel",
        "account.key_name_placeholder": "bärbara datorn",
        "account.create_key": "Skapa nyckel",
        "account.new_key": "Din nya nyckel: kopiera den nu, den visas bara en gång",
        "account.key_to_revoke": "Nyckel att återkalla",
        "account.revoke": "Återkalla",
    },
}
SESSION_COLUMNS = ("account.device", "account.signed_in", "account.last_active")
KEY_COLUMNS = ("account.key_name_column", "account.key_column", "account.created", "account.last_used")

# Sign-out is a real form POST to /auth/logout, so the server revokes the session and clears the cookie.
POST_TO = "() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = '{path}';" \
          " const n = document.createElement('input'); n.type = 'hidden'; n.name = 'next'; n.value = '{next}';" \
          " f.appendChild(n); document.body.appendChild(f); f.submit(); }}"


def provider_links(accounts: Accounts) -> str:
    """The same for every visitor, so it carries every language (gr.HTML is not translated by Gradio)."""
    lead = f'<span class="signin-lead">{in_every_language("account.lead")}</span>'
    tail = f'<span class="signin-lead">{in_every_language("account.or_email")}</span>' if accounts.providers else ""
    links = lead + "".join(
        f'<a class="signin-provider" id="signin-{name}" data-base="/auth/login/{name}" '
        f'href="/auth/login/{name}">{in_every_language("account.continue_with", provider=LABELS[name])}</a>'
        for name in accounts.providers
    )
    return f'<div class="signin-providers">{links}{tail}</div>'


# Each link carries the current page as `next`, so the visitor lands back where they were.
NEXT_JS = """
element.querySelectorAll('a.signin-provider').forEach(a => {
  a.href = a.dataset.base + '?next=' + encodeURIComponent(location.pathname + location.search);
});
"""


def when(moment: datetime | None, lang: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else text("account.never", lang)


def table(columns: tuple[str, ...], rows: list[list], lang: str) -> dict:
    """A Dataframe value with its headers in `lang` (Gradio does not translate headers)."""
    return {"headers": [text(key, lang) for key in columns], "data": rows}


class AccountHandlers:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def user_id(self, request: gr.Request) -> int | None:
        """Who is signed in, from the request's cookie or API key, as every route finds it (Accounts.caller_id)."""
        starlette = getattr(request, "request", None)  # None where Gradio has no HTTP request to hand
        if starlette is None:
            return None
        try:
            return self.accounts.caller_id(starlette.headers, starlette.cookies)
        except InvalidApiKey:  # Gradio's auth dependency refused the request already: a key revoked since then
            return None

    def user(self, request: gr.Request) -> User | None:
        user_id = self.user_id(request)
        return self.accounts.users.get(user_id) if user_id is not None else None

    def require_user(self, request: gr.Request) -> User:
        """The signed-in user; else an error that says why: no sign-in, or an API key that does not work."""
        user = self.user(request)
        if user is not None:
            return user
        lang = language(request)
        starlette = getattr(request, "request", None)
        if starlette is not None and starlette.headers.get("authorization"):
            raise gr.Error(localize(BAD_KEY, lang), title=text("account.bad_key_title", lang), print_exception=False)
        raise gr.Error(text("account.sign_in_first", lang), title=text("account.sign_in_first_title", lang),
                       print_exception=False)

    # --- the bar at the top

    def bars(self, request: gr.Request) -> tuple:
        """Sign-in options for guests; 'signed in as' for users."""
        user = self.user(request)
        if user is None:
            return gr.update(visible=True), gr.update(visible=False), ""
        who = text("account.signed_in_as", language(request), email=html.escape(user.email))
        return gr.update(visible=False), gr.update(visible=True), who

    def email_link(self, email: str, request: gr.Request) -> str:
        starlette = request.request
        base = self.accounts.settings.public_url or str(starlette.base_url).rstrip("/")
        ip = starlette.client.host if starlette.client else "unknown"
        lang = language(request)
        try:
            return localize(self.accounts.magic_links.request(email, client_ip=ip, base_url=base, next_path="/"), lang)
        except (UserError, TooManyRequests, MailUnavailable) as exc:
            return f"⚠ {localize(str(exc), lang)}"

    # --- the Account tab

    def overview(self, request: gr.Request) -> tuple:
        user = self.user(request)
        lang = language(request)
        if user is None:
            empty = table(SESSION_COLUMNS, [], lang), table(KEY_COLUMNS, [], lang)
            return text("account.signed_out", lang), *empty, gr.update(choices=[]), gr.update(visible=False)
        return *self._overview(user, lang), gr.update(visible=True)

    def _overview(self, user: User, lang: str) -> tuple:
        providers = sorted({p for p, _ in self.accounts.users.identities_of(user.id)})
        ways = ", ".join(text("account.email_link", lang) if p == "email" else LABELS.get(p, p) for p in providers)
        about = (
            f"**{html.escape(user.email)}**" + (f" ({html.escape(user.name)})" if user.name else "")
            + "  \n" + text("account.since", lang, date=f"{user.created_at:%Y-%m-%d}")
            + (" · " + text("account.signs_in_with", lang, ways=ways) if ways else "")
        )
        active = self.accounts.sessions.active(user.id)
        sessions = [[s.device, when(s.created_at, lang), when(s.last_seen_at, lang)] for s in active]
        keys = self.accounts.api_keys.active(user.id)
        rows = [[k.name, k.prefix + "…", when(k.created_at, lang), when(k.last_used_at, lang)] for k in keys]
        choices = [(f"{k.name} ({k.prefix}…)", k.id) for k in keys]
        return (about, table(SESSION_COLUMNS, sessions, lang), table(KEY_COLUMNS, rows, lang),
                gr.update(choices=choices, value=None))

    def create_key(self, name: str, request: gr.Request) -> tuple:
        user = self.require_user(request)
        key, _info = self.accounts.api_keys.create(user.id, name)
        shown = gr.update(value=key, visible=True)
        return (*self._overview(user, language(request)), gr.update(visible=True), shown)

    def revoke_key(self, key_id: Any, request: gr.Request) -> tuple:
        user = self.require_user(request)
        lang = language(request)
        if key_id is None:
            raise gr.Error(text("account.choose_key", lang), print_exception=False)
        try:
            self.accounts.api_keys.revoke(int(key_id), user.id)
        except UserError as exc:
            raise gr.Error(localize(str(exc), lang), print_exception=False) from None
        gr.Info(text("account.revoked", lang))
        return (*self._overview(user, lang), gr.update(visible=True), gr.update(value="", visible=False))


def build_signin_bar(accounts: Accounts) -> tuple:
    """Call inside gr.Blocks: (guest bar, user bar, 'signed in as' text, e-mail box, send button, status)."""
    with gr.Group(visible=True, elem_id="signin-bar") as guest_bar:
        gr.HTML(provider_links(accounts), js_on_load=NEXT_JS, elem_id="signin-providers", padding=True)
        with gr.Row(equal_height=False):
            email = gr.Textbox(  # the label is not shown, but screen readers read it (else: "Textbox")
                label=t("account.email_label"), placeholder=t("account.email_placeholder"), show_label=False,
                container=False, scale=3, lines=1, max_lines=1, type="email", elem_id="signin-email",
            )
            send = gr.Button(t("account.send_link"), scale=1, min_width=200, elem_id="signin-send")
    status = gr.Markdown(elem_id="signin-status")
    with gr.Row(visible=False, elem_id="user-bar", equal_height=True) as user_bar:
        who = gr.Markdown(elem_id="signed-in-as")
        sign_out = gr.Button(t("account.sign_out"), size="sm", scale=0, elem_id="sign-out")
    sign_out.click(None, js=POST_TO.format(path="/auth/logout", next="/"))
    return guest_bar, user_bar, who, email, send, status


def build_account_tab(handlers: AccountHandlers) -> gr.Tab:
    """Call inside gr.Blocks."""
    with gr.Tab(t("account.tab"), elem_id="account-tab") as tab:
        about = gr.Markdown(elem_id="account-about")
        with gr.Column(visible=False) as signed_in_parts:  # a guest sees only the sign-in prompt above
            gr.Markdown(t("account.where"))
            # headers come with the rows, in the visitor's language (the tab's select fills both)
            sessions = gr.Dataframe(headers=[""] * len(SESSION_COLUMNS), interactive=False, elem_id="account-sessions")
            with gr.Row():
                here = gr.Button(t("account.sign_out_here"), size="sm", scale=0, min_width=160, elem_id="sign-out-here")
                everywhere = gr.Button(t("account.sign_out_everywhere"), size="sm", variant="stop", scale=0,
                                       min_width=180, elem_id="sign-out-everywhere")
            gr.Markdown(t("account.api_keys"))
            keys = gr.Dataframe(headers=[""] * len(KEY_COLUMNS), interactive=False, elem_id="api-keys")
            with gr.Row(equal_height=False):
                key_name = gr.Textbox(label=t("account.key_name"), placeholder=t("account.key_name_placeholder"),
                                      elem_id="key-name")
                create = gr.Button(t("account.create_key"), scale=0, min_width=160, elem_id="create-key")
            new_key = gr.Textbox(label=t("account.new_key"), visible=False,
                                 interactive=False, buttons=["copy"], elem_id="new-key")
            with gr.Row(equal_height=False):
                to_revoke = gr.Dropdown(label=t("account.key_to_revoke"), choices=[], elem_id="key-to-revoke")
                revoke = gr.Button(t("account.revoke"), variant="stop", scale=0, min_width=160, elem_id="revoke-key")

    overview = [about, sessions, keys, to_revoke, signed_in_parts]
    tab.select(handlers.overview, None, overview, api_visibility="private")
    create.click(handlers.create_key, key_name, [*overview, new_key], api_visibility="private")
    revoke.click(handlers.revoke_key, to_revoke, [*overview, new_key], api_visibility="private")
    here.click(None, js=POST_TO.format(path="/auth/logout", next="/"))
    everywhere.click(None, js=POST_TO.format(path="/auth/logout-all", next="/"))
    return tab
