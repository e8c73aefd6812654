"""The rule that nobody runs an edit before accepting the current privacy policy and terms."""

from __future__ import annotations

from kernel.errors import UserError
from policy.consents import POLICY, Consent, Consents
from policy.documents import Documents

NOT_ACCEPTED = ("Please read and accept the privacy policy and the terms before running an edit: use the Accept "
                "button at the top of the Studio page (from the API: GET /account/policy, then POST "
                "/account/accept-policy with its version).")
CHANGED = ("The privacy policy or the terms have changed since you accepted them. Please accept the new version "
           "before running an edit: use the Accept button at the top of the Studio page (from the API: GET "
           "/account/policy, then POST /account/accept-policy with its version).")


class PolicyNotAccepted(UserError):
    """The user has not accepted the current policy version. The message is safe to show."""


class PolicyAcceptance:
    def __init__(self, consents: Consents, documents: Documents) -> None:
        self.consents = consents
        self.documents = documents

    @property
    def version(self) -> str:
        return self.documents.policy_version

    def choice(self, user_id: int) -> Consent | None:
        """The user's newest answer about the policy, whichever version it was."""
        return self.consents.current(user_id, POLICY)

    def covers(self, choice: Consent | None) -> bool:
        return choice is not None and choice.granted and choice.version == self.version

    def accepted(self, user_id: int) -> bool:
        return self.covers(self.choice(user_id))

    def accept(self, user_id: int) -> Consent:
        return self.consents.record(user_id, POLICY, self.version, granted=True)

    def require(self, user_id: int) -> None:
        """Called before every run, from the page and from the API alike: one read."""
        choice = self.choice(user_id)
        if self.covers(choice):
            return
        raise PolicyNotAccepted(CHANGED if choice is not None and choice.granted else NOT_ACCEPTED)
