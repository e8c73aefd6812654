"""Policy: account information is the e-mail address and the name, used to run the account and sign in.

It is stored encrypted (data security: "encryption ... at rest"), and logs name users by id only.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.auth.test_huggingface_sign_in import huggingface_consent
from tests.auth.test_sign_in import google_consent, signed_in_user
from tests.policy.dump import database_text


@pytest.mark.parametrize("consent", [google_consent, huggingface_consent], ids=["google", "huggingface"])
def test_sign_in_keeps_only_the_address_and_the_name_encrypted_and_logs_ids_only(live_app, oidc_provider, app_logs,
                                                                                  consent):
    tag = uuid.uuid4().hex[:8]
    phone = f"+46701{uuid.uuid4().int % 10**6:06d}"
    claims = {
        "email": f"Karin.{tag}@Example.com", "email_verified": True, "name": f"Karin Lindqvist{tag}",
        "picture": f"https://example.com/{tag}/face.jpg", "locale": "sv-SE", "phone_number": phone,
        "birthdate": "1990-01-31", "address": {"street_address": f"Storgatan {tag}"},
    }
    with httpx.Client(base_url=live_app.url.rstrip("/"), follow_redirects=False, timeout=30) as client:
        client.get(consent(oidc_provider, client, f"g-{tag}", claims))
        user = signed_in_user(live_app, client)
    assert user.email == f"karin.{tag}@example.com" and user.name == f"Karin Lindqvist{tag}"

    dump = database_text(live_app.studio.engine).lower()
    for value in (user.email, f"karin.{tag}", "lindqvist" + tag, "face.jpg", phone, "1990-01-31", "storgatan"):
        assert value.lower() not in dump, f"{value!r} is readable in the database"
    logs = "\n".join(app_logs.lines).lower()
    assert f"karin.{tag}" not in logs and "lindqvist" + tag not in logs
