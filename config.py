"""All settings in one place, read from the environment and an optional `.env` file.

Every knob an operator may turn lives here, so nothing else reads `os.environ` for
configuration. Outside development the class refuses to start with default secrets.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "change-me"  # noqa: S105 - a placeholder that production refuses

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # --- deployment
    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 7860
    public_url: str | None = None
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    access_log: bool = False  # access logs name uploaded files; off unless asked for

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
    model_memory_budget_gb: float = 0.0  # 0: 90% of the device's memory
    preload_operation: str = "instruct_edit"
    hub_probe_timeout_s: float = 3.0
    trust_remote_code_models: CommaList = ["briaai/RMBG-1.4"]

    instruct_edit_model: str = "timbrooks/instruct-pix2pix"
    instruct_edit_models: CommaList = [
        "timbrooks/instruct-pix2pix",
        "black-forest-labs/FLUX.1-Kontext-dev",
        "Qwen/Qwen-Image-Edit",
    ]
    inpaint_model: str = "stable-diffusion-v1-5/stable-diffusion-inpainting"
    outpaint_model: str = "stable-diffusion-v1-5/stable-diffusion-inpainting"
    restyle_model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    remove_background_model: str = "briaai/RMBG-1.4"
    upscale_x2_model: str = "caidas/swin2SR-classical-sr-x2-64"
    upscale_x4_model: str = "caidas/swin2SR-classical-sr-x4-64"

    # --- images
    max_upload_mb: int = 50
    max_input_pixels: int = 40_000_000  # checked from the header, before decoding
    min_input_side: int = 16
    max_working_pixels: int = 1024 * 1024  # real weights work at this size, results are scaled back
    tiny_working_pixels: int = 128 * 128  # demo weights produce noise; keep them fast
    max_prompt_chars: int = 1000
    max_history: int = 12
    session_idle_s: int = 3600  # an abandoned tab's images are dropped after this

    # --- queue
    max_batch_size: int = Field(default=4, ge=1)
    queue_max_size: int = 64
    zero_gpu_duration_s: int = 60

    @field_validator("trust_remote_code_models", "instruct_edit_models", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set to a random value outside development")
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1_000_000

    @cached_property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'studio.db'}"

    @cached_property
    def tiny_models_path(self) -> Path:
        return self.tiny_model_dir or self.data_dir / "tiny-models"
