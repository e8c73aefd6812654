"""What an operation can take, one class per kind of input, one object per input.

An `Input` knows everything about itself that the studio needs in more than one place:
  name              the API parameter, the request's attribute, the page control's elem_id
  default           what the page shows first and what the API uses when the caller leaves it out
  parse(raw, ctx)   the page's or the API's raw value -> a Python value (a UserError for garbage)
  check(value, ...) is the value allowed? (a UserError in English; the texts translate it)
  control(ui, ...)  the page's control, built with the toolkit the UI hands in (this module
                    never imports gradio: `ui` carries it, see ui/controls.py)
  api_field(ui)     the hidden component that names and types the API parameter
  texts             its label and messages in every language

An operation lists the inputs it takes (pipelines/base.py). A new kind of input is one class
here; a new input is one object. Objects are shared by name across operations: one name, one
input, so the page has one control per name and shows it for the operations that take it.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from kernel.errors import UserError
from kernel.language import DEFAULT, translate
from pipelines.images import bytes_from_data_url, decode_image, mask_from_image, sniff_format

if TYPE_CHECKING:
    from config import Settings

Texts = dict[str, dict[str, str]]  # {"en": {key: text}, "sv": {...}}


@dataclass
class InputContext:
    """What parsing a raw value may need: the settings, how to read an upload, the picture being edited."""

    settings: Settings
    read_upload: Callable[[Any], bytes]  # a Gradio FileData dict or a data: URL -> bytes (deleting the file)
    picture: Image.Image | None = None
    references: tuple[Image.Image, ...] = ()  # the page's further pictures (IMAGES), beside `picture`
    max_pixels: int | None = None  # a tighter pixel limit than MAX_INPUT_PIXELS (anonymous visitors)


KNOWN: dict[str, Input] = {}  # every input made, by name (a request reads defaults here)


class Input:
    """One input of one or more operations. Subclasses are the kinds (see the module docstring).

    An input is known by its name, so it equals its name: `"mask" in op.inputs` asks whether an
    operation takes a mask.
    """

    kind: ClassVar[str]
    pictures: ClassVar[bool] = False  # it is the picture(s) an edit starts from: an operation's first input
    name: str
    default: Any = None
    advanced: bool = False  # the page puts it under Advanced
    on_page: bool = True  # False: the page has its own place for it (the photo)
    texts: Texts

    def __post_init__(self) -> None:
        KNOWN[self.name] = self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Input):
            return other.name == self.name
        return isinstance(other, str) and other == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def key(self, what: str) -> str:
        """Its text keys: input.<name>.<what>."""
        return f"input.{self.name}.{what}"

    def text(self, what: str, /, **values: Any) -> str:
        """One of its texts in English, as raised (the page translates on the way out)."""
        return translate(self.tables(), self.key(what), DEFAULT, **values)

    def tables(self) -> Texts:
        return {lang: {self.key(k): v for k, v in texts.items()} for lang, texts in self.texts.items()}

    def parse(self, raw: Any, ctx: InputContext) -> Any:
        return self.default if raw is None or raw == "" else raw

    def check(self, value: Any, settings: Settings) -> None:
        """Raise UserError when the value may not be used; None means "the default"."""

    def uploads(self, raw: Any) -> list[str]:
        """Paths of uploaded files in a raw value (deleted even when the request is refused)."""
        return []

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no page control")

    def api_field(self, ui: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no API field")


# ------------------------------------------------------------------ pictures


def _file_paths(raw: Any) -> list[str]:
    if isinstance(raw, dict) and raw.get("path"):
        return [str(raw["path"])]
    if isinstance(raw, str) and raw and not raw.startswith("data:"):
        return [raw]
    return []


@dataclass(eq=False, repr=False)
class Picture(Input):
    """A photo: from the API as a file or data: URL, decoded safely; on the page it is the canvas itself."""

    kind: ClassVar[str] = "image"
    pictures: ClassVar[bool] = True
    name: str = "image"
    on_page: bool = False
    texts: Texts = field(default_factory=lambda: {"en": {"label": "image"}, "sv": {"label": "bild"}})

    def parse(self, raw: Any, ctx: InputContext) -> Image.Image:
        return read_picture(raw, ctx)

    def uploads(self, raw: Any) -> list[str]:
        return _file_paths(raw)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Image(label=self.name, type="filepath")


def read_picture(raw: Any, ctx: InputContext) -> Image.Image:
    """One uploaded picture, its file deleted, decoded within the pixel limits (tighter for anonymous visitors)."""
    data = ctx.read_upload(raw)
    settings = ctx.settings
    limit = min(settings.max_input_pixels, ctx.max_pixels or settings.max_input_pixels)
    return decode_image(data, max_pixels=limit, min_side=settings.min_input_side)


@dataclass(eq=False, repr=False)
class Pictures(Input):
    """Several photos, the first the one edited (its size and framing are the result's), the others references.

    From the API a list of files or data: URLs, each decoded like a single picture; a bad one is refused
    in a sentence that says which. On the page the first is the canvas and the others are the reference
    strip beside it (ui/references.py), which hands them over in `ctx.references`.
    """

    kind: ClassVar[str] = "images"
    pictures: ClassVar[bool] = True
    name: str = "images"
    most: int = 4
    on_page: bool = False  # the canvas and the reference strip (ui/references.py)
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "1 to 4 pictures: the first is the one edited, the others are taken from",
               "missing": "Please give at least one picture.",
               "too_many": "At most {most} pictures can be combined; you gave {count}.",
               "not_a_list": "The pictures must be sent as a list of files.",
               "bad": "Picture {number} of {count}: {reason}"},
        "sv": {"label": "1 till 4 bilder: den första redigeras, från de andra hämtas saker",
               "missing": "Ge minst en bild.",
               "too_many": "Högst {most} bilder kan kombineras; du gav {count}.",
               "not_a_list": "Bilderna måste skickas som en lista med filer.",
               "bad": "Bild {number} av {count}: {reason}"},
    })

    def parse(self, raw: Any, ctx: InputContext) -> tuple[Image.Image, ...]:
        if ctx.picture is not None:  # the page: the canvas, then the strip
            return (ctx.picture, *ctx.references)
        files = self._listed(raw)
        if not files:
            raise UserError(self.text("missing"))
        if len(files) > self.most:  # before reading any of them
            raise UserError(self.text("too_many", most=self.most, count=len(files)))
        pictures = []
        for number, item in enumerate(files, start=1):
            try:
                pictures.append(read_picture(item, ctx))
            except UserError as exc:
                raise UserError(self.text("bad", number=number, count=len(files), reason=str(exc))) from None
        ctx.picture = pictures[0]
        return tuple(pictures)

    def _listed(self, raw: Any) -> list[Any]:
        if raw is None or raw == "" or raw == []:
            return []
        if isinstance(raw, dict | str):
            return [raw]  # one picture given alone
        if not isinstance(raw, list | tuple):
            raise UserError(self.text("not_a_list"))
        return list(raw)

    def check(self, value: Any, settings: Settings) -> None:
        if value is not None and len(value) > self.most:
            raise UserError(self.text("too_many", most=self.most, count=len(value)))

    def uploads(self, raw: Any) -> list[str]:
        if isinstance(raw, list | tuple):
            return [path for item in raw for path in _file_paths(item)]
        return _file_paths(raw)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.File(label=self.name, file_count="multiple", file_types=["image"])


PAINTED_MAX_PIXELS = 2048 * 2048  # the brush canvas is at most 1024 px a side; twice that is garbage


@dataclass(eq=False, repr=False)
class Mask(Input):
    """Where to change the picture: painted on the page's canvas (its alpha), or a mask file from the API."""

    kind: ClassVar[str] = "mask"
    name: str = "mask"
    on_page: bool = False  # painted on the canvas itself (ui/canvas.py)
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "Mask", "unreadable": "The painted mask could not be read. Please paint it again.",
               "too_large": "The painted mask is too large.",
               "size": "The mask is {mask} but the picture is {picture}; they must be the same size.",
               "empty_region": "The mask is empty. Select or paint the area to change, "
                               "or clear the mask to change the whole picture."},
        "sv": {"label": "Mask", "unreadable": "Den målade masken gick inte att läsa. Måla den igen.",
               "too_large": "Den målade masken är för stor.",
               "size": "Masken är {mask} men bilden är {picture}; de måste vara lika stora.",
               "empty_region": "Masken är tom. Markera eller måla området som ska ändras, "
                               "eller rensa masken för att ändra hela bilden."},
    })

    def parse(self, raw: Any, ctx: InputContext) -> Image.Image | None:
        if isinstance(raw, dict) and "mask" in raw:  # the page's canvas: {"image": ..., "mask": data URL or None}
            return self._painted(raw.get("mask"), ctx)
        if not raw:
            return None
        data = ctx.read_upload(raw)
        settings = ctx.settings
        return decode_image(data, max_pixels=settings.max_input_pixels, min_side=1)

    def _painted(self, url: Any, ctx: InputContext) -> Image.Image | None:
        """The brush's alpha at the picture's size; None when nothing was painted."""
        if not url:
            return None
        data = bytes_from_data_url(str(url), max_bytes=ctx.settings.max_upload_bytes)
        if sniff_format(data) != "PNG":
            raise UserError(self.text("unreadable"))
        try:
            canvas = Image.open(io.BytesIO(data), formats=["PNG"])
            if canvas.width * canvas.height > PAINTED_MAX_PIXELS:
                raise UserError(self.text("too_large"))
            alpha = canvas.convert("RGBA").getchannel("A")
        except (OSError, ValueError):
            raise UserError(self.text("unreadable")) from None
        mask = alpha.point(lambda v: 255 if v > 127 else 0)
        size = ctx.picture.size if ctx.picture is not None else mask.size
        return mask if mask.size == size else mask.resize(size, Image.Resampling.NEAREST)

    def region(self, mask: Image.Image | None, size: tuple[int, int]) -> Image.Image | None:
        """An optional area to limit an edit to, as a binary "L" mask; None: the whole picture.

        For the edits that change the whole picture unless given an area (restyle, background removal):
        a mask of another size, or one with nothing in it, is refused rather than read as "everywhere".
        """
        if mask is None:
            return None
        if mask.size != size:
            raise UserError(self.text("size", mask="×".join(map(str, mask.size)), picture="×".join(map(str, size))))
        binary = mask_from_image(mask)
        if binary.getextrema()[1] == 0:
            raise UserError(self.text("empty_region"))
        return binary

    def uploads(self, raw: Any) -> list[str]:
        return _file_paths(raw)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Image(label=self.name, type="filepath")


