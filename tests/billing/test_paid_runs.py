"""Paid runs: charged on success only. Failures, timeouts, cancels and refused prompts cost nothing."""

from __future__ import annotations

import threading
import time

import pytest
from PIL import Image

from billing.ledger import InsufficientCredits
from billing.moderation import Moderation, PromptRefused
from billing.paid_runs import PaidRuns
from kernel.errors import RunCancelled, RunFailed, UserError
from pipelines.base import EditRequest
from pipelines.registry import OPERATIONS
from pipelines.service import EditService
from tests import samples


@pytest.fixture
def studio(live_app):
    return live_app.studio


@pytest.fixture
def user(live_app):
    return live_app.new_user(credits=10)  # + 10 sign-up credits = 20


def available(studio, user) -> int:
    return studio.ledger.balance(user.id).available


def edit(prompt: str = "make it snowy", **extra) -> EditRequest:
    return EditRequest("instruct_edit", samples.noise(64, 48), prompt, **{"steps": 2, "seed": 1, **extra})


def paid_with(studio, **settings_changes) -> PaidRuns:
    """Paid runs on the live app's models and ledger, with some settings changed."""
    settings = studio.settings.model_copy(update=settings_changes)
    service = EditService(settings, studio.service.models, studio.service.queue, studio.service.usage)
    return PaidRuns(service, studio.ledger, Moderation(settings, studio.payments.creem))


def test_a_successful_run_is_charged_its_price(studio, user):
    result = studio.paid_runs.run(edit(), user.id)
    assert result.credits == 4 and available(studio, user) == 16
    history = studio.ledger.history(user.id)
    assert history[0].kind == "capture" and history[0].amount == -4 and history[0].reference == result.run_id


def test_a_model_failure_costs_nothing(studio, user, monkeypatch):
    monkeypatch.setattr(OPERATIONS["instruct_edit"], "forward", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))
    with pytest.raises(RunFailed):
        studio.paid_runs.run(edit(), user.id)
    assert available(studio, user) == 20 and studio.ledger.balance(user.id).reserved == 0


def test_a_cancelled_run_costs_nothing(studio, user):
    cancel = threading.Event()

    def press_cancel(done, total, what):
        if what == "Editing":
            cancel.set()

    with pytest.raises(RunCancelled):
        studio.paid_runs.run(edit(steps=30), user.id, on_progress=press_cancel, cancel=cancel)
    assert available(studio, user) == 20


def test_a_run_that_times_out_costs_nothing(studio, user, monkeypatch):
    paid = paid_with(studio, run_timeout_s=1)

    def slow(model, batch, on_step):
        for step in range(1, 100):
            time.sleep(0.05)
            on_step(step, 100)
        return [Image.new("RGB", (64, 48))]

    monkeypatch.setattr(OPERATIONS["instruct_edit"], "forward", slow)
    with pytest.raises(RunFailed, match="took longer than 1 s"):
        paid.run(edit(), user.id)
    assert available(studio, user) == 20
    assert studio.service.usage.recent(1)[0]["status"] == "failed"


@pytest.mark.parametrize("stage", ["prepare", "finish"])
def test_every_stage_counts_against_the_time_limit(studio, user, monkeypatch, stage):
    """Not only the model's steps: a stage that does not listen for Cancel still ends the run on time."""
    paid = paid_with(studio, run_timeout_s=1)
    op = OPERATIONS["instruct_edit"]
    original = getattr(op, stage)

    def stuck(*args, **kwargs):
        time.sleep(4)
        return original(*args, **kwargs)

    monkeypatch.setattr(op, stage, stuck)
    asked = time.monotonic()
    with pytest.raises(RunFailed, match="took longer than 1 s"):
        paid.run(edit(), user.id)
    assert time.monotonic() - asked < 3
    assert available(studio, user) == 20 and studio.ledger.balance(user.id).reserved == 0


def test_a_denied_prompt_costs_nothing_and_never_runs(studio, user, creem):
    with pytest.raises(PromptRefused, match="acceptable-use policy"):
        studio.paid_runs.run(edit("a forbidden thing"), user.id)
    assert available(studio, user) == 20
    assert studio.service.usage.recent(1)[0]["status"] == "rejected"  # refused before any model work
    screened = [body for path, _h, body in creem.state.requests if path == "/v1/moderation/prompt"]
    assert screened[-1] == {"prompt": "a forbidden thing", "external_id": f"user:{user.id}"}


