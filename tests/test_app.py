"""The composed app: health, the page, routes in the right order, Gradio's privacy switches."""

from __future__ import annotations

import httpx


def test_healthz_reports_profile_and_operations(live_app):
    answer = httpx.get(live_app.url + "healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["model_profile"] == "tiny"
    assert set(body["operations"]) == {
        "instruct_edit", "inpaint", "outpaint", "restyle", "remove_background", "upscale", "compose", "select"
    }
    assert all({"model", "weights", "loaded", "error"} <= set(v) for v in body["operations"].values())


def test_the_page_is_served_at_the_root(live_app):
    answer = httpx.get(live_app.url)
    assert answer.status_code == 200 and "<html" in answer.text.lower()


def test_run_history_and_mcp_are_off(live_app):
    config = httpx.get(live_app.url + "config").json()
    assert config["run_history"] is False  # runs are not kept in the visitor's browser
    assert httpx.get(live_app.url + "gradio_api/mcp/schema").status_code == 404


def test_gradio_writes_only_to_the_private_ram_folder(live_app):
    import os

    root = live_app.studio.upload_root
    assert os.environ["GRADIO_TEMP_DIR"] == str(root)
    assert root.name == str(os.getpid())
