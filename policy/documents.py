"""The privacy policy, the terms and the consent text: versioned Markdown per language, filled from settings.

Each file in policy/content/ is `<name>.<lang>.md` with a small header (version, updated). The
placeholders in braces name facts of this deployment (operator, contact, processors actually
configured), so the text never promises or names something the deployment does not do.

The version users accept is the header version plus a short hash of the filled English texts:
editing a document, or changing a setting that changes what it says (say, turning analytics on),
makes a new version, and users are asked again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from config import Settings

CONTENT = Path(__file__).with_name("content")
LANGUAGES = ("en", "sv")
DOCUMENTS = ("privacy", "terms", "consent")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"],
}
HOSTS_FOR_PROCESSOR = {  # where each processor's code may run in the page (none but Google Analytics runs any)
    "google_analytics": ("www.googletagmanager.com", "www.google-analytics.com"),
}


@dataclass(frozen=True)
class Document:
    name: str
    language: str
    version: str
    updated: str
    text: str  # Markdown, filled in


@dataclass(frozen=True)
class Processor:
    id: str
    name: str
    purpose: dict[str, str]  # per language


def processors(settings: Settings) -> list[Processor]:
    """Who receives personal data from this deployment: only what is configured, plus the law."""
    found = []
    if settings.creem_api_key:
        found.append(Processor("creem", "Creem", {
            "en": "payments, as merchant of record (your e-mail address and what you buy)",
            "sv": "betalningar, som återförsäljare (din e-postadress och vad du köper)",
        }))
    if "supabase" in settings.sqlalchemy_url:
        found.append(Processor("supabase", "Supabase", {
            "en": "database hosting (your account, encrypted personal fields, credits, usage data)",
            "sv": "databastjänster (ditt konto, krypterade personuppgifter, krediter, användningsdata)",
        }))
    if settings.space_id:
        found.append(Processor("huggingface", "Hugging Face", {
            "en": "hosting of the app (your pictures pass through its servers' memory while they are processed)",
            "sv": "drift av appen (dina bilder passerar dess servrars arbetsminne medan de bearbetas)",
        }))
    if settings.smtp_host:
        found.append(Processor("email", f"the e-mail service at {settings.smtp_host}", {
            "en": "sending sign-in links (your e-mail address)",
            "sv": "att skicka inloggningslänkar (din e-postadress)",
        }))
    if settings.ga_measurement_id:
        found.append(Processor("google_analytics", "Google Analytics", {
            "en": "usage analytics, only if you accept analytics cookies",
            "sv": "användningsanalys, bara om du godkänner analyskakor",
        }))
    return found


def allowed_script_hosts(settings: Settings) -> set[str]:
    """Third-party hosts the page may load scripts from: those of the named processors, nothing else."""
    return {host for p in processors(settings) for host in HOSTS_FOR_PROCESSOR.get(p.id, ())}


def _long_date(value: str, language: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def _facts(settings: Settings, language: str, updated: str) -> dict[str, str]:
    analytics = bool(settings.ga_measurement_id)
    sv = language == "sv"
    listed = [f"- **{p.name}** ({p.purpose[language]})" for p in processors(settings)]
    listed.append("- **Myndigheter**, när lagen kräver det" if sv else "- **Authorities**, where the law requires it")
    if analytics:
        cookies = ("Analyskakor (Google Analytics) bara om du godkänner dem." if sv
                   else "Analytics cookies (Google Analytics) only if you accept them.")
        purpose = "analysera trafiken på webbplatsen" if sv else "analyse site traffic"
        consent = ("Analyskakor (Google Analytics) används bara om du väljer **Godkänn analys**; innan dess laddas "
                   "inget skript från Google." if sv else
                   "Analytics cookies (Google Analytics) are used only if you choose **Accept analytics**; until "
                   "then no script from Google is loaded.")
    else:
        cookies = "Inga analyskakor." if sv else "No analytics cookies."
        purpose = "minnas dina val" if sv else "remember your choices"
        consent = ("Den här tjänsten använder inga analyskakor och laddar inga skript från tredje part." if sv else
                   "This deployment uses no analytics cookies and loads no third-party scripts.")
    return {
        "brand": settings.brand_name,
        "operator": settings.operator,
        "contact": settings.operator_contact,
        "updated": _long_date(updated, language),
        "retention_days": str(settings.usage_retention_days),
        "signup_memory_days": str(settings.signup_memory_days),
        "processors": "\n".join(listed),
        "analytics_cookies": cookies,
        "analytics_purpose": purpose,
        "analytics_consent": consent,
    }


def _read(name: str, language: str) -> tuple[dict[str, str], str]:
    raw = (CONTENT / f"{name}.{language}.md").read_text(encoding="utf-8")
    _, header, body = raw.split("---\n", 2)
    fields = dict(line.split(": ", 1) for line in header.strip().splitlines())
    return fields, body.strip() + "\n"


class Documents:
    """The filled documents of this deployment, read once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get(self, name: str, language: str) -> Document:
        return self._all[(name, language if language in LANGUAGES else "en")]

    @cached_property
    def _all(self) -> dict[tuple[str, str], Document]:
        documents = {}
        for name in DOCUMENTS:
            for language in LANGUAGES:
                fields, body = _read(name, language)
                updated = self.settings.policy_updated or fields["updated"]
                facts = _facts(self.settings, language, updated)

                def fill(match: re.Match, facts: dict[str, str] = facts, where: str = f"{name}.{language}") -> str:
                    if match.group(1) not in facts:
                        raise KeyError(f"policy/content/{where}.md names an unknown fact {{{match.group(1)}}}")
                    return facts[match.group(1)]

                text = PLACEHOLDER.sub(fill, body)
                documents[(name, language)] = Document(name, language, fields["version"], updated, text)
        return documents

    @cached_property
    def policy_version(self) -> str:
        """What a user accepts before the first run: the privacy policy and the terms, as filled here."""
        privacy, terms = self.get("privacy", "en"), self.get("terms", "en")
        digest = hashlib.sha256()
        for document in (privacy, terms):
            digest.update(document.text.encode())
        return f"{max(privacy.version, terms.version)}.{digest.hexdigest()[:8]}"
