"""PostgreSQL restarted while runs are in flight: each run either delivers and is charged once, or fails
with a sentence and is charged nothing; no hold stays held; the same app object serves new runs after.

Restarting the server disturbs anyone else using it, so this runs only where the test may control a
local cluster (root, pg_ctlcluster), restarts once, and always leaves the server running.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from gradio_client import handle_file

from billing.paid_runs import DATABASE_AWAY
from kernel.errors import RunFailed
from pipelines.base import EditRequest
from pipelines.registry import OPERATIONS
from store.tables import credit_accounts, credit_entries, credit_holds
from tests import samples
from tests.conftest import POSTGRES_URL, LiveApp, make_settings, serve_app
from tests.faults.conftest import api_client

PRICE = 4  # instruct_edit
CLUSTERS = Path("/etc/postgresql")
HOLD_MINUTES = 0.55  # 33 s (it must outlast RUN_TIMEOUT_S), so the sweeper's part can be seen within the test


def cluster() -> list[str] | None:
    """The pg_ctlcluster arguments for the local test server, or None when this test may not restart it."""
    local = "@127.0.0.1:" in POSTGRES_URL or "@localhost:" in POSTGRES_URL
    if not (local and shutil.which("pg_ctlcluster") and os.geteuid() == 0 and CLUSTERS.is_dir()):
        return None
    versions = sorted(p.name for p in CLUSTERS.iterdir() if (p / "main").is_dir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"] if versions else None


def restart_postgres(command: list[str]) -> None:
    """Restart (fast shutdown: open connections are cut), and make sure it runs again whatever happens."""
    try:
        subprocess.run([*command, "restart"], check=True, timeout=60, capture_output=True)
    finally:
        if subprocess.run([*command, "status"], capture_output=True).returncode != 0:
            subprocess.run([*command, "start"], timeout=60, capture_output=True)


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory, tiny_models, postgres_schema_url) -> Iterator[LiveApp]:
    settings = make_settings(tmp_path_factory.mktemp("pg-restart"), tiny_models, database_url=postgres_schema_url,
                             run_timeout_s=30, hold_minutes=HOLD_MINUTES)
    yield from serve_app(settings)


def request(steps: int) -> EditRequest:
    return EditRequest(operation="instruct_edit", image=samples.noise(64, 48), prompt="make it snowy", steps=steps,
                       seed=7)


def held_now(app: LiveApp) -> int:
    with app.studio.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(credit_holds)
                            .where(credit_holds.c.status == "held")).scalar_one()


def test_runs_survive_a_postgres_restart(pg_app, tmp_path, monkeypatch, caplog):
    command = cluster()
    if command is None:
        pytest.skip("needs root and pg_ctlcluster for the local PostgreSQL test server (not on CI's service container)")
    studio = pg_app.studio
    user = pg_app.new_user(credits=1000)
    warm_up = studio.paid_runs.run(request(steps=1), user.id)  # the model is loaded before the clock starts
    start = studio.ledger.balance(user.id)
    outcomes: list[object] = []
    stop, go_on = threading.Event(), threading.Event()
    op = OPERATIONS["instruct_edit"]
    real_forward = op.forward

    def paused_forward(model, batch, on_step):  # the first runs hold credits, then wait in the model
        go_on.wait(60)
        return real_forward(model, batch, on_step)

    monkeypatch.setattr(op, "forward", paused_forward)

    def one_run(steps: int) -> None:
        try:
            outcomes.append(studio.paid_runs.run(request(steps), user.id))
        except Exception as exc:  # noqa: BLE001 - RunFailed is expected; anything else fails the test below
            outcomes.append(exc)

    def keep_running() -> None:  # short runs back to back, before, during and after the restart
        while not stop.is_set():
            one_run(1)

    in_model = [threading.Thread(target=one_run, args=(4,), daemon=True) for _ in range(3)]
    for worker in in_model:
        worker.start()
    deadline = time.monotonic() + 60
    while held_now(pg_app) < len(in_model) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held_now(pg_app) == len(in_model)  # three runs in flight, their credits held
    hammers = [threading.Thread(target=keep_running, daemon=True) for _ in range(2)]
    for hammer in hammers:
        hammer.start()
    caplog.set_level(logging.WARNING)
    restarting = threading.Thread(target=restart_postgres, args=(command,))
    restarting.start()
    go_on.set()  # the paused runs finish while the server goes down and comes back
    restarting.join(timeout=90)
    time.sleep(2)
    stop.set()
    for worker in (*in_model, *hammers):
        worker.join(timeout=60)

    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, RunFailed)]
    assert not unexpected, f"runs failed without a sentence: {unexpected!r}"
    failed = [o for o in outcomes if isinstance(o, RunFailed)]
    away = DATABASE_AWAY.split("(run")[0]
    assert all(str(f).startswith(away) for f in failed), [str(f) for f in failed]
    delivered = [o for o in outcomes if not isinstance(o, Exception)]
    assert delivered and all(o.credits == PRICE for o in delivered)

    # no hold stays held: released when the run ended, or by the sweeper once expired
    if held_now(pg_app):
        time.sleep(HOLD_MINUTES * 60 + 1)
        studio.ledger.sweep()
    assert held_now(pg_app) == 0
    with studio.engine.connect() as conn:
        account = conn.execute(sa.select(credit_accounts).where(credit_accounts.c.user_id == user.id)).one()
        e = credit_entries.c
        amount, held, captures = conn.execute(
            sa.select(sa.func.sum(e.amount), sa.func.sum(e.held),
                      sa.func.count().filter(e.kind == "capture")).where(e.user_id == user.id)
        ).one()
        captured = conn.execute(sa.select(credit_holds.c.run_id).where(
            credit_holds.c.user_id == user.id, credit_holds.c.status == "captured")).scalars().all()
    assert sorted(captured) == sorted([warm_up.run_id, *(o.run_id for o in delivered)])  # the delivered ones
    assert captures == len(delivered) + 1  # once each (and the warm-up)
    assert (account.balance, account.reserved) == (start.balance - PRICE * len(delivered), 0)
    assert (amount, held) == (account.balance, account.reserved)  # the entries add up to the account

    # the same app object runs again: the ledger directly, and over the API (session lookup, policy, hold)
    monkeypatch.setattr(op, "forward", real_forward)
    assert studio.paid_runs.run(request(steps=2), user.id).credits == PRICE
    photo = tmp_path / "photo.png"
    samples.noise(64, 48).save(photo)
    client, _ = api_client(pg_app)
    result, _seed, run_id, _recipe = client.predict(image=handle_file(str(photo)), prompt="make it snowy", steps=2,
                                                    seed=7, api_name="/instruct_edit")
    assert result["url"].startswith("data:image/png") and run_id
    retried = sum("trying once more" in r.getMessage() for r in caplog.records)
    print(f"{len(outcomes)} runs around the restart: {len(delivered)} delivered, {len(failed)} failed, "
          f"{retried} charges/releases retried")


def cut(*_args, **_kwargs):
    """What SQLAlchemy raises when the server closed the connection under a statement."""
    raise sa.exc.OperationalError("UPDATE credit_holds ...", {}, ConnectionError("server closed the connection"))


@pytest.mark.parametrize(("failures", "charged"), [(1, True), (2, False)])
def test_a_charge_cut_off_is_retried_once_then_given_back(faulty_app, monkeypatch, failures, charged):
    """Deterministic version of the restart's worst moment, the charge itself: once cut, retried on a fresh
    connection and charged once; cut twice, the hold is released and the run fails with a sentence."""
    monkeypatch.setattr("billing.ledger.RESOLVE_RETRY_PAUSE_S", 0.0)
    ledger = faulty_app.studio.ledger
    real = ledger._resolve_once
    left = {"cuts": failures}

    def flaky(run_id, status, **kwargs):
        if status == "captured" and left["cuts"]:
            left["cuts"] -= 1
            cut()
        return real(run_id, status, **kwargs)

    monkeypatch.setattr(ledger, "_resolve_once", flaky)
    user = faulty_app.new_user(credits=10)
    if charged:
        assert faulty_app.studio.paid_runs.run(request(1), user.id).credits == PRICE
    else:
        with pytest.raises(RunFailed, match="The database did not answer for a moment"):
            faulty_app.studio.paid_runs.run(request(1), user.id)
    balance = ledger.balance(user.id)
    assert (balance.balance, balance.reserved) == (20 - PRICE if charged else 20, 0)
    with faulty_app.studio.engine.connect() as conn:
        statuses = conn.execute(sa.select(credit_holds.c.status).where(credit_holds.c.user_id == user.id)).scalars()
        assert list(statuses) == ["captured" if charged else "released"]


def test_a_charge_whose_answer_was_lost_is_delivered_not_refunded(faulty_app, monkeypatch):
    """The capture committed but the connection died before saying so, twice: the release finds nothing
    held, so the run was charged and its result is delivered (charged once, never twice)."""
    monkeypatch.setattr("billing.ledger.RESOLVE_RETRY_PAUSE_S", 0.0)
    ledger = faulty_app.studio.ledger
    real = ledger._resolve_once

    def committed_then_cut(run_id, status, **kwargs):
        done = real(run_id, status, **kwargs)
        if status == "captured":
            cut()
        return done

    monkeypatch.setattr(ledger, "_resolve_once", committed_then_cut)
    user = faulty_app.new_user(credits=10)
    assert faulty_app.studio.paid_runs.run(request(1), user.id).credits == PRICE
    assert ledger.balance(user.id).balance == 20 - PRICE
