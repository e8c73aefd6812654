"""Researchers' API keys from gradio_client: a key runs an edit; no key or a revoked key does not."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client, handle_file

from tests import samples


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "photo.png"
    samples.noise(64, 48).save(path)
    return str(path)


def test_a_key_runs_an_operation_and_the_run_is_recorded_for_its_user(live_app, photo):
    user = live_app.new_user()
    key, _ = live_app.studio.accounts.api_keys.create(user.id, "notebook")
    client = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    _result, _seed, run_id, _recipe = client.predict(handle_file(photo), 2, api_name="/upscale")
    row = next(r for r in live_app.studio.service.usage.recent(50) if r["run_id"] == run_id)
    assert row["user_id"] == user.id and row["status"] == "ok"


def test_without_a_key_an_operation_asks_to_sign_in(live_app, photo):
    client = Client(live_app.url, verbose=False, download_files=False)
    with pytest.raises(Exception, match="sign in"):
        client.predict(handle_file(photo), 2, api_name="/upscale")
    # and the refused upload did not stay behind
    assert [p for p in live_app.studio.upload_root.rglob("*") if p.is_file()] == []


def test_a_revoked_key_gets_a_clear_sentence(live_app, tmp_path):
    """Our routes answer 401 with the sentence; through gradio_client the handler says it word for word
    (gradio_client turns any 401 into "credentials were not provided")."""
    user = live_app.new_user()
    accounts = live_app.studio.accounts
    key, info = accounts.api_keys.create(user.id, "old")
    accounts.api_keys.revoke(info.id, user.id)
    answer = httpx.get(live_app.url + "account/export", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 401
    assert "revoked or mistyped" in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"
    client = Client(live_app.url, verbose=False, headers={"Authorization": f"Bearer {key}"})
    photo = tmp_path / "p.png"
    photo.write_bytes(samples.png())
    with pytest.raises(Exception, match="revoked or mistyped"):
        client.predict(handle_file(str(photo)), 2, api_name="/upscale")


def test_a_made_up_key_is_refused_too(live_app, tmp_path):
    photo = tmp_path / "a.png"
    photo.write_bytes(samples.png())
    client = Client(live_app.url, verbose=False, headers={"Authorization": "Bearer stu_not-a-real-key"})
    with pytest.raises(Exception, match="revoked or mistyped"):
        client.predict(handle_file(str(photo)), 2, api_name="/upscale")
    assert not [p for p in live_app.studio.upload_root.rglob("*") if p.is_file()]
