"""Settings: environment first, safe defaults, no default secrets in production."""

from __future__ import annotations

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


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")
    assert Settings(_env_file=None, environment="production", secret_key="s" * 40).environment == "production"


def test_unknown_profiles_are_refused():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, model_profile="huge")
