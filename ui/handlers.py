"""What happens when a visitor acts on the Studio page. ui/studio.py wires these to the components.

Handlers that return pictures run with postprocess=False and return raw values (ui/views.py),
so no result is written to Gradio's cache. Errors reach the page as sentences (gr.Error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from PIL import Image

from billing.paid_runs import PaidResult, PaidRuns
from billing.prices import base_price
from kernel.errors import RunCancelled, RunFailed, UserError
from kernel.language import DEFAULT
from pipelines import registry
from pipelines.base import EditRequest, Operation
from pipelines.examples import mask_data_url
from pipelines.examples import picture as example_picture
from pipelines.geometry import grow, invert, shrink
from pipelines.inputs import GROW, IMAGE, IMAGES, MASK, MODEL, PROMPT, REFINE, InputContext
from pipelines.ops.select import Select, tab_request
from pipelines.registry import get_operation
from pipelines.service import ProgressFn
from pipelines.sessions import HistoryEntry, StudioSession, Visitor
from ui import views
from ui.account import AccountHandlers
from ui.i18n import language, localize, t, text, text_count
from ui.operations import label_key, prompt_key
from ui.references import SLOTS, ReferenceStrip
from ui.uploads import take_upload

if TYPE_CHECKING:
    from services import Studio

STRINGS = {
    "en": {
        "handlers.demo_banner": "**Demo weights.** Real model weights are not reachable from this server, so "
                                "{operations} run on tiny random stand-ins: results are noise. Everything else "
                                "works as in production.",
        "handlers.could_not_run": "Could not run",
        "handlers.not_charged": "{error} No credits were charged.",
        "handlers.no_photo_title": "No photo",
        "handlers.no_photo": "Upload a photo first.",
        "handlers.cancelled": "Cancelled. Nothing was changed and no credits were charged.",
        "handlers.original": "Original",
        "handlers.run.one": "Run · {count} credit",
        "handlers.run.other": "Run · {count} credits",
        "handlers.steps": "steps",
        "handlers.estimate": "{what} · about {seconds} s",
        "handlers.balance.one": "**{count}** credit",
        "handlers.balance.other": "**{count}** credits",
        "handlers.purchases_off": "Credits cannot be bought on this server; ask the people who run it for more.",
    },
    "sv": {
        "handlers.demo_banner": "**Demovikter.** Riktiga modellvikter går inte att nå från den här servern, så "
                                "{operations} körs på små slumpmässiga ersättare: resultaten blir brus. Allt annat "
                                "fungerar som i drift.",
        "handlers.could_not_run": "Det gick inte att köra",
        "handlers.not_charged": "{error} Inga krediter drogs.",
        "handlers.no_photo_title": "Inget foto",
        "handlers.no_photo": "Ladda upp ett foto först.",
        "handlers.cancelled": "Avbrutet. Inget ändrades och inga krediter drogs.",
        "handlers.original": "Original",
        "handlers.run.one": "Kör · {count} kredit",
        "handlers.run.other": "Kör · {count} krediter",
        "handlers.steps": "steg",
        "handlers.estimate": "{what} · ungefär {seconds} s",
        "handlers.balance.one": "**{count}** kredit",
        "handlers.balance.other": "**{count}** krediter",
        "handlers.purchases_off": "Krediter går inte att köpa på den här servern; be dem som driver den om fler.",
    },
}


def progress_reporter(progress: gr.Progress, lang: str = DEFAULT, estimate_s: float | None = None) -> ProgressFn:
    """Gradio's progress, in `lang`; with a measured estimate ("about 40 s") when there is one."""

    def report(done: int, total: int, what: str) -> None:
        what = localize(what, lang)
        if estimate_s is not None and done < total:
            what = text("handlers.estimate", lang, what=what, seconds=max(1, round(estimate_s)))
        if total > 0 and done > 0:
            progress((done, total), desc=what, unit=text("handlers.steps", lang))
        else:
            progress(0.0, desc=what)

    return report


def user_error(exc: Exception, lang: str = DEFAULT) -> gr.Error:
    return gr.Error(localize(str(exc), lang), title=text("handlers.could_not_run", lang), print_exception=False)


def run_edit(paid_runs: PaidRuns, request: EditRequest, user_id: int, progress: gr.Progress, cancel: Any = None,
             *, lang: str = DEFAULT, estimate_s: float | None = None) -> PaidResult:
    """The one way both the page and the API run an edit: priced, held, charged on success only.

    Errors become gr.Error sentences, in `lang`.
    """
    with as_sentences(lang):
        return paid_runs.run(request, user_id, on_progress=progress_reporter(progress, lang, estimate_s),
                             cancel=cancel)


