"""Operations: /readyz says when an instance may take traffic, /metrics counts without naming anyone,
and JSON log lines parse and carry no address and no prompt."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import sys
import threading
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kernel.errors import UserError
from monitoring.health import Readiness
from monitoring.logs import JsonFormatter, TextFormatter, make_handler
from monitoring.metrics import Metrics
from monitoring.routes import monitoring_router
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.models import ModelManager
from pipelines.service import EditService
from tests import samples
from tests.billing.creem_server import PACK, completed_checkout, deliver, event

OUR_LABELS = {"operation", "status", "event_type", "outcome", "le"}


def scrape(url: str, **headers: str) -> dict[tuple[str, frozenset], float]:
    """/metrics as {(sample name, labels): value}."""
    answer = httpx.get(url + "metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text) for s in family.samples
    }


def value(samples_: dict, name: str, **labels: str) -> float:
    return samples_.get((name, frozenset(labels.items())), 0.0)


def small_app(readiness: Readiness, token: str | None = None) -> TestClient:
    app = FastAPI()
    app.include_router(monitoring_router(readiness, Metrics(operations=["upscale"]), token))
    return TestClient(app)


def idle_service(live_app) -> EditService:
    """The live app's settings on models of their own: nothing is loaded until asked."""
    settings = live_app.studio.settings
    return EditService(settings, ModelManager(settings), DeviceQueue(), None)


# ------------------------------------------------------------------ readiness


def test_readyz_is_ready_on_the_live_app_and_healthz_stays_liveness(live_app):
    answer = httpx.get(live_app.url + "readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready" and body["checks"]["database"]["ok"] is True
    assert body["checks"]["model"] == {"ok": True, "operation": None}  # PRELOAD_OPERATION is empty here
    assert httpx.get(live_app.url + "healthz").json()["status"] == "ok"


def test_readyz_is_503_when_the_database_does_not_answer(live_app, tmp_path):
    unreachable = sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'studio.db'}")
    answer = small_app(Readiness(unreachable, live_app.studio.service, "")).get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready" and body["missing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False and "OperationalError" in body["checks"]["database"]["error"]


def test_readyz_gives_up_on_a_database_that_hangs(live_app):
    release = threading.Event()

    def hanging_connect():
        release.wait(10)
        raise ConnectionError("gave up")

    hanging = sa.create_engine("sqlite://", creator=hanging_connect)
    readiness = Readiness(hanging, live_app.studio.service, "", timeout_s=0.2)
    try:
        ready, body = readiness.check()
        assert not ready and body["checks"]["database"]["error"] == "no answer within 0.2 s"
        ready, body = readiness.check()  # the first probe still hangs: no second thread piles up behind it
        assert not ready and "previous check" in body["checks"]["database"]["error"]
    finally:
        release.set()


def test_readyz_waits_for_the_preload_model(live_app):
    service = idle_service(live_app)
    client = small_app(Readiness(live_app.studio.engine, service, "upscale"))
    waiting = client.get("/readyz")
    assert waiting.status_code == 503
    assert waiting.json()["missing"] == ["model"]
    assert waiting.json()["checks"]["model"]["error"] == "the model is still loading"
    service.preload("upscale").join(timeout=120)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["model"]["loaded"] is True


def test_readyz_refuses_an_operation_that_does_not_exist(live_app):
    ready, body = Readiness(live_app.studio.engine, live_app.studio.service, "paint_by_numbers").check()
    assert not ready and body["missing"] == ["model"]


# ------------------------------------------------------------------ metrics


