"""Images never persist: after a browser session, no file anywhere the app writes holds its pixels."""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image

from tests import samples
from tests.conftest import SYSTEM_TEMP
from tests.pixel_scan import Picture, find_traces
from tests.ui.studio_page import StudioPage


def places_the_app_writes(live_app) -> list[Path]:
    """Gradio's folders, the data folder, the system temp folder and the RAM disk."""
    studio = live_app.studio
    folders = [studio.upload_root, studio.settings.data_dir, SYSTEM_TEMP, Path(tempfile.gettempdir())]
    folders.append(Path(os.environ["GRADIO_TEMP_DIR"]))  # where Gradio was told to write at import
    if Path("/dev/shm").is_dir():
        folders.append(Path("/dev/shm"))
    return folders


def not_the_server(tmp_path_factory) -> tuple[Path, ...]:
    """The test's own input files, and the browser's profile and downloads: the visitor's machine.

    Skipped while walking the system temp folder; the app's folders inside pytest's base folder
    are scanned all the same, as folders of their own.
    """
    browser_dirs = [p for p in SYSTEM_TEMP.glob("playwright*") if p.is_dir()]
    return (tmp_path_factory.getbasetemp(), *browser_dirs)


def test_the_scanner_finds_copies_however_they_are_written(tmp_path):
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    samples.noise(80, 60, seed=9).save(source)
    picture = Picture.from_file("photo", source)
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "copy.bin").write_bytes(source.read_bytes())
    Image.open(source).save(planted / "image.webp", quality=90)
    (planted / "raw.bin").write_bytes(b"xx" + picture.pixels.tobytes())
    hits = find_traces([planted], [picture])
    assert len(hits) == 3, hits
    assert find_traces([planted], [Picture.from_image("other", samples.noise(80, 60, seed=10))]) == []


def test_no_file_holds_the_pictures_after_a_browser_session(browser, live_app, tmp_path, tmp_path_factory):
    started = time.time()
    source = tmp_path / "private" / "passport-photo.png"
    source.parent.mkdir()
    samples.noise(120, 90, seed=21).save(source)
    other = tmp_path / "private" / "family-photo.png"  # a picture to combine with it (compose's picture 2)
    samples.noise(70, 100, seed=22).save(other)

    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([live_app.session_cookie()])
    page = context.new_page()
    studio = StudioPage(page, live_app.url)
    studio.upload(source)
    studio.type_prompt("make it look like winter")
    studio.run()
    studio.choose("Inpaint")
    studio.paint()
    studio.run()
    studio.choose("Combine pictures")
    studio.add_reference(other)
    studio.type_prompt("put the people from picture 2 in picture 1")
    studio.run()
    _name, data = studio.download()
    result = Image.open(io.BytesIO(data))
    result.load()
    page.close()
    context.close()  # downloads live in the browser's own temp folder; closing removes them

    pictures = [Picture.from_file("upload", source), Picture.from_file("picture 2", other),
                Picture.from_image("result", result)]
    hits = find_traces(places_the_app_writes(live_app), pictures, since=started - 1,
                       skip=not_the_server(tmp_path_factory))
    assert hits == [], "pixels left on disk:\n" + "\n".join(hits)


def test_logs_hold_no_image_data_and_no_prompts(live_app, app_logs, monkeypatch):
    from kernel.errors import RunFailed
    from pipelines.base import EditRequest
    from pipelines.registry import OPERATIONS

    service = live_app.studio.service
    private_prompt = "paint my neighbour's licence plate AB-123"
    service.run(EditRequest("instruct_edit", samples.noise(64, 48), private_prompt, steps=1))  # a run that works

    def broken(*_args, **_kwargs):
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(OPERATIONS["instruct_edit"], "forward", broken)
    with pytest.raises(RunFailed):
        service.run(EditRequest("instruct_edit", samples.noise(64, 48), private_prompt, steps=1))  # and one that fails

    text = "\n".join(app_logs.lines)
    assert "the model fell over" in text  # the failure was logged, with its cause ...
    assert private_prompt not in text  # ... but never what the user asked for
    for marker in ("data:image", "iVBORw0KGgo", "base64,"):
        assert marker not in text
