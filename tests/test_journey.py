"""A new visitor's whole journey in Chromium, on one app with analytics, Creem and e-mail configured.

Each step leaves a screenshot (a CI artifact) in JOURNEY_SCREENSHOTS, default artifacts/journey/;
any console error or uncaught exception in the page fails the test, so noise cannot creep in.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from billing.prices import price_list
from tests import samples
from tests.billing.creem_server import PACK
from tests.conftest import LiveApp, serve_app
from tests.policy.test_analytics_consent import MEASUREMENT_ID, Google, analytics_cookies, open_page
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from ui.i18n import text, text_count
from ui.operations import label_key

REPO = Path(__file__).resolve().parent.parent
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "sv": "sv-SE"}
SENT = {"en": "on its way", "sv": "på väg"}  # the sign-in link's status line
PAID = {"en": "Payment received", "sv": "Betalningen är mottagen"}  # the page Creem sends the buyer back to


@pytest.fixture
def journey_app(settings, tmp_path, creem) -> Iterator[LiveApp]:
    """The session's settings (Creem, SMTP on loopback) plus a measurement id, so the cookie banner shows."""
    data = tmp_path / "data"
    ours = settings.model_copy(update={"ga_measurement_id": MEASUREMENT_ID, "data_dir": data,
                                       "gradio_temp_dir": data / "gradio"})
    saved_webhook = creem.state.webhook_url
    try:
        for app in serve_app(ours):
            creem.state.webhook_url = f"{app.url}webhooks/creem"  # Creem pays, then signs and sends the webhook here
            yield app
    finally:
        creem.state.webhook_url = saved_webhook


@pytest.fixture
def screenshots(capsys) -> Path:
    """The artifact folder, printed past pytest's capture so CI logs say where to look."""
    folder = Path(os.environ.get("JOURNEY_SCREENSHOTS") or REPO / "artifacts" / "journey").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    with capsys.disabled():
        print(f"\njourney screenshots: {folder}")
    return folder


def gradio_closing_its_stream(text: str) -> bool:
    """Gradio's own noise when the page navigates away (sign-out, checkout, deletion) while its event stream is open.

    Its beforeunload handler calls client.close(), which aborts the stream's fetch; the stream's onerror
    then console.errors that AbortError (its .catch skips AbortError, onerror does not). Nothing is
    lost: the page is leaving. Matched narrowly: that exact error, raised from the client's close().
    """
    lines = text.splitlines()
    aborted = (len(lines) > 2 and lines[0] == "AbortError: signal is aborted without reason"
               and ".close (" in lines[2] and "/assets/index-" in lines[2])
    # the same, seen from the stream's side when the navigation wins the race (a busy machine)
    cut = [line.strip() for line in lines[:1]] == ["Unexpected error Connection errored out."]  # Gradio adds a space
    return aborted or cut


class Journey:
    """The page, the steps taken so far, and everything the page said in red."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.step_no, self.step = page, folder, 0, "start"
        self.errors: list[str] = []
        self.ignored: list[str] = []  # steps after which Gradio logged aborting its own stream on unload
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"after {self.step}: uncaught: {exc}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if gradio_closing_its_stream(message.text):
            self.ignored.append(self.step)
        else:
            where = message.location or {}
            self.errors.append(f"after {self.step}: console: {message.text} "
                               f"({where.get('url', '')}:{where.get('lineNumber', '')})")

    def shot(self, name: str) -> None:
        self.step_no += 1
        self.step = f"{self.step_no:02d}-{name}"
        self.page.screenshot(path=str(self.folder / f"{self.step}.png"), full_page=True)


def wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=TIMEOUT_MS)


def wait_for_canvas(page, sources: list[str], *, same: bool) -> None:
    """The canvas draws its pictures a moment after the result line changes."""
    page.wait_for_function(
        "([before, same]) => (JSON.stringify([...document.querySelectorAll("
        "'#canvas img.cv-after, #canvas img.cv-before')].map(e => e.getAttribute('src')).filter(Boolean))"
        " === JSON.stringify(before)) === same",
        arg=[sources, same], timeout=TIMEOUT_MS,
    )


def open_tab(page, key: str, lang: str) -> None:
    """Click a tab by its name in the page's language (on a phone every tab is shown inline, none behind "…")."""
    page.locator(".tab-wrapper [role=tab], .tab-wrapper .overflow-dropdown button") \
        .filter(has_text=text(key, lang)).first.click()