def test_a_flagged_prompt_follows_the_setting(studio, user):
    with pytest.raises(PromptRefused):  # MODERATION_FLAG=deny (the default)
        studio.paid_runs.run(edit("something borderline"), user.id)
    allow = paid_with(studio, moderation_flag="allow")
    assert allow.run(edit("something borderline"), user.id).credits == 4


def test_prompt_free_operations_are_not_screened(studio, user, creem):
    screened = len(creem.state.requests)
    request = EditRequest("upscale", samples.noise(64, 48), scale=2)
    studio.paid_runs.run(request, user.id)
    assert len(creem.state.requests) == screened


def test_without_creem_a_local_blocklist_applies(studio, user):
    settings = studio.settings.model_copy(update={"moderation_blocklist": ["nope"]})
    paid = PaidRuns(studio.service, studio.ledger, Moderation(settings, None))  # no Creem client
    with pytest.raises(PromptRefused):
        paid.run(edit("say NOPE please"), user.id)
    assert paid.run(edit("nopenope is one word"), user.id).credits == 4


def test_a_bad_request_is_refused_before_any_credit_moves(studio, user):
    with pytest.raises(UserError, match="type an instruction"):
        studio.paid_runs.run(edit(""), user.id)
    assert [e.kind for e in studio.ledger.history(user.id)] == ["grant", "grant"]


def test_too_few_credits_explains_and_runs_nothing(studio, live_app):
    poor = live_app.new_user(credits=0)  # the 10 sign-up credits only
    studio.paid_runs.run(edit(), poor.id)
    studio.paid_runs.run(edit(), poor.id)  # 2 left
    with pytest.raises(InsufficientCredits, match=r"costs 4 credits and you have 2.*Credits tab"):
        studio.paid_runs.run(edit(), poor.id)
    assert studio.service.usage.recent(1)[0]["status"] == "rejected"  # nothing ran
    assert studio.ledger.balance(poor.id).available == 2


def test_prices_can_scale_with_the_result_size(studio):
    paid = paid_with(studio, price_per_megapixel=True)
    assert paid.price(EditRequest("instruct_edit", samples.noise(2000, 1000), "x")) == 8  # 2 MP x 4
    assert paid.price(EditRequest("upscale", samples.noise(1000, 1000), scale=2)) == 8  # 4 MP out x 2
    assert paid.price(EditRequest("upscale", samples.noise(100, 100), scale=2)) == 2  # never below the base


def test_over_the_api_a_failed_run_says_nothing_was_charged(live_app, monkeypatch, tmp_path):
    from gradio_client import Client, handle_file

    user = live_app.new_user(credits=0)
    key, _ = live_app.studio.accounts.api_keys.create(user.id, "k")
    monkeypatch.setattr(OPERATIONS["upscale"], "forward", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))
    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)
    client = Client(live_app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"})
    with pytest.raises(Exception, match="No credits were charged"):
        client.predict(handle_file(str(photo)), 2, api_name="/upscale")
    assert live_app.studio.ledger.balance(user.id).available == 10


def test_a_free_operation_holds_nothing_and_writes_no_ledger_row_but_is_counted(studio, user):
    """Select costs 0 credits: no hold, no capture of 0, no entry in the visitor's history; a usage row as any run."""
    before = studio.ledger.history(user.id)
    request = EditRequest("select", samples.noise(64, 48), points=((10.0, 10.0, 1),))
    result = studio.paid_runs.run(request, user.id)
    assert result.credits == 0 and result.image.mode == "L"
    assert available(studio, user) == 20 and studio.ledger.balance(user.id).reserved == 0
    assert studio.ledger.history(user.id) == before
    assert studio.service.usage.recent(1)[0]["run_id"] == result.run_id


def test_a_refused_free_run_leaves_no_trace_in_the_ledger(studio, user):
    before = studio.ledger.history(user.id)
    with pytest.raises(UserError, match="outside the picture"):
        studio.paid_runs.run(EditRequest("select", samples.noise(64, 48), points=((99.0, 1.0, 1),)), user.id)
    assert studio.ledger.history(user.id) == before and available(studio, user) == 20