def run_replay(paid_runs: PaidRuns, recipe: Any, pictures: dict[str, Any] | list[Any], ctx: InputContext,
               user_id: int, progress: gr.Progress, cancel: Any = None, *, lang: str = DEFAULT,
               operation: str | None = None) -> PaidResult:
    """Run a recipe again (pipelines/replay.py) the way run_edit runs an edit; a refused recipe charges nothing."""
    with as_sentences(lang):
        return paid_runs.replay(recipe, pictures, ctx, user_id, operation=operation,
                                on_progress=progress_reporter(progress, lang), cancel=cancel)


@contextmanager
def as_sentences(lang: str) -> Iterator[None]:
    """A run's refusals and failures as gr.Error sentences in `lang`; a failure says nothing was charged."""
    try:
        yield
    except RunFailed as exc:
        sentence = text("handlers.not_charged", lang, error=localize(str(exc), lang))
        raise gr.Error(sentence, title=text("handlers.could_not_run", lang), print_exception=False) from None
    except UserError as exc:
        raise user_error(exc, lang) from None


@dataclass
class Page:
    """The Studio page's components that handlers fill (ui/studio.py draws them)."""

    operation: Any
    controls: dict[str, Any]  # one per input name (pipelines.registry.inputs), except the picture and its mask
    op_help: Any
    advanced: Any
    canvas: Any
    photo: Any
    upload_message: Any  # why a picture was refused, under the upload box
    history_tools: Any  # undo, redo, new photo
    new_photo: Any
    history: Any
    info: Any
    download: Any
    undo: Any
    redo: Any
    status: Any
    message: Any
    balance: Any
    buy: Any
    references: ReferenceStrip  # pictures 2-4 for operations that take several (compose)
    recipe: Any = None  # the "Replay a recipe" box (JSON text)

    def view(self) -> list[Any]:
        """What shows the tab's pictures: outputs of every event that changes them (see StudioHandlers._view)."""
        return [self.canvas, self.photo, self.upload_message, self.history_tools, self.history, self.info,
                self.download, self.undo, self.redo, self.references.first]

    def chosen(self) -> list[Any]:
        """What choosing an operation shows, hides or fills."""
        return [self.op_help, self.advanced, self.references.box, *self.controls.values(),
                *self.references.outputs()]

    def every_input(self) -> set[Any]:
        return {self.operation, self.canvas, *self.controls.values()}

    def priced_by(self) -> list[Any]:
        """Controls a price can depend on: the operation and the choices and numbers (not words or the mask)."""
        return [self.operation, *(c for name, c in self.controls.items() if name not in (PROMPT.name, MODEL.name))]

    def remember_on(self, remember: Any, inputs: set[Any]) -> None:
        """Keep the typed words with the tab (memory only), so a reload brings them back."""
        prompt = self.controls.get(PROMPT.name)
        if prompt is not None:
            prompt.blur(remember, inputs, None, api_visibility="private")


