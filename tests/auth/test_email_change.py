"""Changing an account's address: a link to the new address, which moves the account when followed."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from auth.accounts import Accounts
from auth.mailer import Mailer
from auth.routes import auth_router
from auth.users import EmailTaken
from config import Settings
from store.db import create_engine, migrate


class Outbox(Mailer):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, text: str, *, console_line: str) -> None:
        self.sent.append((to, subject, text))


@pytest.fixture
def site(tmp_path) -> tuple[TestClient, Accounts, Outbox]:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    engine = create_engine(settings.sqlalchemy_url)
    migrate(engine)
    outbox = Outbox(settings)
    accounts = Accounts(engine, settings, outbox)
    app = FastAPI()
    app.include_router(auth_router(accounts))
    yield TestClient(app, base_url="http://testserver", follow_redirects=False), accounts, outbox
    engine.dispose()


def ask_for_change(accounts: Accounts, outbox: Outbox, user_id: int, address: str) -> str:
    """The path of the link the new address received."""
    answer = accounts.magic_links.request_email_change(user_id, address, client_ip="1.2.3.4",
                                                       base_url="http://testserver")
    assert "on its way to the new address" in answer
    to, subject, text = outbox.sent[-1]
    assert to == address.casefold() and "Confirm your new" in subject
    link = urlparse(re.search(r"http://\S+", text).group(0))
    return f"{link.path}?{link.query}"


def follow(client: TestClient, path: str):
    confirm = client.get(path)
    assert confirm.status_code == 200 and "Confirm your new address" in confirm.text
    return client.post("/auth/magic", data={"token": parse_qs(urlparse(path).query)["token"][0]})


def test_following_the_link_moves_the_account(site):
    client, accounts, outbox = site
    alice = accounts.users.sign_in("email", "alice@example.com", "alice@example.com", "Alice")
    path = ask_for_change(accounts, outbox, alice.id, "Alice@New.example")
    assert accounts.users.get(alice.id).email == "alice@example.com"  # nothing changes before the link is used

    answer = follow(client, path)
    assert answer.status_code == 303 and answer.headers["location"] == "/?email_changed=1"
    assert "set-cookie" not in answer.headers  # it changes an address; it does not sign anyone in
    moved = accounts.users.get(alice.id)
    assert (moved.email, moved.name) == ("alice@new.example", "Alice")
    assert accounts.users.by_email("alice@example.com") is None
    assert client.post("/auth/magic", data={"token": parse_qs(urlparse(path).query)["token"][0]}).status_code == 400


def test_an_address_that_belongs_to_another_account_is_refused_before_and_after_sending(site):
    client, accounts, outbox = site
    alice = accounts.users.create("alice@example.com")
    accounts.users.create("dave@example.com")
    with pytest.raises(EmailTaken, match="another account"):
        accounts.magic_links.request_email_change(alice.id, "Dave@Example.com", client_ip="1.2.3.4",
                                                  base_url="http://testserver")
    assert outbox.sent == []
    path = ask_for_change(accounts, outbox, alice.id, "bob@example.com")
    bob = accounts.users.create("bob@example.com")  # signed up after the link was sent

    answer = follow(client, path)
    assert answer.status_code == 409 and "already belongs to another account" in answer.text
    assert accounts.users.get(alice.id).email == "alice@example.com"
    assert accounts.users.by_email("bob@example.com").id == bob.id


def test_a_sign_in_link_still_signs_in(site):
    client, accounts, outbox = site
    accounts.magic_links.request("carol@example.com", client_ip="1.2.3.4", base_url="http://testserver",
                                 next_path="/after")
    token = outbox.sent[-1][2].split("token=", 1)[1].split()[0]
    answer = client.post("/auth/magic", data={"token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/after"
    assert accounts.users.by_email("carol@example.com") is not None
