"""A model that cannot load: its operation reads as unavailable (healthz, and a sentence on run, nothing
charged); every other operation keeps working. The unit version is in tests/pipelines/test_models.py."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import handle_file

from tests import samples
from tests.faults.conftest import api_client


def test_the_broken_operation_is_unavailable_and_the_others_work(faulty_app, tmp_path):
    photo = tmp_path / "photo.png"
    samples.noise(64, 48).save(photo)
    client, user_id = api_client(faulty_app)
    ledger = faulty_app.studio.ledger
    start = ledger.balance(user_id).balance

    with pytest.raises(Exception, match="could not be loaded, so this operation is unavailable") as failed:
        client.predict(image=handle_file(str(photo)), prompt="oil painting", strength=0.5, steps=2, seed=7,
                       api_name="/restyle")
    assert "No credits were charged." in str(failed.value)
    assert ledger.balance(user_id).balance == start and ledger.balance(user_id).reserved == 0

    health = httpx.get(faulty_app.url + "healthz", timeout=30).json()
    assert health["status"] == "degraded"
    assert health["operations"]["restyle"]["available"] is False
    assert "could not be loaded" in health["operations"]["restyle"]["error"]
    assert all(op["available"] for name, op in health["operations"].items() if name != "restyle")

    result, _seed, run_id, _recipe = client.predict(image=handle_file(str(photo)), scale=2, api_name="/upscale")
    assert result["url"].startswith("data:image/png") and run_id
    assert ledger.balance(user_id).balance == start - 2  # upscale's price, charged once