# ------------------------------------------------------------------ words


@dataclass(eq=False, repr=False)
class Prompt(Input):
    """What to do, in words. Each operation names the box in its own texts ("prompt") and says if it is required."""

    kind: ClassVar[str] = "prompt"
    name: str = "prompt"
    default: str = ""
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "Prompt", "missing": "Please type a prompt first.",
               "too_long": "The text is {length} characters long; the limit is {limit}."},
        "sv": {"label": "Prompt", "missing": "Skriv en prompt först.",
               "too_long": "Texten är {length} tecken lång; gränsen är {limit}."},
    })

    def parse(self, raw: Any, ctx: InputContext) -> str:
        return "" if raw is None else str(raw)

    def check(self, value: Any, settings: Settings) -> None:
        prompt = value or ""
        if len(prompt) > settings.max_prompt_chars:
            raise UserError(self.text("too_long", length=f"{len(prompt):,}", limit=f"{settings.max_prompt_chars:,}"))

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        return ui.gr.Textbox(label=label, lines=2, visible=visible, elem_id=self.name)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Textbox(label=self.name)


@dataclass(eq=False, repr=False)
class Text(Input):
    """A free-form string (a model id, say); empty means the default."""

    kind: ClassVar[str] = "text"
    name: str = "text"
    texts: Texts = field(default_factory=dict)

    def parse(self, raw: Any, ctx: InputContext) -> str | None:
        return str(raw) if raw not in (None, "") else None

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Textbox(label=self.name)


