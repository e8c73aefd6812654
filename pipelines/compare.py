"""A compare: one picture through several models and settings, as a grid of requests (at most 16 results).

The sweep is models × steps × guidance × seeds; a list left empty means "the default" (one value). When no
seed is given, one seed is drawn for the whole grid, so every cell starts from the same noise and the
differences are the models' and settings'. The grid's requests are planned, priced and run like single
runs (billing/paid_runs.py `PaidRuns.compare`); pipelines/contact_sheet.py draws and tabulates the result.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from kernel.errors import UserError
from pipelines.base import EditRequest, Operation
from pipelines.inputs import GUIDANCE, MODEL, SEED, STEPS, InputContext

MAX_MODELS = 4
MAX_RESULTS = 16
SWEPT = (MODEL, STEPS, GUIDANCE, SEED)  # the inputs a compare varies, in the grid's order
STRINGS = {  # ui/i18n.py lists this module: the page shows these in its language
    "en": {
        "compare.too_many": "A compare makes at most {limit} results; these lists make {count}. Remove some values.",
        "compare.too_many_models": "A compare takes at most {limit} models; {count} were chosen.",
        "compare.not_taken": "{operation} has no {name} to compare; leave that list empty.",
    },
    "sv": {
        "compare.too_many": ("En jämförelse ger högst {limit} resultat; de här listorna ger {count}. "
                             "Ta bort några värden."),
        "compare.too_many_models": "En jämförelse tar högst {limit} modeller; {count} valdes.",
        "compare.not_taken": "{operation} har ingen {name} att jämföra; lämna den listan tom.",
    },
}


@dataclass(frozen=True)
class Sweep:
    """What a compare varies: each list empty for "the default"."""

    models: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    guidance: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def lists(self) -> dict[str, list]:
        return {MODEL.name: self.models, STEPS.name: self.steps, GUIDANCE.name: self.guidance, SEED.name: self.seeds}

    @property
    def size(self) -> int:
        """How many results the sweep makes."""
        count = 1
        for values in self.lists().values():
            count *= max(1, len(values))
        return count


def values_of(raw: Any) -> list[Any]:
    """A list from what a caller sent: a list, or text with commas, semicolons or spaces between the values."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, (list, tuple)):
        return [v for v in raw if v is not None and v != ""]
    if isinstance(raw, str):
        return [part for part in re.split(r"[,;\s]+", raw.strip()) if part]
    return [raw]


def read_sweep(models: Any, steps: Any, guidance: Any, seeds: Any, ctx: InputContext) -> Sweep:
    """The sweep from raw lists, each number read like the single run's box reads it (same sentences)."""

    def numbers(item: Any, raw: Any) -> list:
        return list(dict.fromkeys(item.parse(value, ctx) for value in values_of(raw)))

    return Sweep(
        models=list(dict.fromkeys(str(m).strip() for m in values_of(models) if str(m).strip())),
        steps=numbers(STEPS, steps), guidance=numbers(GUIDANCE, guidance), seeds=numbers(SEED, seeds),
    )


def check_sweep(op: Operation, sweep: Sweep) -> None:
    """Refuse a sweep that is too large or varies what the operation does not take, before anything is spent."""
    for name, values in sweep.lists().items():
        if values and not op.takes(name):
            raise UserError(text("not_taken", operation=op.label, name=name))
    if len(sweep.models) > MAX_MODELS:
        raise UserError(text("too_many_models", limit=MAX_MODELS, count=len(sweep.models)))
    if sweep.size > MAX_RESULTS:
        raise UserError(text("too_many", limit=MAX_RESULTS, count=sweep.size))


def grid(op: Operation, base: EditRequest, sweep: Sweep) -> list[EditRequest]:
    """One request per combination, models outermost (cells of one model run together and may batch)."""
    check_sweep(op, sweep)
    seeds = sweep.seeds
    if not seeds and op.uses_seed and base.values.get(SEED.name) is None:
        seeds = [secrets.randbelow(2**31)]  # one noise for every cell: the differences are the settings'
    names = [item.name for item in SWEPT]
    axes = [values or [None] for values in (sweep.models, sweep.steps, sweep.guidance, seeds)]
    requests = []
    for combination in itertools.product(*axes):
        values = dict(base.values)
        values.update({name: value for name, value in zip(names, combination, strict=True) if value is not None})
        requests.append(EditRequest(op.id, base.image, **values))
    return requests


def text(key: str, /, **values: Any) -> str:
    """A sentence in English, as raised (the page translates it on the way out, ui/i18n.py `localize`)."""
    return STRINGS["en"][f"compare.{key}"].format(**values)
