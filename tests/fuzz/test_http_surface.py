"""Schemathesis over Studio's own HTTP routes (not Gradio's): no generated request may get a 5xx.

The routes are left out of the public schema (no docs UI in production), so the test builds an OpenAPI document
from the app's FastAPI routes itself, and describes the JSON bodies of the routes that read the raw request.
Every operation runs positive (schema-valid) and negative (schema-violating) requests, anonymous or signed in,
against the live server over real HTTP. Redirects are not followed: OAuth sign-ins point at loopback providers
and their answers are not ours to judge.

One 500 is on purpose: /webhooks/creem answers 500 when a correctly signed event cannot be applied yet, so that
Creem retries. Generated bodies carry no valid signature, so they are refused with 401 first and never get there
(tests/fuzz/test_webhook_parser.py signs its bodies and covers that path).
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fuzz import EXAMPLES

PER_OPERATION = max(10, EXAMPLES // 6)  # per operation and mode: about 15 operations x 2 modes
JSON = "application/json"


def _json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties, "required": required or []}
    return {"required": True, "content": {JSON: {"schema": schema}}}


# Routes that read the request themselves (not through FastAPI parameters): what they accept.
RAW_BODIES: dict[tuple[str, str], dict] = {
    ("/webhooks/creem", "post"): _json_body({
        "id": {"type": "string"}, "eventType": {"type": "string"}, "created_at": {"type": "integer"},
        "object": {"type": "object"},
    }, ["id", "eventType", "object"]),
    ("/consent/cookies", "post"): _json_body({"analytics": {"type": "boolean"}}, ["analytics"]),
    ("/account/delete", "post"): _json_body({"confirm_email": {"type": "string"}, "user_id": {"type": "string"}},
                                            ["confirm_email"]),
    ("/account/accept-policy", "post"): _json_body({"version": {"type": "string"}}, ["version"]),
}
RAW_HEADERS: dict[tuple[str, str], list[dict]] = {
    ("/webhooks/creem", "post"): [{"name": "creem-signature", "in": "header", "schema": {"type": "string"}}],
}


def studio_openapi(app: FastAPI) -> dict:
    """An OpenAPI document of the app's own routes: Gradio is a Mount, so it is not among the APIRoutes."""
    routes = []
    for context in iter_route_contexts(app.routes):  # included routers are expanded into their routes
        route = context.original_route
        if isinstance(route, APIRoute):
            assert route.path_format == context.path_format, "a router included with a prefix: copy the path too"
            visible = copy.copy(route)
            visible.include_in_schema = True
            routes.append(visible)
    document = get_openapi(title="Studio", version="fuzz", routes=routes)
    for (path, method), body in RAW_BODIES.items():
        document["paths"][path][method]["requestBody"] = body
    for (path, method), headers in RAW_HEADERS.items():
        document["paths"][path][method].setdefault("parameters", []).extend(headers)
    return document


OPERATIONS = [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/auth/login/{provider}"), ("GET", "/auth/callback/{provider}"),
    ("POST", "/auth/email"), ("GET", "/auth/magic"), ("POST", "/auth/magic"), ("GET", "/auth/email-change"),
    ("POST", "/auth/logout"), ("POST", "/auth/logout-all"),
    ("POST", "/webhooks/creem"), ("GET", "/billing/success"), ("GET", "/billing/balance"),
    ("GET", "/consent/cookies"), ("POST", "/consent/cookies"),
    ("GET", "/account/export"), ("POST", "/account/delete"), ("GET", "/account/policy"),
    ("POST", "/account/accept-policy"),
    ("POST", "/gradio_api/upload"), ("POST", "/gradio_api/process_recording"), ("GET", "/developers"),
    ("GET", "/account/deleted"),
]


@pytest.fixture(scope="module")
def api_schema(live_app) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(studio_openapi(live_app.app))


def test_the_schema_has_every_route_of_the_app(api_schema) -> None:
    """A new route fails here until it is added to OPERATIONS, and so gets fuzzed."""
    found = {(method.upper(), path) for path, item in api_schema.raw_schema["paths"].items() for method in item}
    assert found == set(OPERATIONS)


# Negative (schema-violating) requests need something that can be invalid: a query, a form, a body, a header.
# Bare paths, or a path whose only parameter is any string, have none (Hypothesis would call them unsatisfiable).
NO_NEGATIVE = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/auth/callback/{provider}"),
               ("POST", "/auth/logout"), ("POST", "/auth/logout-all"), ("GET", "/billing/success"),
               ("GET", "/billing/balance"), ("GET", "/consent/cookies"), ("GET", "/developers"),
               ("GET", "/account/deleted"), ("POST", "/gradio_api/process_recording")}
CASES = [pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
         for method, path in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or (method, path) not in NO_NEGATIVE]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_generated_request_gets_a_server_error(api_schema, live_app, method: str, path: str,
                                                  mode: GenerationMode) -> None:
    operation = api_schema[path][method]
    cookie = live_app.session_cookie()  # its own user: fuzzing logout-all or delete touches no one else
    base_url = live_app.url.rstrip("/")

    @settings(max_examples=PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), signed_in=st.booleans())
    def fuzz(case: schemathesis.Case, signed_in: bool) -> None:
        cookies = {cookie["name"]: cookie["value"]} if signed_in else None
        case.call_and_validate(base_url=base_url, checks=[not_a_server_error], cookies=cookies,
                               allow_redirects=False, timeout=10)

    fuzz()


@pytest.mark.parametrize("path", ["/account/delete", "/account/accept-policy", "/consent/cookies", "/webhooks/creem"])
@pytest.mark.parametrize("body", [b"[" * 100_000, b"\xff\xfe{}", b'{"a": 1e999999}'], ids=["deep", "not-utf8", "huge"])
def test_json_bodies_no_parser_can_read_are_refused_with_4xx(live_app, path: str, body: bytes) -> None:
    """Bodies schemathesis does not make: nesting deeper than Python's json recurses, bytes that are not UTF-8."""
    cookie = live_app.session_cookie()
    answer = httpx.post(live_app.url.rstrip("/") + path, content=body, timeout=10,
                        headers={"content-type": JSON}, cookies={cookie["name"]: cookie["value"]})
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