def test_metrics_count_runs_credits_and_webhooks(live_app):
    studio = live_app.studio
    user = live_app.new_user(credits=100)
    before = scrape(live_app.url)

    request = EditRequest("upscale", samples.noise(32, 24), scale=2)
    result = studio.paid_runs.run(request, user.id)
    assert result.credits > 0
    with pytest.raises(UserError):  # refused before any model work
        studio.service.run(EditRequest("instruct_edit", samples.noise(32, 24), "x" * 5000, steps=1))

    hook = live_app.url + "webhooks/creem"
    checkout = {"id": f"ch_{secrets.token_hex(6)}", "request_id": f"req_{secrets.token_hex(6)}", "product_id": PACK,
                "customer": {"email": user.email}, "metadata": {"user_id": str(user.id)}}
    payload = event("checkout.completed", completed_checkout(checkout, f"ord_{secrets.token_hex(6)}"))
    assert deliver(hook, payload).json()["outcome"] == "granted 100"
    assert deliver(hook, payload).json()["outcome"] == "duplicate"
    assert deliver(hook, payload, secret="whsec_someone_else").status_code == 401
    assert deliver(hook, event("something.new", {"id": "x"})).json()["outcome"] == "ignored"

    after = scrape(live_app.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("studio_runs_total", operation="upscale", status="ok") == 1
    assert grew("studio_runs_total", operation="instruct_edit", status="rejected") == 1
    assert grew("studio_run_duration_seconds_count", operation="upscale") == 1
    assert grew("studio_run_duration_seconds_sum", operation="upscale") > 0
    assert grew("studio_credits_spent_total", operation="upscale") == result.credits
    assert grew("studio_webhook_events_total", event_type="checkout.completed", outcome="applied") == 1
    assert grew("studio_webhook_events_total", event_type="checkout.completed", outcome="duplicate") == 1
    assert grew("studio_webhook_events_total", event_type="unknown", outcome="rejected") == 1
    assert grew("studio_webhook_events_total", event_type="other", outcome="ignored") == 1  # no label from outside
    assert ("studio_queue_depth", frozenset()) in after  # read from the device queue at scrape time
    assert value(after, "studio_runs_total", operation="restyle", status="failed") == 0  # zeros are there too


def test_metrics_name_no_one(live_app):
    user = live_app.new_user()
    live_app.studio.paid_runs.run(EditRequest("upscale", samples.noise(32, 24), scale=2), user.id)
    text = httpx.get(live_app.url + "metrics").text
    assert user.email not in text and "@" not in text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert set(sample.labels) <= OUR_LABELS, sample


def test_the_queue_depth_is_read_when_scraped():
    metrics, depth = Metrics(), [3]
    metrics.watch_queue(lambda: depth[0])
    assert "studio_queue_depth 3.0" in metrics.render().decode()
    depth[0] = 0
    assert "studio_queue_depth 0.0" in metrics.render().decode()
    assert DeviceQueue().depth() == 0


def test_each_app_has_its_own_registry():
    first, second = Metrics(operations=["upscale"]), Metrics(operations=["upscale"])  # the global one would refuse
    first.run_finished("upscale", "ok", 0.5)
    assert 'studio_runs_total{operation="upscale",status="ok"} 1.0' in first.render().decode()
    assert 'studio_runs_total{operation="upscale",status="ok"} 0.0' in second.render().decode()


def test_metrics_token_is_required_when_set(live_app):
    client = small_app(Readiness(live_app.studio.engine, live_app.studio.service, ""), token="s3cret-scrape")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-scrape"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert answer.status_code == 200 and "studio_runs_total" in answer.text
    assert client.get("/readyz").status_code == 200  # readiness stays open: probes carry no token


# ------------------------------------------------------------------ logs


def test_json_log_lines_parse_and_name_no_one_after_a_sign_in_and_a_run(live_app, mailbox, app_logs):
    stream = io.StringIO()
    handler = make_handler("json", stream)
    raw = io.StringIO()  # the same records unredacted, from the app's own loggers: its sources name no one either
    unredacted = logging.StreamHandler(raw)
    unredacted.setFormatter(logging.Formatter("%(name)s %(message)s"))
    unredacted.addFilter(lambda record: not record.name.startswith(("mail.log", "studio.test")))  # the test's SMTP
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(unredacted)
    address = f"Logged-{secrets.token_hex(4)}@Example.com"
    prompt = f"make my neighbour's car {secrets.token_hex(4)} disappear"
    try:
        with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as client:
            assert client.post("/auth/email", data={"email": address, "next": "/"}).status_code == 200
            mail = mailbox.last_to(address.lower())
            link = re.search(r"http://\S+/auth/magic\?token=\S+", mail.get_content()).group(0)
            landed = client.post("/auth/magic", data={"token": parse_qs(urlparse(link).query)["token"][0]})
            assert landed.status_code == 303
            session = live_app.studio.accounts.sessions.resolve(
                client.cookies.get(live_app.studio.settings.session_cookie_name))
        user = live_app.studio.accounts.users.get(session.user_id)
        assert user.email == address.lower()
        live_app.studio.acceptance.accept(user.id)
        result = live_app.studio.paid_runs.run(EditRequest("instruct_edit", samples.noise(64, 48), prompt, steps=1),
                                               user.id)
        logging.getLogger("studio.test").warning("sent to %s", address)  # a careless line: the net catches it
    finally:
        root.removeHandler(handler)
        root.removeHandler(unredacted)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "nothing was logged"
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= set(line)
    text = stream.getvalue().lower()
    assert address.lower() not in text and "example.com" not in text
    assert prompt not in stream.getvalue()
    assert address.lower() not in raw.getvalue().lower() and prompt not in raw.getvalue()
    runs = [line for line in lines if line["logger"] == "studio.runs" and line.get("run_id") == result.run_id]
    assert runs and runs[0]["operation"] == "instruct_edit" and runs[0]["status"] == "ok"
    assert "user_id" not in runs[0]


def test_the_json_formatter_keeps_extras_and_exceptions():
    logger = logging.getLogger("studio.format-test")
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "run %s failed", ("abc",), None,
                               extra={"run_id": "abc", "operation": "upscale"})
    try:
        raise RuntimeError("it broke")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "run abc failed" and line["level"] == "ERROR" and line["logger"] == logger.name
    assert line["run_id"] == "abc" and line["operation"] == "upscale"
    assert "RuntimeError: it broke" in line["exception"]
    assert line["timestamp"].endswith("+00:00")
    plain = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "mail to ann.o@mail.example.org", (), None)
    assert "ann.o@" not in TextFormatter().format(plain) and "<address>" in TextFormatter().format(plain)
