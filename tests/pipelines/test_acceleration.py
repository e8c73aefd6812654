"""Speed-ups (ACCELERATIONS): each is named, checked at start, applied where it fits, and changes no result
beyond rounding; on CPU the GPU-only ones are skipped and say so. Their effect is measured in bench/gpu.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from pipelines import acceleration, registry, tiny
from pipelines.acceleration import accelerate, resolve
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from tests import samples
from tests.conftest import make_settings


def pix2pix(tiny_models):
    from diffusers import StableDiffusionInstructPix2PixPipeline

    pipe = StableDiffusionInstructPix2PixPipeline.from_pretrained(tiny.ensure("sd-pix2pix", tiny_models))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def edit(pipe) -> np.ndarray:
    picture = samples.noise(64, 64, seed=3)
    result = pipe(prompt="snow", image=picture, num_inference_steps=2, output_type="np",
                  generator=torch.Generator("cpu").manual_seed(7))
    return result.images[0]


def test_channels_last_and_fused_qkv_change_nothing_but_rounding(tiny_models):
    plain, fast = pix2pix(tiny_models), pix2pix(tiny_models)
    assert accelerate(fast, ("channels_last", "fuse_qkv"), "cpu") == ["channels_last", "fuse_qkv"]
    assert fast.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(edit(fast), edit(plain), atol=1e-4)


def test_the_first_block_cache_fits_transformer_pipelines_that_mark_their_denoiser_calls(tiny_models, caplog):
    from diffusers import FluxKontextPipeline, FluxPipeline

    kontext = FluxKontextPipeline.from_pretrained(tiny.ensure("flux-kontext", tiny_models))
    flux = FluxPipeline.from_pipe(kontext)  # the same tiny transformer, in a pipeline with cache contexts
    flux.set_progress_bar_config(disable=True)
    assert accelerate(flux, ("first_block_cache",), "cpu") == ["first_block_cache"]
    out = flux(prompt="snow", num_inference_steps=3, height=64, width=64, output_type="np",
               generator=torch.Generator("cpu").manual_seed(7)).images[0]
    assert out.shape == (64, 64, 3) and np.isfinite(out).all()
    with caplog.at_level(logging.INFO, logger="pipelines.acceleration"):
        assert accelerate(FluxKontextPipeline.from_pretrained(tiny.ensure("flux-kontext", tiny_models)),
                          ("first_block_cache",), "cpu") == []  # Kontext's calls carry no cache context
        assert accelerate(pix2pix(tiny_models), ("first_block_cache",), "cpu") == []  # a UNet has no such cache
    assert caplog.text.count("does not apply") == 2


def test_gpu_only_techniques_are_skipped_on_cpu_and_auto_means_none_there(tiny_models, caplog):
    with caplog.at_level(logging.INFO, logger="pipelines.acceleration"):
        assert accelerate(pix2pix(tiny_models), ("compile", "fp8"), "cpu") == []
    assert caplog.text.count("does not apply") == 2
    assert resolve(["auto"], "cpu") == () and resolve([], "cpu") == ()
    assert resolve(["none"], "cuda") == ()
    assert resolve(["fuse_qkv", "compile"], "cuda") == ("fuse_qkv", "compile")


def test_a_failing_technique_costs_nothing_but_its_speed(tiny_models, monkeypatch, caplog):
    def broken(pipe, device):
        raise RuntimeError("no kernel for this GPU")

    monkeypatch.setitem(acceleration.TECHNIQUES, "fuse_qkv", broken)
    with caplog.at_level(logging.WARNING, logger="pipelines.acceleration"):
        assert accelerate(pix2pix(tiny_models), ("fuse_qkv", "channels_last"), "cpu") == ["channels_last"]
    assert "fuse_qkv failed" in caplog.text


def test_the_loader_applies_them_and_says_which(tmp_path, tiny_models):
    models = ModelManager(make_settings(tmp_path, tiny_models, accelerations=["channels_last", "fuse_qkv"]))
    op = OPERATIONS["instruct_edit"]
    with models.use(models.spec(op, op.default_model(models.settings))) as loaded:
        assert loaded.accelerations == ("channels_last", "fuse_qkv")


def test_an_unknown_technique_stops_the_start(tmp_path, tiny_models):
    with pytest.raises(ValueError, match="ACCELERATIONS names warp_drive"):
        registry.check_settings(make_settings(tmp_path, tiny_models, accelerations="fuse_qkv,warp_drive"))


@pytest.mark.parametrize("kernel", ["flash", "sage"])
def test_hub_attention_kernels_are_refused_at_start_where_they_cannot_run(tmp_path, tiny_models, monkeypatch,
                                                                          kernel):
    with pytest.raises(ValueError, match=f"ACCELERATIONS names {kernel}, which needs an NVIDIA GPU"):
        registry.check_settings(make_settings(tmp_path, tiny_models, accelerations=kernel, device="cpu"))
    monkeypatch.setattr(registry, "nvidia_driver_present", lambda: True)  # a GPU, but no `kernels` package
    monkeypatch.setattr(acceleration, "ATTENTION_PACKAGE", "kernels_not_installed_here")
    with pytest.raises(ValueError, match="needs the `kernels_not_installed_here` package"):
        registry.check_settings(make_settings(tmp_path, tiny_models, accelerations=kernel))
    monkeypatch.setattr(acceleration, "ATTENTION_PACKAGE", "torch")  # a package that is there: accepted
    registry.check_settings(make_settings(tmp_path, tiny_models, accelerations=kernel))


def test_an_attention_kernel_goes_to_a_transformers_attention_and_not_to_a_unet(tiny_models, monkeypatch):
    """On CPU the technique does not apply; on a GPU it sets diffusers' backend on every attention of the
    transformer. The Hub kernel cannot be fetched here, so a backend that runs on the CPU stands in for it."""
    from diffusers import FluxKontextPipeline

    flux = FluxKontextPipeline.from_pretrained(tiny.ensure("flux-kontext", tiny_models))
    assert accelerate(flux, ("flash",), "cpu") == []
    monkeypatch.setattr(acceleration, "attention_backend", lambda kind: "_native_math")
    assert accelerate(flux, ("flash",), "cuda") == ["flash"]  # nothing is moved to the GPU: only the setting
    backends = {getattr(module.processor._attention_backend, "value", None) for module in flux.transformer.modules()
                if hasattr(module, "processor")}
    assert backends == {"_native_math"}
    assert accelerate(pix2pix(tiny_models), ("flash",), "cuda") == []  # the UNet's attention calls SDPA itself
