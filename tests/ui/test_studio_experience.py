"""The studio as a new visitor meets it, in Chromium: one test per finding of the review (issue 12).

1 Advanced does not break an edit · 2 nothing is lost (reload, language, sign-in by link or GitHub,
leaving asks first) · 3 Run edits the picture shown · 4 one progress display, errors next to Run ·
5 Compare aligned and labelled · 6 the balance in the header · 7 title, examples, Run above the fold,
Cancel quiet, every tab on a phone · 9 model names, undo/redo at the ends, guests' Account tab ·
10 keyboard, labelled fields, no untranslated keys. (8 API: tests/ui/test_developers.py and
tests/auth/test_api_keys.py; 11 demo speed: bench/cold_start.py.)
"""

from __future__ import annotations

import re

import pytest

from tests import samples
from tests.conftest import watched_page
from tests.ui.studio_page import TIMEOUT_MS, StudioPage

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "holiday.png"
    samples.noise(96, 64, seed=3).save(path)
    return path


@pytest.fixture
def member(page, live_app):
    page.context.add_cookies([live_app.session_cookie()])
    return StudioPage(page, live_app.url)


def canvas_size(studio: StudioPage) -> tuple[int, int]:
    """The current picture's true size, from the result line ("… · 96×64 · …")."""
    width, height = re.search(r"(\d+)×(\d+)", studio.info()).groups()
    return int(width), int(height)


# 1 ---------------------------------------------------------------------------------------------------------


def test_opening_advanced_leaves_the_defaults_and_the_edit_runs(member, photo):
    member.upload(photo)
    member.type_prompt("make it snowy")
    member.page.get_by_text("Advanced").click()
    for name in ("seed", "steps", "guidance"):
        assert member.page.input_value(f"#{name} input, #{name} textarea") == ""  # empty, not 0
    member.run()
    assert "Edit with an instruction" in member.info()


# 2 ---------------------------------------------------------------------------------------------------------


def test_a_reload_brings_back_the_picture_the_history_and_the_words(member, photo):
    member.upload(photo)
    member.type_prompt("make it snowy")
    member.run()
    member.page.fill("#prompt textarea", "now make it night")
    member.page.click("#operation-help")  # the words are kept when the box is left
    member.page.wait_for_timeout(500)
    member.page.reload()
    StudioPage.wait_until_loaded(member.page)
    member.page.wait_for_function("document.querySelectorAll('#history img').length === 2", timeout=TIMEOUT_MS)
    assert member.page.input_value("#prompt textarea") == "now make it night"
    assert member.page.is_visible("#canvas img.cv-after")


def test_switching_the_language_keeps_everything(member, photo):
    member.upload(photo)
    member.type_prompt("make it snowy")
    member.run()
    with member.page.expect_navigation(timeout=TIMEOUT_MS):
        member.page.click("#language-sv")
    StudioPage.wait_until_loaded(member.page)
    member.page.wait_for_function("document.querySelectorAll('#history img').length === 2", timeout=TIMEOUT_MS)
    assert member.page.inner_text("#run").startswith("Kör")


def test_signing_in_by_the_emailed_link_in_another_tab_keeps_this_tabs_work(page, live_app, mailbox, photo):
    guest = StudioPage(page, live_app.url)
    guest.upload(photo)  # anonymous visitors may look at their photo before signing in
    guest.type_prompt("make it snowy")
    address = f"tab-{photo.stat().st_mtime_ns % 10**9}@example.com"
    page.fill("#signin-email textarea, #signin-email input", address)
    page.click("#signin-send")
    page.wait_for_function("document.querySelector('#signin-status').innerText.includes('on its way')",
                           timeout=TIMEOUT_MS)
    link = re.search(r"http://\S+", mailbox.last_to(address).get_content()).group(0)
    other = page.context.new_page()  # the mail program opens the link in a new tab
    other.goto(link)
    other.click("#confirm")
    other.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)
    page.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)  # this tab noticed
    user = live_app.studio.accounts.users.by_email(address)
    live_app.studio.acceptance.accept(user.id)
    guest.run()  # on the picture uploaded before signing in
    assert guest.history_count() == 2 and guest.page.input_value("#prompt textarea") == "make it snowy"


