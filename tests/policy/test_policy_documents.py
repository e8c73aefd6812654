"""Policy: the documents say, for this deployment, who runs it, how to reach them, when it changed, and
exactly which processors receive data ("Datadelning"); the page loads scripts from no one else."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import httpx
import pytest

from config import Settings
from policy.documents import CONTENT, DOCUMENTS, LANGUAGES, Documents, allowed_script_hosts, processors


def settings(**overrides) -> Settings:
    return Settings(_env_file=None, **overrides)


def test_every_document_exists_in_both_languages_with_one_version():
    for name in DOCUMENTS:
        headers = {(CONTENT / f"{name}.{lang}.md").read_text().split("---\n")[1] for lang in LANGUAGES}
        assert len(headers) == 1, f"{name}: the languages disagree on version or date"


@pytest.mark.parametrize("language", LANGUAGES)
def test_documents_name_the_operator_contact_and_date_and_leave_no_blank(language):
    docs = Documents(settings(operator_name="Bildverkstan AB", operator_contact="dataskydd@bildverkstan.se",
                              brand_name="Bildverkstan", policy_updated="2027-02-03"))
    privacy = docs.get("privacy", language).text
    assert "Bildverkstan AB" in privacy and "dataskydd@bildverkstan.se" in privacy
    assert ("3 februari 2027" if language == "sv" else "3 February 2027") in privacy
    for name in DOCUMENTS:
        text = docs.get(name, language).text
        assert not re.search(r"\{[a-z_]+\}", text), f"{name}.{language} has an unfilled placeholder"
        assert "NanoGPT" not in text and "Studio" not in text  # no hard-coded brand


def test_the_policy_names_exactly_the_processors_this_deployment_uses():
    bare = settings()
    assert [p.id for p in processors(bare)] == []
    assert allowed_script_hosts(bare) == set()
    text = Documents(bare).get("privacy", "en").text
    assert "Creem**" not in text and "Google Analytics**" not in text and "Authorities" in text

    full = settings(creem_api_key="k", ga_measurement_id="G-TEST", smtp_host="smtp.example.net",
                    database_url="postgresql://u@db.abc.supabase.co:5432/postgres", space_id="me/studio")
    assert [p.id for p in processors(full)] == ["creem", "supabase", "huggingface", "email", "google_analytics"]
    for language in LANGUAGES:
        text = Documents(full).get("privacy", language).text
        for name in ("Creem", "Supabase", "Hugging Face", "smtp.example.net", "Google Analytics"):
            assert f"{name}" in text
    assert allowed_script_hosts(full) == {"www.googletagmanager.com", "www.google-analytics.com"}


def test_a_change_to_what_the_policy_says_is_a_new_version():
    plain, with_analytics = Documents(settings()), Documents(settings(ga_measurement_id="G-TEST"))
    assert plain.policy_version != with_analytics.policy_version
    assert plain.policy_version == Documents(settings()).policy_version
    assert plain.policy_version.startswith(plain.get("privacy", "en").version)


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and dict(attrs).get("src"):
            self.sources.append(dict(attrs)["src"])


def test_the_page_loads_scripts_only_from_itself_and_named_processors(live_app):
    scripts = Scripts()
    scripts.feed(httpx.get(live_app.url, timeout=30).text)
    own = urlparse(live_app.url).netloc
    foreign = {urlparse(src).netloc for src in scripts.sources} - {"", own}
    assert foreign <= allowed_script_hosts(live_app.studio.settings), foreign
    assert scripts.sources  # the check looked at something
