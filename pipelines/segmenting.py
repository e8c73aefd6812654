"""Segment Anything: a picture's embedding once, then a mask per click in milliseconds.

SAM 2 (clicks and boxes) splits into a heavy image encoder and a light prompt encoder + mask
decoder. `embed` runs the encoder once per picture; `decode` runs only the decoder for each
further click, on the kept `Embedding`. SAM 3 (words) does the same with its vision features:
`embed` once, then `find` runs the text encoder and the detector on them for each phrase.

transformers' Sam2Processor / Sam3Processor need torchvision, which does not import beside the
CPU torch here (DESIGN.md), so the few steps they do are done here instead: resize to the model's
square, scale to 0-1, normalise; points and boxes scaled from picture pixels to that square;
low-resolution mask logits scaled back to the picture.

Masks leave as "L" pictures the size of the input: white = selected. They are made small (at the
decoder's resolution) and enlarged as 8-bit values, so a 40-megapixel picture costs 40 MB, not
the 160 MB of a float mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

SAM2 = "sam2"
SAM3 = "sam3"
SAM2_MEAN, SAM2_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet's
SAM3_MEAN, SAM3_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
FOUND_SCORE = 0.5  # SAM 3: an object counts as found above this score
TEXT_TOKENS = 32  # SAM 3 reads this many tokens of text


class Segmenter(NamedTuple):
    """A loaded SAM model and what preparing its inputs needs."""

    model: Any  # Sam2Model or Sam3Model
    family: str  # SAM2 (clicks, boxes) or SAM3 (words, with an optional box)
    size: int  # the square side the picture is resized to
    matte: Any = None  # pipelines.edges.LazyMatte: the edge refiner, loaded on first use
    tokenizer: Any = None  # SAM 3's text side

    @property
    def reads_words(self) -> bool:
        return self.family == SAM3


@dataclass
class Embedding:
    """What the image encoder made of one picture, kept so further prompts skip it.

    Kept in main memory, not the GPU's: many tabs' embeddings would not fit beside the models, they count
    in the pictures' memory budget, and on ZeroGPU they cross back from the GPU worker by pickle. Moving
    one to the GPU for a click is a few milliseconds (about 17 MB for SAM 2 at 1024 px).
    """

    features: Any  # SAM 2: a list of tensors; SAM 3: its vision output
    picture_size: tuple[int, int]  # (width, height) of the picture it was made from
    nbytes: int = 0

    @classmethod
    def of(cls, features: Any, picture_size: tuple[int, int]) -> Embedding:
        kept = _moved(features, "cpu")
        return cls(kept, picture_size, _tensor_bytes(kept))

    def on(self, device: Any) -> Any:
        """The features on the model's device, for one prompt."""
        return _moved(self.features, device)


@dataclass
class EmbeddingCache:
    """A picture's embeddings, by model: kept with the picture (a tab's history entry), gone with it."""

    embeddings: dict[tuple[str, str], Embedding] = field(default_factory=dict)
    on_put: Callable[[], None] | None = field(default=None, repr=False)  # its owner checks its memory budget

    def get(self, key: tuple[str, str]) -> Embedding | None:
        return self.embeddings.get(key)

    def put(self, key: tuple[str, str], embedding: Embedding) -> None:
        self.embeddings[key] = embedding
        if self.on_put is not None:
            self.on_put()

    def clear(self) -> None:
        self.embeddings.clear()

    @property
    def nbytes(self) -> int:
        return sum(embedding.nbytes for embedding in self.embeddings.values())


