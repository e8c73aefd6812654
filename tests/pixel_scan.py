"""Looking for a picture's pixels in files, however they were written.

A picture leaves traces as its file bytes, its raw pixel rows, its base64 text, or any
re-encoding (WebP, PNG, JPEG) that decodes to similar pixels. `find_traces` checks all four.
"""

from __future__ import annotations

import base64
import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

MAX_BYTES = 200_000_000  # model weights and the like are not pictures of this session


@dataclass(frozen=True)
class Picture:
    name: str
    file_bytes: bytes | None
    pixels: np.ndarray  # H x W x 3, uint8

    @classmethod
    def from_file(cls, name: str, path: Path) -> Picture:
        data = path.read_bytes()
        return cls(name, data, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))

    @classmethod
    def from_image(cls, name: str, image: Image.Image) -> Picture:
        return cls(name, None, np.asarray(image.convert("RGB")))

    def needles(self) -> list[bytes]:
        """Byte strings that only this picture's traces contain."""
        rows = self.pixels[self.pixels.shape[0] // 2].tobytes()  # one raw row of pixels
        found = [rows[: min(len(rows), 96)]]
        if self.file_bytes:
            middle = len(self.file_bytes) // 2
            chunk = self.file_bytes[middle : middle + 96]
            found += [chunk, base64.b64encode(self.file_bytes)[64:160]]
        return found


def looks_like(candidate: Image.Image, picture: Picture) -> bool:
    """The same shape and strongly correlated pixels: a (possibly lossy or scaled) copy."""
    height, width = picture.pixels.shape[:2]
    if candidate.width < 8 or abs(candidate.width / candidate.height - width / height) > 0.02:
        return False
    size = (max(8, width // 4), max(8, height // 4))  # compare coarse blocks: lossy codecs keep those
    ours = np.asarray(Image.fromarray(picture.pixels).resize(size, Image.Resampling.BOX), dtype=np.float32)
    theirs = np.asarray(candidate.convert("RGB").resize(size, Image.Resampling.BOX), dtype=np.float32)
    if ours.std() < 1 or theirs.std() < 1:
        return bool(np.abs(ours - theirs).mean() < 4)
    return float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]) > 0.9


def files_under(folders: list[Path], *, since: float = 0.0, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Regular files below `folders`, changed at or after `since`, outside the `skip` folders."""
    found: dict[Path, None] = {}
    skipped = {s.resolve() for s in skip}
    for folder in folders:
        for top, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if (Path(top) / d).resolve() not in skipped]
            for name in names:
                path = Path(top) / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_mtime >= since and info.st_size < MAX_BYTES:
                    found.setdefault(path.resolve())
    return list(found)


def find_traces(folders: list[Path], pictures: list[Picture], *, since: float = 0.0,
                skip: tuple[Path, ...] = ()) -> list[str]:
    """'<file>: <picture> (how)' for every file under `folders` that holds one of `pictures`."""
    hits = []
    for path in files_under(folders, since=since, skip=skip):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for picture in pictures:
            if any(needle in data for needle in picture.needles()):
                hits.append(f"{path}: {picture.name} (bytes)")
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    candidate = Image.open(io.BytesIO(data))
                    candidate.load()
            except Exception:  # noqa: BLE001, S112 - most files are not pictures
                continue
            if looks_like(candidate, picture):
                hits.append(f"{path}: {picture.name} (re-encoded {candidate.format})")
    return hits
