"""The operations in the visitor's language, by operation id. Nothing here imports gradio.

pipelines/ops/ keep their English label, help and prompt label (the API and its docs use them);
the English table here is read from them, and the Swedish is written here. A new operation
without Swedish texts fails tests/ui/test_i18n.py.
"""

from __future__ import annotations

from pipelines.base import Operation
from pipelines.geometry import DIRECTIONS
from pipelines.registry import OPERATIONS


def _english() -> dict[str, str]:
    texts = {"op.prompt": "Prompt", "op.prompt_missing": Operation.prompt_missing}
    for op in OPERATIONS.values():
        texts[f"op.{op.id}.label"] = op.label
        texts[f"op.{op.id}.help"] = op.help
        if op.prompt_label:
            texts[f"op.{op.id}.prompt"] = op.prompt_label
        if op.prompt_missing != Operation.prompt_missing:
            texts[f"op.{op.id}.prompt_missing"] = op.prompt_missing
    texts.update({f"op.direction.{side}": side for side in DIRECTIONS})
    return texts


STRINGS = {
    "en": _english(),
    "sv": {
        "op.prompt": "Prompt",
        "op.prompt_missing": "Skriv en prompt först.",
        "op.instruct_edit.label": "Redigera med en instruktion",
        "op.instruct_edit.help": "Säg vad som ska ändras, t.ex. ”gör det vintrigt” eller ”gör bilen röd”.",
        "op.instruct_edit.prompt": "Instruktion",
        "op.instruct_edit.prompt_missing": "Skriv en instruktion först, t.ex. ”gör det vintrigt”.",
        "op.inpaint.label": "Måla om eller ta bort",
        "op.inpaint.help": "Måla över ett område och säg vad som ska finnas där, eller lämna texten tom för att "
                           "ta bort det.",
        "op.inpaint.prompt": "Vad som ska finnas där (tomt: ta bort)",
        "op.outpaint.label": "Utöka bilden",
        "op.outpaint.help": "Lägg till yta på de sidor du väljer; modellen målar det som skulle kunna finnas där.",
        "op.outpaint.prompt": "Vad det nya området visar (valfritt)",
        "op.restyle.label": "Byt stil",
        "op.restyle.help": "Rita om hela bilden i en stil du beskriver; styrkan avgör hur långt den får gå.",
        "op.restyle.prompt": "Beskrivning av stilen",
        "op.restyle.prompt_missing": "Beskriv stilen först, t.ex. ”akvarellmålning”.",
        "op.remove_background.label": "Ta bort bakgrunden",
        "op.remove_background.help": "Behåll motivet och gör allt annat genomskinligt (PNG med alfakanal).",
        "op.upscale.label": "Förstora",
        "op.upscale.help": "Gör bilden 2 eller 4 gånger större med en modell för superupplösning.",
        "op.direction.left": "vänster",
        "op.direction.right": "höger",
        "op.direction.up": "uppåt",
        "op.direction.down": "nedåt",
    },
}


def label_key(operation: str) -> str:
    return f"op.{operation}.label"


def prompt_key(operation: str) -> str:
    """The prompt box's label; operations without one hide the box."""
    return f"op.{operation}.prompt" if OPERATIONS[operation].prompt_label else "op.prompt"
