"""Settings: environment first, safe defaults, no default secrets in production."""

from __future__ import annotations

import base64
import os
import secrets

import pytest
from pydantic import ValidationError

from config import Settings
from pipelines.registry import OPERATIONS


def test_defaults_serve_on_localhost_with_sqlite_and_auto_models(monkeypatch):
    for name in ("HOST", "PORT", "MODEL_PROFILE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert (settings.host, settings.port) == ("127.0.0.1", 7860)
    assert settings.model_profile == "auto"
    assert settings.sqlalchemy_url.startswith("sqlite:///")


def test_environment_variables_and_comma_lists(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("MODEL_PROFILE", "tiny")
    monkeypatch.setenv("INSTRUCT_EDIT_MODELS", "a/one, b/two")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = Settings(_env_file=None)
    assert settings.port == 9000 and settings.model_profile == "tiny"
    assert OPERATIONS["instruct_edit"].model_choices(settings) == ["a/one", "b/two"]
    assert settings.sqlalchemy_url == "postgresql://u@h/db"


def test_a_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    env = tmp_path / ".env"
    env.write_text("PORT=7999\n")
    assert Settings(_env_file=env).port == 7999


PRODUCTION = dict(
    environment="production", secret_key=secrets.token_urlsafe(32), lookup_key=secrets.token_hex(32),
    data_keys=f"k1:{base64.b64encode(os.urandom(32)).decode()}",
)


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")
    assert Settings(_env_file=None, **PRODUCTION).environment == "production"


@pytest.mark.parametrize("weak", ["s" * 40, "x", "correct horse battery staple", secrets.token_urlsafe(16), "ab" * 64])
@pytest.mark.parametrize("name", ["secret_key", "lookup_key", "metrics_token"])
def test_production_refuses_secrets_without_32_random_bytes(name, weak):
    with pytest.raises(ValidationError, match=name.upper()):
        Settings(_env_file=None, **{**PRODUCTION, name: weak})


def test_production_wants_its_own_data_keys():
    without = {k: v for k, v in PRODUCTION.items() if k != "data_keys"}
    with pytest.raises(ValidationError, match="DATA_KEYS"):
        Settings(_env_file=None, **without)
    with pytest.raises(ValidationError, match="LOOKUP_KEY"):
        Settings(_env_file=None, **{k: v for k, v in PRODUCTION.items() if k != "lookup_key"})


def test_unknown_profiles_are_refused():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, model_profile="huge")
