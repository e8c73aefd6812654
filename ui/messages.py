"""Sentences from pipelines/ and billing/ that reach the page, in every language, found by their English.

Those layers raise English (the API, the logs and the tests read it); ui/i18n.localize translates
them on the way to the page. The English must be exactly what the code says, with placeholders
where the sentence carries values: tests/ui/test_i18n.py checks that each one still occurs in the
source, so a reworded sentence fails a test instead of quietly staying English. Nothing here
imports gradio.
"""

from __future__ import annotations

from billing.moderation import REFUSED
from pipelines.replay import (
    DIFFERENT,
    MODEL_NOT_OFFERED,
    NOT_A_RECIPE,
    NOT_JSON,
    OTHER_OPERATION,
    PICTURES,
    UNKNOWN_OPERATION,
    UNKNOWN_PARAMETER,
)
from pipelines.sessions import EVICTED, EXPIRED
from policy.acceptance import CHANGED, NOT_ACCEPTED
from policy.data_rights import NO_PAYMENTS, STILL_ACTIVE, WRONG_CONFIRMATION

STRINGS = {
    "en": {
        # pipelines: the picture
        "messages.file_empty": "The file is empty. Please upload a photo.",
        "messages.not_image": "This file is not an image the studio can read. Please upload a PNG, JPEG or WebP image.",
        "messages.gif": "This file is a GIF, not a photo. Please upload a PNG, JPEG or WebP image.",
        "messages.svg": "This file is an SVG drawing, not a photo. Please upload a PNG, JPEG or WebP image.",
        "messages.xml": "This file is an XML/SVG document, not a photo. Please upload a PNG, JPEG or WebP image.",
        "messages.html": "This file is an HTML page, not a photo. Please upload a PNG, JPEG or WebP image.",
        "messages.pdf": "This file is a PDF, not a photo. Please upload a PNG, JPEG or WebP image.",
        "messages.too_many_pixels": "The image has too many pixels; the limit is {limit} megapixels.",
        "messages.unreadable": "The file looks like {kind} but could not be read. It may be damaged.",
        "messages.too_large": "The image is {width}×{height} ({size} megapixels); the limit is {limit} megapixels. "
                              "Please use a smaller image.",
        "messages.too_small": "The image is {width}×{height} pixels; each side must be at least {side} pixels.",
        "messages.damaged": "The {kind} file is damaged or incomplete. Please upload it again.",
        "messages.too_many_bytes": "The image is larger than {limit} MB.",
        # pipelines: the request
        "messages.paint_first": "Paint over the part of the picture you want to change first.",
        "messages.evicted": EVICTED,
        "messages.expired": EXPIRED,
        # pipelines: the run
        "messages.loading": "Loading the model (first run only)",
        "messages.editing": "Editing",
        "messages.done": "Done",
        "messages.timed_out": "The run took longer than {seconds} s and was stopped. Nothing was changed.",
        "messages.out_of_memory": "The GPU ran out of memory on this picture (run {run}). Try a smaller picture "
                                  "or fewer steps. Nothing was changed.",
        "messages.run_failed": "The model could not finish this edit (run {run}). Nothing was changed; please try "
                               "again.",
        # pipelines: replaying a recipe
        "messages.recipe_not_json": NOT_JSON,
        "messages.not_a_recipe": NOT_A_RECIPE,
        "messages.recipe_operation": UNKNOWN_OPERATION,
        "messages.recipe_other_operation": OTHER_OPERATION,
        "messages.recipe_model": MODEL_NOT_OFFERED,
        "messages.recipe_parameter": UNKNOWN_PARAMETER,
        "messages.recipe_pictures": PICTURES,
        **{f"messages.replay_differs.{key}": sentence for key, sentence in DIFFERENT.items()},
        # billing
        "messages.owes": "Your account owes {debt} credits after a refunded payment. Buy credits in the Credits "
                         "tab to settle it, then run again.",
        "messages.too_few_credits": "This run costs {cost} credits and you have {available}. Buy more in the "
                                    "Credits tab; nothing was run or charged.",
        "messages.too_few_credits_not_sold": "This run costs {cost} credits and you have {available}. Credits cannot "
                                             "be bought on this server; ask the people who run it for more. Nothing "
                                             "was run or charged.",
        "messages.prompt_refused": REFUSED,
        "messages.prompt_unchecked": "The prompt could not be checked just now, so nothing was run. Please try again.",
        "messages.purchases_off": "Purchases are not set up on this server.",
        "messages.not_on_sale": "That product is not on sale here.",
        "messages.nothing_to_manage": "There is nothing to manage yet: no purchase has been made with this account.",
        # policy
        "messages.policy_not_accepted": NOT_ACCEPTED,
        "messages.policy_changed": CHANGED,
        "messages.wrong_confirmation": WRONG_CONFIRMATION,
        "messages.no_payments": NO_PAYMENTS,
        "messages.still_active": STILL_ACTIVE,
    },
    "sv": {
        "messages.file_empty": "Filen är tom. Ladda upp ett foto.",
        "messages.not_image": "Den här filen är ingen bild som studion kan läsa. Ladda upp en bild i PNG, JPEG "
                              "eller WebP.",
        "messages.gif": "Den här filen är en GIF, inte ett foto. Ladda upp en bild i PNG, JPEG eller WebP.",
        "messages.svg": "Den här filen är en SVG-teckning, inte ett foto. Ladda upp en bild i PNG, JPEG eller WebP.",
        "messages.xml": "Den här filen är ett XML/SVG-dokument, inte ett foto. Ladda upp en bild i PNG, JPEG "
                        "eller WebP.",
        "messages.html": "Den här filen är en HTML-sida, inte ett foto. Ladda upp en bild i PNG, JPEG eller WebP.",
        "messages.pdf": "Den här filen är en PDF, inte ett foto. Ladda upp en bild i PNG, JPEG eller WebP.",
        "messages.too_many_pixels": "Bilden har för många pixlar; gränsen är {limit} megapixel.",
        "messages.unreadable": "Filen ser ut att vara {kind} men gick inte att läsa. Den kan vara skadad.",
        "messages.too_large": "Bilden är {width}×{height} ({size} megapixel); gränsen är {limit} megapixel. "
                              "Använd en mindre bild.",
        "messages.too_small": "Bilden är {width}×{height} pixlar; varje sida måste vara minst {side} pixlar.",
        "messages.damaged": "{kind}-filen är skadad eller ofullständig. Ladda upp den igen.",
        "messages.too_many_bytes": "Bilden är större än {limit} MB.",
        "messages.paint_first": "Måla först över den del av bilden som du vill ändra.",
        "messages.evicted": "För att ge plats åt andra besökare rensades den här flikens bilder ur serverns minne. "
                            "Ladda upp ditt foto igen.",
        "messages.expired": "Den här flikens bilder rensades efter en tid utan användning. Ladda upp ditt foto igen.",
        "messages.loading": "Laddar modellen (bara första gången)",
        "messages.editing": "Redigerar",
        "messages.done": "Klart",
        "messages.timed_out": "Körningen tog längre tid än {seconds} s och stoppades. Inget ändrades.",
        "messages.out_of_memory": "Grafikkortet fick slut på minne för den här bilden (körning {run}). Prova en "
                                  "mindre bild eller färre steg. Inget ändrades.",
        "messages.run_failed": "Modellen kunde inte slutföra redigeringen (körning {run}). Inget ändrades; försök "
                               "igen.",
        "messages.recipe_not_json": "Receptet är inte JSON. Klistra in eller ladda upp receptfilen som följde med "
                                    "ett resultat.",
        "messages.not_a_recipe": "Den här JSON-texten är inget recept från Studio.",
        "messages.recipe_operation": "Receptet gäller åtgärden {operation}, som den här servern inte erbjuder.",
        "messages.recipe_other_operation": "Receptet gäller {recipe}, inte {chosen}. Välj {recipe} först, eller "
                                           "använd ett recept som gjordes med {chosen}.",
        "messages.recipe_model": "Receptets modell {model} erbjuds inte här för {operation}.",
        "messages.recipe_parameter": "Receptet har ett värde {name}, som {operation} inte tar.",
        "messages.recipe_pictures": "För att köra det här receptet igen behövs {count} bild(er): {names}.",
        "messages.replay_differs.id": "Receptet gjordes med modellen {then}; den här körningen använde {now}, så "
                                      "pixlarna kan skilja sig.",
        "messages.replay_differs.revision": "Receptet gjordes med version {then} av modellen; den här körningen "
                                            "använde {now}, så pixlarna kan skilja sig.",
        "messages.replay_differs.weights": "Receptet gjordes med vikterna {then}; den här körningen använde {now}, "
                                           "så pixlarna kan skilja sig.",
        "messages.replay_differs.device": "Receptet gjordes på en enhet av typen {then}; den här körningen använde "
                                          "{now}, så pixlarna kan skilja sig.",
        "messages.owes": "Ditt konto är skyldigt {debt} krediter efter en återbetalning. Köp krediter under fliken "
                         "Krediter för att reglera skulden och kör sedan igen.",
        "messages.too_few_credits": "Den här körningen kostar {cost} krediter och du har {available}. Köp fler under "
                                    "fliken Krediter; inget kördes och inget drogs.",
        "messages.too_few_credits_not_sold": "Den här körningen kostar {cost} krediter och du har {available}. "
                                             "Krediter går inte att köpa på den här servern; be dem som driver den "
                                             "om fler. Inget kördes och inget drogs.",
        "messages.prompt_refused": "Prompten är inte tillåten enligt policyn för godtagbar användning, så inget "
                                   "kördes och inget drogs.",
        "messages.prompt_unchecked": "Prompten gick inte att kontrollera just nu, så inget kördes. Försök igen.",
        "messages.purchases_off": "Köp är inte aktiverade på den här servern.",
        "messages.not_on_sale": "Den produkten säljs inte här.",
        "messages.nothing_to_manage": "Det finns inget att hantera än: inga köp har gjorts med det här kontot.",
        "messages.policy_not_accepted": "Läs och godkänn integritetspolicyn och villkoren innan du kör en "
                                        "redigering: använd knappen Godkänn högst upp på Studio-sidan (från API:t: "
                                        "GET /account/policy, sedan POST /account/accept-policy med dess version).",
        "messages.policy_changed": "Integritetspolicyn eller villkoren har ändrats sedan du godkände dem. Godkänn den "
                                   "nya versionen innan du kör en redigering: använd knappen Godkänn högst upp på "
                                   "Studio-sidan (från API:t: GET /account/policy, sedan POST "
                                   "/account/accept-policy med dess version).",
        "messages.wrong_confirmation": "Adressen du skrev är inte det här kontots adress, så inget raderades. Skriv "
                                       "adressen som du loggar in med för att bekräfta.",
        "messages.no_payments": "Din prenumeration kunde inte avslutas (betalningar är inte aktiverade här), så "
                                "inget raderades. Kontakta oss.",
        "messages.still_active": "Din prenumeration kunde inte avslutas hos betalleverantören, så den är fortfarande "
                                 "aktiv och inget raderades. Försök igen om en stund.",
    },
}
