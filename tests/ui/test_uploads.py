"""Gradio's upload folder: read once, deleted at once, nothing outside it read."""

from __future__ import annotations

import os

import pytest

from config import Settings
from kernel.errors import UserError
from pipelines.inputs import MASK, InputContext
from tests import samples
from ui.uploads import prepare_temp_dir, take_upload
from ui.views import image_data


def test_an_upload_is_read_and_deleted_with_its_folder(tmp_path):
    root = tmp_path / "gradio"
    (root / "abc123").mkdir(parents=True)
    upload = root / "abc123" / "me.png"
    upload.write_bytes(samples.png())
    assert take_upload({"path": str(upload)}, root, max_bytes=10**6) == samples.png()
    assert not upload.exists() and not (root / "abc123").exists()


def test_paths_outside_the_folder_are_refused_and_left_alone(tmp_path):
    root = tmp_path / "gradio"
    root.mkdir()
    elsewhere = tmp_path / "secret.png"
    elsewhere.write_bytes(samples.png())
    for path in (str(elsewhere), str(root / ".." / "secret.png")):
        with pytest.raises(UserError, match="Upload the picture to this app first"):
            take_upload({"path": path}, root, max_bytes=10**6)
    assert elsewhere.exists()


def test_inline_data_urls_and_missing_uploads(tmp_path):
    picture = samples.noise(20, 20)
    assert take_upload(image_data(picture, "x.png"), tmp_path, max_bytes=10**6)
    with pytest.raises(UserError, match="no longer here"):
        take_upload({"path": str(tmp_path / "gone" / "x.png")}, tmp_path, max_bytes=10**6)
    with pytest.raises(UserError, match="not a link"):
        take_upload({"url": "https://example.com/cat.png"}, tmp_path, max_bytes=10**6)
    with pytest.raises(UserError, match="upload a photo"):
        take_upload(None, tmp_path, max_bytes=10**6)


def test_each_process_gets_a_private_folder_and_dead_ones_are_cleared(tmp_path):
    stale = tmp_path / "999999999"
    stale.mkdir()
    (stale / "left-behind.png").write_bytes(b"x")
    folder = prepare_temp_dir(tmp_path, min_free_mb=1)
    assert folder == tmp_path / str(os.getpid()) and folder.is_dir()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert not stale.exists()


def test_the_painted_mask_is_read_from_alpha_at_the_pictures_size():
    from PIL import Image

    canvas = Image.new("RGBA", (50, 40), (0, 0, 0, 0))
    canvas.paste((255, 48, 48, 255), (10, 10, 20, 20))
    ctx = InputContext(Settings(_env_file=None), read_upload=bytes, picture=Image.new("RGB", (100, 80)))
    mask = MASK.parse({"mask": image_data(canvas, "m.png")["url"]}, ctx)
    assert mask.size == (100, 80) and mask.getbbox() == (20, 20, 40, 40)
    assert MASK.parse({"image": "x", "mask": None}, ctx) is None
    with pytest.raises(UserError):
        MASK.parse({"mask": "data:image/png;base64,AAAA"}, ctx)