@dataclass(eq=False, repr=False)
class ModelChoice(Text):
    """Which of the operation's offered models to run (the service checks it is offered)."""

    kind: ClassVar[str] = "model"
    name: str = "model"
    advanced: bool = True
    texts: Texts = field(default_factory=lambda: {"en": {"label": "Model"}, "sv": {"label": "Modell"}})

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        # Its choices come per page and per operation (choose_operation); a value the menu has not been
        # told about yet (a tab restored before its menu) must reach the service, which refuses models
        # that are not offered in a sentence, rather than Gradio's check, which fails with a traceback.
        return ui.gr.Dropdown([], label=label, visible=visible, elem_id=self.name,
                              allow_custom_value=True)


MAX_PHRASE_CHARS = 200  # a name for what to select ("all the people"), not a paragraph


@dataclass(eq=False, repr=False)
class Phrase(Text):
    """What to select, named in a few words ("the sky"). Not a page control: the Select tool has its own box."""

    kind: ClassVar[str] = "phrase"
    name: str = "text"
    default: str = ""
    on_page: bool = False
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "What to select",
               "too_long": "The text is {length} characters long; name what to select in at most {limit}."},
        "sv": {"label": "Vad som ska väljas",
               "too_long": "Texten är {length} tecken lång; beskriv det som ska väljas med högst {limit}."},
    })

    def parse(self, raw: Any, ctx: InputContext) -> str:
        return "" if raw is None else " ".join(str(raw).split())

    def check(self, value: Any, settings: Settings) -> None:
        if len(value or "") > MAX_PHRASE_CHARS:
            raise UserError(self.text("too_long", length=f"{len(value):,}", limit=MAX_PHRASE_CHARS))



