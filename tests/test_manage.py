"""manage.py: the operator's commands work on the same database as the app."""

from __future__ import annotations

import base64
import os

import sqlalchemy as sa

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


def test_rotate_key_re_encrypts_and_a_second_run_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    manage.main(["create-user", "keys@example.com", "--name", "Kim Keys"])
    assert manage.main(["rotate-key"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 rows changed")  # already under the current key

    monkeypatch.setenv("DATA_KEYS", f"k1:{base64.b64encode(os.urandom(32)).decode()}")
    assert manage.main(["rotate-key"]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary == "1 rows changed (users 1, identities 0, magic_links 0); key k1 encrypts"
    assert manage.main(["rotate-key"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 rows changed")
    assert manage.main(["list-users"]) == 0
    assert "keys@example.com\tKim Keys" in capsys.readouterr().out
    with create_engine(f"sqlite:///{tmp_path / 'studio.db'}").connect() as conn:
        stored = conn.execute(sa.text("SELECT email_enc, name_enc FROM users")).one()
    assert all(value.startswith("k1:") for value in stored)
    database = b"".join(path.read_bytes() for path in tmp_path.glob("studio.db*"))
    assert b"keys@example.com" not in database and b"Kim Keys" not in database
