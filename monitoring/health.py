"""Readiness: may this process take traffic? The database must answer and the default model be loaded.

Liveness (`/healthz`) only says the process serves requests; a load balancer or Spaces' health
check should route to an instance once `/readyz` says ready, and away from it when it stops.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipelines.registry import DEFAULT, OPERATIONS, first

if TYPE_CHECKING:
    from pipelines.service import EditService

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, engine: Engine, service: EditService, operation: str, timeout_s: float = 2.0) -> None:
        self.engine = engine
        self.service = service
        self.operation = operation  # PRELOAD_OPERATION ("default": the first); empty: readiness waits for no model
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._probing = False

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body): each check's result, and the names of those that failed."""
        checks = {"database": self._database(), "model": self._model()}
        missing = [name for name, result in checks.items() if not result["ok"]]
        body: dict[str, Any] = {"status": "not ready" if missing else "ready", "checks": checks}
        if missing:
            body["missing"] = missing
        return not missing, body

    def _database(self) -> dict[str, Any]:
        """`SELECT 1` in a thread of its own, so a database that hangs costs a probe `timeout_s`, not a worker."""
        with self._lock:
            if self._probing:  # the last probe still hangs: do not pile up threads behind it
                return {"ok": False, "error": "the previous check has not answered yet"}
            self._probing = True
        answered = threading.Event()
        failure: list[BaseException] = []

        def probe() -> None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - reported as not ready
                failure.append(exc)
            finally:
                with self._lock:
                    self._probing = False
                answered.set()

        threading.Thread(target=probe, name="readyz-database", daemon=True).start()
        if not answered.wait(self.timeout_s):
            return {"ok": False, "error": f"no answer within {self.timeout_s:g} s"}
        if failure:
            log.warning("readiness: the database did not answer: %s: %s", type(failure[0]).__name__, failure[0])
            return {"ok": False, "error": f"{type(failure[0]).__name__} (details in the server log)"}
        return {"ok": True}

    def _model(self) -> dict[str, Any]:
        if not self.operation:
            return {"ok": True, "operation": None}
        op = first() if self.operation == DEFAULT else OPERATIONS.get(self.operation)
        if op is None:
            return {"ok": False, "operation": self.operation, "error": "not an operation"}
        state = self.service.models.describe(self.service.default_spec(op))
        result = {"ok": bool(state["loaded"]), "operation": op.id, "model": state["model"], "loaded": state["loaded"]}
        if state["error"]:
            result["error"] = state["error"]
        elif not state["loaded"]:
            result["error"] = "the model is still loading"
        return result
