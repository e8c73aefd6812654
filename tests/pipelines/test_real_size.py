"""The real architectures, at real width and reduced depth, with random weights, on the CPU.

Each operation runs prepare -> forward -> finish on each of its models that pipelines/configs/
describes, loaded from a saved folder the way real weights load (ModelManager, from_pretrained):
what is checked is the real model's pipeline class, denoiser input channels, latent channels,
VAE scaling, text width, size multiple, and that the result has the input's size and mode.

FLUX.1 Kontext is checked on the meta device instead (every shape, no weights, full depth): at
real width its transformer and T5 encoder are about 4 GB in float32 even at one layer each, and
building and running it adds about 45 s (31 s build, 12 s for one step at 128x96, on 2 busy cores)
to a file that already takes about 100 s. STUDIO_REAL_SIZE_FLUX=1 runs it too;
tests/gpu/test_real_size_gpu.py runs it at full depth.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from pipelines import real_size
from pipelines.base import EditRequest, Limits
from pipelines.diffusion import size_multiple
from pipelines.models import ModelManager
from pipelines.registry import OPERATIONS
from tests import samples
from tests.conftest import make_settings

SIZE = (128, 96)
WORKING = Limits(working_pixels=SIZE[0] * SIZE[1])

# What the real models are, written out here rather than read from the configs, so a wrong config fails.
SD = dict(latent_channels=4, vae_scaling_factor=0.18215, text_width=768, size_multiple=8)
PIX2PIX, INPAINTING, SD15 = (
    "timbrooks/instruct-pix2pix", "stable-diffusion-v1-5/stable-diffusion-inpainting",
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
)
EXPECTED = {
    ("instruct_edit", PIX2PIX): dict(SD, pipeline="StableDiffusionInstructPix2PixPipeline", in_channels=8),
    ("inpaint", INPAINTING): dict(SD, pipeline="StableDiffusionInpaintPipeline", in_channels=9),
    ("outpaint", INPAINTING): dict(SD, pipeline="StableDiffusionInpaintPipeline", in_channels=9),
    ("restyle", SD15): dict(SD, pipeline="StableDiffusionImg2ImgPipeline", in_channels=4),
    ("upscale", "caidas/swin2SR-classical-sr-x2-64"): dict(upscale=2, embed_dim=180),
    ("upscale", "caidas/swin2SR-classical-sr-x4-64"): dict(upscale=4, embed_dim=180),
    ("select", "facebook/sam2.1-hiera-small"): dict(square=1024, embed_dims=[96, 192, 384, 768], decoder_width=256),
}
ON_META = {"black-forest-labs/FLUX.1-Kontext-dev"}  # see the module's docstring


def offered() -> list[tuple[str, str]]:
    return [(op.id, model.id) for op in OPERATIONS.values() for model in op.models]


def run_cases() -> list[tuple[str, str]]:
    return [case for case in offered() if case[1] in real_size.REAL_IDS and case[1] not in ON_META]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Folders built on first use, once per module, and removed after it (each SD 1.5 one is 2.6 GB);
    STUDIO_REAL_SIZE_CACHE names a folder that keeps them between runs instead."""
    cache = os.environ.get("STUDIO_REAL_SIZE_CACHE")
    root = Path(cache) if cache else tmp_path_factory.mktemp("real-size")

    def folder(model_id: str) -> Path:
        name = real_size.REAL_IDS[model_id]
        return real_size.build(name, root / f"{name}-reduced", depth="reduced")

    yield folder
    if not cache:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def manager_for(tmp_path_factory):
    """One ModelManager per model, the previous one dropped: one real-width model in memory at a time
    (about 2.7 GB in float32), and inpaint and outpaint share theirs as they do in the app."""
    data = tmp_path_factory.mktemp("real-size-data")
    current: dict[str, ModelManager] = {}

    def manager(model_id: str) -> ModelManager:
        if model_id not in current:
            current.clear()
            gc.collect()
            current[model_id] = ModelManager(make_settings(data, data / "tiny", device="cpu", model_profile="real"))
        return current[model_id]

    yield manager
    current.clear()
    gc.collect()


