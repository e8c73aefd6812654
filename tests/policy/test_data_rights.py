"""Policy ("Dina rättigheter"): access, correct and delete your data, yourself, in the app.

Store tests run on SQLite and PostgreSQL; route tests go through the served app; browser tests
click through Account -> My data.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from billing.ledger import Ledger
from billing.payments import Payments
from config import Settings
from kernel.errors import UserError
from policy.consents import ANALYTICS, POLICY, Consents
from policy.data_rights import DataRights, DeletionRefused
from store.tables import credit_entries, magic_links, metadata, usage_events
from store.usage import RunRecord, UsageLog
from tests.billing.creem_server import PLAN, deliver, event
from tests.policy.dump import database_text
from tests.ui.studio_page import TIMEOUT_MS, StudioPage


def rights_for(engine) -> tuple[DataRights, object]:
    from auth.accounts import Accounts

    settings = Settings(_env_file=None)
    accounts = Accounts(engine, settings)
    payments = Payments(engine, settings, Ledger(engine, signup_credits=10, hold_minutes=30), None)
    return DataRights(engine, accounts.users, accounts.magic_links, Consents(engine), payments, "Studio"), accounts


def someone(accounts, engine, email: str, name: str):
    """A user with something in every table: identities, a session, a key, consents, credits, usage."""
    user = accounts.users.sign_in("google", f"sub-{email}", email, name)
    accounts.users.sign_in("email", email, email)
    accounts.sessions.create(user.id, "Firefox on Linux")
    accounts.api_keys.create(user.id, "laptop")
    consents = Consents(engine)
    consents.record(user.id, POLICY, "v1", True)
    consents.record(user.id, ANALYTICS, "c1", False)
    ledger = Ledger(engine, signup_credits=10, hold_minutes=30)
    ledger.grant(user.id, 5, kind="grant", source="operator", unique_key=f"gift:{user.id}")
    ledger.hold(user.id, f"run-{user.id}", 3)
    ledger.capture(f"run-{user.id}")
    UsageLog(engine).record(RunRecord(uuid.uuid4().hex, user.id, "upscale", "m", "tiny", "ok", 120, 0.01))
    accounts.magic_links.request(email, client_ip="10.0.0.1", base_url="http://studio.test")  # names the address
    return user


def decrypted_values(engine, cipher) -> list[str]:
    """Every encrypted field in the database, decrypted: what a thief with the key would read."""
    values = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in (c for c in table.columns if c.name.endswith("_enc")):
                for (value,) in conn.execute(sa.select(column).where(column.is_not(None))):
                    values.append(cipher.decrypt(value, column))
    return values


def rows_naming(engine, user_id: int) -> dict[str, int]:
    return rights_for(engine)[0].summary(user_id)


def test_export_holds_everything_about_the_user_and_nothing_about_others(engine):
    rights, accounts = rights_for(engine)
    ada = someone(accounts, engine, "ada@example.com", "Ada Lovelace")
    someone(accounts, engine, "bob@example.com", "Bob Builder")

    export = rights.export(ada.id)
    counts = {name: len(rows) for name, rows in export["tables"].items()}
    expected = rows_naming(engine, ada.id)  # every table that names a user, every row of it ...
    expected["magic_links"] += 1  # ... and the sign-in link sent to the address
    expected["signup_addresses"] = 1  # ... and when the address had its sign-up credits (found by its hash)
    assert counts == expected
    assert set(export["tables"]["signup_addresses"][0]) == {"created_at"}
    assert {"identities", "auth_sessions", "api_keys", "consents", "credit_entries", "usage_events"} <= {
        name for name, n in counts.items() if n}
    text = json.dumps(export)
    assert export["tables"]["users"][0]["email"] == "ada@example.com"
    assert export["tables"]["users"][0]["name"] == "Ada Lovelace"
    assert "bob@example.com" not in text and "Bob Builder" not in text and "sub-bob" not in text
    assert not [k for rows in export["tables"].values() for row in rows for k in row if k.endswith("_hash")]


def test_deletion_erases_the_person_keeps_accounting_anonymised_and_is_harmless_twice(engine):
    rights, accounts = rights_for(engine)
    eve = someone(accounts, engine, "eve@example.com", "Eve Example")
    token = accounts.sessions.create(eve.id, "Chrome on macOS")
    key, _ = accounts.api_keys.create(eve.id, "script")
    entries_before = rights_for(engine)[0].export(eve.id)["tables"]["credit_entries"]

    assert rights.delete(eve.id, "  EVE@example.com ") is True
    assert accounts.sessions.resolve(token) is None and accounts.api_keys.resolve(key) is None
    assert accounts.users.get(eve.id) is None and accounts.users.by_email("eve@example.com") is None
    left = rows_naming(engine, eve.id)
    assert left["identities"] == left["auth_sessions"] == left["api_keys"] == left["consents"] == 0
    assert left["usage_events"] == 0  # usage rows stay, without the user id
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(usage_events)
                            .where(usage_events.c.user_id.is_(None))).scalar_one() >= 1
        kept = conn.execute(sa.select(credit_entries).where(credit_entries.c.user_id == eve.id)).all()
    assert len(kept) == len(entries_before)  # the books still balance
    exported = rights.export(eve.id)["tables"]["users"][0]
    assert exported["email"] is None and exported["name"] is None and exported["deleted_at"]
    dump = database_text(engine).lower()
    assert "eve@example.com" not in dump and "eve example" not in dump and "sub-eve" not in dump
    readable = decrypted_values(engine, accounts.users.cipher)  # not even encrypted: the link is gone too
    assert "eve@example.com" not in readable and "Eve Example" not in readable

    assert rights.delete(eve.id, "eve@example.com") is False  # twice: nothing happens
    fresh = accounts.users.sign_in("email", "eve@example.com", "eve@example.com")
    assert fresh.id != eve.id  # the address starts over, with nothing of the old account


@pytest.mark.parametrize("typed", ["", "someone@else.com", "eve@example", "not an address", "x" * 400])
def test_a_wrong_confirmation_deletes_nothing(engine, typed):
    rights, accounts = rights_for(engine)
    user = someone(accounts, engine, "keep@example.com", "Keep Me")
    before = rows_naming(engine, user.id)
    with pytest.raises(DeletionRefused, match="not this account's address"):
        rights.delete(user.id, typed)
    assert rows_naming(engine, user.id) == before and accounts.users.get(user.id) is not None


def test_sign_in_links_a_day_past_expiry_are_purged(engine):
    from kernel.clock import now

    _rights, accounts = rights_for(engine)
    for email in ("old@example.com", "new@example.com"):
        accounts.magic_links.request(email, client_ip="10.0.0.2", base_url="http://studio.test")
    old = accounts.magic_links.addressed_to("old@example.com")
    with engine.begin() as conn:
        conn.execute(magic_links.update().where(magic_links.c.id.in_(old))
                     .values(expires_at=now() - timedelta(days=1, minutes=1)))
    assert accounts.magic_links.purge_expired() == 1
    assert accounts.magic_links.addressed_to("old@example.com") == []
    assert len(accounts.magic_links.addressed_to("new@example.com")) == 1


def test_the_name_can_be_corrected_and_an_address_held_by_another_account_is_refused(engine):
    _rights, accounts = rights_for(engine)
    one = someone(accounts, engine, "one@example.com", "Typo Nmae")
    someone(accounts, engine, "two@example.com", "Two")
    assert accounts.users.set_name(one.id, "  Right Name ").name == "Right Name"
    with pytest.raises(UserError, match="another account"):
        accounts.users.change_email(one.id, "TWO@example.com")
    assert accounts.users.get(one.id).email == "one@example.com"


# ------------------------------------------------------------------ through the served app


@pytest.fixture
def http(live_app):
    with httpx.Client(base_url=live_app.url.rstrip("/"), timeout=30, follow_redirects=False) as client:
        yield client


def signed_in(live_app, http: httpx.Client):
    user = live_app.new_user()
    http.cookies.set("studio_session", live_app.studio.accounts.start_session(user, "pytest"))
    return user


def test_export_route_downloads_the_callers_json_and_refuses_anyone_else(live_app, http):
    other = live_app.new_user()
    assert http.get("/account/export").status_code == 401
    me = signed_in(live_app, http)
    answer = http.get("/account/export")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    assert answer.json()["tables"]["users"][0]["email"] == me.email
    refused = http.get(f"/account/export?user_id={other.id}")
    assert refused.status_code == 403 and "only export or delete your own" in refused.text
    assert http.get(f"/account/export?user_id={me.id}").status_code == 200
    key, _ = live_app.studio.accounts.api_keys.create(me.id, "export")
    by_key = httpx.get(f"{live_app.url}account/export", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert by_key.json()["user_id"] == me.id
    bad_key = httpx.get(f"{live_app.url}account/export", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bad_key.status_code == 401


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"confirm": "x"}', b'{"confirm_email": 5}'])
def test_delete_route_refuses_bad_bodies(live_app, http, body):
    me = signed_in(live_app, http)
    answer = http.post("/account/delete", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "confirm_email" in answer.text
    assert live_app.studio.accounts.users.get(me.id) is not None


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_json_routes_take_only_json(live_app, http, content_type):
    """A cross-site form can post JSON as text/plain; these routes do not read it (policy/json_body.py)."""
    me = signed_in(live_app, http)
    headers = {"content-type": content_type} if content_type else {}
    for path, body in [("/account/delete", {"confirm_email": me.email}),
                       ("/account/accept-policy", {"version": live_app.studio.acceptance.version})]:
        answer = http.post(path, content=json.dumps(body), headers=headers)
        assert answer.status_code == 415 and "Content-Type: application/json" in answer.json()["error"], path
    assert live_app.studio.accounts.users.get(me.id) is not None


def test_delete_route_refuses_another_users_id_and_a_wrong_address(live_app, http):
    other = live_app.new_user()
    me = signed_in(live_app, http)
    answer = http.post("/account/delete", json={"confirm_email": other.email, "user_id": other.id})
    assert answer.status_code == 403
    answer = http.post("/account/delete", json={"confirm_email": other.email})
    assert answer.status_code == 400 and "not this account's address" in answer.json()["error"]
    assert live_app.studio.accounts.users.get(me.id) and live_app.studio.accounts.users.get(other.id)


def subscribe(live_app, user) -> str:
    sub_id = f"sub_{secrets.token_hex(6)}"
    answer = deliver(live_app.url + "webhooks/creem", event("subscription.active", {
        "id": sub_id, "object": "subscription", "product": {"id": PLAN}, "customer": {"id": "cust_del"},
        "status": "active", "metadata": {"user_id": str(user.id)},
    }))
    assert answer.status_code == 200, answer.text
    assert live_app.studio.payments.active_subscriptions(user.id)
    return sub_id


def test_deleting_cancels_the_subscription_at_creem_first(live_app, http, creem):
    me = signed_in(live_app, http)
    sub_id = subscribe(live_app, me)
    creem.state.uncancellable.add(sub_id)
    answer = http.post("/account/delete", json={"confirm_email": me.email})
    assert answer.status_code == 409 and "still active" in answer.json()["error"]
    assert live_app.studio.accounts.users.get(me.id) is not None  # nothing was deleted

    creem.state.uncancellable.discard(sub_id)
    answer = http.post("/account/delete", json={"confirm_email": me.email})
    assert answer.status_code == 200 and answer.json() == {"deleted": True}
    assert 'studio_session=""' in answer.headers["set-cookie"] or "Max-Age=0" in answer.headers["set-cookie"]
    assert (f"/v1/subscriptions/{sub_id}/cancel", {}, {}) in creem.state.requests
    assert live_app.studio.payments.active_subscriptions(me.id) == []
    assert http.get("/account/export").status_code == 401  # the session is gone


def test_changing_the_email_needs_a_link_sent_to_the_new_address(live_app, http, mailbox):
    import re

    me = signed_in(live_app, http)
    taken = live_app.new_user()
    links = live_app.studio.accounts.magic_links
    with pytest.raises(UserError, match="another account"):
        links.request_email_change(me.id, taken.email, client_ip="127.0.0.9", base_url=live_app.url)
    new = f"new-{uuid.uuid4().hex[:6]}@example.com"
    links.request_email_change(me.id, new, client_ip="127.0.0.9", base_url=live_app.url)
    assert live_app.studio.accounts.users.get(me.id).email == me.email  # not before the link is opened
    mail = mailbox.last_to(new)
    token = re.search(r"token=([\w-]+)", mail.get_content()).group(1)
    answer = http.post("/auth/magic", data={"token": token})
    assert answer.status_code == 303
    assert live_app.studio.accounts.users.get(me.id).email == new
    assert live_app.studio.accounts.users.by_email(me.email) is None


# ------------------------------------------------------------------ in the browser


def open_my_data(browser, live_app, user):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([live_app.session_cookie(user=user)])
    page = context.new_page()
    StudioPage(page, live_app.url)
    page.click("button[role=tab]:has-text('Account')")
    page.wait_for_selector("#export-data", state="visible", timeout=TIMEOUT_MS)
    return context, page


def test_export_downloads_a_json_file_in_the_browser(browser, live_app):
    user = live_app.new_user()
    context, page = open_my_data(browser, live_app, user)
    assert "credit entries" in page.inner_text("#my-data-held")
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.click("#export-data")
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert download.value.suggested_filename.endswith(".json")
    assert data["tables"]["users"][0]["email"] == user.email
    context.close()


def test_deleting_in_the_browser_signs_out_and_the_account_is_gone(browser, live_app):
    user = live_app.new_user()
    context, page = open_my_data(browser, live_app, user)
    page.fill("#delete-confirm input", "wrong@example.com")
    page.click("#delete-account")
    page.locator(".toast-body", has_text="not this account's address").first.wait_for(timeout=TIMEOUT_MS)
    assert live_app.studio.accounts.users.get(user.id) is not None

    page.fill("#delete-confirm input", user.email)
    page.click("#delete-account")
    page.wait_for_selector("#deleted", timeout=TIMEOUT_MS)  # signed out, on a page that says what was deleted
    assert "e-mail address and your name are erased" in page.inner_text("#deleted")
    assert live_app.studio.accounts.users.get(user.id) is None
    assert not [c for c in context.cookies() if c["name"] == "studio_session"]
    context.close()
