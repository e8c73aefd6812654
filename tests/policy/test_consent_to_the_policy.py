"""Policy ("Samtycke"): before the first edit the user accepts the current policy and terms; the
acceptance (user, version, time) is recorded, and a new version asks again. Refused runs cost nothing."""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file

from config import Settings
from pipelines.base import EditRequest
from policy.acceptance import PolicyAcceptance, PolicyNotAccepted
from policy.consents import POLICY, Consents
from policy.documents import Documents
from tests import samples
from tests.ui.studio_page import TIMEOUT_MS, StudioPage


def edit() -> EditRequest:
    return EditRequest("instruct_edit", samples.noise(40, 30, seed=3), "make it snowy", steps=1)


def test_no_run_before_acceptance_and_it_costs_nothing(live_app):
    studio = live_app.studio
    user = live_app.new_user(credits=100, accepted=False)
    before = studio.ledger.balance(user.id)
    with pytest.raises(PolicyNotAccepted, match="accept the privacy policy and the terms"):
        studio.paid_runs.run(edit(), user.id)
    assert studio.ledger.balance(user.id) == before

    studio.acceptance.accept(user.id)
    studio.paid_runs.run(edit(), user.id)
    record = studio.consents.current(user.id, POLICY)
    assert record.granted and record.version == studio.acceptance.version and record.at is not None


def test_a_new_policy_version_asks_again(engine):
    from auth.users import Users
    from store.crypto import FieldCipher

    users = Users(engine, FieldCipher.from_settings(Settings(_env_file=None)))
    user = users.create("versions@example.com")
    consents = Consents(engine)
    old = PolicyAcceptance(consents, Documents(Settings(_env_file=None)))
    new = PolicyAcceptance(consents, Documents(Settings(_env_file=None, ga_measurement_id="G-NEW")))
    old.accept(user.id)
    assert old.accepted(user.id) and not new.accepted(user.id)
    with pytest.raises(PolicyNotAccepted, match="have changed since you accepted"):
        new.require(user.id)
    new.accept(user.id)
    assert new.accepted(user.id)
    assert [(c.kind, c.version) for c in consents.history(user.id)] == [(POLICY, old.version), (POLICY, new.version)]


def test_the_api_refuses_until_accepted_with_a_sentence(live_app, tmp_path):
    user = live_app.new_user(accepted=False)
    key, _ = live_app.studio.accounts.api_keys.create(user.id, "tests")
    client = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    picture = tmp_path / "photo.png"
    samples.noise(40, 30, seed=4).save(picture)
    with pytest.raises(Exception, match="accept the privacy policy"):
        client.predict(handle_file(str(picture)), "make it snowy", api_name="/instruct_edit")


def test_the_page_asks_a_new_user_to_accept_and_records_it(browser, live_app):
    user = live_app.new_user(accepted=False)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([live_app.session_cookie(user=user)])
    page = context.new_page()
    StudioPage(page, live_app.url)
    box = page.locator("#policy-accept").first
    box.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "Privacy policy" in page.inner_text("#policy-accept-text")
    page.click("#accept-policy")
    box.wait_for(state="hidden", timeout=TIMEOUT_MS)
    assert live_app.studio.acceptance.accepted(user.id)
    page.reload()
    page.wait_for_selector("#photo input[type=file]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    assert not box.is_visible()  # asked once per version
    context.close()


def test_api_users_accept_the_version_they_read(live_app):
    import httpx

    user = live_app.new_user(accepted=False)
    key, _ = live_app.studio.accounts.api_keys.create(user.id, "tests")
    auth = {"Authorization": f"Bearer {key}"}
    read = httpx.get(f"{live_app.url}account/policy?lang=sv", timeout=30).json()
    assert read["privacy_policy"].startswith("# Integritetspolicy") and "villkor" in read["terms"]
    url = f"{live_app.url}account/accept-policy"
    assert httpx.post(url, json={"version": read["version"]}, timeout=30).status_code == 401
    for body in ({"version": "2020-01-01.deadbeef"}, {}, []):
        answer = httpx.post(url, json=body, headers=auth, timeout=30)
        assert answer.status_code == 409 and read["version"] in answer.json()["error"]
    assert not live_app.studio.acceptance.accepted(user.id)
    assert httpx.post(url, json={"version": read["version"]}, headers=auth, timeout=30).json() == {
        "accepted": read["version"]}
    assert live_app.studio.acceptance.accepted(user.id)
