"""The Studio page, top to bottom: who and what it is, then the picture (large) beside what to do with it.

Canvas first: the picture shown large is the one Run edits, and a result replaces it in place
(undo/redo and the history strip go back). One progress display and one message line, next to
Run. Nothing is lost on sign-in, a language switch or a reload (pipelines/sessions.py carries the
tab's pictures; the inputs come back with them), and leaving with unsaved work asks first.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr

from pipelines import registry
from pipelines.inputs import IMAGES, PROMPT
from pipelines.registry import OPERATIONS
from ui.account import AccountHandlers, build_account_tab, build_signin_bar
from ui.admin import AdminHandlers, build_admin_tab
from ui.api import add_api_endpoints
from ui.canvas import build_canvas, build_selection_answer
from ui.compare import CSS as COMPARE_CSS
from ui.compare import CompareHandlers, build_compare_tab
from ui.consent import ConsentHandlers, build_consent_tab
from ui.controls import page_control, run_row
from ui.credits import CreditHandlers, build_credits_tab
from ui.handlers import Page, StudioHandlers
from ui.i18n import LANGUAGE_CSS, in_every_language, t
from ui.my_data import MyDataHandlers, build_my_data
from ui.operations import label_key, prompt_key
from ui.privacy import PrivacyHandlers, build_accept_box, build_policy_tabs, wire_privacy
from ui.references import CSS as REFERENCES_CSS
from ui.references import build_references
from ui.switch import build_language_switch

if TYPE_CHECKING:
    from services import Studio

STRINGS = {
    "en": {
        "studio.pitch": "Edit photos by saying what to change, or paint over it. Compare, undo, download. "
                        "Your pictures stay in the server's memory and are never stored.",
        "studio.tab": "Studio",
        "studio.photo": "Photo (upload, paste or webcam)",
        "studio.new_photo": "New photo",
        "studio.what": "What to do",
        "studio.advanced": "Advanced",
        "studio.replay": "Replay a recipe",
        "studio.replay_box": "Recipe (paste the JSON a result came with, or upload its file)",
        "studio.replay_upload": "Upload a recipe file",
        "studio.replay_run": "Replay on this picture",
        "studio.run": "Run",
        "studio.cancel": "Cancel",
        "studio.undo": "↶ Undo",
        "studio.redo": "↷ Redo",
        "studio.history": "History (click a picture to keep editing from it)",
        "studio.examples": "Try an example:",
        "studio.buy": "Buy credits",
        "studio.shortcuts": "Ctrl/⌘ + Enter runs · Ctrl/⌘ + Z undoes",
        "studio.developers": "Use it from Python (API and API keys)",
    },
    "sv": {
        "studio.pitch": "Redigera foton genom att säga vad som ska ändras, eller måla över det. Jämför, ångra, "
                        "ladda ner. Dina bilder finns bara i serverns minne och sparas aldrig.",
        "studio.tab": "Studio",
        "studio.photo": "Foto (ladda upp, klistra in eller använd webbkameran)",
        "studio.new_photo": "Nytt foto",
        "studio.what": "Vad vill du göra?",
        "studio.advanced": "Avancerat",
        "studio.replay": "Kör ett recept igen",
        "studio.replay_box": "Recept (klistra in JSON-texten som följde med ett resultat, eller ladda upp filen)",
        "studio.replay_upload": "Ladda upp en receptfil",
        "studio.replay_run": "Kör igen på den här bilden",
        "studio.run": "Kör",
        "studio.cancel": "Avbryt",
        "studio.undo": "↶ Ångra",
        "studio.redo": "↷ Gör om",
        "studio.history": "Historik (klicka på en bild för att fortsätta redigera från den)",
        "studio.examples": "Prova ett exempel:",
        "studio.buy": "Köp krediter",
        "studio.shortcuts": "Ctrl/⌘ + Enter kör · Ctrl/⌘ + Z ångrar",
        "studio.developers": "Använd den från Python (API och API-nycklar)",
    },
}
CSS = """
/* WCAG AA contrast (axe-core): the theme's orange and red buttons and its grey footer text are too pale */
.gradio-container { --button-primary-background-fill: #c2410c !important;
  --button-primary-background-fill-hover: #9a3412 !important; --button-primary-text-color: #fff !important;
  --button-cancel-background-fill: #b91c1c !important; --button-cancel-background-fill-hover: #991b1b !important;
  --button-cancel-text-color: #fff !important; }
footer, footer a, footer button, .settings, input.subdued, #photo .or,
.min_value, .max_value { color: #4b5563 !important; }
.tab-wrapper button[role=tab].selected { color: #c2410c !important; }
#header { align-items: center; gap: 0.5em; }
#brand h1 { margin: 0; font-size: 1.6em; }
#brand p { margin: 0.1em 0 0; color: var(--body-text-color-subdued); }
#account-strip { align-items: center; justify-content: flex-end; gap: 0.5em; flex-wrap: wrap; }
#balance { text-align: right; }
#demo-banner { background: #fff4e5; border-radius: 8px; padding: 0.4em 1em; }
#demo-banner, #demo-banner * { color: #1f2937 !important; }
.studio-download { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px;
                   border: 1px solid var(--border-color-primary); text-decoration: none; }
.signin-providers { display: flex; gap: 0.5em; flex-wrap: wrap; align-items: center; }
.signin-lead { font-weight: 600; margin-right: 0.25em; }
.signin-provider { display: inline-block; padding: 0.4em 0.9em; border-radius: 8px; text-decoration: none;
                   border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
#operation-help { font-style: italic; }
body.studio-running #run-status { min-height: 4.5em !important; }
#run-message, #upload-message { color: var(--error-text-color, #b91c1c); }
#cancel { display: none; }
body.studio-running #cancel { display: inline-flex !important; }  /* Gradio also prefixes rules: outrank them */
#history .grid-container { grid-template-columns: repeat(auto-fill, 88px) !important; grid-auto-rows: 72px; }
#history .thumbnail-item { width: 88px; height: 72px; }
#history .thumbnail-item.selected { outline: 3px solid var(--color-accent); outline-offset: -3px; }
#examples-row { flex-wrap: wrap; gap: 0.4em; }
#examples-lead p { margin: 0; font-weight: 600; }
#examples-row button { flex: 0 0 auto; min-width: 0; }
#shortcuts { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#developers-link { text-align: center; font-size: var(--text-sm); }
.studio-hidden { display: none !important; }
/* every tab reachable on a phone: the tabs Gradio would hide behind "…" show in the bar, which wraps */
.tab-wrapper { flex-wrap: wrap; height: auto !important; }
.tab-wrapper .overflow-menu > button { display: none !important; }
.tab-wrapper .overflow-menu, .tab-wrapper .overflow-dropdown { display: contents !important; }
.tab-wrapper .overflow-dropdown button { display: inline-block !important; width: auto !important;
  padding: var(--size-1) var(--size-3) !important; font-size: var(--section-header-text-size);
  color: var(--body-text-color) !important; background: none !important; }
@media (max-width: 640px) {
  #header { flex-direction: column; align-items: stretch; }
  #header > * { min-width: 0 !important; width: 100%; }
  #brand p { font-size: var(--text-sm); }
  #run-row { position: fixed; left: 0; right: 0; bottom: 0; z-index: 50; margin: 0; padding: 0.5em;
             background: var(--background-fill-primary); box-shadow: 0 -2px 8px rgba(0, 0, 0, 0.15); }
  .gradio-container { padding-bottom: 5em !important; }
  #brand h1 { font-size: 1.3em; }
  #history-tools { flex-wrap: nowrap !important; }  /* undo, redo, new photo: one row of three */
  #history-tools > * { min-width: 0 !important; }
  #user-bar { flex-wrap: nowrap !important; align-items: center; }
  #user-bar #sign-out { flex: 0 0 auto !important; width: auto !important; }
  #signed-in-as { overflow-wrap: anywhere; }
}
""" + REFERENCES_CSS + COMPARE_CSS + LANGUAGE_CSS

# Keys, a warning before leaving with unsaved work, and noticing a sign-in made in another tab.
HEAD = """
<script>
(() => {
  const typing = (el) => el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && el.type === 'text'));
  document.addEventListener('keydown', (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key === 'Enter') { document.querySelector('#run')?.click(); e.preventDefault(); }
    else if (mod && !e.shiftKey && e.key.toLowerCase() === 'z' && !typing(document.activeElement)) {
      document.querySelector('#undo')?.click(); e.preventDefault();
    } else if (mod && e.shiftKey && e.key.toLowerCase() === 'z' && !typing(document.activeElement)) {
      document.querySelector('#redo')?.click(); e.preventDefault();
    }
  });
  // The tab's work survives our own navigations (it is carried over); only leaving for good asks.
  window.studioLeaving = false;
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('a.signin-provider, #language-switch button')) window.studioLeaving = true;
  }, true);
  window.studioAsksBeforeLeaving = () =>
    document.querySelectorAll('#history .thumbnail-item').length > 1 && !window.studioLeaving;
  window.addEventListener('beforeunload', (e) => {
    if (window.studioAsksBeforeLeaving()) { e.preventDefault(); e.returnValue = ''; }
  });
  // The e-mailed link opens in another tab; that tab says so here, and this one picks up the session.
  window.addEventListener('storage', (e) => {
    if (e.key === 'studio-signed-in') document.querySelector('#signed-in-elsewhere')?.click();
  });
})();
</script>
"""

# The tab's carry token (pipelines/sessions.py): kept in sessionStorage, so a reload finds its pictures.
CARRY_JS = """() => {
  let token = sessionStorage.getItem('studio-carry');
  if (!token) { token = crypto.randomUUID(); sessionStorage.setItem('studio-carry', token); }
  return token;
}"""
# A page that loads signed in tells the other tabs (their `storage` event, in HEAD above).
ANNOUNCE_JS = """() => {
  const bar = document.querySelector('#user-bar');
  if (bar && bar.offsetParent !== null) {
    try { localStorage.setItem('studio-signed-in', String(Date.now())); } catch (err) { /* private mode */ }
  }
}"""
RUNNING_JS = "() => document.body.classList.add('studio-running')"
STOPPED_JS = "() => document.body.classList.remove('studio-running')"


def _open_tab(tab_id: str):
    def open_tab() -> gr.Tabs:
        return gr.Tabs(selected=tab_id)

    open_tab.__name__ = f"open_{tab_id}"
    return open_tab


def brand_html(brand: str) -> str:
    return f"<h1>{html.escape(brand)}</h1><p>{in_every_language('studio.pitch')}</p>"


def build_studio(studio: Studio, handlers: StudioHandlers | None = None) -> gr.Blocks:
    """The whole page, wired to `studio`. Its Studio events are `handlers` (made here unless given): a caller
    that drives them directly, as bench/memory.py does, passes its own and gets them back with `page` filled in."""
    settings = studio.settings
    handlers = handlers or StudioHandlers(studio, AccountHandlers(studio.accounts))
    account = handlers.account
    credits = CreditHandlers(settings, studio.ledger, studio.payments, account, studio.service.usage)
    first = registry.first()
    inputs = [item for item in registry.inputs().values() if item.on_page]
    device_queue = {"concurrency_id": "device", "concurrency_limit": settings.max_batch_size}

    # delete_cache is the backstop for uploads no handler ever read (a tab closed mid-upload):
    # every 2 minutes, files older than 10 minutes (longer than any queue wait) are deleted.
    with gr.Blocks(title=settings.brand_name, analytics_enabled=False, delete_cache=(120, 600)) as demo:
        with gr.Row(elem_id="header", equal_height=True):
            gr.HTML(brand_html(settings.brand_name), elem_id="brand")
            with gr.Column(scale=0, min_width=260):
                build_language_switch(settings)
                with gr.Row(elem_id="account-strip"):
                    balance = gr.Markdown(elem_id="balance")
                    buy = gr.Button(t("studio.buy"), size="sm", scale=0, min_width=120, visible=False,
                                    elem_id="buy")
        banner = gr.Markdown(visible=False, elem_id="demo-banner")
        guest_bar, user_bar, signed_in_as, email, send_link, signin_status = build_signin_bar(studio.accounts)
        accept_box, accept_text, accept, read_policy, read_terms = build_accept_box()
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab(t("studio.tab"), id="studio", elem_id="studio-tab"), \
                    gr.Row(equal_height=False, elem_id="studio-row"):
                with gr.Column(scale=3, elem_id="picture-column"):
                    photo = gr.Image(
                        label=t("studio.photo"), type="filepath", image_mode=None,
                        sources=["upload", "clipboard", "webcam"], height=300, elem_id="photo",
                    )
                    upload_message = gr.Markdown(elem_id="upload-message")
                    canvas = build_canvas(visible=False, elem_id="canvas")
                    selection_answer = build_selection_answer()
                    with gr.Row(elem_id="history-tools", visible=False) as history_tools:
                        undo = gr.Button(t("studio.undo"), size="sm", interactive=False, elem_id="undo")
                        redo = gr.Button(t("studio.redo"), size="sm", interactive=False, elem_id="redo")
                        new_photo = gr.Button(t("studio.new_photo"), size="sm", elem_id="new-photo")
                    history = gr.Gallery(
                        label=t("studio.history"), columns=8, rows=1, height=120, object_fit="contain",
                        allow_preview=False, buttons=[], visible=False, elem_id="history",
                    )
                    info = gr.Markdown(elem_id="result-info")
                    download = gr.HTML(elem_id="download")
                with gr.Column(scale=2, elem_id="controls-column"):
                    operation = gr.Radio(
                        [(t(label_key(op.id)), op.id) for op in OPERATIONS.values() if op.in_menu], value=first.id,
                        label=t("studio.what"), elem_id="operation",
                    )
                    op_help = gr.Markdown(t(f"op.{first.id}.help"), elem_id="operation-help")
                    references = build_references(visible=first.takes(IMAGES.name))  # pictures 2-4 (compose)
                    # one control per input the operations take; the chosen operation's are visible
                    controls = {item.name: page_control(item, visible=first.takes(item.name),
                                                        label_key=prompt_key(first.id) if item is PROMPT else None)
                                for item in inputs if not item.advanced}
                    with gr.Accordion(t("studio.advanced"), open=False,
                                      visible=any(item.advanced for item in first.inputs)) as advanced:
                        controls |= {item.name: page_control(item, visible=first.takes(item.name))
                                     for item in inputs if item.advanced}
                    with gr.Accordion(t("studio.replay"), open=False, elem_id="replay"):
                        recipe = gr.Textbox(label=t("studio.replay_box"), lines=3, max_lines=12,
                                            elem_id="recipe-box")
                        with gr.Row():
                            recipe_file = gr.UploadButton(t("studio.replay_upload"), file_types=[".json"],
                                                          size="sm", elem_id="recipe-file")
                            replay = gr.Button(t("studio.replay_run"), size="sm", elem_id="replay-run")
                    run, cancel, status, message = run_row("", "studio.run", "studio.cancel")
                    gr.Markdown(t("studio.examples"), elem_id="examples-lead")
                    with gr.Row(elem_id="examples-row"):
                        examples = {op.id: gr.Button(t(f"op.{op.id}.example"), size="sm", elem_id=f"example-{op.id}")
                                    for op in OPERATIONS.values() if op.example is not None}
                    gr.Markdown(t("studio.shortcuts"), elem_id="shortcuts")
            wire_compare_upload = build_compare_tab(demo, CompareHandlers(studio, handlers), device_queue,
                                                    (RUNNING_JS, STOPPED_JS), handlers.cancel)
            build_credits_tab(credits)
            account_tab = build_account_tab(account)
            build_my_data(MyDataHandlers(studio, account), account_tab)
            build_admin_tab(demo, AdminHandlers(studio, account))  # hidden unless ADMIN_EMAILS names the user
            build_consent_tab(ConsentHandlers(
                settings, account, studio.consents,
                consent_text=lambda lang: studio.documents.get("consent", lang).text,
                policy_version=lambda: studio.acceptance.version,
            ))
            policy, terms = build_policy_tabs(studio)
        gr.HTML(f'<a href="/developers">{in_every_language("studio.developers")}</a>', elem_id="developers-link")
        add_api_endpoints(studio, account)
        carry = gr.Textbox(visible=False)
        # clicked by HEAD's script (so rendered, but never shown): a sign-in in another tab happened
        signed_in_elsewhere = gr.Button(elem_id="signed-in-elsewhere", elem_classes=["studio-hidden"])

        page = handlers.page = Page(
            operation=operation, controls=controls, op_help=op_help, advanced=advanced, canvas=canvas,
            photo=photo, upload_message=upload_message, history_tools=history_tools, new_photo=new_photo,
            history=history, info=info, download=download, undo=undo, redo=redo, status=status, message=message,
            balance=balance, buy=buy, references=references, recipe=recipe,
        )
        chosen = page.chosen()
        view = page.view()
        every_input = page.every_input()  # handlers get {component: value}
        private = {"api_visibility": "private"}

        demo.load(handlers.page_load, None, [banner, balance, buy], **private)
        demo.load(handlers.resume, carry, [*view, *chosen, operation], js=CARRY_JS, postprocess=False, **private)
        demo.load(account.bars, None, [guest_bar, user_bar, signed_in_as], **private).then(None, js=ANNOUNCE_JS)
        for trigger in (send_link.click, email.submit):
            trigger(account.email_link, email, signin_status, **private)
        signed_in_elsewhere.click(account.bars, None, [guest_bar, user_bar, signed_in_as], **private) \
            .then(handlers.page_load, None, [banner, balance, buy], **private)
        wire_privacy(demo, PrivacyHandlers(studio, account), accept_box, accept_text, accept, policy, terms,
                     signed_in_elsewhere)
        for button, tab in ((buy, "credits"), (read_policy, "privacy"), (read_terms, "terms")):
            button.click(_open_tab(tab), None, tabs, **private)
        demo.unload(handlers.close)
        # `upload` fires once with the file for every source (file, paste, webcam); `input` may fire first
        # with nothing while a pasted picture is still uploading.
        photo.upload(handlers.upload, [photo, operation], view, preprocess=False, postprocess=False, **private) \
            .then(handlers.run_label, every_input, run, **private)
        new_photo.click(handlers.new_photo, None, photo, **private)
        references.add.upload(handlers.add_reference, references.add, references.outputs(), preprocess=False,
                              postprocess=False, **private)
        for index, remove in enumerate(references.removes):
            remove.click(handlers.reference_remover(index), None, references.outputs(), postprocess=False, **private)
        wire_compare_upload(handlers.upload, view, operation)  # a picture uploaded in Compare becomes this tab's too
        for control in page.priced_by():  # the price on the button follows the choices
            control.change(handlers.run_label, every_input, run, **private)
        page.remember_on(handlers.remember, every_input)
        operation.change(handlers.choose, [operation, canvas], [*chosen, canvas], postprocess=False, **private)
        # the canvas's Select tool: clicks, a box or words in, a mask layer (or a sentence) out; free and quick
        canvas.selection(handlers.selection, None, selection_answer, postprocess=False, show_progress="hidden",
                         **private)
        running = run.click(None, js=RUNNING_JS)
        running.then(handlers.run, every_input, [*view, status, message, balance], postprocess=False,
                     show_progress_on=status, **private, **device_queue).then(None, js=STOPPED_JS)
        replaying = replay.click(None, js=RUNNING_JS)
        replaying.then(handlers.replay, {*every_input, recipe}, [*view, status, message, balance], postprocess=False,
                       show_progress_on=status, **private, **device_queue).then(None, js=STOPPED_JS)
        recipe_file.upload(handlers.read_recipe_file, recipe_file, recipe, preprocess=False, **private)
        cancel.click(handlers.cancel, None, None, queue=False, **private)
        undo.click(handlers.undo, operation, view, postprocess=False, **private)
        redo.click(handlers.redo, operation, view, postprocess=False, **private)
        history.select(handlers.select, operation, view, postprocess=False, **private)
        for op_id, button in examples.items():
            button.click(handlers.example_for(op_id), None, [*view, *chosen, operation], postprocess=False,
                         **private).then(handlers.run_label, every_input, run, **private)
        demo.load(handlers.run_label, every_input, run, **private)  # "Kör · 4 krediter"
    return demo
