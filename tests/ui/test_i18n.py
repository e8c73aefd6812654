"""Swedish and English: complete tables, the language decision, the server's pages, and the page in Chromium."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from auth import messages as auth_messages
from kernel.language import (
    COOKIE,
    DEFAULT,
    LANGUAGES,
    decide,
    from_accept_language,
    localize,
    merge,
    placeholders,
    request_language,
    translate,
)
from tests.conftest import watched_page
from tests.ui.studio_page import TIMEOUT_MS, StudioPage
from ui import i18n
from ui import messages as ui_messages
from ui.page_language import with_language

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = {"auth/messages.py": auth_messages.STRINGS, "ui/messages.py": ui_messages.STRINGS}


# ------------------------------------------------------------------ the tables


def test_every_key_in_every_language_with_the_same_placeholders():
    tables = i18n.strings()
    english = tables[DEFAULT]
    for lang in LANGUAGES:
        missing = sorted(set(english) - set(tables[lang]))
        extra = sorted(set(tables[lang]) - set(english))
        assert not missing and not extra, f"{lang}: missing {missing}, not in English {extra}"
        assert all(tables[lang][key].strip() for key in english), f"{lang}: empty texts"
        differ = {key: (placeholders(english[key]), placeholders(tables[lang][key]))
                  for key in english if placeholders(english[key]) != placeholders(tables[lang][key])}
        assert not differ, f"{lang}: placeholders differ: {differ}"


def test_every_module_with_texts_is_listed_once():
    """A UI module with a STRINGS table that ui/i18n.py does not list would show its keys, not its texts."""
    listed = set(i18n.MODULES)
    assert len(listed) == len(i18n.MODULES)
    for path in sorted((ROOT / "ui").glob("*.py")):
        if re.search(r"^STRINGS\s*=", path.read_text(encoding="utf-8"), re.MULTILINE):
            assert f"ui.{path.stem}" in listed, f"ui/{path.name} has STRINGS but is not in ui/i18n.MODULES"


def test_a_key_defined_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        merge([{"en": {"a.b": "x"}}, {"en": {"a.b": "y"}}])


def test_an_unknown_key_fails_when_the_page_is_built():
    with pytest.raises(KeyError):
        i18n.t("studio.no_such_text")


def _source_patterns() -> list[tuple[re.Pattern[str], int]]:
    """Every string and f-string in the app's code (values as wildcards), except the catalogs themselves,
    each with how many of its characters are fixed text."""
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in {"tests", "bench"}]
    files = [*ROOT.glob("*.py"), *(path for package in packages for path in package.rglob("*.py"))]
    patterns = []
    for path in files:
        if path.relative_to(ROOT).as_posix() in CATALOGS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                fixed = [v.value for v in node.values if isinstance(v, ast.Constant)]
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+?" for v in node.values]
                patterns.append((re.compile("".join(parts), re.DOTALL), len("".join(fixed))))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 3:
                fixed = re.sub(r"\{[^{}]*\}", "", node.value)
                pattern = re.sub(r"\\\{[^{}]*\\\}", ".+?", re.escape(node.value))
                patterns.append((re.compile(pattern, re.DOTALL), len(fixed)))
    return patterns


def test_every_translated_sentence_still_occurs_in_the_code():
    """Sentences from below the UI are found by their English; a reworded one must fail here, not go English."""
    patterns = _source_patterns()
    gone = []
    for catalog in CATALOGS.values():
        for key, english in catalog[DEFAULT].items():
            sample = re.sub(r"\{[^{}]*\}", "\x00", english)
            # mostly fixed text: f"{a}: {b}" matches anything and proves nothing
            if not any(fixed * 2 >= len(sample) and pattern.fullmatch(sample) for pattern, fixed in patterns):
                gone.append(key)
    assert not gone, f"no longer in the code (update the English and the translations): {gone}"


def test_sentences_from_below_the_ui_are_translated_with_their_values():
    table = i18n.strings()
    english = "This run costs 4 credits and you have 2. Buy more in the Credits tab; nothing was run or charged."
    assert localize(table, english, "sv") == (
        "Den här körningen kostar 4 krediter och du har 2. Köp fler under fliken Krediter; inget kördes och "
        "inget drogs."
    )
    assert localize(table, "Something nobody wrote down.", "sv") == "Something nobody wrote down."
    english = "The file is empty. Please upload a photo."
    assert localize(table, english, "en") == english
    assert translate(table, "handlers.run.other", "sv", count=3) == "Kör · 3 krediter"
    nested = "Picture 3 of 4: The file is empty. Please upload a photo."  # compose names the bad picture
    assert localize(table, nested, "sv") == f"Bild 3 av 4: {localize(table, nested.split(': ', 1)[1], 'sv')}"
    assert localize(table, nested, "sv").split(": ", 1)[1] != nested.split(": ", 1)[1]  # the reason in Swedish too
    assert i18n.text_count("handlers.run", 1, "sv") == "Kör · 1 kredit"


# ------------------------------------------------------------------ the language decision


@pytest.mark.parametrize(("header", "expected"), [
    ("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", "sv"),
    ("en-US,en;q=0.9,sv;q=0.8", "en"),
    ("en;q=0.5, sv;q=0.8", "sv"),  # q order, not written order
    ("de-DE, sv;q=0.2, en;q=0.1", "sv"),  # the first language we have
    ("sv;q=0.7, en;q=0.7", "sv"),  # a tie keeps the header's order
    ("SV", "sv"),
    ("sv;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
    ("de, fr", None),
    ("*", None),
    ("", None),
    (None, None),
    ("sv;q=abc, en", "en"),  # a broken q counts as not acceptable
    ("sv;q=2", None),
    ("sv;q=nan", None),
    (";;;,,,=q;", None),
    ("x" * 100_000 + ",sv", None),  # only the start of an absurd header is read
    ("\x00\xff, sv-\u00e5", "sv"),
])
def test_accept_language(header, expected):
    assert from_accept_language(header) == expected


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    ("en", "sv-SE,sv;q=0.9", "en"),  # the switch beats the browser
    ("sv", "en-US,en;q=0.9", "sv"),
    (" SV ", None, "sv"),
    (None, "sv", "sv"),
    ("", "sv", "sv"),
    ("de", "sv", "sv"),  # a language we do not have: the browser decides
    ("sv'; DROP TABLE users; --", "en", "en"),  # tampered: ignored, never an error
    ("\u00e5\x00" * 5000, None, "en"),
    (None, None, "en"),
    ("garbage", "garbage", "en"),
])
def test_cookie_then_accept_language_then_english(cookie, header, expected):
    assert decide(cookie, header) == expected


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


def test_request_language_reads_the_cookie_and_the_header():
    assert request_language(_request({"Accept-Language": "sv-SE"})) == "sv"
    assert request_language(_request({"Accept-Language": "sv-SE", "Cookie": f"{COOKIE}=en"})) == "en"
    assert request_language(_request({"Cookie": f"{COOKIE}=%%%; other=1"})) == "en"
    assert request_language(None) == "en"
    assert i18n.language(None) == "en"


# ------------------------------------------------------------------ the page and the server's pages


def test_gradio_page_starts_in_the_decided_language():
    page = b'<!doctype html>\n<html\n\tlang="en"\n\tstyle="margin: 0"\n>\n\t<head>\n<script>window.gradio_config = {};'
    out = with_language(page, "sv").decode()
    assert '<html\n\tlang="sv"' in out
    head = out.index("<head>") + len("<head>")
    assert out[head:].startswith("<script>") and "['language', \"sv\"]" in out
    assert out.index("navigator") < out.index("window.gradio_config")
    other = b"<!doctype html><html lang='en'><head></head><body>not Gradio</body></html>"
    assert with_language(other, "sv") is other


def test_the_served_page_and_the_plain_pages_follow_the_language(live_app):
    with httpx.Client(base_url=live_app.url.rstrip("/"), timeout=30) as client:
        page = client.get("/", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
        assert page.status_code == 200 and 'lang="sv"' in page.text[:200]
        assert "Cookie" in page.headers["vary"] and "Accept-Language" in page.headers["vary"]
        assert int(page.headers["content-length"]) == len(page.content)
        english = client.get("/", headers={"Accept-Language": "sv-SE"}, cookies={COOKIE: "en"})
        assert 'lang="en"' in english.text[:200]

        confirm = client.get("/auth/magic", params={"token": "abc"}, headers={"Accept-Language": "sv"})
        assert "<html lang='sv'>" in confirm.text and "Logga in" in confirm.text
        assert "Sign in" in client.get("/auth/magic", params={"token": "abc"}).text
        refused = client.post("/auth/magic", data={"token": "no-such-link"}, headers={"Accept-Language": "sv"})
        assert refused.status_code == 400
        assert "Den här inloggningslänken är inte giltig. Be om en ny." in refused.text
        assert "Inte inloggad" in refused.text and "Tillbaka till" in refused.text

        success = client.get("/billing/success", headers={"Accept-Language": "sv"})
        assert "Betalning" in success.text and "Vi kunde inte bekräfta" in success.text
        asked = client.post("/auth/email", data={"email": f"lang-{uuid.uuid4().hex[:6]}@example.com"},
                            headers={"Accept-Language": "sv"})
        assert "en inloggningslänk på väg" in asked.json()["message"]
        wrong = client.post("/auth/email", data={"email": "not an address"}, cookies={COOKIE: "sv"})
        assert wrong.json()["message"] == "Det ser inte ut som en e-postadress (namn@exempel.se)."


# ------------------------------------------------------------------ in Chromium


@pytest.fixture
def swedish_page(browser):
    """A tab whose browser prefers Swedish (navigator.language and Accept-Language)."""
    yield from watched_page(browser, locale="sv-SE")




def _toast(page, text: str) -> None:
    """What the server said: next to Run for a run, else in a toast."""
    page.locator("#run-message, .toast-body", has_text=text).first.wait_for(timeout=TIMEOUT_MS)


def test_swedish_browser_then_the_switch_to_english(swedish_page, live_app):
    page = swedish_page
    StudioPage(page, live_app.url)
    assert page.evaluate("document.documentElement.lang") == "sv"
    assert page.inner_text("#run") == "Kör · 4 krediter"
    assert page.inner_text("#cancel").strip() == "Avbryt"
    assert "Vad vill du göra?" in page.inner_text("#operation") and "Förstora" in page.inner_text("#operation")
    assert page.get_by_role("tab", name="Krediter").is_visible()
    assert page.is_visible("text=Logga in för att köra redigeringar:")
    assert not page.is_visible("text=Sign in to run edits:")  # the other language's copy stays hidden
    assert page.inner_text("#signin-send") == "Mejla mig en inloggningslänk"

    page.click("#run")  # a guest: the server answers in Swedish
    _toast(page, "Logga in för att köra redigeringar")
    page.fill("#signin-email textarea, #signin-email input", f"lang-{uuid.uuid4().hex[:6]}@example.com")
    page.click("#signin-send")
    page.wait_for_function("document.querySelector('#signin-status').innerText.includes('inloggningslänk på väg')",
                           timeout=TIMEOUT_MS)

    assert page.get_attribute("#language-sv", "aria-current") == "true"
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("#language-en")  # stores the choice and reloads
    for _visit in ("after the switch", "after a reload"):
        StudioPage.wait_until_loaded(page)
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.inner_text("#run") == "Run · 4 credits"
        assert "What to do" in page.inner_text("#operation") and "Upscale" in page.inner_text("#operation")
        assert page.get_by_role("tab", name="Credits").is_visible()
        assert page.is_visible("text=Sign in to run edits:") and not page.is_visible("text=Logga in för att köra")
        assert page.get_attribute("#language-en", "aria-current") == "true"
        page.reload()
    assert any(c["name"] == COOKIE and c["value"] == "en" for c in page.context.cookies())
    StudioPage.wait_until_loaded(page)
    page.click("#run")  # the server follows the switch, not the browser's Swedish
    _toast(page, "Please sign in to run edits")


def test_where_credits_are_not_sold_the_refusal_reads_in_swedish_too(tmp_path):
    from auth.users import Users
    from billing.ledger import InsufficientCredits, Ledger
    from config import Settings
    from store.crypto import FieldCipher
    from store.db import create_engine, migrate
    from ui.i18n import localize as in_language

    engine = create_engine(f"sqlite:///{tmp_path / 'books.db'}")
    migrate(engine)
    user = Users(engine, FieldCipher.from_settings(Settings(_env_file=None))).create("ann@example.com")
    books = Ledger(engine, signup_credits=1, hold_minutes=30, sold_here=False)
    with pytest.raises(InsufficientCredits) as refused:
        books.hold(user.id, "run", 4)
    assert in_language(str(refused.value), "sv") == (
        "Den här körningen kostar 4 krediter och du har 1. Krediter går inte att köpa på den här servern; be dem som "
        "driver den om fler. Inget kördes och inget drogs."
    )


def test_a_non_commercial_licence_says_so_in_each_language():
    from pipelines.registry import OPERATIONS
    from ui.views import model_label

    rmbg = OPERATIONS["remove_background"].model("briaai/RMBG-1.4")
    assert model_label(rmbg, None, "en") == "RMBG-1.4 · bria-rmbg-1.4 (non-commercial)"
    assert model_label(rmbg, None, "sv") == "RMBG-1.4 · bria-rmbg-1.4 (ej för kommersiellt bruk)"
    kontext = OPERATIONS["instruct_edit"].model("black-forest-labs/FLUX.1-Kontext-dev")
    assert model_label(kontext, None, "en").endswith("(non-commercial)")
    birefnet = OPERATIONS["remove_background"].model("ZhengPeng7/BiRefNet")
    assert model_label(birefnet, None, "sv") == "BiRefNet · MIT"  # commercial use allowed: the licence alone
