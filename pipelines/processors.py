"""Processors the studio loads itself, where diffusers' stock loading cannot run here.

Qwen-Image-Edit's pipelines take a transformers Qwen2VLProcessor. In transformers 5.24 that class cannot
be built without torchvision (its constructor checks every sub-processor's class, and the video
processor's base class exists only with torchvision), and torchvision's PyPI wheels do not load beside
the CPU build of torch. The studio edits pictures, never videos: it loads the tokenizer and the (PIL)
image processor from the model's processor folder and hands diffusers an ImageOnlyQwen2VLProcessor, the
same class less its video part. diffusers loads every other component as usual. One path everywhere, so
the tiny stand-in, CI and a GPU server load it the same way.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

STOCK = ["transformers", "Qwen2VLProcessor"]  # how a model_index.json names it


@functools.cache
def image_only_class() -> type:
    from transformers import Qwen2VLProcessor

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        """Qwen2VLProcessor for pictures: a tokenizer and an image processor, no video processor."""

        @classmethod
        def get_attributes(cls) -> list[str]:
            return ["image_processor", "tokenizer"]

    return ImageOnlyQwen2VLProcessor


def image_only_processor(source: str, subfolder: str = "processor") -> Any:
    """The processor in `source`'s `subfolder` (a Hub repo or a saved pipeline folder), less its video part."""
    from transformers import AutoTokenizer, Qwen2VLImageProcessorPil

    return image_only_class()(
        image_processor=Qwen2VLImageProcessorPil.from_pretrained(source, subfolder=subfolder),
        tokenizer=AutoTokenizer.from_pretrained(source, subfolder=subfolder),
    )


def preloaded_components(source: str, index: dict[str, Any]) -> dict[str, Any]:
    """Components of the pipeline in `source` (its model_index.json is `index`) that diffusers is given
    ready-made instead of loading them: the Qwen2VL processors."""
    return {name: image_only_processor(source, subfolder=name) for name, entry in index.items() if entry == STOCK}


def save_as_stock(folder: Path) -> None:
    """After saving a pipeline built with an image-only processor: name the stock class in its files, as a
    real model folder does, so it loads like one."""
    index_file = folder / "model_index.json"
    index = json.loads(index_file.read_text())
    renamed = [name for name, entry in index.items()
               if isinstance(entry, list) and entry[1:] == ["ImageOnlyQwen2VLProcessor"]]
    for name in renamed:
        index[name] = STOCK
        config_file = folder / name / "processor_config.json"
        config = json.loads(config_file.read_text())
        config["processor_class"] = STOCK[1]
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if renamed:
        index_file.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
