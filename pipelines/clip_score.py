"""CLIP directional similarity: does the change in the picture go the way the instruction says?

direction = cos(image(after) - image(before), text(instruction) - text(neutral)): 1 when the edit moved
the picture exactly along the text's direction, about 0 when unrelated. Only where CLIP_MODEL names a
model (a Hub id or a folder); on demo weights a tiny random stand-in (pipelines/tiny.py "clip") runs in
its place, so the number is computed but means nothing. Runs on the CPU after the run: one small forward.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PIL import Image

from pipelines.images import flatten

if TYPE_CHECKING:
    from config import Settings
    from pipelines.models import ModelManager

log = logging.getLogger(__name__)

NEUTRAL = "a photo"  # the source text: the instruction's direction starts from a plain photo
TINY = "clip"


class ClipDirection:
    """CLIP_MODEL, loaded on first use (its stand-in on demo weights), scoring edits on the CPU."""

    def __init__(self, settings: Settings, models: ModelManager) -> None:
        self.settings = settings
        self.models = models
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.settings.clip_model or ""

    def source(self) -> tuple[str, str]:
        """(what from_pretrained reads, "real" or "tiny"): the stand-in where real weights are out of reach."""
        profile = self.settings.model_profile
        if profile == "real" or (profile == "auto" and self.models.real_weights_available(self.model_id)):
            return self.model_id, "real"
        from pipelines import tiny

        return str(tiny.ensure(TINY, self.settings.tiny_models_path)), "tiny"

    def _model(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                from transformers import CLIPModel, CLIPProcessor

                from pipelines.loaders import BUILDING

                folder, weights = self.source()
                with BUILDING:
                    model = CLIPModel.from_pretrained(folder).eval()
                    processor = CLIPProcessor.from_pretrained(folder)
                self._loaded = (model, processor)
                log.info("CLIP for measurements: %s (%s weights)", self.model_id, weights)
            return self._loaded

    def direction(self, before: Image.Image, after: Image.Image, instruction: str) -> float:
        import torch

        model, processor = self._model()
        inputs = processor(text=[NEUTRAL, instruction], images=[flatten(before), flatten(after)],
                           return_tensors="pt", padding=True, truncation=True)
        with torch.inference_mode():
            texts = _features(model.get_text_features(input_ids=inputs["input_ids"],
                                                      attention_mask=inputs["attention_mask"]))
            images = _features(model.get_image_features(pixel_values=inputs["pixel_values"]))
        texts = torch.nn.functional.normalize(texts, dim=-1)
        images = torch.nn.functional.normalize(images, dim=-1)
        change, meant = images[1] - images[0], texts[1] - texts[0]
        return float(torch.nn.functional.cosine_similarity(change, meant, dim=0))


def _features(output: Any) -> Any:
    """transformers 5 returns the projected embeddings as pooler_output; older versions the tensor itself."""
    return getattr(output, "pooler_output", output)
