"""`/readyz` (may this instance take traffic?) and `/metrics` (Prometheus), optionally behind a token."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from monitoring.health import Readiness
from monitoring.metrics import Metrics


def monitoring_router(readiness: Readiness, metrics: Metrics, token: str | None = None) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        """200 when the database answers and the default model is loaded; 503 naming what is missing."""
        ready, body = readiness.check()
        return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    @router.get("/metrics")
    def metrics_text(request: Request) -> Response:
        """Counts carry no personal data, but a public Space need not show its traffic: METRICS_TOKEN guards it."""
        if token and not _bearer_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "metrics need Authorization: Bearer <METRICS_TOKEN>"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return Response(metrics.render(), media_type=metrics.content_type, headers={"Cache-Control": "no-store"})

    return router


def _bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
