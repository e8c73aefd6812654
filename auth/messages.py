"""The sentences sign-in shows visitors, in every language, found by their English.

auth/ raises and returns English (logs, the API and the tests read it); the pages and the Studio
page translate on the way out with kernel.language.localize. The English here must be exactly what
the code says, with placeholders where the sentence carries values: tests/ui/test_i18n.py checks
that each one still occurs in the source. Nothing here imports gradio.
"""

from __future__ import annotations

from auth.magic_links import SENT, SENT_CHANGE

STRINGS = {
    "en": {
        "auth.sent": SENT,
        "auth.sent_change": SENT_CHANGE,
        "auth.too_many_network": "Too many sign-in requests from your network. Please wait an hour and try again.",
        "auth.too_many_address": "Too many sign-in links for this address. Please wait an hour and try again.",
        "auth.link_invalid": "This sign-in link is not valid. Please ask for a new one.",
        "auth.link_used": "This sign-in link was already used. Each link works once; please ask for a new one.",
        "auth.link_expired": "This sign-in link has expired. Please ask for a new one.",
        "auth.cancelled": "You cancelled the sign-in with {label}. Nothing was changed.",
        "auth.refused": "{label} did not sign you in ({reason}). Please try again.",
        "auth.incomplete": "The sign-in with {label} could not be completed (it may have expired or been used "
                           "already). Please start again.",
        "auth.too_slow": "{label} did not answer in time. Please try again in a moment.",
        "auth.unreachable": "{label} could not be reached. Please try again in a moment.",
        "auth.no_email": "{label} did not share an e-mail address, which this site needs to sign you in.",
        "auth.unverified": "Your {label} e-mail address is not verified. Verify it with {label}, then try again.",
        "auth.github_unverified": "Your GitHub account has no verified primary e-mail address. Verify one on "
                                  "GitHub, then try again.",
        "auth.unusable_email": "{label} gave an e-mail address this site cannot use.",
        "auth.mail_off": "E-mail sign-in is not set up on this server.",
        "auth.mail_failed": "We could not send the e-mail just now. Please try again in a few minutes.",
        "auth.email_missing": "Please type your e-mail address.",
        "auth.email_long": "That e-mail address is too long.",
        "auth.email_characters": "That e-mail address contains characters an address cannot have.",
        "auth.email_shape": "That does not look like an e-mail address (name@example.com).",
        "auth.email_taken": "That address already belongs to another account. Sign in with it and delete that "
                            "account first, or keep your current address.",
        "auth.account_gone": "This account no longer exists.",
        "auth.key_unknown": "That key does not exist or is already revoked.",
        # the routes' page titles and messages
        "auth.unavailable_title": "Sign-in unavailable",
        "auth.not_set_up": "That way of signing in is not set up here.",
        "auth.provider_unreachable": "{label} could not be reached. Please try again.",
        "auth.not_signed_in_title": "Not signed in",
        "auth.bad_link": "This sign-in link is not valid.",
        "auth.not_changed_title": "Address not changed",
        "auth.bad_confirmation": "This confirmation link is not valid.",
    },
    "sv": {
        "auth.sent": "Om adressen kan ta emot e-post är en inloggningslänk på väg. Den fungerar en gång, "
                     "i {minutes} minuter.",
        "auth.sent_change": "En bekräftelselänk är på väg till den nya adressen. Adressen byts när du öppnar den "
                            "(den fungerar en gång, i {minutes} minuter).",
        "auth.too_many_network": "För många inloggningsförsök från ditt nätverk. Vänta en timme och försök igen.",
        "auth.too_many_address": "För många inloggningslänkar till den här adressen. Vänta en timme och försök igen.",
        "auth.link_invalid": "Den här inloggningslänken är inte giltig. Be om en ny.",
        "auth.link_used": "Den här inloggningslänken har redan använts. Varje länk fungerar en gång; be om en ny.",
        "auth.link_expired": "Den här inloggningslänken har gått ut. Be om en ny.",
        "auth.cancelled": "Du avbröt inloggningen med {label}. Inget ändrades.",
        "auth.refused": "{label} loggade inte in dig ({reason}). Försök igen.",
        "auth.incomplete": "Inloggningen med {label} kunde inte slutföras (den kan ha gått ut eller redan "
                           "använts). Börja om från början.",
        "auth.too_slow": "{label} svarade inte i tid. Försök igen om en stund.",
        "auth.unreachable": "Det gick inte att nå {label}. Försök igen om en stund.",
        "auth.no_email": "{label} delade ingen e-postadress, och den behövs för att du ska kunna logga in här.",
        "auth.unverified": "Din e-postadress hos {label} är inte verifierad. Verifiera den hos {label} och "
                           "försök sedan igen.",
        "auth.github_unverified": "Ditt GitHub-konto har ingen verifierad primär e-postadress. Verifiera en på "
                                  "GitHub och försök sedan igen.",
        "auth.unusable_email": "{label} gav en e-postadress som den här webbplatsen inte kan använda.",
        "auth.mail_off": "Inloggning via e-post är inte inställd på den här servern.",
        "auth.mail_failed": "Vi kunde inte skicka mejlet just nu. Försök igen om några minuter.",
        "auth.email_missing": "Skriv din e-postadress.",
        "auth.email_long": "E-postadressen är för lång.",
        "auth.email_characters": "E-postadressen innehåller tecken som en adress inte kan ha.",
        "auth.email_shape": "Det ser inte ut som en e-postadress (namn@exempel.se).",
        "auth.email_taken": "Adressen hör redan till ett annat konto. Logga in med den och radera det kontot först, "
                            "eller behåll din nuvarande adress.",
        "auth.account_gone": "Det här kontot finns inte längre.",
        "auth.key_unknown": "Nyckeln finns inte eller är redan återkallad.",
        "auth.unavailable_title": "Inloggningen är inte tillgänglig",
        "auth.not_set_up": "Det sättet att logga in är inte inställt här.",
        "auth.provider_unreachable": "Det gick inte att nå {label}. Försök igen.",
        "auth.not_signed_in_title": "Inte inloggad",
        "auth.bad_link": "Den här inloggningslänken är inte giltig.",
        "auth.not_changed_title": "Adressen ändrades inte",
        "auth.bad_confirmation": "Den här bekräftelselänken är inte giltig.",
    },
}
