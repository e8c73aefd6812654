"""What happens when a visitor acts on the Studio page. ui/studio.py wires these to the components.

Handlers that return pictures run with postprocess=False and return raw values (ui/views.py),
so no result is written to Gradio's cache. Errors reach the page as sentences (gr.Error).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from billing.paid_runs import PaidRuns
from billing.prices import base_price
from config import Settings
from kernel.errors import RunCancelled, RunFailed, UserError
from kernel.language import DEFAULT
from pipelines.base import EditRequest
from pipelines.images import decode_image
from pipelines.registry import OPERATIONS
from pipelines.service import ProgressFn
from ui import views
from ui.account import AccountHandlers
from ui.i18n import language, localize, t, text, text_count
from ui.operations import label_key, prompt_key

if TYPE_CHECKING:
    from services import Studio
from ui.session import StudioSession
from ui.uploads import take_upload

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


def decode_upload(payload: Any, upload_root: Path, settings: Settings):
    data = take_upload(payload, upload_root, max_bytes=settings.max_upload_bytes)
    return decode_image(data, max_pixels=settings.max_input_pixels, min_side=settings.min_input_side)


class StudioHandlers:
    def __init__(self, studio: Studio, account: AccountHandlers) -> None:
        self.service = studio.service
        self.paid_runs = studio.paid_runs
        self.settings = studio.settings
        self.sessions = studio.sessions
        self.upload_root = studio.upload_root
        self.account = account

    def _session(self, request: gr.Request) -> StudioSession:
        return self.sessions.get(request.session_hash or "anonymous")

    def _view(self, session: StudioSession, operation: str, lang: str, **info: Any) -> tuple:
        """slider, history, download link, result line, painter."""
        entry = session.current
        painter = views.painter_value(entry) if operation == "inpaint" else None
        return (
            views.slider_value(entry),
            views.history_value(session),
            views.download_link(entry, lang),
            views.result_info(entry, lang=lang, **info),
            painter,
        )

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
        try:
            image = decode_upload(payload, self.upload_root, self.settings)
        except UserError as exc:
            raise user_error(exc, lang) from None
        session.start(image, label=text("handlers.original", lang))
        return self._view(session, operation, lang)

    def clear(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.clear()
        return self._view(session, operation, language(request))

    # --- the operation picker

    def choose_operation(self, operation: str) -> tuple:
        op = OPERATIONS[operation]
        choices = op.model_choices(self.settings)
        return (
            gr.update(value=t(f"op.{op.id}.help")),
            gr.update(visible=bool(op.prompt_label), label=t(prompt_key(op.id))),
            gr.update(visible="mask" in op.inputs),
            gr.update(visible="directions" in op.inputs),
            gr.update(visible="scale" in op.inputs),
            gr.update(visible="strength" in op.inputs),
            gr.update(visible="steps" in op.inputs),
            gr.update(visible="model" in op.inputs and len(choices) > 1, choices=choices, value=choices[0]),
        )

    def refresh_painter(self, operation: str, request: gr.Request) -> dict | None:
        return views.painter_value(self._session(request).current) if operation == "inpaint" else None

    # --- running

    def run(
        self, operation: str, prompt: str, painter: Any, directions: list[str], amount: float, scale: int,
        strength: float, seed: float | None, steps: float | None, guidance: float | None, model: str | None,
        request: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        user = self.account.require_user(request)
        lang = language(request)
        session = self._session(request)
        entry = session.current
        if entry is None:
            raise gr.Error(text("handlers.no_photo", lang), title=text("handlers.no_photo_title", lang),
                           print_exception=False)
        op = OPERATIONS[operation]
        try:
            mask = views.mask_from_painter(painter, entry.image.size, max_bytes=self.settings.max_upload_bytes)
        except UserError as exc:
            raise user_error(exc, lang) from None
        edit = EditRequest(
            operation=operation,
            image=entry.image,
            prompt=prompt or "",
            mask=mask if "mask" in op.inputs else None,
            seed=_int_or_none(seed),
            steps=_int_or_none(steps),
            guidance=guidance,
            strength=strength,
            scale=int(scale or 2),
            directions=tuple(directions or ()),
            amount=amount,
            model=model if "model" in op.inputs else None,
        )
        cancel = session.begin_run()
        try:
            result = run_edit(self.paid_runs, edit, user.id, progress, cancel, lang=lang)
        except RunCancelled:
            gr.Info(text("handlers.cancelled", lang))
            return (gr.skip(),) * 5
        finally:
            session.end_run()
        session.add(result.image, text(label_key(op.id), lang), seed=result.seed, run_id=result.run_id)
        return self._view(session, operation, lang, duration_ms=result.duration_ms, weights=result.weights,
                          credits=result.credits)

    def run_label(self, operation: str, scale: int, directions: list[str], amount: float,
                  request: gr.Request) -> dict:
        """'Run · 4 credits' ('Kör · 4 krediter'): the price of what pressing Run would do, before it is pressed."""
        entry = self._session(request).current
        if entry is None:
            credits = base_price(self.settings, operation)
        else:
            credits = self.paid_runs.price(EditRequest(
                operation=operation, image=entry.image, scale=int(scale or 2), directions=tuple(directions or ()),
                amount=amount,
            ))
        return gr.update(value=text_count("handlers.run", credits, language(request)))

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


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