class StudioHandlers:
    """The Studio page's events. `page` is filled in when the page is drawn."""

    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.service = studio.service
        self.paid_runs = studio.paid_runs
        self.settings = studio.settings
        self.sessions = studio.sessions
        self.upload_root = studio.upload_root
        self.ledger = studio.ledger
        self.purchases = studio.payments.configured
        self.account = account
        self.page: Page | None = None

    # --- the tab's pictures

    def _session(self, request: gr.Request) -> StudioSession:
        """This tab's pictures, for whoever is signed in now: another user presenting the tab's id gets none."""
        session = self.sessions.get(request.session_hash or "anonymous", self._visitor(request))
        notice = session.take_notice()
        if notice:
            gr.Warning(localize(notice, language(request)))
        return session

    def _visitor(self, request: gr.Request) -> Visitor:
        starlette = getattr(request, "request", None)
        address = starlette.client.host if starlette is not None and starlette.client else "unknown"
        return Visitor(self.account.user_id(request), address)

    def _view(self, session: StudioSession, operation: str, lang: str, **info: Any) -> dict:
        """The picture Run edits (large), the history strip with the current one marked, undo/redo, download."""
        page = self.page
        entry = session.current
        return {
            page.canvas: gr.update(value=self._canvas(entry, operation), visible=entry is not None),
            page.photo: gr.update(value=None, visible=entry is None),
            page.upload_message: "",
            page.history_tools: gr.update(visible=entry is not None),
            page.history: gr.update(value=views.history_value(session), visible=entry is not None,
                                    selected_index=session.position if entry is not None else None),
            page.info: views.result_info(entry, lang=lang, **info),
            page.download: views.download_link(entry, lang),
            page.undo: gr.update(interactive=session.position > 0),
            page.redo: gr.update(interactive=0 <= session.position < len(session.entries) - 1),
            **page.references.first_view(session),
        }

    def _canvas(self, entry: HistoryEntry | None, operation: str) -> dict:
        """The canvas's value: the picture, and the brush and Select tool for the operations that take a mask."""
        return views.canvas_value(entry, paint=get_operation(operation).masked, words=self._words_offered())

    def _words_offered(self) -> bool:
        """Is a model that selects by words (SAM 3) offered here? Else the Select tool has no words box."""
        select = registry.OPERATIONS.get(Select.id)
        return select is not None and any(Select.reads_words(model) for model in select.model_choices(self.settings))

    def _context(self, session: StudioSession) -> InputContext:
        picture = session.current.image if session.current is not None else None
        return InputContext(self.settings, self._read_upload, picture, references=tuple(session.references))

    def _read_upload(self, payload: Any) -> bytes:
        return take_upload(payload, self.upload_root, max_bytes=self.settings.max_upload_bytes)

    # --- page

    def page_load(self, request: gr.Request) -> tuple:
        """The demo banner, the balance and Buy (or that purchases are not set up here)."""
        lang = language(request)
        status = self.service.status()
        demo_ops = [text(label_key(op_id), lang) for op_id, s in status.items() if s["weights"] == "tiny"]
        banner = gr.update(visible=False)
        if demo_ops:
            banner = gr.update(value=text("handlers.demo_banner", lang, operations=", ".join(demo_ops)), visible=True)
        return (banner, *self._balance(request, lang))

    def _balance(self, request: gr.Request, lang: str) -> tuple:
        user_id = self.account.user_id(request)
        if user_id is None:
            return "", gr.update(visible=False)
        available = self.ledger.balance(user_id).available
        shown = text_count("handlers.balance", available, lang)
        if not self.purchases:
            shown += "  \n" + text("handlers.purchases_off", lang)
        return shown, gr.update(visible=self.purchases)

    def resume(self, token: str, request: gr.Request) -> dict:
        """The page (re)loaded: bring back the tab's pictures and inputs if it had some (sign-in, reload).

        With nothing to bring back only the model menu is filled (its choices are settings); the rest
        is left alone, so a visitor who already picked an operation keeps it.
        """
        carried = self.sessions.carry(request.session_hash or "anonymous", token, self._visitor(request))
        updates: dict = {}
        lang = language(request)
        model = self.page.controls.get(MODEL.name)
        if model is not None:
            models_of = next((op for op in registry.OPERATIONS.values() if op.takes(MODEL.name)), None)
            choices = self._model_choices(models_of, lang) if models_of is not None else []
            updates[model] = gr.update(choices=choices, value=choices[0][1] if choices else None)
        if carried is None:
            return updates
        operation = carried.inputs.get("operation")
        op = registry.OPERATIONS.get(operation) if isinstance(operation, str) else None
        op = op or registry.first()
        updates |= {**self._view(carried, op.id, lang), **self.choose_operation(op.id, lang),
                    **self.page.references.view(carried)}
        updates[self.page.operation] = gr.update(value=op.id)
        for name, value in carried.inputs.items():
            if name in self.page.controls and value is not None:
                updates[self.page.controls[name]] = gr.update(value=value)
        return updates

    def close(self, request: gr.Request) -> None:
        """The tab closed: forget its pictures now (or keep them a moment for its reload, see sessions.py)."""
        self.sessions.drop(request.session_hash or "anonymous")

    def remember(self, values: dict[Any, Any], request: gr.Request) -> None:
        self._session(request).inputs = self._named(values)

    def _named(self, values: dict[Any, Any]) -> dict[str, Any]:
        named = {name: values.get(control) for name, control in self.page.controls.items()}
        named["operation"] = values.get(self.page.operation)
        return named

    # --- picture in

    def _read_picture(self, payload: Any, session: StudioSession) -> Image.Image:
        """An uploaded picture, its file deleted; anonymous visitors have a tighter pixel limit."""
        limit = self.settings.anonymous_max_pixels if session.visitor.anonymous else None
        return IMAGE.parse(payload, InputContext(self.settings, self._read_upload, max_pixels=limit))

    def upload(self, payload: Any, operation: str, request: gr.Request) -> dict:
        session = self._session(request)
        lang = language(request)
        try:
            image = self._read_picture(payload, session)
        except UserError as exc:  # said under the upload box; the picture shown so far stays
            return {self.page.upload_message: f"⚠ {localize(str(exc), lang)}", self.page.photo: gr.update(value=None)}
        session.start(image, label=text("handlers.original", lang))
        return self._view(session, operation, lang)

    def add_reference(self, payload: Any, request: gr.Request) -> dict:
        """Another picture to combine with the current one (compose); refused in a sentence under the strip."""
        session = self._session(request)
        strip = self.page.references
        try:
            image = self._read_picture(payload, session)  # read (and its upload deleted) even when there is no room
        except UserError as exc:
            return strip.view(session, f"⚠ {localize(str(exc), language(request))}")
        if len(session.references) >= SLOTS:
            return strip.view(session, f"⚠ {text('references.full', language(request))}")
        session.add_reference(image)
        return strip.view(session)

    def reference_remover(self, index: int):
        """A handler that removes picture `index + 2` (the slot's Remove button)."""

        def remove_reference(request: gr.Request) -> dict:
            session = self._session(request)
            session.remove_reference(index)
            return self.page.references.view(session)

        remove_reference.__name__ = f"remove_reference_{index + 2}"
        return remove_reference

    def new_photo(self) -> dict:
        """Show the upload box again (the current picture stays until a new one arrives)."""
        return gr.update(value=None, visible=True)

    def example_for(self, operation: str):
        """A handler that loads an operation's example: its picture, its inputs, its painted area."""
        op = get_operation(operation)

        def load_example(request: gr.Request) -> dict:
            example = op.example
            session = self._session(request)
            lang = language(request)
            session.start(example_picture(example.picture), label=text(f"op.{op.id}.example", lang))
            updates = {**self._view(session, op.id, lang), **self.choose_operation(op.id, lang)}
            updates[self.page.operation] = gr.update(value=op.id)
            for name, value in example.values.items():
                updates[self.page.controls[name]] = gr.update(value=value)
            if example.mask_box is not None:
                canvas = self._canvas(session.current, op.id) | {"mask": mask_data_url(example)}
                updates[self.page.canvas] = gr.update(value=canvas, visible=True)
            return updates

        load_example.__name__ = f"example_{operation}"
        return load_example

    # --- the operation picker

    def _model_choices(self, op: Operation, lang: str) -> list[tuple[str, str]]:
        """(label, model id): the name, speed and licence, or in demo mode which stand-in runs instead."""
        choices = []
        for model_id in op.model_choices(self.settings):
            spec = self.service.models.spec(op, model_id)
            choices.append((views.model_label(op.model(model_id), spec.tiny_name, lang), model_id))
        return choices

    def choose_operation(self, operation: str, lang: str = DEFAULT) -> dict:
        """Show the chosen operation's help and exactly the controls it takes; the canvas paints for masked ones."""
        op = get_operation(operation)
        page = self.page
        updates = {page.op_help: gr.update(value=t(f"op.{op.id}.help")),
                   page.references.box: gr.update(visible=op.takes(IMAGES.name))}
        for name, control in page.controls.items():
            updates[control] = gr.update(visible=op.takes(name))
        if op.takes(PROMPT.name):
            updates[page.controls[PROMPT.name]] = gr.update(visible=True, label=t(prompt_key(op.id)))
        shown = set(op.inputs)
        if op.takes(MODEL.name):  # its own models (hidden when there is nothing to choose)
            choices = self._model_choices(op, lang)
            updates[page.controls[MODEL.name]] = gr.update(visible=len(choices) > 1, choices=choices,
                                                          value=choices[0][1])
            if len(choices) <= 1:
                shown.discard(MODEL)
        updates[page.advanced] = gr.update(visible=any(item.advanced for item in shown))
        return updates

    def choose(self, operation: str, canvas: Any, request: gr.Request) -> dict:
        """The picker changed: the controls, and the canvas's brush on or off (keeping what is painted)."""
        updates = self.choose_operation(operation, language(request))
        painted = canvas if isinstance(canvas, dict) else {}
        entry = self._session(request).current
        value = self._canvas(entry, operation) | {"mask": painted.get("mask")}
        updates[self.page.canvas] = gr.update(value=value, visible=entry is not None)
        return updates

    # --- running

    def run(self, values: dict[Any, Any], request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        """Run: `values` holds the operation picker, the canvas and every control, by component (set inputs).

        Errors show next to Run, in words; nothing else on the page turns red.
        """
        named = self._named(values)
        named[MASK.name] = values.get(self.page.canvas)
        return self._shown(lambda: self.run_named(named.pop("operation"), named, request, progress), request)

    def replay(self, values: dict[Any, Any], request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        """Replay the pasted or uploaded recipe on the tab's current picture (and what is painted), like Run."""
        operation, recipe, painted = (values.get(c) for c in (self.page.operation, self.page.recipe, self.page.canvas))
        return self._shown(lambda: self.replay_on_page(operation, recipe, painted, request, progress), request)

    def _shown(self, act: Callable[[], dict], request: gr.Request) -> dict:
        """What Run and Replay show: the result and the balance, or the error in words next to Run."""
        try:
            updates = act()
        except gr.Error as error:
            return {self.page.message: f"⚠ {error.message}", self.page.status: ""}
        lang = language(request)
        return {self.page.message: "", self.page.status: "", self.page.balance: self._balance(request, lang)[0],
                **updates}

    def run_named(self, operation: str, raw: dict[str, Any], request: gr.Request,
                  progress: gr.Progress | None = None) -> dict:
        """Run `operation` on the tab's current picture with the controls' raw values, by input name."""
        user, session, lang = self._runner(request)
        session.inputs = {**raw, "operation": operation, MASK.name: None}
        self._need_picture(session, lang)
        op = get_operation(operation)
        try:
            edit = op.request_from(raw, self._context(session))
        except UserError as exc:
            raise user_error(exc, lang) from None
        estimate = self.service.usage.typical_seconds(op.id, edit.image.width * edit.image.height / 1e6) \
            if self.service.usage is not None else None
        return self._edit(session, op, lang, lambda cancel: run_edit(
            self.paid_runs, edit, user.id, progress or gr.Progress(), cancel, lang=lang, estimate_s=estimate))

    def replay_on_page(self, operation: str, recipe: Any, painted: Any, request: gr.Request,
                       progress: gr.Progress | None = None) -> dict:
        """Replay a recipe for the chosen operation on the tab's current picture; a recipe for another
        operation, or one that asks for what is not offered, is refused in a sentence and charges nothing."""
        user, session, lang = self._runner(request)
        self._need_picture(session, lang)
        op = get_operation(operation)
        return self._edit(session, op, lang, lambda cancel: run_replay(
            self.paid_runs, recipe, {MASK.name: painted}, self._context(session), user.id,
            progress or gr.Progress(), cancel, lang=lang, operation=op.id))

    def _runner(self, request: gr.Request) -> tuple[Any, StudioSession, str]:
        return self.account.require_user(request), self._session(request), language(request)

    @staticmethod
    def _need_picture(session: StudioSession, lang: str) -> None:
        if session.current is None:
            raise gr.Error(text("handlers.no_photo", lang), title=text("handlers.no_photo_title", lang),
                           print_exception=False)

    def _edit(self, session: StudioSession, op: Operation, lang: str, start: Callable[[Any], PaidResult]) -> dict:
        """Run `start(cancel)` as the tab's one run; its result becomes the current picture, with its recipe."""
        cancel = session.begin_run()
        try:
            result = start(cancel)
        except RunCancelled:
            return {self.page.message: text("handlers.cancelled", lang)}
        finally:
            session.end_run()
        session.add(result.image, text(label_key(op.id), lang), seed=result.seed, run_id=result.run_id,
                    placement=result.placement, recipe=result.recipe)
        for sentence in result.recipe.get("replay_of", {}).get("differences", []):
            gr.Warning(localize(sentence, lang))
        return self._view(session, op.id, lang, duration_ms=result.duration_ms, weights=result.weights,
                          credits=result.credits)

    def read_recipe_file(self, payload: Any, request: gr.Request) -> Any:
        """An uploaded recipe file into the recipe box (read and deleted at once, like a photo)."""
        try:
            data = self._read_upload(payload)
        except UserError as exc:
            gr.Warning(localize(str(exc), language(request)))
            return gr.update()
        return data.decode("utf-8", errors="replace")

    def run_label(self, values: dict[Any, Any], request: gr.Request) -> dict:
        """'Run · 4 credits' ('Kör · 4 krediter'): the price of what pressing Run would do, before it is pressed."""
        op = get_operation(values[self.page.operation])
        session = self._session(request)
        if session.current is None:
            credits = base_price(self.settings, op)
        else:
            credits = self.paid_runs.price(self._priced_request(op, self._named(values), session))
        return gr.update(value=text_count("handlers.run", credits, language(request)))

    def _priced_request(self, op: Operation, raw: dict[str, Any], session: StudioSession) -> EditRequest:
        """The request Run would make, for its price: only the inputs a price can depend on (no mask, no files)."""
        ctx = self._context(session)
        values = {}
        for item in op.inputs:
            if item.name in (IMAGE.name, MASK.name):
                continue
            try:
                values[item.name] = item.parse(raw.get(item.name), ctx)
            except UserError:
                values[item.name] = item.default  # a half-typed value: priced as if left out
        return EditRequest(op.id, ctx.picture, **values)

    def cancel(self, request: gr.Request) -> None:
        self._session(request).cancel()

    # --- the Select tool (ui/canvas.py)

    def selection(self, event: gr.EventData, request: gr.Request) -> dict[str, Any]:
        """The canvas's Select tool asks (the event's data, see ui/canvas.py): a mask from the clicks and box of
        the selection being made, or from words; or the painted mask inverted, grown or shrunk.

        The answer: {"n": the question's number, "layer": the new mask as the canvas draws it, "say": a
        sentence (words that found nothing), or "say" and "error": why nothing was selected}. Selecting is
        free: a click that fails charges nothing, and nothing of it is kept but the picture's embedding.
        """
        ask = getattr(event, "_data", None)
        ask = ask if isinstance(ask, dict) else {}
        lang = language(request)
        answer: dict[str, Any] = {"n": ask.get("n")}
        try:
            mask, notice = self._selected(ask, request, lang)
        except gr.Error as error:
            return answer | {"say": error.message, "error": True}
        return answer | {"layer": views.mask_layer(mask), "say": localize(notice, lang) if notice else ""}

    def _selected(self, ask: dict[str, Any], request: gr.Request, lang: str) -> tuple[Image.Image, str | None]:
        entry = self._session(request).current
        if entry is None:
            raise gr.Error(text("handlers.no_photo", lang), print_exception=False)
        action = ask.get("action")
        ctx = InputContext(self.settings, self._read_upload, entry.image)
        try:
            if action in ("select", "words"):
                user = self.account.require_user(request)
                if action == "words" and not str(ask.get("text") or "").strip():
                    raise gr.Error(text("canvas.no_words", lang), print_exception=False)
                raw = {"text": ask.get("text")} if action == "words" else {"points": ask.get("points"),
                                                                             "box": ask.get("box")}
                raw[REFINE.name] = bool(ask.get("refine"))
                outcome = run_edit(self.paid_runs, tab_request(raw, ctx, entry.embeddings), user.id, gr.Progress(),
                                   lang=lang)
                return outcome.image, outcome.notice
            if action in ("invert", "grow", "shrink"):
                mask = MASK.parse({"mask": ask.get("mask")}, ctx) or Image.new("L", entry.image.size, 0)
                if action == "invert":
                    return invert(mask), None
                by = self._step(ask.get("by"), lang)
                return (grow if action == "grow" else shrink)(mask, by), None
        except UserError as exc:
            raise user_error(exc, lang) from None
        raise gr.Error(text("canvas.unknown", lang), print_exception=False)

    @staticmethod
    def _step(raw: Any, lang: str) -> int:
        """How many of the picture's pixels to grow or shrink by: a whole number, at most what Select's own
        grow input allows (pipelines/inputs.py GROW)."""
        try:
            number = float(str(raw).strip())
        except ValueError:
            number = 0.0
        if not (number.is_integer() and 1 <= number <= GROW.maximum):
            raise gr.Error(text("canvas.by_range", lang, limit=f"{GROW.maximum:g}"), print_exception=False)
        return int(number)

    # --- history

    def undo(self, operation: str, request: gr.Request) -> dict:
        session = self._session(request)
        session.undo()
        return self._view(session, operation, language(request))

    def redo(self, operation: str, request: gr.Request) -> dict:
        session = self._session(request)
        session.redo()
        return self._view(session, operation, language(request))

    def select(self, operation: str, event: gr.SelectData, request: gr.Request) -> dict:
        session = self._session(request)
        session.select(int(event.index))
        return self._view(session, operation, language(request))
