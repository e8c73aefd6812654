"""Run a folder of pictures through a list of models via the Studio API, a few at a time.

Writes, for every picture × model, the result (<picture>--<model>.png) and its recipe (.recipe.json: replay
it with /replay), and one results.csv with the parameters and measurements of every run. Calls that the
server turns away for the key's runs per minute (HTTP 429) wait the Retry-After it sends and try again.

    export STUDIO_API_KEY=...   # the Account tab makes one (Developers page: /developers)
    python examples/batch_compare.py http://127.0.0.1:7860/ photos/ \\
        --models timbrooks/instruct-pix2pix,black-forest-labs/FLUX.2-klein-4B --prompt "make it winter" \\
        --steps 20 --seed 1 --concurrency 2 --out compared/

Only the standard library and gradio_client are needed (`pip install gradio_client`).
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file

PICTURES = (".png", ".jpg", ".jpeg", ".webp")
COLUMNS = ("picture", "model", "status", "seed", "run_id", "steps", "guidance", "wall_s", "denoiser_steps_per_s",
           "peak_memory_bytes", "psnr_db", "ssim", "clip_direction", "result", "recipe", "error")
DEFAULT_WAIT_S = 5.0  # when a 429 carries no Retry-After
MAX_TRIES = 20


def retry_after(exc: BaseException) -> float | None:
    """Seconds to wait when `exc` is the server's 429 (from its Retry-After header or sentence), else None."""
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if response is not None and getattr(response, "status_code", None) == 429:
            try:
                return float(response.headers.get("Retry-After", DEFAULT_WAIT_S))
            except ValueError:
                return DEFAULT_WAIT_S
        seen = seen.__cause__ or seen.__context__
    message = str(exc)
    if "429" in message or "runs in the last minute" in message:
        found = re.search(r"again in (\d+) s", message)
        return float(found.group(1)) if found else DEFAULT_WAIT_S
    return None


class Batch:
    def __init__(self, url: str, key: str, operation: str, values: dict[str, Any], out: Path) -> None:
        self.url, self.key, self.operation, self.values, self.out = url, key, operation, values, out
        self.local = threading.local()  # one client per worker thread

    def client(self) -> Client:
        if not hasattr(self.local, "client"):
            self.local.client = Client(self.url, verbose=False, download_files=False,
                                       headers={"Authorization": f"Bearer {self.key}"})
        return self.local.client

    def run(self, picture: Path, model: str) -> dict[str, Any]:
        """One picture through one model: the result and its recipe written, a CSV row returned."""
        stem = f"{picture.stem}--{re.sub(r'[^A-Za-z0-9._-]+', '-', model)}"
        row: dict[str, Any] = {"picture": picture.name, "model": model}
        for attempt in range(MAX_TRIES):
            try:
                result, seed, run_id, recipe = self.client().predict(
                    image=handle_file(str(picture)), model=model, api_name=f"/{self.operation}", **self.values)
                break
            except Exception as exc:  # noqa: BLE001 - a 429 waits; anything else is this row's error
                wait = retry_after(exc)
                if wait is None or attempt == MAX_TRIES - 1:
                    return {**row, "status": "failed", "error": str(exc)}
                time.sleep(wait)
        image_path, recipe_path = self.out / f"{stem}.png", self.out / f"{stem}.recipe.json"
        image_path.write_bytes(base64.b64decode(result["url"].split(",", 1)[1]))
        recipe_path.write_text(json.dumps(recipe, indent=2, ensure_ascii=False), encoding="utf-8")
        found = recipe.get("measurements", {})
        applied = recipe.get("applied", {})
        return {
            **row, "status": "ok", "seed": seed, "run_id": run_id,
            "steps": applied.get("num_inference_steps"),
            "guidance": applied.get("guidance_scale", applied.get("true_cfg_scale")),
            "wall_s": found.get("wall_s"), "denoiser_steps_per_s": found.get("denoiser_steps_per_s"),
            "peak_memory_bytes": found.get("peak_memory_bytes"),
            "psnr_db": (found.get("unchanged") or {}).get("psnr_db"),
            "ssim": (found.get("unchanged") or {}).get("ssim"), "clip_direction": found.get("clip_direction"),
            "result": image_path.name, "recipe": recipe_path.name,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the Studio's address, e.g. http://127.0.0.1:7860/")
    parser.add_argument("folder", type=Path, help="a folder of pictures (png, jpg, webp)")
    parser.add_argument("--models", required=True, help="model ids, separated by commas")
    parser.add_argument("--operation", default="instruct_edit")
    parser.add_argument("--prompt", help="the instruction, for operations that take one")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--guidance", type=float)
    parser.add_argument("--seed", type=int, help="the same seed for every run (default: one each)")
    parser.add_argument("--concurrency", type=int, default=2, help="runs in flight at once (default 2)")
    parser.add_argument("--out", type=Path, default=Path("compared"))
    parser.add_argument("--key-env", default="STUDIO_API_KEY", help="the variable that holds the API key")
    args = parser.parse_args(argv)

    key = os.environ.get(args.key_env)
    if not key:
        parser.error(f"set {args.key_env} to an API key (the Account tab makes one)")
    pictures = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in PICTURES)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not pictures or not models:
        parser.error("no pictures in the folder, or no models")
    values = {name: value for name, value in
              (("prompt", args.prompt), ("steps", args.steps), ("guidance", args.guidance), ("seed", args.seed))
              if value is not None}
    args.out.mkdir(parents=True, exist_ok=True)
    batch = Batch(args.url, key, args.operation, values, args.out)
    jobs = [(picture, model) for picture in pictures for model in models]
    with ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
        rows = list(pool.map(lambda job: batch.run(*job), jobs))
    with (args.out / "results.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"{len(rows) - failed} of {len(rows)} runs written to {args.out}" + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
