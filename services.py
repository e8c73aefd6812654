"""The running parts of the app, built once by app.py and handed to the UI (and to tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from auth.accounts import Accounts
from billing.ledger import Ledger
from billing.paid_runs import PaidRuns
from billing.payments import Payments
from config import Settings
from pipelines.service import EditService
from pipelines.sessions import SessionStore
from policy.acceptance import PolicyAcceptance
from policy.consents import Consents
from policy.data_rights import DataRights
from policy.documents import Documents


@dataclass
class Studio:
    settings: Settings
    engine: Engine
    service: EditService  # runs edits
    paid_runs: PaidRuns  # ... for a price
    ledger: Ledger
    payments: Payments
    accounts: Accounts
    sessions: SessionStore  # each tab's pictures, in memory
    upload_root: Path  # Gradio's private temp folder
    documents: Documents  # privacy policy, terms, consent text
    consents: Consents  # who accepted which policy version; analytics choices
    acceptance: PolicyAcceptance  # no run before the current policy is accepted
    rights: DataRights  # export, correct, delete
