"""SMTP unreachable: asking for a sign-in link says so, and leaves no usable link and no account behind."""

from __future__ import annotations

import gradio as gr
import httpx
import sqlalchemy as sa
from starlette.requests import Request

from store.tables import magic_links
from ui.account import AccountHandlers

SORRY = "We could not send the e-mail just now. Please try again in a few minutes."


def links(app) -> int:
    with app.studio.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(magic_links)).scalar_one()


def test_the_http_route_answers_503_with_a_sentence_and_stores_nothing(faulty_app):
    before = links(faulty_app)
    answer = httpx.post(faulty_app.url + "auth/email", data={"email": "smtp-down@example.com"},
                        headers={"Accept-Language": "en"}, timeout=30)
    assert answer.status_code == 503
    assert answer.json() == {"message": SORRY}
    assert links(faulty_app) == before  # the link that could not be sent is gone, not left usable
    assert faulty_app.studio.accounts.users.by_email("smtp-down@example.com") is None


def test_the_pages_sign_in_box_shows_the_sentence_and_stores_nothing(faulty_app):
    scope = {"type": "http", "method": "POST", "path": "/", "scheme": "http", "query_string": b"", "root_path": "",
             "headers": [(b"accept-language", b"en"), (b"host", b"127.0.0.1")], "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 80)}
    before = links(faulty_app)
    shown = AccountHandlers(faulty_app.studio.accounts).email_link("page-smtp-down@example.com",
                                                                   gr.Request(request=Request(scope)))
    assert shown == f"⚠ {SORRY}"
    assert links(faulty_app) == before
    assert faulty_app.studio.accounts.users.by_email("page-smtp-down@example.com") is None
