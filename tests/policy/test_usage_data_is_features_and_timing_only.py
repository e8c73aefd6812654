"""Policy: usage data is which features are used and how long processing takes. No prompts, no pixels."""

from __future__ import annotations

import sqlalchemy as sa

from tests import samples
from tests.policy.dump import database_text

USAGE_COLUMNS = {"id", "run_id", "user_id", "operation", "model_id", "weights", "status", "duration_ms",
                 "input_megapixels", "output_width", "output_height", "created_at"}  # sizes, never pixels


def test_a_run_records_the_feature_and_its_timing_and_nothing_it_was_given(live_app):
    from pipelines.base import EditRequest
    from store.tables import usage_events

    user = live_app.new_user()
    prompt = "replace the sky with my ex-partner's face, unique-prompt-5f1c"
    picture = samples.noise(40, 30, seed=77)
    result = live_app.studio.paid_runs.run(EditRequest("instruct_edit", picture, prompt, steps=1), user.id)

    columns = {c["name"] for c in sa.inspect(live_app.studio.engine).get_columns("usage_events")}
    assert columns == USAGE_COLUMNS
    with live_app.studio.engine.connect() as conn:
        row = conn.execute(sa.select(usage_events).where(usage_events.c.run_id == result.run_id)).one()
    assert row.operation == "instruct_edit" and row.status == "ok" and row.duration_ms >= 0
    dump = database_text(live_app.studio.engine)
    assert "unique-prompt-5f1c" not in dump
    assert picture.tobytes()[:64].hex() not in dump.lower()
