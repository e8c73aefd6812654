"""The Studio page, top to bottom: picture in, what to do, run, before/after, history, download."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from pipelines import registry
from pipelines.inputs import MASK, MODEL
from pipelines.registry import OPERATIONS
from ui.account import AccountHandlers, build_account_tab, build_signin_bar
from ui.admin import AdminHandlers, build_admin_tab
from ui.api import add_api_endpoints
from ui.consent import ConsentHandlers, build_consent_tab
from ui.controls import page_control
from ui.credits import CreditHandlers, build_credits_tab
from ui.handlers import StudioHandlers
from ui.i18n import LANGUAGE_CSS, t
from ui.my_data import MyDataHandlers, build_my_data
from ui.operations import label_key
from ui.privacy import PrivacyHandlers, build_accept_box, build_policy_tabs, wire_privacy
from ui.switch import build_language_switch

if TYPE_CHECKING:
    from services import Studio

STRINGS = {
    "en": {
        "studio.tab": "Studio",
        "studio.photo": "Photo (upload, paste or webcam)",
        "studio.what": "What to do",
        "studio.advanced": "Advanced",
        "studio.run": "Run",
        "studio.cancel": "Cancel",
        "studio.before_after": "Before / after",
        "studio.undo": "↶ Undo",
        "studio.redo": "↷ Redo",
        "studio.history": "History (click a picture to keep editing from it)",
    },
    "sv": {
        "studio.tab": "Studio",
        "studio.photo": "Foto (ladda upp, klistra in eller använd webbkameran)",
        "studio.what": "Vad vill du göra?",
        "studio.advanced": "Avancerat",
        "studio.run": "Kör",
        "studio.cancel": "Avbryt",
        "studio.before_after": "Före / efter",
        "studio.undo": "↶ Ångra",
        "studio.redo": "↷ Gör om",
        "studio.history": "Historik (klicka på en bild för att fortsätta redigera från den)",
    },
}
CSS = """
#demo-banner { background: var(--color-accent-soft); border-radius: 8px; padding: 0.5em 1em; }
.studio-download { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px;
                   border: 1px solid var(--border-color-primary); text-decoration: none; }
