"""examples/batch_compare.py against the served app: 2 pictures × 2 models, 2 at a time; pictures, recipes, CSV."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests import samples

REPO = Path(__file__).resolve().parents[2]
MODELS = ("timbrooks/instruct-pix2pix", "black-forest-labs/FLUX.2-klein-4B")


def test_the_batch_example_writes_pictures_recipes_and_a_csv(live_app, tmp_path):
    folder, out = tmp_path / "photos", tmp_path / "compared"
    folder.mkdir()
    for name, seed in (("cat", 1), ("dog", 2)):
        samples.noise(40, 32, seed=seed).save(folder / f"{name}.png")
    env = {**os.environ, "STUDIO_API_KEY": live_app.api_key()}
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "batch_compare.py"), live_app.url, str(folder),
         "--models", ",".join(MODELS), "--prompt", "make it snowy", "--steps", "2", "--seed", "3",
         "--concurrency", "2", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "4 of 4 runs written" in done.stdout
    rows = list(csv.DictReader((out / "results.csv").open(encoding="utf-8")))
    assert sorted((r["picture"], r["model"]) for r in rows) == sorted(
        (picture, model) for picture in ("cat.png", "dog.png") for model in MODELS)
    for row in rows:
        assert row["status"] == "ok" and row["seed"] == "3" and row["steps"] == "2" and float(row["wall_s"]) > 0
        assert Image.open(out / row["result"]).size == (40, 32)
        recipe = json.loads((out / row["recipe"]).read_text(encoding="utf-8"))
        assert recipe["run_id"] == row["run_id"] and recipe["parameters"]["prompt"] == "make it snowy"
