"""A result's recipe: everything needed to make the same picture again, as JSON-ready data.

A recipe names the operation, the model and the exact weights it ran on (the Hub commit, `local` for a
folder, `tiny` for the stand-ins), the pipeline and scheduler classes, dtype and device kind, every
parameter (with the values the pipeline was actually called with), the seed, the sizes at each step
and the versions of the software. `replay` (pipelines/replay.py) reads one back and runs it again.

A recipe holds the prompt, so it is handed to the caller and never kept: not logged, not in the
database, not on disk. It lives on the result (EditResult.recipe) and, for the page, in the tab's
memory beside its picture.
"""

from __future__ import annotations

import json
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from pipelines.inputs import IMAGE, IMAGES, MASK

if TYPE_CHECKING:
    from pipelines.base import EditRequest, Operation, Prepared
    from pipelines.loaders import LoadedModel, ModelSpec

FORMAT = "studio-recipe/1"
VERSION = "1.0.0"  # the app's own version; the commit is added where the code is a git checkout
LIBRARIES = ("torch", "diffusers", "transformers")
NOT_PARAMETERS = (IMAGE.name, IMAGES.name, MASK.name)  # the pictures travel beside a recipe, never in it


def make_recipe(op: Operation, request: EditRequest, model: LoadedModel, prepared: Prepared, seed: int | None,
                output: Image.Image, run_id: str, model_id: str | None = None) -> dict[str, Any]:
    """The recipe of a finished run, built from what the run resolved (model, defaults, seed, sizes).

    `model_id` is the model the run asked for: on demo weights several ids may share one loaded stand-in,
    which knows only the id it was first loaded for."""
    model_id = model_id or model.model_id
    parameters = {item.name: _plain(getattr(request, item.name)) for item in op.inputs
                  if item.name not in NOT_PARAMETERS}
    parameters["model"] = model_id  # the model that ran, even where the operation offers no choice
    if seed is not None and op.takes("seed"):
        parameters["seed"] = seed  # the seed drawn when none was given
    return {
        "format": FORMAT,
        "operation": op.id,
        "run_id": run_id,
        "model": {**describe_model(model), "id": model_id},
        "parameters": parameters,
        "applied": {name: _plain(value) for name, value in sorted(prepared.shared.items()) if _is_plain(value)},
        "seed": seed,
        "sizes": {
            "input": list(request.image.size),
            "working": _working_size(prepared),
            "output": list(output.size),
        },
        "versions": versions(),
    }


def describe_model(model: LoadedModel) -> dict[str, Any]:
    """Which weights ran, and how: what a replay compares with its own."""
    pipe = model.pipe
    scheduler = getattr(pipe, "scheduler", None)
    return {
        "id": model.model_id,
        "revision": revision(model.spec),
        "weights": model.weights,
        "pipeline": _class_name(pipe),
        "scheduler": type(scheduler).__name__ if scheduler is not None else None,
        "dtype": _dtype(pipe),
        "device": model.device.split(":")[0],
    }


def revision(spec: ModelSpec) -> str:
    """The weights' exact version: the Hub commit they came from, `tiny` for stand-ins, `local` for a folder."""
    if spec.weights == "tiny":
        return "tiny"
    if Path(spec.source).is_dir():
        return "local"
    return _hub_commit(spec.source) or "unknown"


@cache
def _hub_commit(repo_id: str) -> str | None:
    """The commit of the cached snapshot (…/snapshots/<commit>/…) the weights were loaded from."""
    from huggingface_hub import try_to_load_from_cache

    for filename in ("model_index.json", "config.json"):
        try:
            found = try_to_load_from_cache(repo_id, filename)
        except Exception:  # noqa: BLE001 - not a Hub id: no commit to name
            return None
        if isinstance(found, str):
            parts = Path(found).parts
            if "snapshots" in parts:
                return parts[parts.index("snapshots") + 1]
    return None


@cache
def versions() -> dict[str, str]:
    """The app's version and those of the libraries that shape the pixels (a copy: recipes are edited)."""
    return dict(_versions())


@cache
def _versions() -> dict[str, str]:
    """Read once: what this process runs cannot change under it (no git process or metadata read per run)."""
    found = {"studio": app_version(), "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def app_version() -> str:
    """VERSION, with the commit where the code is a git checkout (a Space is one)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,  # noqa: S607
                                text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return VERSION
    return f"{VERSION}+{commit}" if commit else VERSION


def to_json(recipe: dict[str, Any]) -> str:
    """The recipe as the file a visitor downloads (readable, stable key order)."""
    return json.dumps(recipe, indent=2, ensure_ascii=False)


def _working_size(prepared: Prepared) -> list[int] | None:
    """The size the model worked at: its picture's, else the width and height it was asked for."""
    for value in prepared.model_input.values():
        if isinstance(value, Image.Image):
            return list(value.size)
    width, height = prepared.shared.get("width"), prepared.shared.get("height")
    return [int(width), int(height)] if width and height else None


def _class_name(pipe: Any) -> str:
    model = getattr(pipe, "model", None)  # transformers' pipelines and our wrappers hold the model
    return type(pipe).__name__ if model is None else f"{type(pipe).__name__}({type(model).__name__})"


def _dtype(pipe: Any) -> str | None:
    for holder in (pipe, getattr(pipe, "model", None)):
        dtype = getattr(holder, "dtype", None)
        if dtype is None and hasattr(holder, "parameters"):  # a plain torch module: its weights'
            dtype = next((weight.dtype for weight in holder.parameters()), None)
        if dtype is not None:
            return str(dtype).removeprefix("torch.")
    return None


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str) or (
        isinstance(value, list | tuple) and all(_is_plain(item) for item in value))


def _plain(value: Any) -> Any:
    """JSON's kinds: tuples become lists."""
    return [_plain(item) for item in value] if isinstance(value, list | tuple) else value
