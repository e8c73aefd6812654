"""Replaying a recipe: read it, check it names what this server offers, and turn it into the request it was.

The recipe's parameters go through the operation's own parsing and checks (Operation.request_from, then
validate when the run is planned), exactly as the page's and the API's values do, so a recipe can ask for
nothing a caller could not. The pictures travel beside it: the photo, and the mask for masked operations.
Everything here happens before any credit is held: a refused recipe costs nothing.

After the run, `compare_runs` says what differs from the recipe's run (model, weights' revision,
device kind), since on other weights or another device the pixels will not be the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kernel.errors import UserError
from pipelines.inputs import IMAGE, IMAGES
from pipelines.recipes import FORMAT, NOT_PARAMETERS
from pipelines.registry import OPERATIONS

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import EditRequest, Operation
    from pipelines.inputs import InputContext

MAX_RECIPE_CHARS = 100_000  # a recipe is a few hundred characters plus its prompt

NOT_JSON = "The recipe is not JSON. Paste or upload the recipe file a result came with."
NOT_A_RECIPE = "This JSON is not a Studio recipe."
UNKNOWN_OPERATION = "The recipe is for the operation {operation}, which this server does not offer."
OTHER_OPERATION = "The recipe is for {recipe}, not {chosen}. Choose {recipe} first, or use a recipe made with {chosen}."
MODEL_NOT_OFFERED = "The recipe's model {model} is not offered here for {operation}."
UNKNOWN_PARAMETER = "The recipe has a value {name}, which {operation} does not take."
PICTURES = "Replaying this recipe needs {count} picture(s): {names}."
DIFFERENT = {  # what a replay ran on that the recipe's run did not, by the recipe's model entry
    "id": "The recipe was made with the model {then}; this run used {now}, so the pixels may differ.",
    "revision": "The recipe was made with revision {then} of the model; this run used {now}, so the pixels may differ.",
    "weights": "The recipe was made on {then} weights; this run used {now} weights, so the pixels may differ.",
    "device": "The recipe was made on a {then} device; this run used {now}, so the pixels may differ.",
}
Result = TypeVar("Result")



def replay(run: Callable[[EditRequest], Result], raw: Any, pictures: dict[str, Any] | list[Any], ctx: InputContext,
           *, operation: str | None = None) -> Result:
    """Run a recipe again with `run` (EditService.run for free, PaidRuns.run priced and charged like the
    operation): a refused recipe never reaches `run`. The result's recipe says which run it replays and
    what differed (`replay_of`)."""
    op, recipe = read_recipe(raw, ctx.settings, operation)
    result = run(replay_request(op, recipe, pictures, ctx))
    mark_replay(recipe, result.recipe)
    return result


def read_recipe(raw: Any, settings: Settings, operation: str | None = None) -> tuple[Operation, dict[str, Any]]:
    """The operation and the recipe, from JSON text (or its parsed dict); a UserError for anything else.

    `operation`: the one the caller chose (the page's picker); a recipe for another is refused.
    """
    recipe = _parsed(raw)
    op_id = recipe.get("operation")
    if not isinstance(op_id, str) or not isinstance(recipe.get("parameters"), dict):
        raise UserError(NOT_A_RECIPE)
    op = OPERATIONS.get(op_id)
    if op is None:
        raise UserError(UNKNOWN_OPERATION.format(operation=repr(op_id[:40])))
    if operation is not None and operation != op.id:
        raise UserError(OTHER_OPERATION.format(recipe=op.label.lower(), chosen=OPERATIONS[operation].label.lower()))
    model = recipe_model(recipe)
    if model is not None and model not in op.model_choices(settings):
        raise UserError(MODEL_NOT_OFFERED.format(model=repr(model[:80]), operation=op.label.lower()))
    taken = {item.name for item in op.inputs}
    for name in recipe["parameters"]:
        if name not in taken - set(NOT_PARAMETERS) and name != "model":
            raise UserError(UNKNOWN_PARAMETER.format(name=repr(str(name)[:40]), operation=op.label.lower()))
    return op, recipe


def pictures_of(op: Operation) -> list[str]:
    """The pictures a replay of `op` takes, in order: the photo (compose: the photos), then the mask for masked
    operations."""
    return [item.name for item in op.inputs if item.name in NOT_PARAMETERS]


def replay_request(op: Operation, recipe: dict[str, Any], pictures: dict[str, Any] | list[Any],
                   ctx: InputContext) -> EditRequest:
    """The request the recipe describes, on these pictures (raw uploads, by input name or in the order of
    `pictures_of`; the page puts its photo in `ctx.picture`), parsed by the operation's own inputs."""
    needed = pictures_of(op)
    if isinstance(pictures, list | tuple) and needed == [IMAGES.name]:
        pictures = {IMAGES.name: list(pictures) or None}  # compose: every picture given is one of its pictures
    if isinstance(pictures, list | tuple):
        if len(pictures) > len(needed):
            raise UserError(PICTURES.format(count=len(needed), names=", ".join(needed)))
        pictures = dict(zip(needed, pictures, strict=False))
    missing = [name for name in needed
               if pictures.get(name) is None and not (name in (IMAGE.name, IMAGES.name) and ctx.picture)]
    if missing:
        raise UserError(PICTURES.format(count=len(needed), names=", ".join(needed)))
    raw = {**recipe["parameters"], **{name: pictures.get(name) for name in needed}}
    request = op.request_from(raw, ctx)
    request.values["model"] = recipe_model(recipe)  # the recipe's model, whether or not the operation offers a choice
    return request


def recipe_model(recipe: dict[str, Any]) -> str | None:
    """The model to run: the `model` parameter (someone trying another model edits that), else the one that ran."""
    model = recipe.get("model")
    model_id = recipe["parameters"].get("model") or (model.get("id") if isinstance(model, dict) else None)
    if model_id is not None and not isinstance(model_id, str):
        raise UserError(NOT_A_RECIPE)
    return model_id


def compare_runs(recipe: dict[str, Any], replayed: dict[str, Any]) -> list[str]:
    """Sentences for what the replay ran on that the recipe's run did not: model, revision, weights, device kind."""
    then = recipe.get("model") if isinstance(recipe.get("model"), dict) else {}
    now = replayed.get("model", {})
    return [sentence.format(then=then.get(key), now=now.get(key))
            for key, sentence in DIFFERENT.items() if then.get(key) is not None and then.get(key) != now.get(key)]


def mark_replay(recipe: dict[str, Any], replayed: dict[str, Any]) -> list[str]:
    """Note in the new run's recipe which run it replays and what differed; returns the differences."""
    differences = compare_runs(recipe, replayed)
    replayed["replay_of"] = {"run_id": recipe.get("run_id"), "differences": differences}
    return differences


def _parsed(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        recipe = raw
    else:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_RECIPE_CHARS:
            raise UserError(NOT_JSON)
        try:
            recipe = json.loads(raw)
        except ValueError:
            raise UserError(NOT_JSON) from None
    if not isinstance(recipe, dict) or recipe.get("format") != FORMAT:
        raise UserError(NOT_A_RECIPE)
    return recipe