# ------------------------------------------------------------------ numbers and choices

NUMBER_TEXTS = {  # shared by every number; the page's tables have them as input.number.<key> (see all_tables)
    "en": {"not_a_number": "{name} must be a number.", "not_whole": "{name} must be a whole number."},
    "sv": {"not_a_number": "{name} måste vara ett tal.", "not_whole": "{name} måste vara ett heltal."},
}


def parse_number(raw: Any, name: str, *, whole: bool) -> float | int:
    """A number from what a form or an API caller sent ("4", 4.0, 4); whole numbers come back as int."""
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise UserError(translate(NUMBER_TEXTS, "not_a_number", DEFAULT, name=name)) from None
    if not whole:
        return number
    if not number.is_integer():
        raise UserError(translate(NUMBER_TEXTS, "not_whole", DEFAULT, name=name))
    return int(number)


@dataclass(eq=False, repr=False)
class Number(Input):
    """A number in a range; `whole` ones refuse fractions. None (left empty) means the model's default."""

    kind: ClassVar[str] = "number"
    name: str = "number"
    minimum: float = 0
    maximum: float = 1
    whole: bool = False
    slider_step: float | None = None  # set: a slider on the page (with a default), else a number box
    default: float | None = None
    advanced: bool = False
    texts: Texts = field(default_factory=dict)  # "label" and "range" (the message when out of range)

    def parse(self, raw: Any, ctx: InputContext) -> float | int | None:
        return self.default if raw is None or raw == "" else parse_number(raw, self.name, whole=self.whole)

    def check(self, value: Any, settings: Settings) -> None:
        if value is not None and not self.minimum <= value <= self.maximum:
            raise UserError(self.text("range"))

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        if self.slider_step is not None:
            return ui.gr.Slider(self.minimum, self.maximum, value=self.default, step=self.slider_step, label=label,
                                visible=visible, elem_id=self.name)
        # A text box, not gr.Number: Gradio's number box shows (and sends) 0 for "left empty", which is no
        # default at all for steps or a seed. Empty means the default; parse() reads what is typed.
        return ui.gr.Textbox(label=label, value="", lines=1, max_lines=1, visible=visible, elem_id=self.name)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Number(label=self.name, precision=0 if self.whole else None)


