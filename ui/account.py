"""Signing in and the Account tab: who you are, where you are signed in, your API keys."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import gradio as gr

from auth.accounts import Accounts
from auth.magic_links import TooManyRequests
from auth.mailer import MailUnavailable
from auth.providers import LABELS
from auth.users import User
from pipelines.errors import UserError

SIGN_IN_FIRST = "Please sign in to run edits: continue with one of the options at the top of the page."

# Sign-out is a real form POST to /auth/logout, so the server revokes the session and clears the cookie.
POST_TO = "() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = '{path}';" \
          " document.body.appendChild(f); f.submit(); }}"


def provider_links(accounts: Accounts) -> str:
    lead = '<span class="signin-lead">Sign in to run edits:</span>'
    tail = '<span class="signin-lead">or get a link by e-mail:</span>' if accounts.providers else ""
    links = lead + "".join(
        f'<a class="signin-provider" id="signin-{name}" data-base="/auth/login/{name}" '
        f'href="/auth/login/{name}">Continue with {LABELS[name]}</a>'
        for name in accounts.providers
    )
    return f'<div class="signin-providers">{links}{tail}</div>'


# Each link carries the current page as `next`, so the visitor lands back where they were.
NEXT_JS = """
element.querySelectorAll('a.signin-provider').forEach(a => {
  a.href = a.dataset.base + '?next=' + encodeURIComponent(location.pathname + location.search);
});
"""


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


class AccountHandlers:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def user(self, request: gr.Request) -> User | None:
        return self.accounts.user_from_username(getattr(request, "username", None))

    def require_user(self, request: gr.Request) -> User:
        user = self.user(request)
        if user is None:
            raise gr.Error(SIGN_IN_FIRST, title="Sign in first", print_exception=False)
        return user

    # --- the bar at the top

    def bars(self, request: gr.Request) -> tuple:
        """Sign-in options for guests; 'signed in as' for users."""
        user = self.user(request)
        if user is None:
            return gr.update(visible=True), gr.update(visible=False), ""
        who = f"Signed in as **{html.escape(user.email)}**"
        return gr.update(visible=False), gr.update(visible=True), who

    def email_link(self, email: str, request: gr.Request) -> str:
        starlette = request.request
        base = self.accounts.settings.public_url or str(starlette.base_url).rstrip("/")
        ip = starlette.client.host if starlette.client else "unknown"
        try:
            return self.accounts.magic_links.request(email, client_ip=ip, base_url=base, next_path="/")
        except (UserError, TooManyRequests, MailUnavailable) as exc:
            return f"⚠ {exc}"

    # --- the Account tab

    def overview(self, request: gr.Request) -> tuple:
        user = self.user(request)
        if user is None:
            return "Sign in to see your account, your sessions and your API keys.", [], [], gr.update(choices=[])
        return self._overview(user)

    def _overview(self, user: User) -> tuple:
        providers = sorted({p for p, _ in self.accounts.users.identities_of(user.id)})
        ways = ", ".join({"email": "e-mail link"}.get(p, LABELS.get(p, p)) for p in providers)
        about = (
            f"**{html.escape(user.email)}**" + (f" ({html.escape(user.name)})" if user.name else "")
            + f"  \nAccount since {user.created_at:%Y-%m-%d}" + (f" · signs in with {ways}" if ways else "")
        )
        active = self.accounts.sessions.active(user.id)
        sessions = [[s.device, when(s.created_at), when(s.last_seen_at)] for s in active]
        keys = self.accounts.api_keys.active(user.id)
        rows = [[k.name, k.prefix + "…", when(k.created_at), when(k.last_used_at)] for k in keys]
        choices = [(f"{k.name} ({k.prefix}…)", k.id) for k in keys]
        return about, sessions, rows, gr.update(choices=choices, value=None)

    def create_key(self, name: str, request: gr.Request) -> tuple:
        user = self.require_user(request)
        key, _info = self.accounts.api_keys.create(user.id, name)
        shown = gr.update(value=key, visible=True)
        return (*self._overview(user), shown)

    def revoke_key(self, key_id: Any, request: gr.Request) -> tuple:
        user = self.require_user(request)
        if key_id is None:
            raise gr.Error("Choose the key to revoke first.", print_exception=False)
        try:
            self.accounts.api_keys.revoke(int(key_id), user.id)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        gr.Info("The key is revoked; programs using it now get 401.")
        return (*self._overview(user), gr.update(value="", visible=False))


def build_signin_bar(accounts: Accounts) -> tuple:
    """Call inside gr.Blocks: (guest bar, user bar, 'signed in as' text, e-mail box, send button, status)."""
    with gr.Group(visible=True, elem_id="signin-bar") as guest_bar:
        gr.HTML(provider_links(accounts), js_on_load=NEXT_JS, elem_id="signin-providers", padding=True)
        with gr.Row(equal_height=False):
            email = gr.Textbox(
                placeholder="you@example.com", show_label=False, container=False, scale=3, lines=1, max_lines=1,
                elem_id="signin-email",
            )
            send = gr.Button("Email me a sign-in link", scale=1, min_width=200, elem_id="signin-send")
    status = gr.Markdown(elem_id="signin-status")
    with gr.Row(visible=False, elem_id="user-bar", equal_height=True) as user_bar:
        who = gr.Markdown(elem_id="signed-in-as")
        sign_out = gr.Button("Sign out", size="sm", scale=0, elem_id="sign-out")
    sign_out.click(None, js=POST_TO.format(path="/auth/logout"))
    return guest_bar, user_bar, who, email, send, status


def build_account_tab(handlers: AccountHandlers) -> gr.Tab:
    """Call inside gr.Blocks."""
    with gr.Tab("Account", elem_id="account-tab") as tab:
        about = gr.Markdown(elem_id="account-about")
        gr.Markdown("### Where you are signed in")
        sessions = gr.Dataframe(headers=["Device", "Signed in", "Last active"], interactive=False,
                                elem_id="account-sessions")
        with gr.Row():
            here = gr.Button("Sign out here", size="sm", scale=0, min_width=160, elem_id="sign-out-here")
            everywhere = gr.Button("Sign out everywhere", size="sm", variant="stop", scale=0, min_width=180,
                                   elem_id="sign-out-everywhere")
        gr.Markdown("### API keys\nUse a key from Python: "
                    '`Client(url, headers={"Authorization": "Bearer <key>"})`.')
        keys = gr.Dataframe(headers=["Name", "Key", "Created", "Last used"], interactive=False, elem_id="api-keys")
        with gr.Row(equal_height=False):
            key_name = gr.Textbox(label="Name for a new key", placeholder="laptop notebook", elem_id="key-name")
            create = gr.Button("Create key", scale=0, min_width=160, elem_id="create-key")
        new_key = gr.Textbox(label="Your new key: copy it now, it is shown only once", visible=False,
                             interactive=False, buttons=["copy"], elem_id="new-key")
        with gr.Row(equal_height=False):
            to_revoke = gr.Dropdown(label="Key to revoke", choices=[], elem_id="key-to-revoke")
            revoke = gr.Button("Revoke", variant="stop", scale=0, min_width=160, elem_id="revoke-key")

    overview = [about, sessions, keys, to_revoke]
    tab.select(handlers.overview, None, overview, api_visibility="private")
    create.click(handlers.create_key, key_name, [*overview, new_key], api_visibility="private")
    revoke.click(handlers.revoke_key, to_revoke, [*overview, new_key], api_visibility="private")
    here.click(None, js=POST_TO.format(path="/auth/logout"))
    everywhere.click(None, js=POST_TO.format(path="/auth/logout-all"))
    return tab
