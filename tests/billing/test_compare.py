"""A paid compare: one hold for the whole grid, a charge of what finished, the rest released; refusals cost nothing."""

from __future__ import annotations

import threading

import pytest

from billing.ledger import InsufficientCredits
from kernel.errors import RunCancelled, UserError
from pipelines.base import EditRequest
from pipelines.compare import Sweep, grid
from pipelines.registry import OPERATIONS
from tests import samples

PIX2PIX, KLEIN = "timbrooks/instruct-pix2pix", "black-forest-labs/FLUX.2-klein-4B"  # two quick tiny stand-ins
OP = OPERATIONS["instruct_edit"]


@pytest.fixture
def studio(live_app):
    return live_app.studio


def requests(sweep: Sweep) -> list[EditRequest]:
    """The grid's requests, as the compare endpoint and the Compare tab make them."""
    return grid(OP, EditRequest(OP.id, samples.noise(48, 40), "make it snowy", steps=2), sweep)


def entries(studio, user) -> list[tuple[str, int, int]]:
    return [(e.kind, e.amount, e.held) for e in reversed(studio.ledger.history(user.id)) if e.source == "run"]


def test_a_two_by_two_compare_holds_once_and_charges_once(studio, live_app):
    user = live_app.new_user(credits=20)  # + 10 sign-up credits
    compared = studio.paid_runs.compare(requests(Sweep(models=[PIX2PIX, KLEIN], seeds=[1, 2])), user.id)
    assert [(c.request.model, c.request.seed) for c in compared.cells] == \
        [(PIX2PIX, 1), (PIX2PIX, 2), (KLEIN, 1), (KLEIN, 2)]
    assert all(c.result is not None and c.result.recipe["seed"] == c.request.seed for c in compared.cells)
    assert (compared.held, compared.credits) == (16, 16)
    assert entries(studio, user) == [("hold", 0, 16), ("capture", -16, -16)]
    assert studio.ledger.balance(user.id).available == 14


def test_cells_that_fail_are_not_charged(studio, live_app, monkeypatch):
    user = live_app.new_user(credits=20)
    forward = type(OP).forward

    def fails_for_seed_2(self, model, items, on_step):
        if any(item.seed == 2 for item in items):
            raise RuntimeError("broken weights")
        return forward(self, model, items, on_step)

    monkeypatch.setattr(type(OP), "forward", fails_for_seed_2)
    compared = studio.paid_runs.compare(requests(Sweep(models=[PIX2PIX, KLEIN], seeds=[1, 2]))[1:3], user.id)
    assert [c.result is not None for c in compared.cells] == [False, True]  # (pix2pix, seed 2), (qwen, seed 1)
    assert "could not finish" in str(compared.cells[0].error)
    assert (compared.held, compared.credits) == (8, 4)
    assert entries(studio, user) == [("hold", 0, 8), ("capture", -4, -4), ("release", 0, -4)]


def test_too_few_credits_runs_nothing_and_says_how_many(studio, live_app):
    user = live_app.new_user(credits=0)  # the 10 sign-up credits
    with pytest.raises(InsufficientCredits, match="costs 16 credits and you have 10"):
        studio.paid_runs.compare(requests(Sweep(models=[PIX2PIX, KLEIN], steps=[1, 2])), user.id)
    assert entries(studio, user) == [] and studio.ledger.balance(user.id).reserved == 0


@pytest.mark.parametrize(("sweep", "sentence"), [
    (Sweep(models=[PIX2PIX, KLEIN], steps=[1, 2, 3], seeds=[1, 2, 3]), "at most 16 results; these lists make 18"),
    (Sweep(models=["a", "b", "c", "d", "e"]), "at most 4 models; 5 were chosen"),
])
def test_too_large_a_compare_is_refused_in_a_sentence(sweep, sentence):
    with pytest.raises(UserError, match=sentence):
        requests(sweep)


def test_an_unknown_model_refuses_the_compare_before_the_hold(studio, live_app):
    user = live_app.new_user(credits=20)
    with pytest.raises(UserError, match="'no/such-model' is not one of the models offered"):
        studio.paid_runs.compare(requests(Sweep(models=[PIX2PIX, "no/such-model"])), user.id)
    assert entries(studio, user) == []


def test_cancel_stops_every_cell_and_charges_nothing(studio, live_app):
    user = live_app.new_user(credits=20)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RunCancelled):
        studio.paid_runs.compare(requests(Sweep(models=[PIX2PIX, KLEIN])), user.id, cancel=cancel)
    assert entries(studio, user) == [("hold", 0, 8), ("release", 0, -8)]