def test_signing_in_with_github_returns_to_the_same_work(page, live_app, github, photo):
    github.state.user = {"id": 424242, "login": "octo", "name": "Octo"}
    github.state.emails = [{"email": "octo-return@example.com", "primary": True, "verified": True}]
    guest = StudioPage(page, live_app.url)
    guest.upload(photo)
    guest.type_prompt("a red ball")
    page.click("#operation-help")  # the words are kept when the box is left
    page.wait_for_timeout(500)
    page.click("#signin-github")  # away to GitHub and back
    page.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)
    StudioPage.wait_until_loaded(page)
    page.wait_for_function("document.querySelectorAll('#history img').length === 1", timeout=TIMEOUT_MS)
    assert page.input_value("#prompt textarea") == "a red ball"


LEAVE = "() => window.studioAsksBeforeLeaving()"  # what the page's beforeunload listener answers


def test_leaving_with_unsaved_work_asks_first(member, photo):
    """Headless Chromium shows no beforeunload dialog (and a synthetic beforeunload would make Gradio close its
    stream), so the page's answer to the browser is asked directly."""
    member.upload(photo)
    assert member.page.evaluate(LEAVE) is False  # only the photo: nothing to lose
    member.type_prompt("make it snowy")
    member.run()
    assert member.page.evaluate(LEAVE) is True  # a result: the browser asks first
    member.page.evaluate("() => { window.studioLeaving = true; }")  # our own navigations carry the work over
    assert member.page.evaluate(LEAVE) is False


# 3 ---------------------------------------------------------------------------------------------------------


def test_run_edits_the_picture_the_canvas_shows(member, photo):
    member.upload(photo)
    member.choose("Extend")
    member.run()
    assert canvas_size(member) == (96 + 2 * 24, 64)  # left and right, 25% each
    member.choose("Restyle")
    member.type_prompt("ink drawing")
    member.run()
    assert canvas_size(member) == (144, 64)  # it restyled the extended picture, the one on the canvas
    assert member.page.is_hidden("#photo input[type=file]") or not member.page.is_visible("#photo")


# 4 ---------------------------------------------------------------------------------------------------------


def test_one_progress_display_and_errors_next_to_run(member, photo):
    member.upload(photo)
    member.type_prompt("make it snowy")
    member.set_steps(60)
    member.page.click("#run")
    member.page.wait_for_function(
        "(document.querySelector('#run-status [data-testid=status-tracker]') || {innerText: ''})"
        ".innerText.includes('Editing')", timeout=TIMEOUT_MS)
    showing = member.page.eval_on_selector_all(
        "[data-testid=status-tracker]", "els => els.filter(e => !e.classList.contains('hide') && e.innerText.trim())"
        ".map(e => e.closest('[id]') && e.closest('[id]').id)")
    assert showing == ["run-status"]
    member.page.wait_for_function("document.querySelectorAll('#history img').length === 2", timeout=TIMEOUT_MS)
    member.type_prompt("")
    member.run_expecting_message("type an instruction")
    assert member.page.locator(".toast-body").count() == 0  # not a toast over the sign-in bar
    assert member.page.locator(".error").count() == 0  # and no red badges on the outputs


# 5 ---------------------------------------------------------------------------------------------------------


def test_compare_lines_up_an_extension_and_labels_both_sides(member, photo):
    member.upload(photo)
    assert member.page.is_disabled("#canvas .cv-compare")  # nothing to compare with yet
    member.choose("Extend")
    member.run()
    member.compare()
    frame = member.page.eval_on_selector("#canvas .cv-before-frame", "e => e.getBoundingClientRect().toJSON()")
    stage = member.page.eval_on_selector("#canvas .cv-stage", "e => e.getBoundingClientRect().toJSON()")
    assert abs((frame["x"] - stage["x"]) / stage["width"] - 24 / 144) < 0.02  # the original sits where it sits
    assert abs(frame["width"] / stage["width"] - 96 / 144) < 0.02
    assert member.page.inner_text("#canvas .cv-label-before") == "Before"
    assert member.page.inner_text("#canvas .cv-label-after") == "After"
    background = member.page.eval_on_selector("#canvas .cv-stage", "e => getComputedStyle(e).backgroundImage")
    assert "conic-gradient" in background  # transparency shows on a checkerboard


# 6 ---------------------------------------------------------------------------------------------------------


