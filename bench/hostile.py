"""Hostile input and load, all at once, against one app process on tiny models.

While, together:
  - a 12 MP photo with its whole area painted is inpainted (through the API, signed in);
  - 50 anonymous tabs upload pictures that decode to 16 MP (through the page's own upload event);
  - 20 clients send 200 MB chunked bodies (no Content-Length) to /account/delete and /webhooks/creem;
  - one ordinary signed-in visitor runs an edit;
/healthz is polled every 50 ms. Measured: its p50/p99 latency, whether the ordinary edit and the
big inpaint completed, the process's RSS (warm, peak, after) against PICTURE_MEMORY_MB + 300 MB,
the books (every account equals its entries, no hold left open, nothing charged for what was
refused), and the upload folder (empty once unclaimed uploads have been swept).

`.venv/bin/python -m bench.hostile` (HOSTILE_TABS, HOSTILE_SENDERS, HOSTILE_BODY_MB to change it).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
from gradio_client import handle_file
from PIL import Image

from bench.common import bench_env, free_port, make_users, serve, stop, table, temp_dir, wait_until_up

TABS = int(os.environ.get("HOSTILE_TABS", "50"))
SENDERS = int(os.environ.get("HOSTILE_SENDERS", "20"))
BODY_MB = int(os.environ.get("HOSTILE_BODY_MB", "200"))
PICTURE_MEMORY_MB = 512
UPLOAD_UNCLAIMED_S = 20  # shorter than production's minute, so the bench need not wait long
HEALTH_EVERY_S = 0.05


def png(width: int, height: int) -> bytes:
    """A smooth gradient: a few hundred KB of PNG that decodes to width × height pixels."""
    row = Image.linear_gradient("L").resize((width, 1))
    picture = Image.merge("RGB", [row.resize((width, height))] * 3)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


class Poller(threading.Thread):
    """GET /healthz every 50 ms; a request that fails or times out counts as its timeout."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.latencies, self.failures = url, [], 0
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stopped.is_set():
                started = time.perf_counter()
                try:
                    client.get(self.url).raise_for_status()
                except httpx.HTTPError:
                    self.failures += 1
                self.latencies.append(time.perf_counter() - started)
                self.stopped.wait(HEALTH_EVERY_S)


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak = psutil.Process(pid), 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, rss_mb(self.process))
            self.stopped.wait(0.1)


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def upload_event(base: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the page's photo upload event, from Gradio's config."""
    config = httpx.get(f"{base}config", timeout=30).json()
    photo = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "photo")
    for index, dependency in enumerate(config["dependencies"]):
        if [photo, "upload"] in [list(t) for t in dependency["targets"]]:
            return dependency.get("id", index), photo
    raise RuntimeError("the page has no upload event")


def anonymous_tab(base: str, event: tuple[int, int], picture: bytes, outcomes: list[str]) -> None:
    """What a visitor's tab does on upload, without signing in: the file, then the page's upload event."""
    session = secrets.token_hex(6)
    with httpx.Client(timeout=120) as client:
        answer = client.post(f"{base}gradio_api/upload", files={"files": ("big.png", picture, "image/png")})
        if answer.status_code != 200:
            outcomes.append(f"upload {answer.status_code}")
            return
        path = answer.json()[0]
        file_data = {"path": path, "orig_name": "big.png", "meta": {"_type": "gradio.FileData"}}
        fn_index, trigger = event
        join = client.post(f"{base}gradio_api/queue/join", json={
            "data": [file_data, "instruct_edit"], "fn_index": fn_index, "trigger_id": trigger,
            "session_hash": session, "event_data": None,
        })
        if join.status_code != 200:
            outcomes.append(f"join {join.status_code}")
            return
        with client.stream("GET", f"{base}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and '"process_completed"' in line:
                    message = json.loads(line[5:])
                    outcomes.append("shown" if message.get("success") else "refused")
                    return
    outcomes.append("no answer")


def chunked_sender(base: str, path: str, outcomes: list[str]) -> None:
    """BODY_MB of zeros in 1 MB chunks, no Content-Length, as fast as the server takes them."""
    chunk = bytes(2**20)

    def body():
        for _ in range(BODY_MB):
            yield chunk

    try:
        answer = httpx.post(f"{base}{path.lstrip('/')}", content=body(), timeout=60,
                            headers={"content-type": "application/json"})
        outcomes.append(str(answer.status_code))
    except httpx.HTTPError as exc:  # the server closed the connection after refusing: what we hope for
        outcomes.append(type(exc).__name__)


def signed_in_edit(base: str, headers: dict[str, str], folder: Path, width: int, height: int, api: str,
                   outcomes: dict[str, str], **arguments: object) -> None:
    from gradio_client import Client, handle_file

    picture = folder / f"{api}.png"
    picture.write_bytes(png(width, height))
    started = time.perf_counter()
    try:
        client = Client(base, verbose=False, download_files=False, headers=headers)
        client.predict(handle_file(str(picture)), api_name=f"/{api}", **arguments)
        outcomes[api] = f"done in {time.perf_counter() - started:.1f} s"
    except Exception as exc:  # noqa: BLE001 - reported in the table
        outcomes[api] = f"failed: {str(exc)[:80]}"


def books(database: Path) -> tuple[bool, int]:
    """(every account equals the sum of its entries, holds still held)."""
    import sqlalchemy as sa

    from store.tables import credit_accounts, credit_entries, credit_holds

    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        totals = dict(conn.execute(sa.select(credit_entries.c.user_id, sa.func.sum(credit_entries.c.amount))
                                   .group_by(credit_entries.c.user_id)).all())
        balanced = all(totals.get(row.user_id, 0) == row.balance and row.reserved == 0
                       for row in conn.execute(sa.select(credit_accounts)))
        held = conn.execute(sa.select(sa.func.count()).select_from(credit_holds)
                            .where(credit_holds.c.status == "held")).scalar_one()
    engine.dispose()
    return balanced, held


def files_in(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file())


def main() -> str:
    data = temp_dir("hostile")
    uploads = data / "gradio"
    env = bench_env(data, PICTURE_MEMORY_MB=str(PICTURE_MEMORY_MB), GRADIO_TEMP_DIR=str(uploads),
                    UPLOAD_UNCLAIMED_S=str(UPLOAD_UNCLAIMED_S), PRELOAD_OPERATION="",
                    MALLOC_ARENA_MAX="2", MALLOC_MMAP_THRESHOLD_=os.environ.get("MALLOC_MMAP_THRESHOLD_", "1048576"),
                    CREEM_WEBHOOK_SECRET=secrets.token_hex(16))
    headers = make_users(env, 1)[0]
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process = serve(["app.py"], env, port)
    try:
        wait_until_up(f"{base}healthz", process=process)
        warm: dict[str, str] = {}  # both models loaded, an anonymous upload seen: the warm figure
        signed_in_edit(base, headers, data, 256, 192, "instruct_edit", warm, prompt="warm", steps=2)
        mask = data / "mask.png"
        Image.new("L", (256, 192), 255).save(mask)
        signed_in_edit(base, headers, data, 256, 192, "inpaint", warm, mask=handle_file(str(mask)), steps=2)
        event = upload_event(base)
        anonymous_tab(base, event, png(640, 480), [])
        time.sleep(2)
        app = psutil.Process(process.pid)
        warm_rss = rss_mb(app)

        big_mask = data / "big-mask.png"
        Image.new("L", (4000, 3000), 255).save(big_mask)
        picture = png(4000, 4000)  # 16 MP decoded, a few hundred KB sent
        poller, sampler = Poller(f"{base}healthz"), RssSampler(process.pid)
        poller.start(), sampler.start()
        tab_outcomes: list[str] = []
        sender_outcomes: list[str] = []
        edits: dict[str, str] = {}
        workers = [threading.Thread(target=signed_in_edit, args=(base, headers, data, 4000, 3000, "inpaint", edits),
                                    kwargs={"mask": handle_file(str(big_mask)), "steps": 2})]
        workers += [threading.Thread(target=anonymous_tab, args=(base, event, picture, tab_outcomes))
                    for _ in range(TABS)]
        workers += [threading.Thread(target=chunked_sender, args=(base, path, sender_outcomes))
                    for path in (["/account/delete", "/webhooks/creem"] * SENDERS)[:SENDERS]]
        workers += [threading.Thread(target=signed_in_edit, args=(base, headers, data, 96, 64, "instruct_edit", edits),
                                     kwargs={"prompt": "make it snowy", "steps": 2})]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=600)
        storm_s = time.perf_counter() - started
        poller.stopped.set(), sampler.stopped.set()
        time.sleep(UPLOAD_UNCLAIMED_S + 15)  # unclaimed uploads are swept
        after_rss = rss_mb(app)
        left = files_in(uploads)
    finally:
        stop(process)
    balanced, held = books(data / "studio.db")
    latencies = sorted(poller.latencies)
    p50, p99 = statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000
    budget = warm_rss + PICTURE_MEMORY_MB + 300
    counts = lambda outcomes: ", ".join(f"{n}× {o}" for o, n in sorted(  # noqa: E731
        {o: outcomes.count(o) for o in outcomes}.items()))
    rows = [
        ["/healthz p50 / p99 (target p99 < 250 ms)", f"{p50:.0f} / {p99:.0f} ms",
         "met" if p99 < 250 else "NOT met"],
        ["/healthz failures", str(poller.failures), "met" if poller.failures == 0 else "NOT met"],
        ["12 MP fully painted inpaint", edits.get("inpaint", "did not finish"), ""],
        ["ordinary signed-in edit", edits.get("instruct_edit", "did not finish"),
         "met" if edits.get("instruct_edit", "").startswith("done") else "NOT met"],
        [f"{TABS} anonymous 16 MP uploads", counts(tab_outcomes), ""],
        [f"{SENDERS} chunked {BODY_MB} MB bodies", counts(sender_outcomes), ""],
        ["RSS warm / peak / after (MB)", f"{warm_rss:.0f} / {sampler.peak:.0f} / {after_rss:.0f}",
         f"{'met' if sampler.peak <= budget else 'NOT met'} (peak ≤ warm + {PICTURE_MEMORY_MB} + 300)"],
        ["books: accounts equal their entries; holds open", f"{balanced}; {held}",
         "met" if balanced and not held else "NOT met"],
        ["files left in the upload folder", str(left), "met" if left == 0 else "NOT met"],
    ]
    return (f"hostile: {storm_s:.0f} s of everything at once on one process (tiny models, "
            f"PICTURE_MEMORY_MB={PICTURE_MEMORY_MB})\n" + table(["what", "measured", "target"], rows))


if __name__ == "__main__":
    print(main())
    sys.exit(0)
