"""Loading models once, sharing them, and unloading the least recently used.

Profiles (MODEL_PROFILE):
  real  the configured model ids (Hub ids or local folders), downloaded if needed;
  tiny  random-weight stand-ins built offline (pipelines/tiny.py);
  auto  real where the weights are on disk or the Hub answers, else tiny (the UI shows a banner).

One loaded copy per (model, pipeline class). When a second pipeline class asks for weights that
are already loaded (img2img and inpaint from the same checkpoint, say), diffusers' `from_pipe`
builds it on the same modules, so the weights are in memory once.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.errors import RunFailed
from pipelines import tiny
from pipelines.device import pick_device, total_memory
from pipelines.loaders import BUILDING, LOADERS, LoadContext, LoadedModel, ModelSpec

if TYPE_CHECKING:
    from config import Settings
    from pipelines.base import Operation

log = logging.getLogger(__name__)

RETRY_FAILED_LOAD_S = 60.0
WarmUp = Callable[[LoadedModel], None]


class ModelManager:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._device: str | None = None
        self._entries: dict[tuple[str, str], LoadedModel] = {}
        self._lock = threading.RLock()
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        self._failures: dict[tuple[str, str], tuple[float, str]] = {}
        self._available: dict[str, bool] = {}
        self._hub_reachable: bool | None = None

    # ------------------------------------------------------------ which weights

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.settings.device)
            log.info("models run on %s", self._device)
        return self._device

    def spec(self, op: Operation, model_id: str) -> ModelSpec:
        model = op.model(model_id)
        weights = model.weights_id  # a LoRA choice loads its base's weights
        real = self.settings.model_profile == "real" or (
            self.settings.model_profile == "auto" and self.real_weights_available(weights)
        )
        tiny_name = None if real else op.tiny_model(model_id)
        source = weights if real else str(self.settings.tiny_models_path / tiny_name)
        lora_source, lora_file = "", ""
        if model.lora is not None:  # demo weights: the tiny LoRA saved with the stand-in
            lora_source, lora_file = (model.lora.repo, model.lora.file) if real else (source, tiny.TINY_LORA)
        return ModelSpec(
            model_id=model_id,
            source=source,
            weights="real" if real else "tiny",
            kind=op.kind_of(model_id),
            pipeline_class=op.pipeline_class_for(model_id),
            trust_remote_code=real and weights in self.settings.trust_remote_code_models,
            tiny_name=tiny_name,
            lora=model.lora,
            lora_source=lora_source,
            lora_file=lora_file,
        )

    def real_weights_available(self, model_id: str) -> bool:
        """A local folder, a Hub cache entry, or a Hub that answers (probed once)."""
        if model_id not in self._available:
            self._available[model_id] = (
                Path(model_id).is_dir() or _in_hub_cache(model_id) or self._probe_hub()
            )
        return self._available[model_id]

    def _probe_hub(self) -> bool:
        if self._hub_reachable is None:
            self._hub_reachable = _hub_answers(self.settings.hub_probe_timeout_s)
            log.info("Hugging Face Hub %s", "reachable" if self._hub_reachable else "unreachable: tiny demo weights")
        return self._hub_reachable

    # ------------------------------------------------------------ loading

    @contextmanager
    def use(self, spec: ModelSpec, warm_up: WarmUp | None = None) -> Iterator[LoadedModel]:
        """The loaded model for `spec`, kept from being unloaded while the block runs.

        `warm_up`, when the model has to be loaded now, runs on it before it counts as loaded (a
        compiled model's warm-up edits, pipelines/warmup.py): whoever else wants it waits meanwhile.
        """
        entry = self._get_or_load(spec, warm_up)
        with self._lock:
            entry.users += 1
            entry.last_used = time.monotonic()
        try:
            yield entry
        finally:
            with self._lock:
                entry.users -= 1
                entry.last_used = time.monotonic()

    def after_fork(self) -> None:
        """In a forked child (ZeroGPU's worker): fresh locks, since a thread holding one in the parent
        does not exist here. The loaded models are inherited as they were at the fork."""
        self._lock = threading.RLock()
        self._loading = {}

    def is_loaded(self, spec: ModelSpec) -> bool:
        return spec.key in self._entries

    def _get_or_load(self, spec: ModelSpec, warm_up: WarmUp | None = None) -> LoadedModel:
        with self._lock:
            if spec.key in self._entries:
                return self._entries[spec.key]
            key_lock = self._loading.setdefault(spec.key, threading.Lock())
        with key_lock:  # one loader per model; others wait for it
            if spec.key in self._entries:
                return self._entries[spec.key]
            failed = self._failures.get(spec.key)
            if failed and time.monotonic() - failed[0] < RETRY_FAILED_LOAD_S:
                raise RunFailed(failed[1])
            try:
                entry = self._load(spec)
                if warm_up is not None:
                    warm_up(entry)
            except Exception as exc:
                message = f"The model {spec.model_id} could not be loaded, so this operation is unavailable for now."
                log.error("loading %s failed: %s: %s", spec.source, type(exc).__name__, exc)
                self._failures[spec.key] = (time.monotonic(), message)
                raise RunFailed(message) from exc
            with self._lock:
                self._failures.pop(spec.key, None)
                self._entries[spec.key] = entry
                self._evict_over_budget(keep=entry)
            return entry

    def _load(self, spec: ModelSpec) -> LoadedModel:
        with BUILDING:  # see pipelines/loaders.py: never two threads building modules at once
            return self._load_now(spec)

    def _load_now(self, spec: ModelSpec) -> LoadedModel:
        started = time.perf_counter()
        _quiet_progress_bars()
        if spec.tiny_name:
            tiny.ensure(spec.tiny_name, self.settings.tiny_models_path)
        load = LOADERS.get(spec.kind)
        if load is None:
            raise ValueError(f"no loader for models of kind {spec.kind!r} (pipelines/loaders.py)")
        entry = load(spec, LoadContext(self.device, self.settings, self._sibling))
        log.info(
            "loaded %s (%s weights, %.0f MB, %s) in %.1f s",
            spec.model_id, spec.weights, entry.nbytes / 1e6, entry.placement, time.perf_counter() - started,
        )
        return entry

    def _sibling(self, spec: ModelSpec) -> LoadedModel | None:
        with self._lock:
            for entry in self._entries.values():  # a fused LoRA changed the weights: only the same LoRA shares them
                if (entry.spec.source == spec.source and entry.spec.kind == "diffusers" and entry.base is None
                        and entry.spec.lora == spec.lora):
                    return entry
        return None

    # ------------------------------------------------------------ out of memory

    @staticmethod
    def can_offload(entry: LoadedModel) -> bool:
        """Whether model CPU offload could still help: diffusers weights on CUDA, not offloaded yet."""
        return entry.device == "cuda" and entry.spec.kind == "diffusers" and entry.placement == "device"

    def offload(self, entry: LoadedModel) -> None:
        """Switch a model, and the pipelines sharing its weights, to model CPU offload; idempotent.

        Call from inside the device queue (no batch runs on the device then), after an out-of-memory error.
        """
        import torch

        with self._lock:
            root = entry.base or entry
            family = {id(e): e for e in (root, entry, *self._entries.values()) if e is root or e.base is root}
        for member in family.values():
            if member.placement == "device":
                member.pipe.enable_model_cpu_offload()
                member.placement = "offload"
                log.warning("model CPU offload on for %s after running out of GPU memory", member.spec.model_id)
        torch.cuda.empty_cache()

    # ------------------------------------------------------------ unloading

    def budget_bytes(self) -> int:
        if self.settings.model_memory_budget_gb > 0:
            return int(self.settings.model_memory_budget_gb * 1e9)
        return int(total_memory(self.device) * 0.9)

    def loaded_bytes(self) -> int:
        return sum(entry.nbytes for entry in self._entries.values())

    def _evict_over_budget(self, keep: LoadedModel) -> None:
        """Unload least recently used models (not in use, not `keep`) until under the budget."""
        budget = self.budget_bytes()
        while self.loaded_bytes() > budget:
            idle = [
                e for e in self._entries.values()
                if e is not keep and e.users == 0 and e is not keep.base and not self._has_users_on(e)
            ]
            if not idle:
                log.warning(
                    "models in use take %.1f GB, over the %.1f GB budget", self.loaded_bytes() / 1e9, budget / 1e9
                )
                return
            self._unload(min(idle, key=lambda e: e.last_used))

    def _has_users_on(self, entry: LoadedModel) -> bool:
        return any(e.base is entry and e.users for e in self._entries.values())

    def _unload(self, entry: LoadedModel) -> None:
        for key, other in list(self._entries.items()):
            if other is entry or other.base is entry:
                del self._entries[key]
                log.info("unloaded %s to stay within the memory budget", other.spec.model_id)
        gc.collect()
        if entry.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    # ------------------------------------------------------------ reporting

    def describe(self, spec: ModelSpec) -> dict[str, Any]:
        failed = self._failures.get(spec.key)
        return {
            "model": spec.model_id,
            "weights": spec.weights,
            "loaded": self.is_loaded(spec),
            "available": failed is None,  # False: the last load failed; retried after RETRY_FAILED_LOAD_S
            "error": failed[1] if failed else None,
        }


def _quiet_progress_bars() -> None:
    """Loading bars would flood the server log on every load."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


def _in_hub_cache(model_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    for filename in ("model_index.json", "config.json"):
        try:
            found = try_to_load_from_cache(model_id, filename)
        except Exception:  # noqa: BLE001 - not a valid repo id: not cached
            return False
        if isinstance(found, str):
            return True
    return False


def _hub_answers(timeout_s: float) -> bool:
    import httpx
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return False
    try:
        return httpx.head(f"{constants.ENDPOINT}/api/models", timeout=timeout_s).status_code < 500
    except httpx.HTTPError:
        return False
