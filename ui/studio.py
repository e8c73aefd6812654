"""The Studio page, top to bottom: picture in, what to do, run, before/after, history, download."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from billing.prices import base_price
from pipelines.geometry import DIRECTIONS
from pipelines.registry import OPERATIONS
from ui.account import AccountHandlers, build_account_tab, build_signin_bar
from ui.api import add_api_endpoints
from ui.credits import CreditHandlers, build_credits_tab
from ui.handlers import StudioHandlers
from ui.painter import mask_painter

if TYPE_CHECKING:
    from services import Studio

DEFAULT_OPERATION = "instruct_edit"
CSS = """
#demo-banner { background: var(--color-accent-soft); border-radius: 8px; padding: 0.5em 1em; }
.studio-download { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px;
                   border: 1px solid var(--border-color-primary); text-decoration: none; }
.signin-providers { display: flex; gap: 0.5em; flex-wrap: wrap; align-items: center; }
.signin-lead { font-weight: 600; margin-right: 0.25em; }
.signin-provider { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px; text-decoration: none;
                   border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
"""


def build_studio(studio: Studio) -> gr.Blocks:
    settings = studio.settings
    account = AccountHandlers(studio.accounts)
    handlers = StudioHandlers(studio, account)
    credits = CreditHandlers(settings, studio.ledger, studio.payments, account)
    first = OPERATIONS[DEFAULT_OPERATION]
    device_queue = {"concurrency_id": "device", "concurrency_limit": settings.max_batch_size}

    # delete_cache is the backstop for uploads no handler ever read (a tab closed mid-upload):
    # every 2 minutes, files older than 10 minutes (longer than any queue wait) are deleted.
    with gr.Blocks(title="Studio", analytics_enabled=False, delete_cache=(120, 600)) as demo:
        banner = gr.Markdown(visible=False, elem_id="demo-banner")
        guest_bar, user_bar, signed_in_as, email, send_link, signin_status = build_signin_bar(studio.accounts)
        with gr.Tab("Studio"), gr.Row(equal_height=False):
            with gr.Column(scale=1):
                photo = gr.Image(
                    label="Photo (upload, paste or webcam)", type="filepath", image_mode=None,
                    sources=["upload", "clipboard", "webcam"], height=300, elem_id="photo",
                )
                operation = gr.Radio(
                    [(op.label, op.id) for op in OPERATIONS.values()], value=first.id,
                    label="What to do", elem_id="operation",
                )
                op_help = gr.Markdown(f"_{first.help}_", elem_id="operation-help")
                prompt = gr.Textbox(label=first.prompt_label, lines=2, elem_id="prompt")
                painter = mask_painter(visible=False, elem_id="painter")
                with gr.Row(visible=False) as extend_row:
                    directions = gr.CheckboxGroup(list(DIRECTIONS), value=["left", "right"], label="Extend")
                    amount = gr.Slider(5, 100, value=25, step=5, label="By (% of the side)")
                scale = gr.Radio([("×2", 2), ("×4", 4)], value=2, label="Scale", visible=False)
                strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label="Strength", visible=False)
                with gr.Accordion("Advanced", open=False) as advanced:
                    seed = gr.Number(label="Seed (empty: random)", precision=0, elem_id="seed")
                    steps = gr.Number(label="Steps (empty: the model's default)", precision=0, elem_id="steps")
                    guidance = gr.Number(label="Guidance (empty: the model's default)", elem_id="guidance")
                    choices = first.model_choices(settings)
                    model = gr.Dropdown(choices, value=choices[0], label="Model", elem_id="model")
                with gr.Row():
                    run = gr.Button(
                        f"Run · {base_price(settings, first.id)} credits", variant="primary", elem_id="run"
                    )
                    cancel = gr.Button("Cancel", variant="stop", elem_id="cancel")
            with gr.Column(scale=1):
                slider = gr.ImageSlider(
                    label="Before / after", interactive=False, buttons=["fullscreen"], elem_id="result"
                )
                info = gr.Markdown(elem_id="result-info")
                download = gr.HTML(elem_id="download")
                with gr.Row():
                    undo = gr.Button("↶ Undo", size="sm", elem_id="undo")
                    redo = gr.Button("↷ Redo", size="sm", elem_id="redo")
                history = gr.Gallery(
                    label="History (click a picture to keep editing from it)", columns=6, height=160,
                    allow_preview=False, buttons=[], elem_id="history",
                )
        build_credits_tab(credits)
        build_account_tab(account)
        add_api_endpoints(studio, account)

        view = [slider, history, download, info, painter]
        priced_by = [operation, scale, directions, amount]
        demo.load(handlers.page_load, None, banner)
        demo.load(account.bars, None, [guest_bar, user_bar, signed_in_as])
        for trigger in (send_link.click, email.submit):
            trigger(account.email_link, email, signin_status, api_visibility="private")
        demo.unload(handlers.close)
        # `upload` fires once with the file for every source (file, paste, webcam); `input` may fire first
        # with nothing while a pasted picture is still uploading.
        photo.upload(handlers.upload, [photo, operation], view, preprocess=False, postprocess=False) \
            .then(handlers.run_label, priced_by, run)
        photo.clear(handlers.clear, operation, view, postprocess=False)
        for control in (operation, scale, directions, amount):  # the price on the button follows the choices
            control.change(handlers.run_label, priced_by, run, api_visibility="private")
        operation.change(
            handlers.choose_operation, operation,
            [op_help, prompt, painter, extend_row, scale, strength, advanced, model],
        ).then(handlers.refresh_painter, operation, painter, postprocess=False)
        run.click(
            handlers.run,
            [operation, prompt, painter, directions, amount, scale, strength, seed, steps, guidance, model],
            view, postprocess=False, api_visibility="private", **device_queue,
        )
        cancel.click(handlers.cancel, None, None, queue=False, api_visibility="private")
        undo.click(handlers.undo, operation, view, postprocess=False, api_visibility="private")
        redo.click(handlers.redo, operation, view, postprocess=False, api_visibility="private")
        history.select(handlers.select, operation, view, postprocess=False, api_visibility="private")
    return demo
