"""The Privacy policy and Terms tabs, and the box that asks a signed-in user to accept them first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from ui.account import AccountHandlers
from ui.i18n import language, t, text

if TYPE_CHECKING:
    from services import Studio

STRINGS = {
    "en": {
        "privacy.tab": "Privacy policy",
        "privacy.terms_tab": "Terms",
        "privacy.accept": "I accept the privacy policy and the terms",
        "privacy.ask": "**Before your first edit:** please read the **Privacy policy** and the **Terms** "
                       "and accept them. Version {version}.",
        "privacy.ask_again": "**The privacy policy or the terms have changed** since you accepted them on {date}. "
                             "Please read them again and accept the new version ({version}) to keep editing.",
        "privacy.read_policy": "Read the privacy policy",
        "privacy.read_terms": "Read the terms",
        "privacy.thanks": "Thank you. You accepted version {version}; you can change your mind in the Consent tab.",
    },
    "sv": {
        "privacy.tab": "Integritetspolicy",
        "privacy.terms_tab": "Villkor",
        "privacy.accept": "Jag godkänner integritetspolicyn och villkoren",
        "privacy.ask": "**Innan din första redigering:** läs **Integritetspolicy** och **Villkor** "
                       "och godkänn dem. Version {version}.",
        "privacy.ask_again": "**Integritetspolicyn eller villkoren har ändrats** sedan du godkände dem {date}. "
                             "Läs dem igen och godkänn den nya versionen ({version}) för att fortsätta redigera.",
        "privacy.read_policy": "Läs integritetspolicyn",
        "privacy.read_terms": "Läs villkoren",
        "privacy.thanks": "Tack. Du har godkänt version {version}; du kan ändra dig under fliken Samtycke.",
    },
}


class PrivacyHandlers:
    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.documents = studio.documents
        self.acceptance = studio.acceptance
        self.account = account

    def documents_for(self, request: gr.Request) -> tuple[str, str]:
        """The policy and the terms in the visitor's language."""
        lang = language(request)
        return self.documents.get("privacy", lang).text, self.documents.get("terms", lang).text

    def ask(self, request: gr.Request) -> tuple:
        """Show the accept box to a signed-in user who has not accepted the current version."""
        user = self.account.user(request)
        previous = self.acceptance.choice(user.id) if user else None
        if user is None or self.acceptance.covers(previous):
            return gr.update(visible=False), ""
        version = self.acceptance.version
        if previous is not None and previous.granted:
            ask = text("privacy.ask_again", language(request), date=f"{previous.at:%Y-%m-%d}", version=version)
        else:
            ask = text("privacy.ask", language(request), version=version)
        return gr.update(visible=True), ask

    def accept(self, request: gr.Request) -> tuple:
        user = self.account.require_user(request)
        self.acceptance.accept(user.id)
        gr.Info(text("privacy.thanks", language(request), version=self.acceptance.version))
        return gr.update(visible=False), ""


def build_accept_box() -> tuple[gr.Group, gr.Markdown, gr.Button, gr.Button, gr.Button]:
    """Call inside gr.Blocks, near the top: hidden until a signed-in user still has to accept.

    Returns the box, its text, Accept, and the two buttons that open the documents (wired by the page)."""
    with gr.Group(visible=False, elem_id="policy-accept") as box:
        text = gr.Markdown(elem_id="policy-accept-text", padding=True)
        with gr.Row():
            read_policy = gr.Button(t("privacy.read_policy"), size="sm", elem_id="read-policy")
            read_terms = gr.Button(t("privacy.read_terms"), size="sm", elem_id="read-terms")
            button = gr.Button(t("privacy.accept"), variant="primary", elem_id="accept-policy")
    return box, text, button, read_policy, read_terms


def build_policy_tabs(studio: Studio) -> tuple[gr.Markdown, gr.Markdown]:
    """Call inside gr.Blocks: the two documents, filled in English until the page loads."""
    with gr.Tab(t("privacy.tab"), id="privacy", elem_id="privacy-tab"):
        policy = gr.Markdown(studio.documents.get("privacy", "en").text, elem_id="privacy-policy")
    with gr.Tab(t("privacy.terms_tab"), id="terms", elem_id="terms-tab"):
        terms = gr.Markdown(studio.documents.get("terms", "en").text, elem_id="terms")
    return policy, terms


def wire_privacy(demo: gr.Blocks, handlers: PrivacyHandlers, box: gr.Group, text: gr.Markdown,
                 button: gr.Button, policy: gr.Markdown, terms: gr.Markdown, signed_in: gr.Button) -> None:
    """`signed_in`: clicked when the visitor signed in from another tab (the box may have to appear)."""
    demo.load(handlers.documents_for, None, [policy, terms], api_visibility="private")
    demo.load(handlers.ask, None, [box, text], api_visibility="private")
    signed_in.click(handlers.ask, None, [box, text], api_visibility="private")
    button.click(handlers.accept, None, [box, text], api_visibility="private")