@dataclass(eq=False, repr=False)
class Pixels(Number):
    """A distance in picture pixels that a tool of the page's own sets (so no page control of its own)."""

    kind: ClassVar[str] = "pixels"
    whole: bool = True
    on_page: bool = False


@dataclass(eq=False, repr=False)
class Choice(Input):
    """One of a few values, shown as a row of buttons."""

    kind: ClassVar[str] = "choice"
    name: str = "choice"
    options: Sequence[tuple[str, Any]] = ()  # (what the page shows, the value)
    default: Any = None
    whole: bool = False  # the values are whole numbers (the API may send 4.0)
    texts: Texts = field(default_factory=dict)  # "label", "unknown" (the message for a value not offered)

    @property
    def values(self) -> list[Any]:
        return [value for _label, value in self.options]

    def parse(self, raw: Any, ctx: InputContext) -> Any:
        if raw is None or raw == "":
            return self.default
        return parse_number(raw, self.name, whole=True) if self.whole else raw

    def check(self, value: Any, settings: Settings) -> None:
        if value is not None and value not in self.values:
            raise UserError(self.text("unknown"))

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        return ui.gr.Radio(list(self.options), value=self.default, label=label, visible=visible, elem_id=self.name)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Number(label=self.name, precision=0) if self.whole else ui.gr.Textbox(label=self.name)


@dataclass(eq=False, repr=False)
class Choices(Input):
    """Any number of a few values (sides to extend, say); the API may send a list or "a, b"."""

    kind: ClassVar[str] = "choices"
    name: str = "choices"
    options: Sequence[str] = ()
    default: tuple[str, ...] = ()
    required: bool = False  # at least one
    texts: Texts = field(default_factory=dict)  # "label", "option.<value>", "unknown" ({value}), "missing"

    def parse(self, raw: Any, ctx: InputContext) -> tuple[str, ...]:
        if raw is None or raw == "":
            return tuple(self.default)
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list | tuple):
            raise UserError(self.text("unknown", value=repr(str(raw)[:40])))
        return tuple(str(item) for item in raw)

    def check(self, value: Any, settings: Settings) -> None:
        unknown = [item for item in value or () if item not in self.options]
        if unknown:
            raise UserError(self.text("unknown", value=repr(unknown[0][:40])))
        if self.required and not value:
            raise UserError(self.text("missing"))

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        options = [(ui.t(self.key(f"option.{value}")), value) for value in self.options]
        return ui.gr.CheckboxGroup(options, value=list(self.default), label=label, visible=visible,
                                   elem_id=self.name)

    def api_field(self, ui: Any) -> Any:  # the default shows in the API docs, and gradio_client sends it when left out
        return ui.gr.CheckboxGroup(list(self.options), value=list(self.default), label=self.name)


# ------------------------------------------------------------------ where on the picture

MAX_POINTS = 100  # clicks in one selection; more is no selection a person makes by hand


def _json_list(raw: Any) -> Any:
    """A list from the API: a JSON text ("[[10, 20, 1]]") or the list itself; None when left out."""
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # not JSON: the caller's check says what was wrong
    return raw


