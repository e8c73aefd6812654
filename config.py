"""All settings in one place, read from the environment and an optional `.env` file.

Every knob an operator may turn lives here, so nothing else reads `os.environ` for
configuration. Outside development the class refuses to start with default secrets.
"""

from __future__ import annotations

import os
import re
import string
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_SECRET = "change-me"  # noqa: S105 - a placeholder that production refuses

CommaList = Annotated[list[str], NoDecode]
ORIGIN = re.compile(r"^https?://([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # --- deployment
    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 7860
    public_url: str | None = None
    space_id: str | None = None  # set by Hugging Face Spaces; the policy then names Hugging Face as host
    docs_url: str | None = None  # where README is published (the repository); /developers links its Python section
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    access_log: bool = False  # access logs name uploaded files; off unless asked for
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for a log collector (production)
    metrics_token: SecretStr | None = None  # set: /metrics wants "Authorization: Bearer <token>"
    readiness_timeout_s: float = Field(default=2.0, gt=0)  # /readyz waits this long for the database's SELECT 1
    # Personal fields (e-mail, name) are encrypted at rest with AES-GCM. "id:base64-32-bytes" entries,
    # the first encrypts, all decrypt (so keys can rotate: add one in front, run `manage.py rotate-key`).
    # Empty: one key derived from SECRET_KEY (id "s0").
    data_keys: CommaList = []
    lookup_key: SecretStr | None = None  # keys the e-mail hash used for lookups; default: from SECRET_KEY

    # --- accounts
    brand_name: str = "Studio"
    session_cookie_name: str = "studio_session"  # Gradio's own HF OAuth uses "session"
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"  # "none" for the Spaces iframe
    session_idle_days: float = 14.0
    session_max_days: float = 30.0
    magic_link_minutes: int = 15
    magic_link_per_address_per_hour: int = 5
    magic_link_per_ip_per_hour: int = 20
    # Other sites' origins (https://example.com) that may embed the app and call it with the visitor's cookies:
    # they may post, and read the answers (CORS). The app's own origin (PUBLIC_URL's, or the request's) always may.
    allowed_origins: CommaList = []
    trusted_proxies: str = "127.0.0.1"  # the peers whose X-Forwarded-For/-Proto to believe ("*": any peer)
    # How many proxies of ours stand in front and append to X-Forwarded-For: the caller is the entry that
    # many from the right (never the leftmost, which the client writes). 0: the headers are not believed.
    trusted_proxy_hops: int = Field(default=0, ge=0)
    oauth_timeout_s: float = 10.0
    api_key_runs_per_minute: int = Field(default=30, ge=0)  # runs one API key may start per minute; 0: no limit
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    github_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
    github_api_url: str = "https://api.github.com/"
    # Hugging Face sign-in: a Space with `hf_oauth: true` sets exactly these four (no setting of ours)
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_scopes: str = "openid profile email"
    openid_provider_url: str | None = None  # e.g. https://huggingface.co; its discovery document is read at start
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Studio <no-reply@localhost>"

    # --- privacy: the policy's facts for this deployment, consent, analytics, admin
    operator_name: str | None = None  # who runs this deployment (policy, terms); default: BRAND_NAME
    operator_contact: str = "privacy@example.com"  # where users write about their data
    policy_updated: str | None = None  # "2026-11-29"; default: the date in the policy text's header
    ga_measurement_id: str | None = None  # Google Analytics 4, loaded only after consent; unset: never loaded
    admin_emails: CommaList = []  # who sees the Admin tab
    usage_retention_days: int = Field(default=365, ge=1)  # usage events older than this are purged

    # --- credits and Creem
    signup_credits: int = 10
    signup_memory_days: int = Field(default=730, ge=1)  # how long an address's hash blocks a second sign-up grant
    prices: CommaList = []  # operation:credits, overriding the prices the operations declare
    price_per_megapixel: bool = False  # scale each price by the result's megapixels (at least 1x)
    run_timeout_s: int = 600
    hold_minutes: float = 30.0  # a hold older than this belongs to a run that died; the sweeper releases it
    creem_api_key: SecretStr | None = None
    creem_webhook_secret: SecretStr | None = None
    creem_test_mode: bool = True
    creem_api_url: str | None = None  # overrides the host (tests point it at a contract server)
    creem_packs: CommaList = []  # product_id:credits for one-time packs
    creem_subscriptions: CommaList = []  # product_id:credits per paid period
    moderation_flag: Literal["allow", "deny"] = "deny"  # what a "flag" from Creem's moderation does
    moderation_blocklist: CommaList = []  # words refused when Creem is not configured

    # --- storage
    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite file under data_dir
    gradio_temp_dir: Path | None = None  # default: a private folder on RAM (/dev/shm) when it has room
    temp_dir_min_free_mb: int = 256

    # --- models
    model_profile: Literal["auto", "real", "tiny"] = "auto"
    tiny_model_dir: Path | None = None  # default: data_dir / "tiny-models"
    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    cpu_offload: Literal["auto", "always", "never"] = "auto"
    # speed-ups per loaded pipeline (pipelines/acceleration.py): auto (per GPU class), none, or a list
    accelerations: CommaList = ["auto"]
    model_memory_budget_gb: float = 0.0  # 0: 90% of the device's memory
    preload_operation: str = "default"  # an operation id; "default": the page's first; empty: none
    hub_probe_timeout_s: float = 3.0
    trust_remote_code_models: CommaList = ["ZhengPeng7/BiRefNet", "briaai/RMBG-1.4"]
    # Models whose licence forbids commercial use (FLUX.1 Kontext [dev], RMBG-1.4) while payments are
    # configured: off, the built-in ones are not offered and one named in <ID>_MODEL(S) fails the start;
    # true: offered anyway (you hold a licence that allows it). Without payments they are always offered.
    allow_noncommercial_models: bool = False
    # Each operation's models: <ID>_MODEL (the default) and <ID>_MODELS (the choices, comma-separated),
    # e.g. INSTRUCT_EDIT_MODEL. The names come from the operations (pipelines/base.py), so they are
    # gathered here by their ending and checked against the registry when the app starts.
    operation_models: dict[str, str] = {}
    # A CLIP model (Hub id or folder) for one measurement per result: the CLIP directional similarity between an
    # instruction and the change it made (pipelines/clip_score.py). Unset: not measured. On demo weights a tiny
    # random stand-in runs instead (the number is then meaningless). E.g. openai/clip-vit-base-patch32.
    clip_model: str | None = None

    # --- images
    max_upload_mb: int = 50
    max_input_pixels: int = 40_000_000  # checked from the header, before decoding
    min_input_side: int = 16
    max_working_pixels: int = 1024 * 1024  # real weights work at this size, results are scaled back
    tiny_working_pixels: int = 64 * 64  # demo weights produce noise; keep them fast (their VAE shrinks by 2, not 8)
    max_prompt_chars: int = 1000
    max_history: int = 12
    session_idle_s: int = 3600  # an abandoned tab's images are dropped after this
    picture_memory_mb: int = Field(default=2048, ge=64)  # all tabs' pictures together; least recently used go first
    anonymous_idle_s: int = 600  # a tab nobody is signed in to keeps its pictures this long
    anonymous_tabs_per_address: int = Field(default=4, ge=1)  # anonymous tabs with pictures per client address
    anonymous_max_pixels: int = 16_000_000  # the largest picture an anonymous visitor may upload (decoded)

    # --- the upload folder (on RAM): what Gradio's upload route may leave there (README: The HTTP edge)
    anonymous_upload_files: int = Field(default=20, ge=1)  # files per client address per window, when not signed in
    anonymous_upload_mb: int = Field(default=100, ge=1)  # megabytes written per client address per window, ditto
    anonymous_upload_window_s: int = Field(default=600, ge=1)  # the window starts at the address's first upload
    upload_folder_mb: int = Field(default=512, ge=1)  # all uploads waiting to be read, together; past it: 503
    upload_unclaimed_s: float = Field(default=60.0, gt=0)  # an upload no handler has read by then is deleted

    # --- queue
    max_batch_size: int = Field(default=4, ge=1)
    queue_max_size: int = 64
    zero_gpu_duration_s: int = 60

    @field_validator(
        "trust_remote_code_models", "prices", "creem_packs", "creem_subscriptions",
        "moderation_blocklist", "data_keys", "admin_emails", "allowed_origins", "accelerations", mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        """Each entry goes into headers as it is (CORS, frame-ancestors): scheme://host[:port] and nothing else."""
        origins = [origin.lower().rstrip("/") for origin in value]
        for origin in origins:
            if not ORIGIN.match(origin):
                raise ValueError(f"ALLOWED_ORIGINS: {origin!r} is not an origin like https://example.com")
        return origins

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """The usual sources, then the environment's and .env's <ID>_MODEL(S) settings, which no field names."""
        return (init_settings, env_settings, WithoutModelSettings(settings_cls, dotenv_settings),
                file_secret_settings, OperationModelSettings(settings_cls, dotenv_settings))

    @model_validator(mode="before")
    @classmethod
    def _gather_operation_models(cls, data: object) -> object:
        """`Settings(restyle_model=...)` and RESTYLE_MODEL both land in operation_models["restyle_model"]."""
        if not isinstance(data, dict):
            return data
        models = dict(data.get("operation_models") or {})
        for key in [k for k in data if isinstance(k, str) and _is_model_setting(k)]:
            value = data.pop(key)
            models[key.lower()] = ",".join(value) if isinstance(value, list | tuple) else str(value)
        return {**data, "operation_models": models}

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development":
            self._refuse_weak_secrets()
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")
        if self.hold_minutes * 60 <= self.run_timeout_s:
            raise ValueError("HOLD_MINUTES must outlast RUN_TIMEOUT_S, or live runs would lose their holds")
        if self.upload_folder_mb < self.max_upload_mb:
            raise ValueError("UPLOAD_FOLDER_MB must be at least MAX_UPLOAD_MB, or the largest upload could never land")
        if self.policy_updated:
            date.fromisoformat(self.policy_updated)  # POLICY_UPDATED must be YYYY-MM-DD
        for name in ("price_table", "pack_credits", "subscription_credits"):
            getattr(self, name)  # malformed "id:number" lists fail at start, not at the first payment
        return self

    def _refuse_weak_secrets(self) -> None:
        """Outside development: every secret random and long enough, and the data keys named, not derived."""
        secrets = {"SECRET_KEY": self.secret_key, "LOOKUP_KEY": self.lookup_key, "METRICS_TOKEN": self.metrics_token}
        for name, secret in secrets.items():
            if secret is None and name == "METRICS_TOKEN":
                continue
            value = secret.get_secret_value() if secret is not None else ""
            if value == DEFAULT_SECRET or entropy_bits(value) < MIN_SECRET_BITS:
                raise ValueError(f"{name} must be a random value of at least 32 bytes outside development "
                                 f"(make one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\")")
        if not self.data_keys:
            raise ValueError("DATA_KEYS must be set outside development (personal fields are encrypted with them): "
                             "e.g. DATA_KEYS=k1:$(python -c \"import os,base64;print(base64.b64encode(os.urandom(32))"
                             ".decode())\")")

    @property
    def payments_configured(self) -> bool:
        """Does this deployment sell credits? As app.py decides: a Creem API key is set."""
        return bool(self.creem_api_key and self.creem_api_key.get_secret_value())

    @property
    def noncommercial_models_allowed(self) -> bool:
        """May models whose licence forbids commercial use be offered? Yes without payments, or when the
        operator says so (ALLOW_NONCOMMERCIAL_MODELS=true)."""
        return not self.payments_configured or self.allow_noncommercial_models

    @property
    def price_table(self) -> dict[str, int]:
        return _pairs(self.prices, "PRICES")

    @property
    def pack_credits(self) -> dict[str, int]:
        return _pairs(self.creem_packs, "CREEM_PACKS")

    @property
    def subscription_credits(self) -> dict[str, int]:
        return _pairs(self.creem_subscriptions, "CREEM_SUBSCRIPTIONS")

    @property
    def creem_base_url(self) -> str:
        if self.creem_api_url:
            return self.creem_api_url.rstrip("/")
        return "https://test-api.creem.io" if self.creem_test_mode else "https://api.creem.io"

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies when served over https, and always with SameSite=None (browsers insist)."""
        return (self.public_url or "").startswith("https://") or self.cookie_samesite == "none"

    @property
    def operator(self) -> str:
        return self.operator_name or self.brand_name

    @property
    def is_https(self) -> bool:
        return (self.public_url or "").startswith("https://")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1_000_000

    @property
    def upload_folder_bytes(self) -> int:
        return self.upload_folder_mb * 1_000_000

    @property
    def anonymous_upload_bytes(self) -> int:
        return self.anonymous_upload_mb * 1_000_000

    @cached_property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'studio.db'}"

    @cached_property
    def tiny_models_path(self) -> Path:
        return self.tiny_model_dir or self.data_dir / "tiny-models"


MIN_SECRET_BITS = 256  # 32 random bytes


MIN_DISTINCT_CHARACTERS = 10  # "aaaa…" or "abab…" is long but not random


def entropy_bits(secret: str) -> float:
    """An estimate of a secret's randomness: its length times the bits its alphabet carries per character
    (hex 4, base64 6, any other 6.5); 0 for a secret of few different characters, however long."""
    chars = set(secret)
    if len(chars) < MIN_DISTINCT_CHARACTERS:
        return 0.0
    if chars <= set(string.hexdigits):
        return len(secret) * 4.0
    if chars <= set(string.ascii_letters + string.digits + "+/=-_"):
        return len(secret) * 6.0
    return len(secret) * 6.5


MODEL_SUFFIXES = ("_model", "_models")


class _BesideDotEnv(PydanticBaseSettingsSource):
    """A settings source that reads what pydantic-settings' .env source was configured with."""

    def __init__(self, settings_cls: type[BaseSettings], dotenv: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.dotenv = dotenv

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


class WithoutModelSettings(_BesideDotEnv):
    """The .env file's values less the model settings, which OperationModelSettings reads (in the right order)."""

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.dotenv().items() if not _is_model_setting(k)}


class OperationModelSettings(_BesideDotEnv):
    """Every <SOMETHING>_MODEL or _MODELS variable in the environment and the .env file (environment wins)."""

    def __call__(self) -> dict[str, Any]:
        found = {}
        env_file = getattr(self.dotenv, "env_file", None)
        for path in env_file if isinstance(env_file, list | tuple) else [env_file]:
            if path and Path(path).is_file():
                found.update({k.lower(): v for k, v in dotenv_values(path).items() if v is not None})
        found.update({k.lower(): v for k, v in os.environ.items()})
        models = {k: v for k, v in found.items() if _is_model_setting(k)}
        return {"operation_models": models} if models else {}


# Settings' own fields that end like a model setting (TRUST_REMOTE_CODE_MODELS, ALLOW_NONCOMMERCIAL_MODELS)
NOT_OPERATION_MODELS = {name for name in Settings.model_fields if name.endswith(MODEL_SUFFIXES)}


def _is_model_setting(name: str) -> bool:
    name = name.lower()
    return name.endswith(MODEL_SUFFIXES) and name not in NOT_OPERATION_MODELS


def _pairs(items: list[str], setting: str) -> dict[str, int]:
    """["a:4", "b:10"] -> {"a": 4, "b": 10}; a clear error for anything else."""
    table = {}
    for item in items:
        key, sep, number = item.rpartition(":")
        if not sep or not key or not number.strip().isdigit():
            raise ValueError(f"{setting}: expected entries like 'name:12', got {item!r}")
        table[key.strip()] = int(number)
    return table
