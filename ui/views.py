"""What the page shows for a session, as the raw values Gradio components take.

Results go out as `data:` URLs inside FileData dicts, on events with postprocess=False, so
Gradio never writes them to its cache (where any signed-in user could fetch them by URL).
Nothing here imports gradio.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from PIL import Image

from kernel.language import DEFAULT, translate, translate_count
from pipelines.base import Model
from pipelines.images import thumbnail, to_data_url
from pipelines.recipes import to_json
from pipelines.sessions import HistoryEntry, StudioSession
from pipelines.tiny import STANDS_IN_FOR

STRINGS = {
    "en": {
        "views.download": "⬇ Download PNG ({width}×{height})",
        "views.recipe_download": "⬇ Recipe (JSON)",
        "views.recipe": "How this picture was made (its recipe: replay it under Replay a recipe)",
        "views.seed": "seed `{seed}`",
        "views.run": "run `{run}`",
        "views.seconds": "{seconds} s",
        "views.decimal_point": ".",
        "views.credits.one": "{count} credit",
        "views.credits.other": "{count} credits",
        "views.demo_weights": "demo weights",
        "views.speed.fast": "fast",
        "views.speed.medium": "medium speed",
        "views.speed.slow": "slow, needs a large GPU",
        "views.demo_model": "demo: a tiny random {model}",
        "views.noncommercial": "non-commercial",
    },
    "sv": {
        "views.download": "⬇ Ladda ner PNG ({width}×{height})",
        "views.recipe_download": "⬇ Recept (JSON)",
        "views.recipe": "Hur bilden gjordes (dess recept: kör det igen under Kör ett recept igen)",
        "views.seed": "seed `{seed}`",
        "views.run": "körning `{run}`",
        "views.seconds": "{seconds} s",
        "views.decimal_point": ",",
        "views.credits.one": "{count} kredit",
        "views.credits.other": "{count} krediter",
        "views.demo_weights": "demovikter",
        "views.speed.fast": "snabb",
        "views.speed.medium": "medelsnabb",
        "views.speed.slow": "långsam, kräver ett stort grafikkort",
        "views.demo_model": "demo: en liten slumpmässig {model}",
        "views.noncommercial": "ej för kommersiellt bruk",
    },
}
DISPLAY_MAX_SIDE = 1600  # the canvas shows (and paints on) this much; Download gives the full picture
THUMBNAIL_SIDE = 96  # the history strip


def image_data(image: Image.Image, name: str) -> dict[str, Any]:
    """A Gradio FileData dict that carries the picture inline instead of pointing at a file."""
    return {
        "path": None,
        "url": to_data_url(image),
        "orig_name": name,
        "mime_type": "image/png",
        "meta": {"_type": "gradio.FileData"},
    }


def canvas_value(entry: HistoryEntry | None, *, paint: bool, words: bool = False) -> dict[str, Any]:
    """The canvas (ui/canvas.py): the current picture, and the one before it with where it sits, for Compare;
    its true size (the Select tool's clicks are sent in its pixels) and whether it may be selected by words."""
    if entry is None:
        return {"image": None, "before": None, "placement": None, "paint": False, "mask": None}
    before = entry.parent.image if entry.parent is not None else None
    return {
        "image": to_data_url(fit_display(entry.image)),
        "before": to_data_url(fit_display(before)) if before is not None else None,
        "placement": list(entry.placement),
        "paint": paint,
        "mask": None,
        "size": list(entry.image.size),
        "words": words,
    }


MASK_RGB = (255, 48, 48)  # the brush's colour (ui/canvas.py): a selection and a stroke are one mask


def mask_layer(mask: Image.Image) -> str:
    """A selection as the canvas draws it: the brush's colour where selected, clear elsewhere, at the size the
    canvas shows the picture (a PNG of mostly one colour: small)."""
    alpha = fit_display(mask.convert("L")).point(lambda v: 255 if v > 127 else 0)
    layer = Image.new("RGBA", alpha.size, (*MASK_RGB, 0))
    layer.putalpha(alpha)
    return to_data_url(layer)


def fit_display(image: Image.Image, max_side: int = DISPLAY_MAX_SIDE) -> Image.Image:
    """A copy small enough to send to the page quickly (the page scales it down anyway)."""
    return thumbnail(image, max_side) if max(image.size) > max_side else image


def history_value(session: StudioSession) -> list[dict]:
    return [
        {"image": image_data(thumbnail(e.image, THUMBNAIL_SIDE), f"step-{i}.png"), "caption": f"{i}. {e.label}"}
        for i, e in enumerate(session.entries)
    ]


def model_label(model: Model, tiny_name: str | None, lang: str = DEFAULT) -> str:
    """"Qwen-Image-Edit · slow, needs a large GPU · Apache-2.0", or what stands in for it on demo weights.

    A licence that forbids commercial use says so in the page's language: "bria-rmbg-1.4 (non-commercial)".
    """
    parts = [model.name or model.id]
    if tiny_name is not None:
        parts.append(translate(STRINGS, "views.demo_model", lang, model=STANDS_IN_FOR.get(tiny_name, tiny_name)))
        return " · ".join(parts)
    if model.speed:
        parts.append(translate(STRINGS, f"views.speed.{model.speed}", lang))
    if model.licence or not model.commercial:
        licence = model.licence
        if not model.commercial:
            note = translate(STRINGS, "views.noncommercial", lang)
            licence = f"{licence} ({note})" if licence else note
        parts.append(licence)
    return " · ".join(parts)


def download_link(entry: HistoryEntry | None, lang: str = DEFAULT) -> str:
    """A link that saves the current picture as a PNG (no metadata), straight from the page; beside it, for a
    result, its recipe as a JSON file and shown folded. Both are data: URLs: nothing is written on the server."""
    if entry is None:
        return ""
    url = html.escape(to_data_url(entry.image), quote=True)
    name = f"studio-{entry.run_id[:8]}.png" if entry.run_id else "studio-original.png"
    label = translate(STRINGS, "views.download", lang, width=entry.image.width, height=entry.image.height)
    link = f'<a class="studio-download" href="{url}" download="{name}" id="download-link">{html.escape(label)}</a>'
    if not entry.recipe:
        return link
    recipe = to_json(entry.recipe)
    recipe_url = "data:application/json;base64," + base64.b64encode(recipe.encode()).decode()
    recipe_label = translate(STRINGS, "views.recipe_download", lang)
    return (
        f'{link} <a class="studio-download" href="{recipe_url}" download="studio-{entry.run_id[:8]}.recipe.json" '
        f'id="recipe-link">{html.escape(recipe_label)}</a>'
        f'<details id="recipe"><summary>{html.escape(translate(STRINGS, "views.recipe", lang))}</summary>'
        f"<pre>{html.escape(recipe)}</pre></details>"
    )


def result_info(entry: HistoryEntry | None, duration_ms: int | None = None, weights: str | None = None,
                credits: int | None = None, lang: str = DEFAULT) -> str:
    if entry is None:
        return ""
    parts = [f"**{html.escape(entry.label)}** · {entry.image.width}×{entry.image.height}"]
    if entry.seed is not None:
        parts.append(translate(STRINGS, "views.seed", lang, seed=entry.seed))
    if entry.run_id:
        parts.append(translate(STRINGS, "views.run", lang, run=entry.run_id[:8]))
    if duration_ms is not None:
        seconds = f"{duration_ms / 1000:.1f}".replace(".", translate(STRINGS, "views.decimal_point", lang))
        parts.append(translate(STRINGS, "views.seconds", lang, seconds=seconds))
    if credits:
        parts.append(translate_count(STRINGS, "views.credits", credits, lang))
    if weights == "tiny":
        parts.append(translate(STRINGS, "views.demo_weights", lang))
    return " · ".join(parts)
