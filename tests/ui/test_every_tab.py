"""Every tab, on a desktop and on a phone, in English and in Swedish: a screenshot of each (to look at), no
untranslated text key anywhere on it, and no serious or critical accessibility violation (axe-core).

Screenshots go to SCREENSHOTS (default artifacts/screens/), named <language>-<size>-<tab>.png.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import pytest

from tests import samples
from tests.conftest import watched_page
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from ui.i18n import text

REPO = Path(__file__).resolve().parents[2]
TABS = ("studio.tab", "compare.tab", "credits.tab", "account.tab", "consent.tab", "privacy.tab", "privacy.terms_tab")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "sv": "sv-SE"}

# A text key left untranslated looks like "common.complete" or "studio.run": words joined by dots.
KEYS_SHOWN = r"""() => {
  const key = /^[a-z_]+(\.[a-z0-9_]+)+$/, found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && el.closest('.i18n, script, style, code, pre')) continue;  // other languages' copies, code
    const t = walker.currentNode.textContent.trim();
    if (key.test(t)) found.add(t);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]'))
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = (el.getAttribute(a) || '').trim();
      if (key.test(v)) found.add(`${a}=${v}`);
    }
  return [...found];
}"""
AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"""


@pytest.fixture(scope="module")
def screens() -> Path:
    folder = Path(os.environ.get("SCREENSHOTS") or REPO / "artifacts" / "screens").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_tab_looks_right_reads_right_and_passes_axe(browser, live_app, screens, tmp_path, lang, size):
    axe = (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text()
    photo = tmp_path / "photo.png"
    samples.noise(96, 64, seed=5).save(photo)
    for page in watched_page(browser, viewport=SIZES[size], locale=LOCALES[lang]):
        page.context.add_cookies([live_app.session_cookie()])
        studio = StudioPage(page, live_app.url)
        page.click("#example-outpaint")  # a picture, a result, and something to compare
        page.wait_for_function("document.querySelectorAll('#history img').length === 1", timeout=TIMEOUT_MS)
        studio.run()
        studio.compare()
        page.get_by_text(text("studio.advanced", lang), exact=True).first.click()  # its controls, in the shots too
        page.wait_for_selector("#steps", state="visible", timeout=TIMEOUT_MS)
        assert page.input_value("#steps input, #steps textarea") == ""  # empty means the default, never 0
        problems = []
        for key in TABS:
            name = text(key, lang)
            page.locator(".tab-wrapper [role=tab], .tab-wrapper .overflow-dropdown button") \
                .filter(has_text=name).first.click()
            page.wait_for_timeout(1200)  # the tab's handler fills it in
            page.screenshot(path=str(screens / f"{lang}-{size}-{key.split('.')[0]}"
                                                f"{'-terms' if 'terms' in key else ''}.png"), full_page=True)
            problems += [f"{name}: untranslated {shown}" for shown in page.evaluate(KEYS_SHOWN)]
            page.evaluate(axe + "\n;true")  # through the DevTools protocol: the page's CSP lets no inline script in
            problems += [f"{name}: {violation}" for violation in page.evaluate(AXE)]
        # the Select tool of the masked edits, with its words box, invert and grow/shrink
        page.locator(".tab-wrapper [role=tab]").filter(has_text=text("studio.tab", lang)).first.click()
        page.click("#canvas .cv-compare")  # Compare off again: the tools show
        page.wait_for_selector("#canvas .cv:not(.comparing)", timeout=TIMEOUT_MS)
        studio.choose(text("op.inpaint.label", lang))
        page.click("#canvas .cv-mode-select")
        page.wait_for_selector("#canvas .cv-select-tools", state="visible", timeout=TIMEOUT_MS)
        page.locator("#canvas").scroll_into_view_if_needed()
        page.screenshot(path=str(screens / f"{lang}-{size}-select.png"), full_page=True)
        problems += [f"select: untranslated {shown}" for shown in page.evaluate(KEYS_SHOWN)]
        problems += [f"select: {violation}" for violation in page.evaluate(AXE)]
        problems += compose_view(page, studio, screens / f"{lang}-{size}-studio-compose.png", photo, lang)
        assert not problems, "\n".join(problems)


def compose_view(page, studio: StudioPage, shot: Path, photo: Path, lang: str) -> list[str]:
    """The Studio tab with "Combine pictures" chosen and one picture added beside the canvas: a screenshot,
    and what is untranslated or inaccessible on it."""
    page.locator(".tab-wrapper [role=tab]").filter(has_text=text("studio.tab", lang)).first.click()
    studio.choose(text("op.compose.label", lang))
    studio.add_reference(photo)
    page.screenshot(path=str(shot), full_page=True)
    return [f"compose: untranslated {shown}" for shown in page.evaluate(KEYS_SHOWN)] + \
        [f"compose: {violation}" for violation in page.evaluate(AXE)]
