"""GPU out of memory in the forward pass: one retry with model CPU offload where the device has it,
else (or when the retry runs out too) a sentence, the hold released and nothing charged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import torch

from kernel.errors import RunFailed
from pipelines.base import EditRequest
from pipelines.registry import OPERATIONS
from store.tables import credit_holds
from tests import samples

PRICE = 4  # instruct_edit


@pytest.fixture
def oom(faulty_app, monkeypatch):
    """Make instruct_edit's forward raise CUDA's out-of-memory error `times` times, then work again."""
    op = OPERATIONS["instruct_edit"]
    real_forward = op.forward
    state = {"left": 0, "calls": 0}

    def forward(model, batch, on_step):
        state["calls"] += 1
        if state["left"]:
            state["left"] -= 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_forward(model, batch, on_step)

    monkeypatch.setattr(op, "forward", forward)
    return state


@pytest.fixture
def offload_calls(faulty_app, monkeypatch) -> list:
    """Pretend the model sits on a CUDA device (this machine may have none) and record the offload switch."""
    models = faulty_app.studio.service.models
    calls: list = []
    monkeypatch.setattr(models, "can_offload", lambda entry: entry.placement != "offload")
    monkeypatch.setattr(models, "offload", lambda entry: calls.append(entry.spec.model_id))
    return calls


def run(app, user_id: int):
    request = EditRequest(operation="instruct_edit", image=samples.noise(64, 48), prompt="make it snowy", steps=2,
                          seed=7)
    return app.studio.paid_runs.run(request, user_id)


def holds(app, user_id: int) -> list[str]:
    with app.studio.engine.connect() as conn:
        return conn.execute(sa.select(credit_holds.c.status).where(credit_holds.c.user_id == user_id)).scalars().all()


def test_out_of_memory_then_success_with_offload_is_charged_once(faulty_app, oom, offload_calls):
    user = faulty_app.new_user(credits=10)
    oom["left"] = 1
    result = run(faulty_app, user.id)
    assert result.image.size == (64, 48) and result.credits == PRICE
    assert oom["calls"] == 2 and offload_calls == ["timbrooks/instruct-pix2pix"]
    balance = faulty_app.studio.ledger.balance(user.id)
    assert (balance.balance, balance.reserved) == (20 - PRICE, 0)  # 10 at sign-up + 10 granted, one charge
    assert holds(faulty_app, user.id) == ["captured"]


def test_out_of_memory_twice_is_refused_and_nothing_is_charged(faulty_app, oom, offload_calls):
    user = faulty_app.new_user(credits=10)
    oom["left"] = 2
    with pytest.raises(RunFailed, match=r"The GPU ran out of memory on this picture .* Try a smaller picture"):
        run(faulty_app, user.id)
    assert oom["calls"] == 2 and len(offload_calls) == 1  # one retry, not more
    balance = faulty_app.studio.ledger.balance(user.id)
    assert (balance.balance, balance.reserved) == (20, 0)
    assert holds(faulty_app, user.id) == ["released"]


def test_without_offload_out_of_memory_is_refused_at_once(faulty_app, oom):
    """CPU and MPS have no offload (pipelines/device.py): no retry, the sentence, nothing charged."""
    user = faulty_app.new_user(credits=10)
    oom["left"] = 1
    with pytest.raises(RunFailed, match="The GPU ran out of memory"):
        run(faulty_app, user.id)
    assert oom["calls"] == 1
    assert faulty_app.studio.ledger.balance(user.id).balance == 20
    assert holds(faulty_app, user.id) == ["released"]
