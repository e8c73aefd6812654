"""The Compare tab, and the one way the page and the API run a compare (issue 16, item 3).

One picture (the Studio tab's current one, or an upload) through up to 4 models × steps × guidance × seeds,
at most 16 results, for one hold of the total price (billing/paid_runs.py `PaidRuns.compare`). The page
shows the price before running ("Run 6 · 24 credits"), the results as a labelled grid with each cell's
time, peak memory, credits and recipe, and offers the grid as a PNG contact sheet and a CSV: all as data:
URLs, so nothing is written on the server.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from billing.paid_runs import Compared, PaidRuns
from billing.prices import base_price
from kernel.errors import RunCancelled, UserError
from kernel.language import DEFAULT
from pipelines.base import EditRequest, Operation
from pipelines.compare import grid, read_sweep
from pipelines.contact_sheet import Tile, contact_sheet, csv_text, tile
from pipelines.images import to_data_url
from pipelines.inputs import MASK, MODEL, PROMPT, InputContext
from pipelines.recipes import to_json
from pipelines.registry import OPERATIONS, get_operation
from ui.controls import run_row
from ui.handlers import as_sentences, progress_reporter, user_error
from ui.i18n import language, localize, t, text, text_count
from ui.operations import label_key, prompt_key
from ui.views import fit_display

if TYPE_CHECKING:
    from services import Studio
    from ui.handlers import StudioHandlers

STRINGS = {
    "en": {
        "compare.tab": "Compare",
        "compare.intro": "Run one picture through several models and settings side by side (at most 16 results). "
                         "The price is shown on the button and held once; only the results you get are charged.",
        "compare.picture": "Another picture (it becomes the Studio tab's picture too)",
        "compare.operation": "What to do",
        "compare.models": "Models (up to 4)",
        "compare.steps": "Steps, separated by commas (empty: the model's default)",
        "compare.guidance": "Guidance values, separated by commas (empty: the model's default)",
        "compare.seeds": "Seeds, separated by commas (empty: one random seed for all)",
        "compare.run": "Run",
        "compare.run.one": "Run {cells} · {count} credit",
        "compare.run.other": "Run {cells} · {count} credits",
        "compare.cancel": "Cancel",
        "compare.sheet": "⬇ Contact sheet (PNG)",
        "compare.csv": "⬇ Parameters and measurements (CSV)",
        "compare.recipe": "⬇ Recipe",
        "compare.charged.one": "{cells} results · {count} credit charged.",
        "compare.charged.other": "{cells} results · {count} credits charged.",
        "compare.failed_cells": "{failed} of {cells} could not run and were not charged.",
        "compare.cancelled": "Cancelled. Nothing was charged.",
        "compare.no_picture": "Upload a picture here, or open one in the Studio tab first.",
        "compare.source": "Compared: the Studio tab's current picture ({width}×{height}).",
        "compare.no_source": "No picture yet: upload one above, or open one in the Studio tab.",
    },
    "sv": {
        "compare.tab": "Jämför",
        "compare.intro": "Kör en bild genom flera modeller och inställningar sida vid sida (högst 16 resultat). "
                         "Priset står på knappen och reserveras en gång; bara de resultat du får debiteras.",
        "compare.picture": "En annan bild (den blir Studio-flikens bild också)",
        "compare.operation": "Vad vill du göra?",
        "compare.models": "Modeller (upp till 4)",
        "compare.steps": "Steg, åtskilda med kommatecken (tomt: modellens standardvärde)",
        "compare.guidance": "Vägledningsvärden, åtskilda med kommatecken (tomt: modellens standardvärde)",
        "compare.seeds": "Seeds, åtskilda med kommatecken (tomt: samma slumpmässiga seed för alla)",
        "compare.run": "Kör",
        "compare.run.one": "Kör {cells} · {count} kredit",
        "compare.run.other": "Kör {cells} · {count} krediter",
        "compare.cancel": "Avbryt",
        "compare.sheet": "⬇ Kontaktark (PNG)",
        "compare.csv": "⬇ Parametrar och mätningar (CSV)",
        "compare.recipe": "⬇ Recept",
        "compare.charged.one": "{cells} resultat · {count} kredit debiterad.",
        "compare.charged.other": "{cells} resultat · {count} krediter debiterade.",
        "compare.failed_cells": "{failed} av {cells} kunde inte köras och debiterades inte.",
        "compare.cancelled": "Avbrutet. Inget debiterades.",
        "compare.no_picture": "Ladda upp en bild här, eller öppna en i Studio-fliken först.",
        "compare.source": "Jämförs: Studio-flikens aktuella bild ({width}×{height}).",
        "compare.no_source": "Ingen bild än: ladda upp en ovan, eller öppna en i Studio-fliken.",
    },
}
CSS = """
#compare-grid .compare-grid { display: grid; gap: 0.75em;
                              grid-template-columns: repeat(var(--columns), minmax(0, 280px)); }