def test_the_balance_is_in_the_header_and_buy_opens_the_credits_tab(member, live_app):
    member.page.wait_for_function("document.querySelector('#balance').innerText.includes('credits')",
                                  timeout=TIMEOUT_MS)
    member.page.click("#buy")
    member.page.wait_for_selector("#credits-balance", state="visible", timeout=TIMEOUT_MS)


# 7 ---------------------------------------------------------------------------------------------------------


def test_title_pitch_and_an_example_in_one_click(member):
    assert member.page.inner_text("#brand h1") == "Studio"
    assert "never stored" in member.page.inner_text("#brand")
    member.page.click("#example-instruct_edit")
    member.page.wait_for_function("document.querySelectorAll('#history img').length === 1", timeout=TIMEOUT_MS)
    assert member.page.input_value("#prompt textarea") == "make it a snowy winter evening"
    member.run()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_run_above_the_fold_cancel_quiet_and_every_tab_reachable(browser, live_app, viewport):
    for page in watched_page(browser, viewport=viewport):
        page.context.add_cookies([live_app.session_cookie()])
        studio = StudioPage(page, live_app.url)
        page.click("#example-instruct_edit")
        page.wait_for_function("document.querySelectorAll('#history img').length === 1", timeout=TIMEOUT_MS)
        run = page.locator("#run").bounding_box()
        assert run["y"] + run["height"] <= viewport["height"]  # seen without scrolling
        assert not studio.page.is_visible("#cancel")  # only while a run is going
        tabs = page.locator(".tab-wrapper [role=tab], .tab-wrapper .overflow-dropdown button")  # none behind "…"
        names = []
        for i in range(tabs.count()):
            if tabs.nth(i).is_visible():
                box = tabs.nth(i).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
                names.append(tabs.nth(i).inner_text())
        assert {"Studio", "Credits", "Account", "Consent", "Privacy policy", "Terms"} <= set(names)
        page.locator(".tab-wrapper [role=tab], .tab-wrapper .overflow-dropdown button").filter(has_text="Terms").click()
        page.wait_for_selector("#terms", state="visible", timeout=TIMEOUT_MS)


# 9 ---------------------------------------------------------------------------------------------------------


def test_models_by_name_with_what_runs_in_demo_mode(member):
    member.page.get_by_text("Advanced").click()
    member.page.click("#model input")
    options = member.page.locator("ul[role=listbox] li").all_inner_texts()
    qwen = "Qwen-Image-Edit-2511"
    assert any(o.startswith(qwen) and f"demo: a tiny random {qwen}" in o for o in options), options


def test_undo_and_redo_are_disabled_at_the_ends(member, photo):
    member.upload(photo)
    assert member.page.is_disabled("#undo") and member.page.is_disabled("#redo")
    member.type_prompt("make it snowy")
    member.run()
    assert member.page.is_enabled("#undo") and member.page.is_disabled("#redo")
    member.page.click("#undo")
    member.page.wait_for_function("document.querySelector('#redo').disabled === false", timeout=TIMEOUT_MS)
    assert member.page.is_disabled("#undo")


def test_a_guest_sees_no_account_buttons(page, live_app):
    StudioPage(page, live_app.url)
    page.click("button[role=tab]:has-text('Account')")
    page.wait_for_function("document.querySelector('#account-about').innerText.includes('Sign in')",
                           timeout=TIMEOUT_MS)
    for button in ("#sign-out-here", "#sign-out-everywhere", "#create-key", "#revoke-key", "#delete-account"):
        assert not page.is_visible(button), button


# 10 --------------------------------------------------------------------------------------------------------


def test_keyboard_runs_and_undoes(member, photo):
    member.upload(photo)
    member.type_prompt("make it snowy")
    member.page.focus("#prompt textarea")
    member.page.keyboard.press("Control+Enter")
    member.page.wait_for_function("document.querySelectorAll('#history img').length === 2", timeout=TIMEOUT_MS)
    member.page.click("#operation-help")  # out of the text box: Ctrl+Z undoes the edit, not the typing
    member.page.keyboard.press("Control+z")
    member.page.wait_for_function("document.querySelector('#result-info').innerText.includes('Original')",
                                  timeout=TIMEOUT_MS)


def test_the_email_field_has_a_name(page, live_app):
    """Read by a screen reader as what it is, not as "Textbox"."""
    StudioPage(page, live_app.url)
    assert page.get_by_role("textbox", name="Your e-mail address").is_visible()
