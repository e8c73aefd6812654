"""The reference strip: the further pictures an operation that takes several (compose) combines with the canvas.

Picture 1 is the canvas, the picture Run edits; the strip shows it small, for the numbering, and beside
it pictures 2, 3 and 4 as small thumbnails, each with its own Remove button, and an "Add a picture"
upload button (a photo picker on a phone) while there is room. Like the canvas's photo, an added
picture is read, its upload deleted at once, and kept in the tab's memory only (pipelines/sessions.py);
thumbnails go out as data: URLs on events with postprocess=False.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from pipelines.images import thumbnail
from pipelines.inputs import IMAGES
from pipelines.sessions import StudioSession
from ui.i18n import t
from ui.views import image_data

SLOTS = IMAGES.most - 1  # the canvas is picture 1
NUMBERS = range(2, SLOTS + 2)
THUMBNAIL_SIDE = 160

STRINGS = {
    "en": {
        "references.title": "Pictures to combine",
        "references.lead": "Add up to 3 pictures to take things from, and name them in the instruction: “put the "
                           "lamp from picture 2 on the table in picture 1”.",
        "references.picture_1": "Picture 1 (your photo)",
        "references.add": "+ Add a picture",
        "references.full": "You have added as many pictures as can be combined; remove one to add another.",
        **{f"references.picture_{n}": f"Picture {n}" for n in NUMBERS},
        **{f"references.remove_{n}": f"✕ Remove picture {n}" for n in NUMBERS},
    },
    "sv": {
        "references.title": "Bilder att kombinera",
        "references.lead": "Lägg till upp till 3 bilder att hämta saker från, och nämn dem i instruktionen: ”ställ "
                           "lampan från bild 2 på bordet i bild 1”.",
        "references.picture_1": "Bild 1 (ditt foto)",
        "references.add": "+ Lägg till en bild",
        "references.full": "Du har lagt till så många bilder som kan kombineras; ta bort en för att lägga till en "
                           "annan.",
        **{f"references.picture_{n}": f"Bild {n}" for n in NUMBERS},
        **{f"references.remove_{n}": f"✕ Ta bort bild {n}" for n in NUMBERS},
    },
}
CSS = """
#references { gap: 0.4em; }
#references-title p { margin: 0; font-weight: 600; }
#references-lead p { margin: 0; font-size: var(--text-sm); }
#reference-slots { flex-wrap: wrap; gap: 0.5em; }
#reference-slots > .reference-slot { flex: 0 1 150px !important; min-width: 96px !important; gap: 0.25em; }
#reference-slots .reference-slot button { white-space: normal; }
#reference-message { color: var(--error-text-color, #b91c1c); }
"""


@dataclass
class ReferenceStrip:
    """The strip's components (ui/studio.py draws them inside the controls column)."""

    box: Any
    first: Any  # picture 1: the canvas's picture, shown small for the numbering
    slots: list[Any]  # one column per picture 2..4, hidden while empty
    pictures: list[Any]
    removes: list[Any]
    add: Any
    message: Any

    def outputs(self) -> list[Any]:
        return [*self.slots, *self.pictures, self.add, self.message]

    def first_view(self, session: StudioSession) -> dict[Any, Any]:
        """Picture 1, the one Run edits, beside the others (the canvas shows it large)."""
        entry = session.current
        value = image_data(thumbnail(entry.image, THUMBNAIL_SIDE), "picture-1.png") if entry is not None else None
        return {self.first: gr.update(value=value)}

    def view(self, session: StudioSession, message: str = "") -> dict[Any, Any]:
        """The session's references in the slots, Add shown while there is room, and a message (or none)."""
        references = session.references
        updates: dict[Any, Any] = {self.add: gr.update(visible=len(references) < SLOTS), self.message: message}
        for index, (slot, picture) in enumerate(zip(self.slots, self.pictures, strict=True)):
            shown = index < len(references)
            updates[slot] = gr.update(visible=shown)
            value = image_data(thumbnail(references[index], THUMBNAIL_SIDE), f"picture-{index + 2}.png") \
                if shown else None
            updates[picture] = gr.update(value=value)
        return updates


def build_references(*, visible: bool) -> ReferenceStrip:
    with gr.Column(visible=visible, elem_id="references") as box:
        gr.Markdown(t("references.title"), elem_id="references-title")
        gr.Markdown(t("references.lead"), elem_id="references-lead")
        slots, pictures, removes = [], [], []
        with gr.Row(elem_id="reference-slots"):
            with gr.Column(min_width=96, elem_classes=["reference-slot"], elem_id="reference-slot-1"):
                name = t("references.picture_1")
                first = gr.Image(label=name, alt_text=name, interactive=False, buttons=[], height=110,
                                 elem_id="reference-1")
            for number in NUMBERS:
                with gr.Column(visible=False, min_width=96, elem_classes=["reference-slot"],
                               elem_id=f"reference-slot-{number}") as slot:
                    name = t(f"references.picture_{number}")
                    pictures.append(gr.Image(label=name, alt_text=name, interactive=False, buttons=[], height=110,
                                             elem_id=f"reference-{number}"))
                    removes.append(gr.Button(t(f"references.remove_{number}"), size="sm",
                                             elem_id=f"remove-reference-{number}"))
                slots.append(slot)
        add = gr.UploadButton(t("references.add"), file_types=["image"], file_count="single", size="sm",
                              elem_id="add-reference")
        message = gr.Markdown(elem_id="reference-message")
    return ReferenceStrip(box, first, slots, pictures, removes, add, message)
