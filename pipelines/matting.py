"""Matting models (BiRefNet): a normalised square picture in, alpha logits out.

BiRefNet is remote code in its model repo (AutoModelForImageSegmentation with trust_remote_code):
transformers' image-segmentation pipeline cannot run it. It takes a batch of RGB pictures resized to
1024×1024 and normalised with ImageNet's mean and deviation, and returns a list of logit maps
(B, 1, H, W) whose last one, through a sigmoid, is the alpha mask.

Its tiny stand-in cannot be remote code (demo weights load offline, trusting nothing), so
`TinyMatting` is a small torch module with the same contract - a few convolutions returning
`[logits]` - saved as config.json plus model.safetensors and loaded by `load_tiny`. Its masks are
noise, like every tiny model's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import torch
from PIL import Image

REAL_SIZE = 1024  # BiRefNet's working size
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class Matting(NamedTuple):
    model: Any  # a torch module: (B, 3, size, size) normalised -> [.., (B, 1, size, size) logits]
    size: int


class TinyMatting(torch.nn.Module):
    """BiRefNet's interface at a few thousand parameters."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.channels = channels
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, channels, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(channels, channels, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(channels, 1, 1),
        )

    def forward(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        return [self.body(pixels)]


def save_tiny(folder: Path, size: int = 64) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = TinyMatting()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"architecture": "TinyMatting", "channels": model.channels,
                                                    "image_size": size}))
    save_file(model.state_dict(), str(folder / "model.safetensors"))


def load_tiny(folder: Path) -> tuple[TinyMatting, int]:
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    model = TinyMatting(config["channels"])
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), int(config["image_size"])


def alpha_masks(matting: Matting, images: list[Image.Image]) -> list[Image.Image]:
    """One "L" alpha mask per RGB picture, at the picture's size."""
    import numpy as np

    parameter = next(matting.model.parameters())
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    square = [np.asarray(image.convert("RGB").resize((matting.size, matting.size), Image.Resampling.BILINEAR))
              for image in images]
    pixels = torch.from_numpy(np.stack(square)).permute(0, 3, 1, 2).float() / 255.0
    pixels = ((pixels - mean) / std).to(device=parameter.device, dtype=parameter.dtype)
    with torch.inference_mode():
        alpha = matting.model(pixels)[-1].sigmoid().float().cpu()
    masks = []
    for mask, image in zip(alpha, images, strict=True):
        values = (mask[0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        masks.append(Image.fromarray(values).resize(image.size, Image.Resampling.BILINEAR))
    return masks
