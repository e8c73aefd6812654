"""What happens when a visitor acts on the Studio page. ui/studio.py wires these to the components.

Handlers that return pictures run with postprocess=False and return raw values (ui/views.py),
so no result is written to Gradio's cache. Errors reach the page as sentences (gr.Error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from billing.paid_runs import PaidRuns
from billing.prices import base_price
from kernel.errors import RunCancelled, RunFailed, UserError
from kernel.language import DEFAULT
from pipelines.base import EditRequest, Operation
from pipelines.inputs import IMAGE, MASK, MODEL, PROMPT, InputContext
from pipelines.registry import get_operation
from pipelines.service import ProgressFn
from pipelines.sessions import StudioSession, Visitor
from ui import views
from ui.account import AccountHandlers
from ui.i18n import language, localize, t, text, text_count
from ui.operations import label_key, prompt_key
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
    },
}


def progress_reporter(progress: gr.Progress, lang: str = DEFAULT) -> ProgressFn:
    def report(done: int, total: int, what: str) -> None:
        what = localize(what, lang)
        if total > 0 and done > 0:
            progress((done, total), desc=what, unit=text("handlers.steps", lang))
        else:
            progress(0.0, desc=what)

    return report


def user_error(exc: Exception, lang: str = DEFAULT) -> gr.Error:
    return gr.Error(localize(str(exc), lang), title=text("handlers.could_not_run", lang), print_exception=False)


def run_edit(paid_runs: PaidRuns, request: EditRequest, user_id: int, progress: gr.Progress, cancel: Any = None,
             *, lang: str = DEFAULT):
    """The one way both the page and the API run an edit: priced, held, charged on success only.

    Errors become gr.Error sentences, in `lang`.
    """
    try:
        return paid_runs.run(request, user_id, on_progress=progress_reporter(progress, lang), cancel=cancel)
    except RunFailed as exc:
        sentence = text("handlers.not_charged", lang, error=localize(str(exc), lang))
        raise gr.Error(sentence, title=text("handlers.could_not_run", lang), print_exception=False) from None
    except UserError as exc:
        raise user_error(exc, lang) from None


class StudioHandlers:
    """The Studio page's events. `controls` (name -> component) is filled in when the page is drawn."""

    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.service = studio.service
        self.paid_runs = studio.paid_runs
        self.settings = studio.settings
        self.sessions = studio.sessions
        self.upload_root = studio.upload_root
        self.account = account
        self.operation: Any = None  # the operation picker
        self.controls: dict[str, Any] = {}  # one per input name (pipelines.registry.inputs)

    def _session(self, request: gr.Request) -> StudioSession:
        """This tab's pictures, for whoever is signed in now: another user presenting the tab's id gets none."""
        starlette = getattr(request, "request", None)
        address = starlette.client.host if starlette is not None and starlette.client else "unknown"
        visitor = Visitor(self.account.user_id(request), address)
        session = self.sessions.get(request.session_hash or "anonymous", visitor)
        notice = session.take_notice()
        if notice:
            gr.Warning(localize(notice, language(request)))
        return session

    def _view(self, session: StudioSession, operation: str, lang: str, **info: Any) -> tuple:
        """slider, history, download link, result line, and the painter when some operation paints."""
        entry = session.current
        shown = (
            views.slider_value(entry),
            views.history_value(session),
            views.download_link(entry, lang),
            views.result_info(entry, lang=lang, **info),
        )
        if MASK.name not in self.controls:
            return shown
        return (*shown, views.painter_value(entry) if get_operation(operation).masked else None)

    def _context(self, session: StudioSession) -> InputContext:
        picture = session.current.image if session.current is not None else None
        return InputContext(self.settings, self._read_upload, picture)

    def _read_upload(self, payload: Any) -> bytes:
        return take_upload(payload, self.upload_root, max_bytes=self.settings.max_upload_bytes)

    # --- page

    def page_load(self, request: gr.Request) -> dict:
        lang = language(request)
        status = self.service.status()
        demo_ops = [text(label_key(op_id), lang) for op_id, s in status.items() if s["weights"] == "tiny"]
        if not demo_ops:
            return gr.update(visible=False)
        return gr.update(value=text("handlers.demo_banner", lang, operations=", ".join(demo_ops)), visible=True)

    def close(self, request: gr.Request) -> None:
        """The tab closed: forget its pictures now, not in an hour."""
        self.sessions.drop(request.session_hash or "anonymous")

    # --- picture in

    def upload(self, payload: Any, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        lang = language(request)
        limit = self.settings.anonymous_max_pixels if session.visitor.anonymous else None
        try:
            image = IMAGE.parse(payload, InputContext(self.settings, self._read_upload, max_pixels=limit))
        except UserError as exc:
            raise user_error(exc, lang) from None
        session.start(image, label=text("handlers.original", lang))
        return self._view(session, operation, lang)

    def clear(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.clear()
        return self._view(session, operation, language(request))

    # --- the operation picker

    def choose_operation(self, operation: str) -> dict:
        """Show the chosen operation's help and exactly the controls it takes."""
        op = get_operation(operation)
        updates = {self.op_help: gr.update(value=t(f"op.{op.id}.help"))}
        for name, control in self.controls.items():
            updates[control] = gr.update(visible=op.takes(name))
        if op.takes(PROMPT.name):
            updates[self.controls[PROMPT.name]] = gr.update(visible=True, label=t(prompt_key(op.id)))
        if op.takes(MODEL.name):  # its own models (hidden when there is nothing to choose)
            choices = op.model_choices(self.settings)
            updates[self.controls[MODEL.name]] = gr.update(visible=len(choices) > 1, choices=choices, value=choices[0])
        updates[self.advanced] = gr.update(visible=any(item.advanced for item in op.inputs))
        return updates

    def refresh_painter(self, operation: str, request: gr.Request) -> dict | None:
        return views.painter_value(self._session(request).current) if get_operation(operation).masked else None

    # --- running

    def run(self, values: dict[Any, Any], request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple:
        """Run: `values` holds the operation picker and every control, by component (Gradio's set inputs)."""
        raw = {name: values.get(control) for name, control in self.controls.items()}
        return self.run_named(values[self.operation], raw, request, progress)

    def run_named(self, operation: str, raw: dict[str, Any], request: gr.Request,
                  progress: gr.Progress | None = None) -> tuple:
        """Run `operation` on the tab's current picture with the controls' raw values, by input name."""
        user = self.account.require_user(request)
        lang = language(request)
        session = self._session(request)
        if session.current is None:
            raise gr.Error(text("handlers.no_photo", lang), title=text("handlers.no_photo_title", lang),
                           print_exception=False)
        op = get_operation(operation)
        try:
            edit = op.request_from(raw, self._context(session))
        except UserError as exc:
            raise user_error(exc, lang) from None
        cancel = session.begin_run()
        try:
            result = run_edit(self.paid_runs, edit, user.id, progress or gr.Progress(), cancel, lang=lang)
        except RunCancelled:
            gr.Info(text("handlers.cancelled", lang))
            return (gr.skip(),) * (5 if MASK.name in self.controls else 4)  # as many as _view gives
        finally:
            session.end_run()
        session.add(result.image, text(label_key(op.id), lang), seed=result.seed, run_id=result.run_id)
        return self._view(session, operation, lang, duration_ms=result.duration_ms, weights=result.weights,
                          credits=result.credits)

    def run_label(self, values: dict[Any, Any], request: gr.Request) -> dict:
        """'Run · 4 credits' ('Kör · 4 krediter'): the price of what pressing Run would do, before it is pressed."""
        op = get_operation(values[self.operation])
        session = self._session(request)
        if session.current is None:
            credits = base_price(self.settings, op)
        else:
            raw = {name: values.get(control) for name, control in self.controls.items()}
            credits = self.paid_runs.price(self._priced_request(op, raw, session))
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

    # --- history

    def undo(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.undo()
        return self._view(session, operation, language(request))

    def redo(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.redo()
        return self._view(session, operation, language(request))

    def select(self, operation: str, event: gr.SelectData, request: gr.Request) -> tuple:
        session = self._session(request)
        session.select(int(event.index))
        return self._view(session, operation, language(request))
