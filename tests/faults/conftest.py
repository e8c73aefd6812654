"""One app for the fault tests that need no database restart: SMTP points at a port nobody listens
on, and restyle's model is a folder that cannot load (MODEL_PROFILE=auto takes a local folder as
real weights); every other operation runs on the tiny stand-ins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client

from tests.conftest import LiveApp, free_port, make_settings, serve_app


@pytest.fixture(scope="package")
def faulty_app(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    data = tmp_path_factory.mktemp("faults")
    broken = data / "broken-model"
    broken.mkdir()  # a "model" folder without model_index.json or weights
    settings = make_settings(
        data, tiny_models, model_profile="auto", restyle_model=str(broken),
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_tls="none",  # nothing listens there
    )
    yield from serve_app(settings)


def api_client(app: LiveApp) -> tuple[Client, int]:
    """A gradio_client signed in with a new user's API key, and that user's id."""
    user = app.new_user()
    key, _ = app.studio.accounts.api_keys.create(user.id, "faults")
    return Client(app.url, verbose=False, download_files=False, headers={"Authorization": f"Bearer {key}"}), user.id