def pixel_values(segmenter: Segmenter, image: Image.Image) -> Any:
    """The picture as the model's normalised square (1, 3, size, size), on the model's device."""
    import torch

    mean, std = (SAM3_MEAN, SAM3_STD) if segmenter.family == SAM3 else (SAM2_MEAN, SAM2_STD)
    square = image.convert("RGB").resize((segmenter.size, segmenter.size), Image.Resampling.BILINEAR)
    pixels = torch.from_numpy(np.asarray(square, dtype=np.float32) / 255.0).permute(2, 0, 1)
    pixels = (pixels - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    parameter = next(segmenter.model.parameters())
    return pixels.unsqueeze(0).to(device=parameter.device, dtype=parameter.dtype)


def embed(segmenter: Segmenter, image: Image.Image) -> Embedding:
    """Run the image encoder once for this picture."""
    import torch

    pixels = pixel_values(segmenter, image)
    with torch.inference_mode():
        if segmenter.family == SAM3:
            features = segmenter.model.get_vision_features(pixel_values=pixels)
        else:
            features = segmenter.model.get_image_embeddings(pixels)
    return Embedding.of(features, image.size)


def decode(segmenter: Segmenter, embedding: Embedding, points: tuple | None, box: tuple | None) -> Image.Image:
    """SAM 2: the mask for these clicks and/or this box, from a kept embedding (the decoder alone)."""
    import torch

    parameter = next(segmenter.model.parameters())
    scale = _scale(segmenter, embedding.picture_size)
    arguments: dict[str, Any] = {}
    if points:
        coords = torch.tensor([[[[x * scale[0], y * scale[1]] for x, y, _label in points]]])
        arguments["input_points"] = coords.to(parameter.device, parameter.dtype)
        arguments["input_labels"] = torch.tensor([[[label for _x, _y, label in points]]], device=parameter.device)
    if box:
        x0, y0, x1, y1 = box
        corners = torch.tensor([[[x0 * scale[0], y0 * scale[1], x1 * scale[0], y1 * scale[1]]]])
        arguments["input_boxes"] = corners.to(parameter.device, parameter.dtype)
    # One click is ambiguous (a shirt, or the person wearing it): ask for three masks and keep the one
    # the model scores best, as SAM's own demo does. More prompts say enough for a single mask.
    several = bool(points) and len(points) == 1 and not box
    with torch.inference_mode():
        out = segmenter.model(image_embeddings=embedding.on(parameter.device), multimask_output=several, **arguments)
    logits = out.pred_masks[0, 0]  # (masks, h, w)
    best = int(out.iou_scores[0, 0].argmax()) if several else 0
    return _to_picture(logits[best], embedding.picture_size)


def find(segmenter: Segmenter, embedding: Embedding, text: str, box: tuple | None) -> tuple[Image.Image, int]:
    """SAM 3: every object the words name ("all the people"), as one mask, and how many were found.

    With a box, only what lies inside it (SAM 3's own box prompt needs torchvision's roi_align, which is
    not here: the box limits the found mask instead).
    """
    import torch

    parameter = next(segmenter.model.parameters())
    tokens = segmenter.tokenizer([text], return_tensors="pt", padding="max_length", max_length=TEXT_TOKENS,
                                 truncation=True)
    with torch.inference_mode():
        out = segmenter.model(vision_embeds=embedding.on(parameter.device),
                              input_ids=tokens.input_ids.to(parameter.device),
                              attention_mask=tokens.attention_mask.to(parameter.device))
    scores = out.pred_logits[0].float().sigmoid()
    if out.presence_logits is not None:  # "is there any at all?", learned apart from where
        scores = scores * out.presence_logits[0].float().sigmoid()
    keep = scores > FOUND_SCORE
    if not bool(keep.any()):
        return Image.new("L", embedding.picture_size, 0), 0
    union = out.pred_masks[0][keep].max(dim=0).values  # every object found, in one mask
    mask = _to_picture(union, embedding.picture_size)
    if box:
        inside = Image.new("L", mask.size, 0)
        inside.paste(255, tuple(round(edge) for edge in box))
        mask = Image.fromarray(np.minimum(np.asarray(mask), np.asarray(inside)))
        if mask.getbbox() is None:
            return mask, 0
    return mask, int(keep.sum())


def _scale(segmenter: Segmenter, picture_size: tuple[int, int]) -> tuple[float, float]:
    width, height = picture_size
    return segmenter.size / width, segmenter.size / height


def _to_picture(logits: Any, picture_size: tuple[int, int]) -> Image.Image:
    """Low-resolution logits -> an 8-bit mask enlarged to the picture, then cut at one half: white = selected."""
    small = (logits.float().sigmoid() * 255).round().to(dtype=_uint8()).cpu().numpy()
    soft = Image.fromarray(small, mode="L").resize(picture_size, Image.Resampling.BILINEAR)
    return soft.point(lambda value: 255 if value >= 128 else 0)


def _uint8() -> Any:
    import torch

    return torch.uint8


def _moved(value: Any, device: Any) -> Any:
    """`value` (a tensor, a list or tuple of them, or a model output) with every tensor on `device`."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):  # transformers' ModelOutput is a dict too: keep its class
        return type(value)(**{key: _moved(item, device) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return type(value)(_moved(item, device) for item in value)
    return value


def _tensor_bytes(value: Any) -> int:
    """Bytes held by the tensors in `value` (a tensor, a list of them, or a model output)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_tensor_bytes(item) for item in value)
    return 0
