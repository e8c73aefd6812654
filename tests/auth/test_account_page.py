"""Signing in and managing the account in Chromium: magic link, run, keys, sign out."""

from __future__ import annotations

import re

import pytest
from gradio_client import Client, handle_file

from tests import samples
from tests.ui.studio_page import StudioPage


def test_magic_link_sign_in_run_sign_out(page, live_app, mailbox, tmp_path):
    photo = tmp_path / "photo.png"
    samples.noise(96, 64, seed=5).save(photo)
    studio = StudioPage(page, live_app.url)
    page.wait_for_selector("#signin-email textarea, #signin-email input")
    assert page.is_visible("#signin-google") and page.is_visible("#signin-github")

    studio.upload(photo)  # guests may look around and upload ...
    studio.type_prompt("make it snowy")
    studio.run_expecting_message("sign in")  # ... but running asks them to sign in

    page.fill("#signin-email textarea, #signin-email input", "Frida@Example.com")
    page.click("#signin-send")
    page.wait_for_function("document.querySelector('#signin-status').innerText.includes('on its way')")
    link = re.search(r"http://\S+", mailbox.last_to("frida@example.com").get_content()).group(0)
    page.goto(link)
    page.click("#confirm")
    page.wait_for_selector("#signed-in-as", state="visible", timeout=60_000)
    assert "frida@example.com" in page.inner_text("#signed-in-as")
    assert not page.is_visible("#signin-bar")

    studio = StudioPage(page, live_app.url)
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.run_expecting_message("accept the privacy policy")  # a new account accepts the policy first
    page.click("#accept-policy")
    page.locator("#policy-accept").first.wait_for(state="hidden", timeout=60_000)
    studio.run()
    assert "Edit with an instruction" in studio.info()
    run_id = re.search(r"run (\w+)", studio.info()).group(1)
    row = next(r for r in live_app.studio.service.usage.recent(20) if r["run_id"].startswith(run_id))
    assert row["user_id"] == live_app.studio.accounts.users.by_email("frida@example.com").id

    page.click("#sign-out")
    page.wait_for_selector("#signin-bar", state="visible", timeout=60_000)
    studio = StudioPage(page, live_app.url)
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.run_expecting_message("sign in")


def test_account_tab_keys_and_sessions(page, live_app, tmp_path):
    page.context.add_cookies([live_app.session_cookie("grace@example.com")])
    StudioPage(page, live_app.url)
    page.click("button[role=tab]:has-text('Account')")
    page.wait_for_function("document.querySelector('#account-about').innerText.includes('grace@example.com')")
    assert "a browser" in page.inner_text("#account-sessions")  # the cookie's session, described without an IP

    page.fill("#key-name input, #key-name textarea", "my notebook")
    page.click("#create-key")
    page.wait_for_selector("#new-key", state="visible")
    key = page.input_value("#new-key textarea, #new-key input")
    assert key.startswith("stu_")
    assert "my notebook" in page.inner_text("#api-keys") and key[:12] in page.inner_text("#api-keys")
    assert key not in page.inner_text("#api-keys")  # the list shows only the prefix

    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)
    client = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    assert client.predict(handle_file(str(photo)), 2, api_name="/upscale")[2]

    page.click("#key-to-revoke input")
    page.click("#key-to-revoke li[role=option]:has-text('my notebook')")
    page.click("#revoke-key")
    page.wait_for_function("!document.querySelector('#api-keys').innerText.includes('my notebook')")
    revoked = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    with pytest.raises(Exception, match=r"not valid: it was revoked or mistyped"):  # the run says why
        revoked.predict(handle_file(str(photo)), 2, api_name="/upscale")

    page.click("#sign-out-everywhere")
    page.wait_for_selector("#signin-bar", state="visible", timeout=60_000)
    grace = live_app.studio.accounts.users.by_email("grace@example.com")
    assert live_app.studio.accounts.sessions.active(grace.id) == []
