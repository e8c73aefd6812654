"""Buying credits in Chromium: the Credits tab, Creem's checkout (the contract server), the balance."""

from __future__ import annotations

from tests import samples
from tests.ui.studio_page import StudioPage


def open_credits(page) -> None:
    page.click("button[role=tab]:has-text('Credits')")
    page.wait_for_selector("#credits-balance h2", timeout=30_000)


def test_buy_a_pack_then_spend_it(page, live_app, tmp_path):
    page.context.add_cookies([live_app.session_cookie("ivy@example.com")])
    ivy = live_app.studio.accounts.users.by_email("ivy@example.com")
    start = live_app.studio.ledger.balance(ivy.id).available
    StudioPage(page, live_app.url)
    assert "Run · 4 credits" in page.inner_text("#run")  # the price, before pressing
    open_credits(page)
    assert f"{start} credits available" in page.inner_text("#credits-balance")
    assert "Edit with an instruction" in page.inner_text("#price-list")

    page.click("button:has-text('Buy 100 credits')")
    page.wait_for_selector("#pay", timeout=30_000)  # Creem's checkout page (the contract server)
    page.click("#pay")
    page.wait_for_selector("#message", timeout=30_000)
    assert "Payment received" in page.inner_text("#message")
    page.wait_for_function(f"document.querySelector('#balance').innerText === '{start + 100}'", timeout=30_000)

    studio = StudioPage(page, live_app.url)
    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.run()
    assert "4 credits" in studio.info()
    open_credits(page)
    assert f"{start + 96} credits available" in page.inner_text("#credits-balance")
    history = page.inner_text("#credit-history")
    assert "Credit pack" in history and "+100" in history and "-4" in history
    assert "Edit with an instruction · 64×48" in history  # what the run was, and how large its result


def test_with_too_few_credits_run_points_to_the_credits_tab(page, live_app, tmp_path):
    cookie = live_app.session_cookie("jay@example.com")
    jay = live_app.studio.accounts.users.by_email("jay@example.com")
    live_app.studio.ledger.take_back(jay.id, 10_008, kind="grant", source="operator", unique_key="test:jay")
    page.context.add_cookies([cookie])
    studio = StudioPage(page, live_app.url)
    photo = tmp_path / "p.png"
    samples.noise(64, 48).save(photo)
    studio.upload(photo)
    studio.type_prompt("make it snowy")
    studio.run_expecting_message("Buy more in the Credits tab")
    assert studio.history_count() == 1
    assert live_app.studio.ledger.balance(jay.id).available == 2