.signin-providers { display: flex; gap: 0.5em; flex-wrap: wrap; align-items: center; }
.signin-lead { font-weight: 600; margin-right: 0.25em; }
.signin-provider { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px; text-decoration: none;
                   border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
#operation-help { font-style: italic; }
""" + LANGUAGE_CSS


def build_studio(studio: Studio) -> gr.Blocks:
    settings = studio.settings
    account = AccountHandlers(studio.accounts)
    handlers = StudioHandlers(studio, account)
    credits = CreditHandlers(settings, studio.ledger, studio.payments, account)
    first = registry.first()
    inputs = [item for item in registry.inputs().values() if item.on_page]
    device_queue = {"concurrency_id": "device", "concurrency_limit": settings.max_batch_size}

    # delete_cache is the backstop for uploads no handler ever read (a tab closed mid-upload):
    # every 2 minutes, files older than 10 minutes (longer than any queue wait) are deleted.
    with gr.Blocks(title="Studio", analytics_enabled=False, delete_cache=(120, 600)) as demo:
        build_language_switch(settings)
        banner = gr.Markdown(visible=False, elem_id="demo-banner")
        guest_bar, user_bar, signed_in_as, email, send_link, signin_status = build_signin_bar(studio.accounts)
        accept_box, accept_text, accept = build_accept_box()
        with gr.Tab(t("studio.tab")), gr.Row(equal_height=False):
            with gr.Column(scale=1):
                photo = gr.Image(
                    label=t("studio.photo"), type="filepath", image_mode=None,
                    sources=["upload", "clipboard", "webcam"], height=300, elem_id="photo",
                )
                operation = gr.Radio(
                    [(t(label_key(op.id)), op.id) for op in OPERATIONS.values()], value=first.id,
                    label=t("studio.what"), elem_id="operation",
                )
                op_help = gr.Markdown(t(f"op.{first.id}.help"), elem_id="operation-help")
                # one control per input the operations take; the chosen operation's are visible
                controls = {item.name: page_control(item, visible=first.takes(item.name))
                            for item in inputs if not item.advanced}
                with gr.Accordion(t("studio.advanced"), open=False,
                                  visible=any(item.advanced for item in first.inputs)) as advanced:
                    controls |= {item.name: page_control(item, visible=first.takes(item.name))
                                 for item in inputs if item.advanced}
                with gr.Row():
                    run = gr.Button(t("studio.run"), variant="primary", elem_id="run")  # priced when the page loads
                    cancel = gr.Button(t("studio.cancel"), variant="stop", elem_id="cancel")
            with gr.Column(scale=1):
                slider = gr.ImageSlider(
                    label=t("studio.before_after"), interactive=False, buttons=["fullscreen"], elem_id="result"
                )
                info = gr.Markdown(elem_id="result-info")
                download = gr.HTML(elem_id="download")
                with gr.Row():
                    undo = gr.Button(t("studio.undo"), size="sm", elem_id="undo")
                    redo = gr.Button(t("studio.redo"), size="sm", elem_id="redo")
                history = gr.Gallery(
                    label=t("studio.history"), columns=6, height=160,
                    allow_preview=False, buttons=[], elem_id="history",
                )
        build_credits_tab(credits)
        account_tab = build_account_tab(account)
        build_my_data(MyDataHandlers(studio, account), account_tab)
        build_admin_tab(demo, AdminHandlers(studio, account))  # hidden unless ADMIN_EMAILS names the user
        build_consent_tab(ConsentHandlers(
            settings, account, studio.consents, consent_text=lambda lang: studio.documents.get("consent", lang).text,
            policy_version=lambda: studio.acceptance.version,
        ))
        policy, terms = build_policy_tabs(studio)
        add_api_endpoints(studio, account)

        handlers.operation, handlers.controls = operation, controls
        handlers.op_help, handlers.advanced = op_help, advanced
        chosen = [op_help, advanced, *controls.values()]  # what choosing an operation shows, hides or fills
        if MODEL.name in controls:  # the first operation's models, before anyone picks another
            demo.load(handlers.choose_operation, operation, chosen, api_visibility="private")
        painter = controls.get(MASK.name)
        view = [slider, history, download, info, *([painter] if painter is not None else [])]
        every_input = {operation, *controls.values()}  # the handler gets {component: value}
        demo.load(handlers.page_load, None, banner, api_visibility="private")
        demo.load(handlers.run_label, every_input, run, api_visibility="private")  # "Kör · 4 krediter"
        demo.load(account.bars, None, [guest_bar, user_bar, signed_in_as], api_visibility="private")
        for trigger in (send_link.click, email.submit):
            trigger(account.email_link, email, signin_status, api_visibility="private")
        wire_privacy(demo, PrivacyHandlers(studio, account), accept_box, accept_text, accept, policy, terms)
        demo.unload(handlers.close)
        # `upload` fires once with the file for every source (file, paste, webcam); `input` may fire first
        # with nothing while a pasted picture is still uploading.
        photo.upload(handlers.upload, [photo, operation], view, preprocess=False, postprocess=False,
                     api_visibility="private").then(handlers.run_label, every_input, run, api_visibility="private")
        photo.clear(handlers.clear, operation, view, postprocess=False, api_visibility="private")
        for control in (operation, *controls.values()):  # the price on the button follows the choices
            if control is not painter:
                control.change(handlers.run_label, every_input, run, api_visibility="private")
        chose = operation.change(handlers.choose_operation, operation, chosen, api_visibility="private")
        if painter is not None:
            chose.then(handlers.refresh_painter, operation, painter, postprocess=False, api_visibility="private")
        run.click(handlers.run, every_input, view, postprocess=False, api_visibility="private", **device_queue)
        cancel.click(handlers.cancel, None, None, queue=False, api_visibility="private")
        undo.click(handlers.undo, operation, view, postprocess=False, api_visibility="private")
        redo.click(handlers.redo, operation, view, postprocess=False, api_visibility="private")
        history.select(handlers.select, operation, view, postprocess=False, api_visibility="private")
    return demo