def request_for(op_id: str, size: tuple[int, int] = SIZE) -> EditRequest:
    op = OPERATIONS[op_id]
    width, height = size
    mask = None
    if "mask" in op.inputs:
        mask = Image.new("L", size, 0)
        mask.paste(255, (width * 5 // 16, height // 4, width * 11 // 16, height * 3 // 4))
    values = dict(
        prompt="a small test" if op.prompt_label else "", mask=mask, seed=3,
        steps=1 if "steps" in op.inputs else None,
        strength=1.0 if "strength" in op.inputs else None,  # img2img runs int(steps * strength) steps
        scale=None, directions=("right",) if "directions" in op.inputs else (),
        amount=25 if "amount" in op.inputs else None,
        points=((width / 2, height / 2, 1),) if "points" in op.inputs else None,
    )
    return EditRequest(op_id, samples.noise(*size, seed=1), **values)


def test_every_offered_model_has_a_config_or_a_reason():
    for _op_id, model_id in offered():
        assert model_id in real_size.REAL_IDS or model_id in real_size.NOT_DESCRIBED, model_id
    for name in real_size.REAL_IDS.values():
        assert name in real_size.names()
        assert real_size.config(name)["stands_for"] in real_size.REAL_IDS


def test_full_depth_has_the_published_parameter_counts():
    """Counted on the meta device: a wrong width, depth or head count shows here."""
    def millions(name: str) -> dict[str, float]:
        return {part: round(count / 1e6, 1) for part, count in real_size.facts(name)["parameters"].items()}

    sd = {"unet": 859.5, "vae": 83.7, "text_encoder": 123.1}  # SD 1.5: 860M UNet, CLIP ViT-L/14 text
    assert millions("sd15") == millions("sd15-inpaint") == millions("sd15-pix2pix") == sd
    flux = millions("flux1-kontext")
    assert round(flux["transformer"] / 1e3, 1) == 11.9 and round(flux["text_encoder_2"] / 1e3, 2) == 4.76
    assert millions("swin2sr-x2")["model"] == pytest.approx(11.9, abs=0.3)
    # SAM 2.1 small publishes 46 M with the video memory modules; the image model (Sam2Model) is 38.5 M of it
    assert millions("sam2.1-hiera-small")["model"] == 38.5


@pytest.mark.parametrize(("op_id", "model_id"), run_cases())
def test_the_operation_runs_on_the_real_architecture(built, manager_for, op_id, model_id):
    op, expected = OPERATIONS[op_id], EXPECTED[(op_id, model_id)]
    folder = built(model_id)
    request = request_for(op_id)
    if op_id == "upscale":
        request.values["scale"] = expected["upscale"]
    steps: list[tuple[int, int]] = []
    with manager_for(model_id).use(real_size.spec(op, model_id, folder)) as model:
        assert model.weights == "real" and model.device == "cpu"
        pipe = model.pipe
        if "pipeline" in expected:
            assert type(pipe).__name__ == expected["pipeline"]
            assert pipe.unet.config.in_channels == expected["in_channels"] and pipe.unet.config.out_channels == 4
            assert tuple(pipe.unet.config.block_out_channels) == (320, 640, 1280, 1280)
            assert pipe.vae.config.latent_channels == expected["latent_channels"]
            assert pipe.vae.config.scaling_factor == expected["vae_scaling_factor"]
            text_width = pipe.text_encoder.config.hidden_size
            assert text_width == expected["text_width"] == pipe.unet.config.cross_attention_dim
            assert pipe.text_encoder.config.vocab_size == 49408
            assert size_multiple(pipe) == expected["size_multiple"]
            assert pipe.unet.dtype == pipe.vae.dtype == torch.float32  # the CPU runs float32
        elif op_id == "select":
            sam = pipe.model.config
            assert (pipe.family, pipe.size, sam.prompt_encoder_config.image_size) == ("sam2", 1024, 1024)
            assert sam.vision_config.backbone_config.embed_dim_per_stage == expected["embed_dims"]
            assert sam.mask_decoder_config.hidden_size == expected["decoder_width"]
        else:
            sr = pipe.model.config
            assert (sr.upscale, sr.embed_dim, sr.window_size, sr.upsampler) == (
                expected["upscale"], expected["embed_dim"], 8, "pixelshuffle")
        prepared = op.prepare(request, model, request.seed, WORKING)
        outputs = op.forward(model, [prepared], lambda done, total: steps.append((done, total)))
        result = op.finish(prepared, outputs[0])
    assert steps and steps[-1][0] == steps[-1][1]
    assert result.size == op.output_size(request) and result.mode == (op.output_mode or "RGB")
    if op_id == "upscale":
        assert outputs[0].size == (SIZE[0] * expected["upscale"], SIZE[1] * expected["upscale"])  # the model's own


def test_flux_kontext_shapes_on_the_meta_device():
    """FLUX.1 Kontext at full depth, no weights: classes, channels, VAE scaling, packing and the text widths."""
    pipe = real_size.instantiate("flux1-kontext", depth="full", device="meta")
    assert type(pipe).__name__ == "FluxKontextPipeline"
    assert size_multiple(pipe) == 16  # VAE stride 8, latents packed 2x2
    transformer, vae = pipe.transformer.config, pipe.vae.config
    assert (vae.latent_channels, vae.scaling_factor, vae.shift_factor) == (16, 0.3611, 0.1159)
    assert transformer.in_channels == vae.latent_channels * 4 == 64
    assert (transformer.num_layers, transformer.num_single_layers, transformer.guidance_embeds) == (19, 38, True)
    assert pipe.scheduler.config.use_dynamic_shifting and pipe.scheduler.config.shift == 3.0

    height, width = SIZE[1] // 16, SIZE[0] // 16
    tokens = height * width  # the noisy latents; Kontext appends as many tokens of the source picture
    with torch.device("meta"):
        t5 = pipe.text_encoder_2(torch.zeros(1, 512, dtype=torch.long)).last_hidden_state
        pooled = pipe.text_encoder(torch.zeros(1, 77, dtype=torch.long)).pooler_output
        out = pipe.transformer(
            hidden_states=torch.empty(1, 2 * tokens, 64), encoder_hidden_states=t5, pooled_projections=pooled,
            timestep=torch.empty(1), guidance=torch.empty(1), img_ids=torch.empty(2 * tokens, 3),
            txt_ids=torch.empty(512, 3), return_dict=False,
        )[0]
    assert t5.shape == (1, 512, transformer.joint_attention_dim) and pooled.shape == (1, 768)
    assert out.shape == (1, 2 * tokens, 64)


@pytest.mark.skipif(os.environ.get("STUDIO_REAL_SIZE_FLUX") != "1",
                    reason="FLUX.1 Kontext at real width adds ~45 s and 4 GB: set STUDIO_REAL_SIZE_FLUX=1 to run it "
                           "(its shapes are checked on the meta device above, and it runs on a GPU in tests/gpu/)")
def test_flux_kontext_runs_at_reduced_depth(built, manager_for):
    op, model_id = OPERATIONS["instruct_edit"], "black-forest-labs/FLUX.1-Kontext-dev"
    request = request_for("instruct_edit")
    steps: list[tuple[int, int]] = []
    with manager_for(model_id).use(real_size.spec(op, model_id, built(model_id))) as model:
        pipe = model.pipe
        assert type(pipe).__name__ == "FluxKontextPipeline" and size_multiple(pipe) == 16
        assert pipe.transformer.config.in_channels == 64 and pipe.transformer.config.num_attention_heads == 24
        assert pipe.vae.config.latent_channels == 16 and pipe.text_encoder_2.config.d_model == 4096
        assert pipe.transformer.dtype == torch.float32
        prepared = op.prepare(request, model, 3, WORKING)
        outputs = op.forward(model, [prepared], lambda done, total: steps.append((done, total)))
        result = op.finish(prepared, outputs[0])
    assert steps and steps[-1][0] == steps[-1][1]
    assert result.size == SIZE and result.mode == "RGB"
