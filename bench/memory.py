"""Memory: process RSS after 200 edits from 20 browser sessions that then close, against RSS after warm-up.

After each edit the tab also makes three Select clicks on its picture, so the image embeddings kept with
tabs' pictures are counted too, and must go with the tabs.

Runs the whole app in this process and drives the Studio page's own handlers (upload, run,
tab closed) for 20 sessions at once, 10 edits each, mixing operations; then every tab closes. The
handlers belong to a real page (ui.studio.build_studio), so each answer is what a tab would be sent
(the picture, the history strip, the download link), built in full.
"""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace

import psutil

from bench.common import table, temp_dir

SESSIONS, EDITS = 20, 10
PLAN = [  # (operation, prompt) in turn; inpaint needs a painted mask and is covered by the browser tests
    ("instruct_edit", "make it snowy"), ("restyle", "ink drawing"), ("upscale", ""),
    ("remove_background", ""), ("outpaint", ""),
]


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


def main() -> str:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app import create_app
    from config import Settings
    from pipelines.ops.select import select_request
    from tests import samples
    from ui.account import AccountHandlers
    from ui.handlers import StudioHandlers
    from ui.studio import build_studio
    from ui.views import image_data

    data = temp_dir("memory")
    settings = Settings(_env_file=None, model_profile="tiny", data_dir=data, preload_operation="")
    studio = create_app(settings).state.studio
    handlers = StudioHandlers(studio, AccountHandlers(studio.accounts))
    build_studio(studio, handlers)  # the page's components, which the handlers' answers fill
    user = studio.accounts.users.create("bench@example.com")
    studio.acceptance.accept(user.id)
    studio.ledger.grant(user.id, 1_000_000, kind="grant", source="operator", unique_key="bench-memory")
    cookies = {settings.session_cookie_name: studio.accounts.start_session(user, "bench")}

    def tab(name: str) -> SimpleNamespace:
        """A stand-in for gr.Request: handlers find the user from its HTTP request's session cookie."""
        return SimpleNamespace(session_hash=name, request=SimpleNamespace(headers={}, cookies=cookies, client=None))

    def select_clicks(name: str, clicks: int = 3) -> None:
        """The Select tool on the tab's current picture: its embedding is kept with that picture until the tab goes."""
        entry = handlers._session(tab(name)).current
        for i in range(clicks):
            points = tuple((10.0 + 20 * n, 10.0, 1) for n in range(i + 1))
            studio.paid_runs.run(select_request(entry.image, points=points, embeddings=entry.embeddings), user.id)

    def session_edits(name: str, edits: int) -> None:
        request = tab(name)
        photo = image_data(samples.noise(256, 192, seed=hash(name) % 1000), "photo.png")
        handlers.upload(photo, "instruct_edit", request)
        for i in range(edits):
            op, prompt = PLAN[i % len(PLAN)]
            handlers.run_named(op, {"prompt": prompt, "steps": 2, "directions": ["right"]}, request)
        select_clicks(name)

    session_edits("warm-up", 2 * len(PLAN))  # every model loaded, first-call costs paid
    handlers.close(tab("warm-up"))
    baseline = rss_mb()

    names = [f"tab-{i}" for i in range(SESSIONS)]
    for round_ in range(EDITS):  # all 20 tabs open at once, taking turns
        for name in names:
            if round_ == 0:
                photo = image_data(samples.noise(256, 192, seed=len(name)), "p.png")
                handlers.upload(photo, "instruct_edit", tab(name))
            op, prompt = PLAN[round_ % len(PLAN)]
            handlers.run_named(op, {"prompt": prompt, "steps": 2, "directions": ["right"]}, tab(name))
            select_clicks(name)
    peak = rss_mb()
    held = len(studio.sessions)
    for name in names:
        handlers.close(tab(name))
    after = rss_mb()
    growth = (after - baseline) / baseline * 100
    rows = [
        ["after warm-up", f"{baseline:.0f}", ""],
        [f"{SESSIONS} tabs open, {SESSIONS * EDITS} edits done ({held} sessions held)", f"{peak:.0f}",
         f"{(peak - baseline) / baseline * 100:+.1f}%"],
        ["all tabs closed", f"{after:.0f}", f"{growth:+.1f}%"],
    ]
    return (f"memory: RSS of the app process, {SESSIONS} sessions x {EDITS} edits (256x192 photos, tiny models)\n"
            + table(["moment", "RSS MB", "vs warm-up"], rows)
            + f"\ntarget: growth under 10% once tabs close -> {'met' if growth < 10 else 'NOT met'}"
            + f" ({len(studio.sessions)} sessions left in memory)")


if __name__ == "__main__":
    print(main())
    sys.exit(0)
