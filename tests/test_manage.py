"""manage.py: the operator's commands work on the same database as the app."""

from __future__ import annotations

import manage
from auth.accounts import Accounts
from config import Settings
from store.db import create_engine


def test_create_user_key_and_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    assert manage.main(["migrate"]) == 0
    assert manage.main(["create-user", "Ops@Example.com", "--name", "Ops"]) == 0
    assert manage.main(["api-key", "ops@example.com"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert manage.main(["list-users"]) == 0
    assert "ops@example.com\tOps" in capsys.readouterr().out
    settings = Settings(_env_file=None, data_dir=tmp_path)
    accounts = Accounts(create_engine(settings.sqlalchemy_url), settings)
    assert accounts.api_keys.resolve(key) == accounts.users.by_email("ops@example.com").id


def test_a_key_for_an_unknown_address_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert manage.main(["api-key", "nobody@example.com"]) == 1
    assert "create it first" in capsys.readouterr().err
    assert manage.main(["create-user", "not an address"]) == 2


def test_grant_and_balance(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    manage.main(["create-user", "money@example.com"])
    capsys.readouterr()
    assert manage.main(["balance", "money@example.com"]) == 0
    assert capsys.readouterr().out.strip() == "10"  # the sign-up grant
    assert manage.main(["grant", "money@example.com", "25"]) == 0
    assert capsys.readouterr().out.strip() == "35"
    assert manage.main(["grant", "money@example.com", "-5"]) == 2
    assert manage.main(["balance", "nobody@example.com"]) == 1
