"""The Admin tab on the served app: data for ADMIN_EMAILS, the same endpoint refused to everyone else."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from store.tables import usage_events
from tests.ui.studio_page import TIMEOUT_MS, StudioPage

REFUSED = "Only administrators can see usage statistics."
ADMIN = "ops@example.com"


@pytest.fixture
def admins(live_app, monkeypatch):
    """ADMIN_EMAILS for this test only: the handlers read the setting on every call."""
    monkeypatch.setattr(live_app.studio.settings, "admin_emails", [" Ops@Example.COM "])
    return live_app


@pytest.fixture
def probe(live_app) -> str:
    """Runs of an operation no other test uses, yesterday: 3 ok (2, 4, 6 s), 1 failed, 1 refused."""
    operation = f"probe_{uuid.uuid4().hex[:8]}"
    yesterday = datetime.now(UTC) - timedelta(days=1)
    rows = [("ok", 2000), ("ok", 4000), ("ok", 6000), ("failed", 100), ("rejected", 0)]
    with live_app.studio.engine.begin() as conn:
        conn.execute(usage_events.insert(), [
            {"run_id": uuid.uuid4().hex, "user_id": None, "operation": operation, "model_id": "m", "weights": "tiny",
             "status": status, "duration_ms": ms, "input_megapixels": 0.1, "created_at": yesterday}
            for status, ms in rows
        ])
    return operation


def user_for(live_app, email: str):
    return live_app.studio.accounts.users.by_email(email) or live_app.new_user(email)


def key_for(live_app, email: str) -> str:
    key, _ = live_app.studio.accounts.api_keys.create(user_for(live_app, email).id, "tests")
    return key


def cookie_for(live_app, email: str) -> dict:
    """Like live_app.session_cookie, for an address that may already have an account."""
    token = live_app.studio.accounts.start_session(user_for(live_app, email), "pytest")
    host = live_app.url.split("//", 1)[1].split(":", 1)[0]
    return {"name": live_app.studio.settings.session_cookie_name, "value": token, "domain": host, "path": "/"}


def call(live_app, api_name: str, data: list, headers: dict | None = None) -> tuple[str, object]:
    """POST /gradio_api/call/<api>, then read its event stream: ("complete", outputs) or ("error", its JSON)."""
    base = live_app.url + "gradio_api/call/" + api_name
    event_id = httpx.post(base, json={"data": data}, headers=headers or {}).json()["event_id"]
    with httpx.stream("GET", f"{base}/{event_id}", timeout=60, headers=headers or {}) as stream:
        text = "".join(stream.iter_text())
    kind = "complete" if "event: complete" in text else "error"
    payload = json.loads(text.split("event: " + kind, 1)[1].split("data:", 1)[1].strip().split("\n", 1)[0])
    return kind, payload if kind == "complete" else json.dumps(payload, ensure_ascii=False)


def rows_of(plot: dict) -> list[dict]:
    return [dict(zip(plot["columns"], row, strict=True)) for row in plot["data"]]


def test_an_admin_gets_the_numbers(admins, probe):
    kind, outputs = call(admins, "admin_statistics", [7], {"Authorization": f"Bearer {key_for(admins, ADMIN)}"})
    assert kind == "complete", outputs
    summary, *updates = outputs
    assert "runs** in the last 7 days" in summary and "Failure rate" in summary and "Credits sold" in summary
    runs, durations, failures, credits = (update["value"] for update in updates)
    assert [u["x_title"] for u in updates] == ["Day", "Operation", "Day", "Day"]

    assert runs["datatypes"] == {"day": "temporal", "operation": "nominal", "runs": "quantitative"}
    mine = [r for r in rows_of(runs) if r["operation"] == probe]
    assert len(mine) == 7 and sorted(r["runs"] for r in mine) == [0] * 6 + [5]

    bars = {r["bar"]: r["seconds"] for r in rows_of(durations) if r["operation"] == probe}
    assert bars == {f"{probe} median": 4.0, f"{probe} p95": pytest.approx(5.8)}  # failures are not timed

    assert set(failures["columns"]) == {"day", "failure_rate"} and failures["data"]
    assert all(0 <= r["failure_rate"] <= 1 for r in rows_of(failures))
    assert {r["kind"] for r in rows_of(credits)} == {"sold", "spent"}
    assert all(r["credits"] <= 0 for r in rows_of(credits) if r["kind"] == "spent")  # drawn below the line


def test_a_signed_in_user_who_is_not_an_admin_is_refused(admins, probe):
    headers = {"Authorization": f"Bearer {key_for(admins, 'someone@example.com')}"}
    kind, text = call(admins, "admin_statistics", [30], headers)
    assert kind == "error" and REFUSED in text and probe not in text
    kind, outputs = call(admins, "admin_tab", [], headers)
    assert kind == "complete" and outputs[0]["visible"] is False


def test_a_guest_is_refused(admins, probe):
    kind, text = call(admins, "admin_statistics", [30])
    assert kind == "error" and REFUSED in text and probe not in text


def test_the_refusal_and_the_numbers_speak_the_visitors_language(admins):
    kind, text = call(admins, "admin_statistics", [30], {"Accept-Language": "sv-SE,sv;q=0.9"})
    assert kind == "error" and "Endast administratörer kan se användningsstatistik." in text
    headers = {"Authorization": f"Bearer {key_for(admins, ADMIN)}", "Accept-Language": "sv"}
    kind, outputs = call(admins, "admin_statistics", [30], headers)
    assert kind == "complete" and "de senaste 30 dagarna" in outputs[0]
    assert outputs[1]["y_title"] == "Körningar"
    assert {r["kind"] for r in rows_of(outputs[4]["value"])} == {"sålda", "använda"}


def test_without_admin_emails_nobody_is_an_admin(live_app):
    assert live_app.studio.settings.admin_emails == []
    kind, text = call(live_app, "admin_statistics", [30], {"Authorization": f"Bearer {key_for(live_app, ADMIN)}"})
    assert kind == "error" and REFUSED in text


def test_an_admin_cannot_ask_for_another_period(admins):
    kind, text = call(admins, "admin_statistics", [100_000], {"Authorization": f"Bearer {key_for(admins, ADMIN)}"})
    assert kind == "error" and "summary" not in text


# ------------------------------------------------------------------ in Chromium


def admin_tab(page):
    return page.locator("button[role=tab]", has_text="Admin")


def test_the_admin_sees_the_tab_and_its_plots(page, admins, probe):
    page.context.add_cookies([cookie_for(admins, ADMIN)])
    StudioPage(page, admins.url)
    admin_tab(page).wait_for(state="visible", timeout=TIMEOUT_MS)
    admin_tab(page).click()
    page.wait_for_function("document.querySelector('#admin-summary').innerText.includes('runs in the last 30 days')",
                           timeout=TIMEOUT_MS)
    for plot in ("runs", "durations", "failures", "credits"):
        page.wait_for_selector(f"#admin-{plot}-plot canvas, #admin-{plot}-plot svg", timeout=TIMEOUT_MS)

    page.click("#admin-period label:has-text('7 days')")
    page.wait_for_function("document.querySelector('#admin-summary').innerText.includes('in the last 7 days')",
                           timeout=TIMEOUT_MS)


def test_a_user_who_is_not_an_admin_sees_no_tab(page, admins):
    page.context.add_cookies([admins.session_cookie("not-ops@example.com")])
    StudioPage(page, admins.url)
    page.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the page's load events have answered
    assert not admin_tab(page).is_visible()
    assert not page.is_visible("#admin-summary")