#compare-source img { max-width: 100%; max-height: 160px; display: block; margin-bottom: 0.3em; }
#compare-source { font-size: var(--text-sm); }
#compare-picture .or { color: #4b5563 !important; }  /* WCAG AA contrast, as the Studio tab's upload box */
#compare-grid figure { margin: 0; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.4em; }
#compare-grid img { width: 100%; height: auto; display: block; image-rendering: auto; }
#compare-grid figcaption { font-size: var(--text-sm); line-height: 1.35; overflow-wrap: anywhere; }
#compare-grid .compare-failed { color: var(--error-text-color, #b91c1c); }
#compare-run-row { align-items: center; }
#compare-cancel { display: none; }
body.studio-running #compare-cancel { display: inline-flex !important; }
@media (max-width: 640px) { #compare-grid .compare-grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
"""


def comparable() -> list[Operation]:
    """The operations a compare offers: edits (not tools such as Select) with a model, steps or guidance to vary
    and no painted mask."""
    return [op for op in OPERATIONS.values()
            if op.in_menu and not op.masked and any(op.takes(name) for name in (MODEL.name, "steps", "guidance"))]


# ------------------------------------------------------------------ the one way to run a compare


def compare_requests(op: Operation, raw: dict[str, Any], sweep: dict[str, Any], ctx: InputContext,
                     lang: str) -> list[EditRequest]:
    """The grid's requests from raw values (a refused value is a gr.Error sentence, nothing spent)."""
    try:
        base = op.request_from(raw, ctx)
        return grid(op, base, read_sweep(sweep.get("models"), sweep.get("steps"), sweep.get("guidance"),
                                         sweep.get("seeds"), ctx))
    except UserError as exc:
        raise user_error(exc, lang) from None


def run_compare(paid_runs: PaidRuns, requests: list[EditRequest], user_id: int, progress: gr.Progress,
                cancel: Any = None, *, lang: str = DEFAULT) -> tuple[Compared, list[Tile]]:
    """Run the grid for one hold; the cells as tiles (model names, the settings used, measurements)."""
    with as_sentences(lang):
        compared = paid_runs.compare(requests, user_id, on_progress=progress_reporter(progress, lang),
                                     cancel=cancel)
    op = get_operation(requests[0].operation)
    settings = paid_runs.settings
    tiles = [
        tile(cell.request, cell.result, credits=cell.credits,
             model_name=_model_name(op, cell.request.values.get(MODEL.name) or op.default_model(settings)),
             error=localize(str(cell.error), lang) if cell.error is not None else None)
        for cell in compared.cells
    ]
    return compared, tiles


def _model_name(op: Operation, model_id: str) -> str:
    return op.model(model_id).name or model_id


def columns_of(requests: list[EditRequest]) -> int:
    """A model's cells make a row of the grid; with one cell a model, the models stand side by side."""
    models = max(1, len({request.values.get(MODEL.name) for request in requests}))
    per_model = max(1, len(requests) // models)
    return per_model if per_model > 1 else len(requests)


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def grid_html(tiles: list[Tile], columns: int, lang: str) -> str:
    """The labelled grid: each cell's picture, model, settings, time, peak memory, credits and its recipe."""
    figures = []
    for index, item in enumerate(tiles, start=1):
        settings = item.settings_line(lang)
        caption = [f"<strong>{html.escape(item.model)}</strong>", html.escape(settings)]
        if item.image is not None:
            picture = (f'<img src="{to_data_url(fit_display(item.image, 512))}" '
                       f'alt="{html.escape(item.model)} · {html.escape(settings)}">')
            caption.append(html.escape(item.numbers_line(lang)))
            recipe = data_url(to_json(item.recipe).encode(), "application/json")
            caption.append(f'<a href="{recipe}" download="compare-{index}-{item.run_id[:8]}.recipe.json" '
                           f'class="compare-recipe">{html.escape(text("compare.recipe", lang))}</a>')
        else:
            picture = ""
            caption.append(f'<span class="compare-failed">{html.escape(item.error or "")}</span>')
        figures.append(f'<figure class="compare-cell">{picture}<figcaption>{"<br>".join(caption)}</figcaption>'
                       "</figure>")
    return f'<div class="compare-grid" style="--columns: {columns}">{"".join(figures)}</div>'


def downloads_html(original: Any, tiles: list[Tile], columns: int, lang: str) -> str:
    """The contact sheet and the CSV, as links that save them straight from the page."""
    from pipelines.images import encode_png

    sheet = data_url(encode_png(contact_sheet(original, tiles, columns, lang)), "image/png")
    table = data_url(csv_text(tiles).encode("utf-8"), "text/csv")
    return (f'<a class="studio-download" href="{sheet}" download="compare.png" id="compare-sheet">'
            f'{html.escape(text("compare.sheet", lang))}</a> '
            f'<a class="studio-download" href="{table}" download="compare.csv" id="compare-csv">'
            f'{html.escape(text("compare.csv", lang))}</a>')


def outcome_sentence(compared: Compared, lang: str) -> str:
    cells = len(compared.cells)
    said = text_count("compare.charged", compared.credits, lang, cells=cells)
    failed = sum(cell.result is None for cell in compared.cells)
    return said + (" " + text("compare.failed_cells", lang, failed=failed, cells=cells) if failed else "")


# ------------------------------------------------------------------ the tab


class CompareHandlers:
    """The Compare tab's events; the tab's run and its Cancel are the Studio tab's (one run per tab)."""

    def __init__(self, studio: Studio, studio_handlers: StudioHandlers) -> None:
        self.settings = studio.settings
        self.paid_runs = studio.paid_runs
        self.models = studio.service.models
        self.studio = studio_handlers

    def choose(self, operation: str, request: gr.Request) -> tuple:
        """The chosen operation's models as checkboxes (the default ticked) and only the lists it takes."""
        op = get_operation(operation)
        lang = language(request)
        choices = self.studio._model_choices(op, lang) if op.takes(MODEL.name) else []
        return (
            gr.update(choices=choices, value=[choices[0][1]] if choices else [], visible=bool(choices)),
            gr.update(visible=op.takes(PROMPT.name), label=text(prompt_key(op.id), lang)),
            gr.update(visible=op.takes("steps")),
            gr.update(visible=op.takes("guidance")),
            gr.update(visible=op.uses_seed),
        )

    def source(self, request: gr.Request) -> str:
        """What a compare without an upload runs on: the Studio tab's current picture, shown small."""
        session = self.studio._session(request)
        lang = language(request)
        if session.current is None:
            return html.escape(text("compare.no_source", lang))
        image = session.current.image
        said = html.escape(text("compare.source", lang, width=image.width, height=image.height))
        return f'<img src="{to_data_url(fit_display(image, 320))}" alt="{said}"><span>{said}</span>'

    def clear_upload(self) -> dict:
        """The upload box empties once its picture became the tab's (the file itself is already deleted)."""
        return gr.update(value=None)

    def price_label(self, operation: str, models: list[str] | None, steps: str, guidance: str, seeds: str,
                    request: gr.Request) -> dict:
        """'Run 6 · 24 credits': how many results and what they cost, before anything runs."""
        op = get_operation(operation)
        lang = language(request)
        ctx = InputContext(self.settings, self.studio._read_upload)
        try:
            size = read_sweep(models, steps, guidance, seeds, ctx).size
        except UserError:
            size = max(1, len(models or []))  # a half-typed list: priced as if left out
        session = self.studio._session(request)
        if session.current is None:
            credits = base_price(self.settings, op) * size
        else:
            credits = size * self.paid_runs.price(EditRequest(op.id, session.current.image))
        return gr.update(value=text_count("compare.run", credits, lang, cells=size))

    def run(self, operation: str, prompt: str, models: list[str] | None, steps: str, guidance: str, seeds: str,
            request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        """Run the grid on the Studio tab's current picture (an upload here became it): the grid, downloads, a line."""
        user, session, lang = self.studio._runner(request)
        op = get_operation(operation)
        if session.current is None:
            raise gr.Error(text("compare.no_picture", lang), title=text("handlers.no_photo_title", lang),
                           print_exception=False)
        ctx = InputContext(self.settings, self.studio._read_upload, session.current.image)
        raw = {PROMPT.name: prompt, MASK.name: None}
        sweep = {"models": models, "steps": steps, "guidance": guidance, "seeds": seeds}
        requests = compare_requests(op, raw, sweep, ctx, lang)
        cancel = session.begin_run()
        try:
            compared, tiles = run_compare(self.paid_runs, requests, user.id, progress, cancel, lang=lang)
        except RunCancelled:
            return "", "", text("compare.cancelled", lang)
        finally:
            session.end_run()
        columns = columns_of(requests)
        return (grid_html(tiles, columns, lang), downloads_html(requests[0].image, tiles, columns, lang),
                outcome_sentence(compared, lang))


def build_compare_tab(demo: gr.Blocks, handlers: CompareHandlers, device_queue: dict[str, Any],
                      running: tuple[str, str], cancel: Callable[..., Any]) -> Callable[..., None]:
    """Draw the tab and wire it (call inside gr.Tabs). `running`: the page's JS that marks a run in progress
    (so its Cancel shows); `cancel`: the Studio tab's, as the tab has one run at a time. Returns what wires
    its upload box once the Studio tab's pictures can be shown: `wire_upload(upload, view, studio_operation)`,
    with the Studio tab's upload handler (the picture becomes its current one), its outputs and its operation."""
    private = {"api_visibility": "private"}
    offered = comparable()
    first = offered[0]
    with gr.Tab(t("compare.tab"), id="compare", elem_id="compare-tab") as tab:
        gr.Markdown(t("compare.intro"), elem_id="compare-intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=240):
                picture = gr.Image(label=t("compare.picture"), type="filepath", image_mode=None,
                                   sources=["upload", "clipboard"], height=220, elem_id="compare-picture")
                source = gr.HTML(elem_id="compare-source")
            with gr.Column(scale=3):
                operation = gr.Radio([(t(label_key(op.id)), op.id) for op in offered], value=first.id,
                                     label=t("compare.operation"), elem_id="compare-operation")
                prompt = gr.Textbox(label=t(prompt_key(first.id)), lines=2, visible=first.takes(PROMPT.name),
                                    elem_id="compare-prompt")
                models = gr.CheckboxGroup([], label=t("compare.models"), elem_id="compare-models")
                with gr.Row():
                    steps = gr.Textbox(label=t("compare.steps"), placeholder="10, 20", elem_id="compare-steps")
                    guidance = gr.Textbox(label=t("compare.guidance"), placeholder="5, 7.5",
                                          elem_id="compare-guidance")
                    seeds = gr.Textbox(label=t("compare.seeds"), placeholder="1, 2", elem_id="compare-seeds")
                run, stop, status, message = run_row("compare-", "compare.run", "compare.cancel")
        grid_view = gr.HTML(elem_id="compare-grid")
        downloads = gr.HTML(elem_id="compare-downloads")

    lists = [operation, models, steps, guidance, seeds]
    started, stopped = running
    for control in (operation, models, steps, guidance, seeds):
        control.change(handlers.price_label, lists, run, **private)
    operation.change(handlers.choose, operation, [models, prompt, steps, guidance, seeds], **private)
    run.click(None, js=started).then(
        handlers.run, [operation, prompt, models, steps, guidance, seeds], [grid_view, downloads, message],
        preprocess=False, show_progress_on=status, **private, **device_queue,
    ).then(None, js=stopped)
    stop.click(cancel, None, None, queue=False, **private)
    tab.select(handlers.source, None, source, **private).then(handlers.price_label, lists, run, **private)
    demo.load(handlers.choose, operation, [models, prompt, steps, guidance, seeds], **private) \
        .then(handlers.price_label, lists, run, **private)

    def wire_upload(upload: Callable[..., Any], view: list[Any], studio_operation: Any) -> None:
        picture.upload(upload, [picture, studio_operation], view, preprocess=False, postprocess=False, **private) \
            .then(handlers.clear_upload, None, picture, **private) \
            .then(handlers.source, None, source, **private).then(handlers.price_label, lists, run, **private)

    return wire_upload
