"""Driving the Studio page in Chromium, in the words a visitor would use."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

TIMEOUT_MS = 90_000


class StudioPage:
    def __init__(self, page, url: str) -> None:
        self.page = page
        page.goto(url)
        self.wait_until_loaded(page)

    @staticmethod
    def wait_until_loaded(page) -> None:
        """The page is up and the server has priced the Run button ("Run · 4 credits"), in the page's language."""
        page.wait_for_selector("#run", state="attached", timeout=TIMEOUT_MS)
        page.wait_for_function("document.querySelector('#run').innerText.includes('·')", timeout=TIMEOUT_MS)

    def upload(self, path: Path) -> None:
        """Upload a photo and wait until it is the picture shown (the upload box then hides again).

        The upload box shows while there is no picture; "New photo" brings it back. A new photo
        starts a new history, so the number of pictures there need not change.
        """
        if not self.page.is_visible("#photo") and self.page.is_visible("#new-photo"):
            self.page.click("#new-photo")
            self.page.wait_for_selector("#photo", state="visible", timeout=TIMEOUT_MS)
        self.page.set_input_files("#photo input[type=file]", str(path))
        self.page.wait_for_selector("#photo", state="hidden", timeout=TIMEOUT_MS)
        self.page.wait_for_function("document.querySelectorAll('#history img').length >= 1", timeout=TIMEOUT_MS)

    def choose(self, label: str) -> None:
        """Pick an operation and wait until the page shows its help (and so its controls)."""
        before = self.page.inner_text("#operation-help")
        self.page.click(f"#operation label:has-text('{label}')")
        self.page.wait_for_function("(before) => document.querySelector('#operation-help').innerText !== before",
                                    arg=before, timeout=TIMEOUT_MS)
        self.page.wait_for_timeout(300)  # the controls' visibility arrives with the same answer

    def type_prompt(self, text: str) -> None:
        self.page.fill("#prompt textarea", text)

    def set_steps(self, steps: int) -> None:
        box = "#steps input, #steps textarea"
        if not self.page.is_visible(box):
            self.page.get_by_text("Advanced").click()
        self.page.fill(box, str(steps))

    def history_count(self) -> int:
        return self.page.eval_on_selector_all("#history img", "els => els.length")

    def run(self) -> None:
        """Press Run and wait for the new picture in the history."""
        before = self.history_count()
        self.page.click("#run")
        self.page.wait_for_function(
            f"document.querySelectorAll('#history img').length > {before}", timeout=TIMEOUT_MS
        )

    def run_expecting_message(self, text: str) -> None:
        self.page.click("#run")
        self.wait_for_message(text)

    def wait_for_message(self, text: str) -> None:
        """The message next to Run (or, for what happens elsewhere, a toast) that says `text`."""
        self.page.locator("#run-message, .toast-body", has_text=text).first.wait_for(timeout=TIMEOUT_MS)

    def paint(self, fraction_box: tuple[float, float, float, float] = (0.4, 0.4, 0.6, 0.6)) -> None:
        """Drag the brush across the middle of the picture."""
        canvas = self.page.wait_for_selector("#canvas canvas.cv-mask", state="visible", timeout=TIMEOUT_MS)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        x0, y0, x1, y1 = fraction_box
        left, right = box["x"] + box["width"] * x0, box["x"] + box["width"] * x1
        top, bottom = box["y"] + box["height"] * y0, box["y"] + box["height"] * y1
        for y in (top, (top + bottom) / 2, bottom):
            self.page.mouse.move(left, y)
            self.page.mouse.down()
            self.page.mouse.move(right, y, steps=8)
            self.page.mouse.up()
        self.page.wait_for_timeout(300)

    def info(self) -> str:
        return self.page.inner_text("#result-info")

    def canvas_sources(self) -> list[str]:
        """The canvas's pictures: the current one, and the one before it when there is one (for Compare)."""
        return self.page.eval_on_selector_all("#canvas img.cv-after, #canvas img.cv-before",
                                              "els => els.map(e => e.getAttribute('src')).filter(Boolean)")

    def compare(self) -> None:
        self.page.click("#canvas .cv-compare")
        self.page.wait_for_selector("#canvas .cv.comparing", timeout=TIMEOUT_MS)

    def download(self) -> tuple[str, bytes]:
        with self.page.expect_download() as event:
            self.page.click("#download-link")
        download = event.value
        return download.suggested_filename, Path(download.path()).read_bytes()

    def downloaded_image(self) -> Image.Image:
        _name, data = self.download()
        return Image.open(io.BytesIO(data))

    def download_recipe(self) -> tuple[str, bytes]:
        """The current result's recipe, saved from the link beside the picture's."""
        with self.page.expect_download() as event:
            self.page.click("#recipe-link")
        download = event.value
        return download.suggested_filename, Path(download.path()).read_bytes()

    def replay(self, recipe: str) -> None:
        """Paste a recipe under "Replay a recipe" and press its button (waits for nothing: see run/wait_for_message)."""
        if not self.page.is_visible("#recipe-box textarea"):
            self.page.click("#replay button:has-text('Replay a recipe'), #replay .label-wrap")
        self.page.fill("#recipe-box textarea", recipe)
        self.page.click("#replay-run")