def available(count: int, lang: str) -> str:
    return text_count("credits.available", count, lang).lstrip("# ")


@pytest.mark.parametrize(("lang", "size"), [("en", "desktop"), ("sv", "phone")])
def test_a_new_visitor_from_cookie_banner_to_deleted_account(browser, journey_app, mailbox, screenshots, tmp_path,
                                                              capsys, lang, size):
    started = time.monotonic()
    studio_app = journey_app.studio
    EMAIL = f"journey-{lang}@example.com"  # one address per run, as a visitor has
    context = browser.new_context(viewport=SIZES[size], locale=LOCALES[lang], accept_downloads=True)
    page = context.new_page()
    folder = screenshots / f"{lang}-{size}"
    folder.mkdir(exist_ok=True)
    journey = Journey(page, folder)
    google = Google(page)
    photo = tmp_path / "holiday.png"
    samples.noise(96, 64, seed=11).save(photo)
    try:
        # 1. The cookie banner asks; "Only essential" answers it and nothing reaches Google.
        open_page(page, journey_app)
        page.wait_for_selector("#studio-cookie-banner", state="visible", timeout=TIMEOUT_MS)
        journey.shot("cookie-banner")
        page.click("#studio-cookie-essential")
        page.wait_for_selector("#studio-cookie-banner", state="detached", timeout=TIMEOUT_MS)
        assert google.requests == [] and analytics_cookies(page) == []
        journey.shot("banner-answered")

        # 2. Sign in with an e-mailed link.
        page.fill("#signin-email textarea, #signin-email input", EMAIL)
        page.click("#signin-send")
        wait_for_text(page, "#signin-status", SENT[lang])
        journey.shot("link-sent")
        link = re.search(r"http://\S+", mailbox.last_to(EMAIL).get_content()).group(0)
        page.goto(link)
        journey.shot("confirm-link")
        page.click("#confirm")
        page.wait_for_selector("#signed-in-as", state="visible", timeout=TIMEOUT_MS)
        assert EMAIL in page.inner_text("#signed-in-as")
        user = studio_app.accounts.users.by_email(EMAIL)

        # 3. Accept the privacy policy and terms, once.
        studio = StudioPage(page, journey_app.url)
        page.wait_for_selector("#accept-policy", state="visible", timeout=TIMEOUT_MS)
        journey.shot("signed-in-policy-box")
        assert not studio_app.acceptance.accepted(user.id)
        page.click("#accept-policy")
        page.locator("#policy-accept").first.wait_for(state="hidden", timeout=TIMEOUT_MS)
        assert studio_app.acceptance.accepted(user.id)

        # 4. The sign-up credits, enough for the three runs ahead (4 + 3 + 1).
        signup = studio_app.settings.signup_credits
        prices = dict(price_list(studio_app.settings))
        spend = prices["instruct_edit"] + prices["inpaint"] + prices["remove_background"]
        assert spend <= signup
        open_tab(page, "credits.tab", lang)
        wait_for_text(page, "#credits-balance", available(signup, lang))
        journey.shot("signup-credits")
        open_tab(page, "studio.tab", lang)

        # 5. Three edits: an instruction, an inpaint with a painted mask, a background removal.
        studio.upload(photo)
        # The upload's file is deleted by now; the canvas shows the picture itself, from memory.
        shown = studio.canvas_sources()[0]
        assert shown.startswith("data:image/png;base64,")
        shown_pixels = Image.open(io.BytesIO(base64.b64decode(shown.split(",", 1)[1]))).convert("RGB")
        assert shown_pixels.tobytes() == Image.open(photo).convert("RGB").tobytes()
        studio.type_prompt("make it snowy")
        studio.run()
        assert text(label_key("instruct_edit"), lang) in studio.info()
        journey.shot("instruct-edit")
        studio.choose(text(label_key("inpaint"), lang))
        studio.type_prompt("a red ball")
        studio.paint((0.35, 0.35, 0.65, 0.65))
        journey.shot("mask-painted")
        studio.run()
        inpainted = studio.info()
        journey.shot("inpaint")
        studio.choose(text(label_key("remove_background"), lang))
        studio.run()
        removed = studio.info()
        assert text(label_key("remove_background"), lang) in removed
        assert inpainted.split(" · ")[0] != removed.split(" · ")[0]
        assert studio.history_count() == 4
        journey.shot("remove-background")

        # 6. Compare: the canvas holds the picture and the one before it.
        sources = studio.canvas_sources()
        assert len(sources) == 2 and all(src.startswith("data:image/png") for src in sources)

        # 7. Undo goes back to the inpainted picture, redo forward again.
        page.click("#undo")
        wait_for_text(page, "#result-info", inpainted.split(" · ")[0])
        wait_for_canvas(page, sources, same=False)
        journey.shot("undo")
        page.click("#redo")
        wait_for_text(page, "#result-info", removed.split(" · ")[0])
        wait_for_canvas(page, sources, same=True)
        journey.shot("redo")

        # 8. Download the current picture: a PNG the size of the photo.
        name, data = studio.download()
        result = Image.open(io.BytesIO(data))
        assert name.endswith(".png") and result.format == "PNG" and result.size == (96, 64)
        left = signup - spend
        assert studio_app.ledger.balance(user.id).available == left

        # 9. Buy a pack at Creem (the contract server pays and sends the signed webhook).
        pack = studio_app.settings.pack_credits[PACK]
        open_tab(page, "credits.tab", lang)
        wait_for_text(page, "#credits-balance", available(left, lang))
        page.click(f"button:has-text('{text('credits.buy', lang, credits=pack)}')")
        page.wait_for_selector("#pay", timeout=TIMEOUT_MS)
        journey.shot("creem-checkout")
        page.click("#pay")
        page.wait_for_selector("#message", timeout=TIMEOUT_MS)
        assert PAID[lang] in page.inner_text("#message")
        page.wait_for_function(f"document.querySelector('#balance').innerText === '{left + pack}'",
                               timeout=TIMEOUT_MS)
        journey.shot("payment-received")

        # 10. The balance rose by the pack, in the Credits tab too.
        StudioPage(page, journey_app.url)
        open_tab(page, "credits.tab", lang)
        wait_for_text(page, "#credits-balance", available(left + pack, lang))
        assert text("credits.kind.purchase", lang) in page.inner_text("#credit-history")
        journey.shot("balance-risen")

        # 11. Account -> My data -> a JSON file with the address and every credit entry.
        open_tab(page, "account.tab", lang)
        page.wait_for_selector("#export-data", state="visible", timeout=TIMEOUT_MS)
        journey.shot("my-data")
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.click("#export-data")
        export = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert export["tables"]["users"][0]["email"] == EMAIL
        kinds = [entry["kind"] for entry in export["tables"]["credit_entries"]]
        assert {"grant", "hold", "capture", "purchase"} <= set(kinds), kinds  # sign-up, three runs, the pack
        assert kinds.count("capture") == 3, kinds

        # 12. Delete the account, typing the address: signed out, and the account is gone.
        page.fill("#delete-confirm input", EMAIL)
        journey.shot("delete-typed")
        page.click("#delete-account")
        page.wait_for_selector("#deleted", timeout=TIMEOUT_MS)  # a page that says what was deleted
        journey.shot("deleted-signed-out")
        assert studio_app.accounts.users.get(user.id) is None
        assert studio_app.accounts.users.by_email(EMAIL) is None
        assert studio_app.accounts.sessions.active(user.id) == []
        assert not [c for c in context.cookies() if c["name"] == studio_app.settings.session_cookie_name]
        assert google.requests == []
    except Exception:
        journey.shot("failed")
        raise
    finally:
        context.close()

    with capsys.disabled():
        print(f"journey: {journey.step_no} screenshots, {time.monotonic() - started:.1f} s; "
              f"Gradio's unload abort ignored after: {journey.ignored or 'none'}")
    assert not journey.errors, "errors in the page:\n" + "\n".join(journey.errors)
