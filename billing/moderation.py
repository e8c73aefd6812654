"""Prompt screening before a prompt-driven run, as Creem requires for image generation.

With Creem configured, prompts go to its moderation endpoint (allow / flag / deny; what flag does
is a setting). Without it, a local blocklist applies. Upscaling and background removal take no
prompt and are exempt; an empty prompt (erase) has nothing to screen.
"""

from __future__ import annotations

import re

from billing.creem import CreemClient, CreemUnavailable
from config import Settings
from kernel.errors import UserError

REFUSED = "This prompt is not allowed by the acceptable-use policy, so nothing was run or charged."


class PromptRefused(UserError):
    """The prompt may not be used. The message is safe to show."""


class Moderation:
    def __init__(self, settings: Settings, creem: CreemClient | None) -> None:
        self.settings = settings
        self.creem = creem
        words = [re.escape(w.strip().lower()) for w in settings.moderation_blocklist if w.strip()]
        self.blocklist = re.compile(r"\b(" + "|".join(words) + r")\b") if words else None

    def check(self, prompt: str, user_id: int) -> None:
        prompt = (prompt or "").strip()
        if not prompt:
            return
        if self.creem is None:
            if self.blocklist is not None and self.blocklist.search(prompt.lower()):
                raise PromptRefused(REFUSED)
            return
        try:
            decision = self.creem.moderate(prompt, external_id=f"user:{user_id}")
        except CreemUnavailable:
            # Screening is mandatory: without an answer the run cannot go ahead.
            raise PromptRefused("The prompt could not be checked just now, so nothing was run. Please try again.") \
                from None
        if decision == "deny" or (decision == "flag" and self.settings.moderation_flag == "deny"):
            raise PromptRefused(REFUSED)
