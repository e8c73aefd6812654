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
from pipelines.base import EditRequest
from pipelines.errors import RunCancelled, RunFailed, UserError
from pipelines.images import decode_image
from pipelines.registry import OPERATIONS
from pipelines.service import ProgressFn
from ui import views
from ui.account import AccountHandlers

if TYPE_CHECKING:
    from services import Studio
from ui.session import StudioSession
from ui.uploads import take_upload


def progress_reporter(progress: gr.Progress) -> ProgressFn:
    def report(done: int, total: int, what: str) -> None:
        if total > 0 and done > 0:
            progress((done, total), desc=what, unit="steps")
        else:
            progress(0.0, desc=what)

    return report


def user_error(exc: Exception) -> gr.Error:
    return gr.Error(str(exc), title="Could not run", print_exception=False)


def run_edit(paid_runs: PaidRuns, request: EditRequest, user_id: int, progress: gr.Progress, cancel: Any = None):
    """The one way both the page and the API run an edit: priced, held, charged on success only.

    Errors become gr.Error sentences.
    """
    try:
        return paid_runs.run(request, user_id, on_progress=progress_reporter(progress), cancel=cancel)
    except RunFailed as exc:
        raise gr.Error(f"{exc} No credits were charged.", title="Could not run", print_exception=False) from None
    except UserError as exc:
        raise user_error(exc) from None


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

    def _view(self, session: StudioSession, operation: str, **info: Any) -> tuple:
        """slider, history, download link, result line, painter."""
        entry = session.current
        painter = views.painter_value(entry) if operation == "inpaint" else None
        return (
            views.slider_value(entry),
            views.history_value(session),
            views.download_link(entry),
            views.result_info(entry, **info),
            painter,
        )

    # --- page

    def page_load(self) -> dict:
        status = self.service.status()
        demo_ops = [OPERATIONS[op_id].label for op_id, s in status.items() if s["weights"] == "tiny"]
        if not demo_ops:
            return gr.update(visible=False)
        text = (
            "**Demo weights.** Real model weights are not reachable from this server, so "
            + ", ".join(demo_ops)
            + " run on tiny random stand-ins: results are noise. Everything else works as in production."
        )
        return gr.update(value=text, visible=True)

    def close(self, request: gr.Request) -> None:
        """The tab closed: forget its pictures now, not in an hour."""
        self.sessions.drop(request.session_hash or "anonymous")

    # --- picture in

    def upload(self, payload: Any, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        try:
            image = decode_upload(payload, self.upload_root, self.settings)
        except UserError as exc:
            raise user_error(exc) from None
        session.start(image)
        return self._view(session, operation)

    def clear(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.clear()
        return self._view(session, operation)

    # --- the operation picker

    def choose_operation(self, operation: str) -> tuple:
        op = OPERATIONS[operation]
        choices = op.model_choices(self.settings)
        return (
            gr.update(value=f"_{op.help}_"),
            gr.update(visible=bool(op.prompt_label), label=op.prompt_label or "Prompt"),
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
        session = self._session(request)
        entry = session.current
        if entry is None:
            raise gr.Error("Upload a photo first.", title="No photo", print_exception=False)
        op = OPERATIONS[operation]
        try:
            mask = views.mask_from_painter(painter, entry.image.size, max_bytes=self.settings.max_upload_bytes)
        except UserError as exc:
            raise user_error(exc) from None
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
            result = run_edit(self.paid_runs, edit, user.id, progress, cancel)
        except RunCancelled:
            gr.Info("Cancelled. Nothing was changed and no credits were charged.")
            return (gr.skip(),) * 5
        finally:
            session.end_run()
        session.add(result.image, op.label, seed=result.seed, run_id=result.run_id)
        return self._view(session, operation, duration_ms=result.duration_ms, weights=result.weights,
                          credits=result.credits)

    def run_label(self, operation: str, scale: int, directions: list[str], amount: float,
                  request: gr.Request) -> dict:
        """'Run · 4 credits': the price of what pressing Run would do, before it is pressed."""
        entry = self._session(request).current
        if entry is None:
            credits = base_price(self.settings, operation)
        else:
            credits = self.paid_runs.price(EditRequest(
                operation=operation, image=entry.image, scale=int(scale or 2), directions=tuple(directions or ()),
                amount=amount,
            ))
        return gr.update(value=f"Run · {credits} credit{'s' if credits != 1 else ''}")

    def cancel(self, request: gr.Request) -> None:
        self._session(request).cancel()

    # --- history

    def undo(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.undo()
        return self._view(session, operation)

    def redo(self, operation: str, request: gr.Request) -> tuple:
        session = self._session(request)
        session.redo()
        return self._view(session, operation)

    def select(self, operation: str, event: gr.SelectData, request: gr.Request) -> tuple:
        session = self._session(request)
        session.select(int(event.index))
        return self._view(session, operation)


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
