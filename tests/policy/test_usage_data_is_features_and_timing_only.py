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


def test_a_recipe_goes_to_the_caller_and_nowhere_else(live_app, app_logs):
    """A recipe holds the prompt: it is handed back with the result (and replayed from what the caller sends),
    never written to the database, the logs or a file the app writes."""
    from pipelines.base import EditRequest
    from pipelines.inputs import InputContext
    from pipelines.recipes import FORMAT, to_json
    from tests.policy.test_images_never_persist import places_the_app_writes

    user = live_app.new_user()
    prompt = "unique-recipe-prompt-9b2e: my sister's address"
    picture = samples.noise(40, 30, seed=78)
    paid = live_app.studio.paid_runs
    result = paid.run(EditRequest("instruct_edit", picture, prompt, steps=1), user.id)
    assert result.recipe["parameters"]["prompt"] == prompt  # the caller gets it ...
    again = paid.replay(to_json(result.recipe), [picture], InputContext(live_app.studio.settings,
                                                                         lambda image: samples.encode(image)), user.id)
    assert again.recipe["replay_of"]["run_id"] == result.run_id

    dump = database_text(live_app.studio.engine)  # ... and nothing else keeps it
    for secret in ("unique-recipe-prompt-9b2e", FORMAT, '"parameters"'):
        assert secret not in dump
        assert secret not in "\n".join(app_logs.lines)
    needle = b"unique-recipe-prompt-9b2e"
    for folder in places_the_app_writes(live_app):
        for path in folder.rglob("*") if folder.is_dir() else ():
            try:
                if path.is_file() and path.stat().st_size < 50_000_000:
                    assert needle not in path.read_bytes(), f"the recipe's prompt is in {path}"
            except OSError:  # unreadable, gone meanwhile, or not a regular file (a socket)
                continue