def _number(value: Any) -> float | None:
    """A finite number, or None (True/False and texts are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(eq=False, repr=False)
class Points(Input):
    """Clicks on the picture, in picture pixels: [[x, y, label], ...], label 1 = include, 0 = exclude.

    Not a page control: the page's Select tool sends them. `[x, y]` means include.
    """

    kind: ClassVar[str] = "points"
    name: str = "points"
    on_page: bool = False
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "Points",
               "malformed": "Points must be a list of [x, y, label] (label 1 to include, 0 to exclude), "
                            "for example [[120, 80, 1]].",
               "too_many": "{count} points is too many; at most {limit} can be used at once.",
               "outside": "Point {number} ({x}, {y}) is outside the picture ({width} × {height} pixels)."},
        "sv": {"label": "Punkter",
               "malformed": "Punkterna ska vara en lista av [x, y, etikett] (etikett 1 tar med, 0 utesluter), "
                            "till exempel [[120, 80, 1]].",
               "too_many": "{count} punkter är för många; högst {limit} kan användas på en gång.",
               "outside": "Punkt {number} ({x}, {y}) ligger utanför bilden ({width} × {height} pixlar)."},
    })

    def parse(self, raw: Any, ctx: InputContext) -> tuple[tuple[float, float, int], ...] | None:
        value = _json_list(raw)
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not value:
            raise UserError(self.text("malformed"))
        if len(value) > MAX_POINTS:
            raise UserError(self.text("too_many", count=f"{len(value):,}", limit=MAX_POINTS))
        points = []
        for item in value:
            if not isinstance(item, list | tuple) or len(item) not in (2, 3):
                raise UserError(self.text("malformed"))
            x, y = _number(item[0]), _number(item[1])
            label = item[2] if len(item) == 3 else 1
            if x is None or y is None or isinstance(label, bool) or label not in (0, 1):
                raise UserError(self.text("malformed"))
            points.append((x, y, int(label)))
        if ctx.picture is not None:
            self.inside(points, ctx.picture.size)
        return tuple(points)

    def inside(self, points: Sequence[tuple[float, float, int]], size: tuple[int, int]) -> None:
        """Refuse a point off the picture (the page never sends one: a stale click on another picture)."""
        width, height = size
        for number, (x, y, _label) in enumerate(points, start=1):
            if not (0 <= x <= width and 0 <= y <= height):
                raise UserError(self.text("outside", number=number, x=f"{x:g}", y=f"{y:g}", width=width,
                                          height=height))

    def api_field(self, ui: Any) -> Any:
        return ui.gr.JSON(label=self.name)


@dataclass(eq=False, repr=False)
class Box(Input):
    """A rectangle on the picture, in picture pixels: [x0, y0, x1, y1]. Corners may come in any order
    (a drag up and to the left); a box reaching past the picture is cut at its edges."""

    kind: ClassVar[str] = "box"
    name: str = "box"
    on_page: bool = False
    texts: Texts = field(default_factory=lambda: {
        "en": {"label": "Box",
               "malformed": "A box must be four numbers [x0, y0, x1, y1] in picture pixels, "
                            "for example [10, 20, 200, 160].",
               "empty": "The box has no area inside the picture: drag a rectangle over what to select."},
        "sv": {"label": "Ruta",
               "malformed": "En ruta ska vara fyra tal [x0, y0, x1, y1] i bildpixlar, till exempel [10, 20, 200, 160].",
               "empty": "Rutan har ingen yta inom bilden: dra en rektangel över det som ska väljas."},
    })

    def parse(self, raw: Any, ctx: InputContext) -> tuple[float, float, float, float] | None:
        value = _json_list(raw)
        if value is None:
            return None
        if isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], list | tuple):
            value = value[0]  # [[x0, y0, x1, y1]]: one box, as SAM's own examples write it
        numbers = [_number(item) for item in value] if isinstance(value, list | tuple) else []
        if len(numbers) != 4 or any(number is None for number in numbers):
            raise UserError(self.text("malformed"))
        x0, y0, x1, y1 = numbers
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        return self.clipped(box, ctx.picture.size) if ctx.picture is not None else box

    def clipped(self, box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, ...]:
        """The part of the box on the picture; a box with no area there is refused."""
        width, height = size
        x0, y0, x1, y1 = box
        x0, x1 = max(0.0, min(x0, width)), max(0.0, min(x1, width))
        y0, y1 = max(0.0, min(y0, height)), max(0.0, min(y1, height))
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise UserError(self.text("empty"))
        return (x0, y0, x1, y1)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.JSON(label=self.name)


@dataclass(eq=False, repr=False)
class Switch(Input):
    """On or off; the API may send true/false, 1/0 or "true"/"false"."""

    kind: ClassVar[str] = "switch"
    name: str = "switch"
    default: bool = False
    on_page: bool = True
    texts: Texts = field(default_factory=dict)  # "label", "not_a_switch"

    def parse(self, raw: Any, ctx: InputContext) -> bool:
        if raw is None or raw == "":
            return self.default
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return raw.strip().lower() in ("true", "1", "yes", "on")
        raise UserError(self.text("not_a_switch"))

    def control(self, ui: Any, label: Any, *, visible: bool) -> Any:
        return ui.gr.Checkbox(value=self.default, label=label, visible=visible, elem_id=self.name)

    def api_field(self, ui: Any) -> Any:
        return ui.gr.Checkbox(value=self.default, label=self.name)


# ------------------------------------------------------------------ the inputs operations share

IMAGE = Picture()
IMAGES = Pictures()
MASK = Mask()
PROMPT = Prompt()
MODEL = ModelChoice()
SEED = Number(
    name="seed", minimum=0, maximum=2**32 - 1, whole=True, advanced=True,
    texts={"en": {"label": "Seed (empty: random)",
                  "range": "The seed must be a whole number between 0 and 4294967295."},
           "sv": {"label": "Seed (tomt: slumpmässigt)",
                  "range": "Seed måste vara ett heltal mellan 0 och 4294967295."}},
)
STEPS = Number(
    name="steps", minimum=1, maximum=150, whole=True, advanced=True,
    texts={"en": {"label": "Steps (empty: the model's default)", "range": "Steps must be between 1 and 150."},
           "sv": {"label": "Steg (tomt: modellens standardvärde)",
                  "range": "Antalet steg måste vara mellan 1 och 150."}},
)
POINTS = Points()  # where to select (the Select tool's clicks)
BOX = Box()
TEXT = Phrase()
GROW = Pixels(
    name="grow", minimum=-200, maximum=200, default=0,
    texts={"en": {"label": "Grow (pixels; negative shrinks)",
                  "range": "Grow must be a whole number of pixels between -200 and 200."},
           "sv": {"label": "Väx (pixlar; negativt krymper)",
                  "range": "Växten måste vara ett heltal pixlar mellan -200 och 200."}},
)
INVERT = Switch(
    name="invert", on_page=False,
    texts={"en": {"label": "Invert", "not_a_switch": "Invert must be true or false."},
           "sv": {"label": "Invertera", "not_a_switch": "Invertera måste vara sant eller falskt."}},
)
REFINE = Switch(
    name="refine", on_page=False,
    texts={"en": {"label": "Refine edges (hair, fur)", "not_a_switch": "Refine must be true or false."},
           "sv": {"label": "Förfina kanter (hår, päls)", "not_a_switch": "Förfina måste vara sant eller falskt."}},
)
GUIDANCE = Number(
    name="guidance", minimum=0, maximum=30, advanced=True,
    texts={"en": {"label": "Guidance (empty: the model's default)", "range": "Guidance must be between 0 and 30."},
           "sv": {"label": "Vägledning (tomt: modellens standardvärde)",
                  "range": "Vägledningen måste vara mellan 0 och 30."}},
)


def all_tables(inputs: list[Input]) -> Texts:
    """The texts of these inputs, and those every number shares, as the page's translation tables want them."""
    merged: Texts = {lang: {f"input.number.{k}": v for k, v in texts.items()} for lang, texts in NUMBER_TEXTS.items()}
    for item in inputs:
        for lang, texts in item.tables().items():
            merged.setdefault(lang, {}).update(texts)
    return merged
