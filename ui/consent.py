"""The Consent tab: what the visitor agreed to, the analytics choice (changed here), the policy acceptance.

The analytics buttons call POST /consent/cookies from the browser (policy/routes.py sets the
signed cookie and records the choice on the account) and reload the page, so a withdrawal takes
effect at once: the cookies are gone and Google's script is no longer on the page.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from auth.users import User
from config import Settings
from policy.analytics import CHOOSE_JS
from policy.consents import POLICY, Consents
from policy.cookies import COOKIE_NAME, cookie_choice
from ui.account import AccountHandlers
from ui.i18n import language, t

STRINGS = {
    "en": {
        "consent.tab": "Consent",
        "consent.static": "# Consent\n\nEssential cookies keep you signed in and remember your choices; they need no "
                          "consent. Analytics cookies are used only if you accept them, and you can withdraw that "
                          "here at any time.",
        "consent.analytics_heading": "### Analytics cookies",
        "consent.no_analytics": "This deployment uses no analytics: only the essential cookies that keep you signed "
                                "in and remember your choices. They need no consent, so there is nothing to choose "
                                "here.",
        "consent.granted": "**You allow analytics cookies** (Google Analytics). You can withdraw this at any time: "
                           "its cookies are deleted and Google Analytics is no longer loaded.",
        "consent.denied": "**You chose essential cookies only.** Google Analytics is not loaded.",
        "consent.undecided": "**You have not chosen yet.** Only essential cookies are used; Google Analytics is not "
                             "loaded unless you accept it.",
        "consent.on_account": "Saved on your account on {date}, so it applies in every browser you sign in with.",
        "consent.accept": "Accept analytics",
        "consent.withdraw": "Withdraw consent",
        "consent.essential": "Only essential",
        "consent.policy_heading": "### Privacy policy and terms",
        "consent.policy_guest": "Sign in to see when you accepted the privacy policy and the terms.",
        "consent.policy_none": "You have not accepted the privacy policy and the terms yet; you will be asked before "
                               "your first edit.",
        "consent.policy_current": "You accepted the privacy policy and the terms (version {version}) on {date}.",
        "consent.policy_old": "You accepted version {accepted} of the privacy policy and the terms on {date}. They "
                              "have changed since (now version {version}); you will be asked to accept the new "
                              "version before your next edit.",
        "consent.policy_withdrawn": "You withdrew your acceptance of the privacy policy and the terms on {date}.",
        "consent.withdraw_policy": "To withdraw your consent to the privacy policy, close your account: "
                                   "**Account → My data → Delete account**. The account rests on the policy, so it "
                                   "cannot stay open without it. Changing your analytics choice above does not "
                                   "affect your account.",
    },
    "sv": {
        "consent.tab": "Samtycke",
        "consent.static": "# Samtycke\n\nNödvändiga kakor håller dig inloggad och minns dina val; de kräver inget "
                          "samtycke. Analyskakor används bara om du godkänner dem, och du kan när som helst "
                          "återkalla det här.",
        "consent.analytics_heading": "### Analyskakor",
        "consent.no_analytics": "Den här tjänsten använder ingen analys: bara de nödvändiga kakor som håller dig "
                                "inloggad och minns dina val. De kräver inget samtycke, så här finns inget att välja.",
        "consent.granted": "**Du tillåter analyskakor** (Google Analytics). Du kan när som helst återkalla det: "
                           "kakorna raderas och Google Analytics laddas inte längre.",
        "consent.denied": "**Du har valt bara nödvändiga kakor.** Google Analytics laddas inte.",
        "consent.undecided": "**Du har inte valt ännu.** Bara nödvändiga kakor används; Google Analytics laddas inte "
                             "om du inte godkänner det.",
        "consent.on_account": "Sparat på ditt konto {date}, så det gäller i alla webbläsare där du loggar in.",
        "consent.accept": "Godkänn analys",
        "consent.withdraw": "Återkalla samtycke",
        "consent.essential": "Bara nödvändiga",
        "consent.policy_heading": "### Integritetspolicy och villkor",
        "consent.policy_guest": "Logga in för att se när du godkände integritetspolicyn och villkoren.",
        "consent.policy_none": "Du har inte godkänt integritetspolicyn och villkoren ännu; du får frågan före din "
                               "första redigering.",
        "consent.policy_current": "Du godkände integritetspolicyn och villkoren (version {version}) {date}.",
        "consent.policy_old": "Du godkände version {accepted} av integritetspolicyn och villkoren {date}. De har "
                              "ändrats sedan dess (nu version {version}); du får godkänna den nya versionen före "
                              "din nästa redigering.",
        "consent.policy_withdrawn": "Du återkallade ditt godkännande av integritetspolicyn och villkoren {date}.",
        "consent.withdraw_policy": "Vill du återkalla ditt samtycke till integritetspolicyn stänger du ditt konto: "
                                   "**Konto → Mina uppgifter → Radera konto**. Kontot bygger på policyn och kan inte "
                                   "finnas kvar utan den. Att ändra ditt val om analys ovan påverkar inte ditt konto.",
    },
}


class ConsentHandlers:
    """`consent_text(lang)` gives the consent document's Markdown; `policy_version()` the version users accept now."""

    def __init__(
        self, settings: Settings, account: AccountHandlers, consents: Consents, *,
        consent_text: Callable[[str], str] | None = None, policy_version: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.account = account
        self.consents = consents
        self.consent_text = consent_text
        self.policy_version = policy_version

    @property
    def analytics_configured(self) -> bool:
        return bool(self.settings.ga_measurement_id)

    def document(self, lang: str) -> str:
        return self.consent_text(lang) if self.consent_text else STRINGS[lang]["consent.static"]

    def view(self, request: gr.Request) -> tuple:
        """(consent text, analytics choice, accept button, withdraw button, policy acceptance) for this visitor."""
        lang = language(request)
        user = self.account.user(request)
        cookies = dict(getattr(request, "cookies", None) or {})
        return (self.document(lang), *self.analytics(cookies.get(COOKIE_NAME), user, lang), self.policy(user, lang))

    def analytics(self, cookie: str | None, user: User | None, lang: str) -> tuple:
        text = STRINGS[lang]
        heading = text["consent.analytics_heading"]
        if not self.analytics_configured:
            return f"{heading}\n\n{text['consent.no_analytics']}", gr.update(visible=False), gr.update(visible=False)
        choice = cookie_choice(self.settings, self.consents, cookie, user.id if user else None)
        state = {True: "consent.granted", False: "consent.denied", None: "consent.undecided"}[choice.analytics]
        lines = [heading, text[state]]
        on_account = choice.on_account
        if on_account is not None and on_account.granted == choice.analytics:
            lines.append(text["consent.on_account"].format(date=f"{on_account.at:%Y-%m-%d}"))
        accept = gr.update(value=text["consent.accept"], visible=choice.analytics is not True)
        withdraw_label = text["consent.withdraw"] if choice.analytics else text["consent.essential"]
        withdraw = gr.update(value=withdraw_label, visible=choice.analytics is not False)
        return "\n\n".join(lines), accept, withdraw

    def policy(self, user: User | None, lang: str) -> str:
        text = STRINGS[lang]
        lines = [text["consent.policy_heading"]]
        if user is None:
            lines.append(text["consent.policy_guest"])
        else:
            accepted = self.consents.current(user.id, POLICY)
            version = self.policy_version() if self.policy_version else None
            if accepted is None:
                lines.append(text["consent.policy_none"])
            else:
                date = f"{accepted.at:%Y-%m-%d}"
                if not accepted.granted:
                    lines.append(text["consent.policy_withdrawn"].format(date=date))
                elif version is None or accepted.version == version:
                    lines.append(text["consent.policy_current"].format(version=accepted.version, date=date))
                else:
                    lines.append(text["consent.policy_old"].format(accepted=accepted.version, date=date,
                                                                     version=version))
        lines.append(text["consent.withdraw_policy"])
        return "\n\n".join(lines)


def build_consent_tab(handlers: ConsentHandlers) -> gr.Tab:
    """Call inside gr.Blocks. The texts are filled in English until the tab is opened."""
    configured = handlers.analytics_configured
    analytics_text, _, _ = handlers.analytics(None, None, "en")
    with gr.Tab(t("consent.tab"), elem_id="consent-tab") as tab:
        document = gr.Markdown(handlers.document("en"), elem_id="consent-text")
        analytics = gr.Markdown(analytics_text, elem_id="consent-analytics")
        with gr.Row():
            accept = gr.Button(t("consent.accept"), variant="primary", scale=0, min_width=200, visible=configured,
                               elem_id="consent-accept")
            withdraw = gr.Button(t("consent.essential"), scale=0, min_width=200, visible=configured,
                                 elem_id="consent-withdraw")
        policy = gr.Markdown(handlers.policy(None, "en"), elem_id="consent-policy")

    tab.select(handlers.view, None, [document, analytics, accept, withdraw, policy], api_visibility="private")
    accept.click(None, js=f"() => ({CHOOSE_JS})(true, true)")
    withdraw.click(None, js=f"() => ({CHOOSE_JS})(false, true)")
    return tab
