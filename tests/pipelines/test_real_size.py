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

FLUX.2 [klein] 4B and Qwen-Image-Edit-2511 are checked on the meta device too, for the same reason: at
one layer each they are still 1.1 B and 1.9 B parameters (4.4 and 7.4 GB in float32; most of it the
151936- and 152064-row embeddings at 2560 and 3584 wide, Qwen2.5-VL's untied twice), more than Kontext.
klein's pipeline also reads Qwen3 layers 9, 18 and 27, so its text encoder cannot be cut to one layer.
Both run at full depth in tests/gpu/test_real_size_gpu.py.

SAM 3 is checked on the meta device too (its image and text encoders): at reduced depth its 1008 px
forward pass takes about 20 s on the CPU (6 s build, 12 s forward): STUDIO_REAL_SIZE_SAM3=1 runs it
(select by words, through ModelManager). It runs at full depth on a GPU.
ViTMatte-S (select's edge refinement, not a model choice) runs at reduced depth through pipelines/edges.py.
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
    ("select", "facebook/sam3"): dict(square=1008, decoder_width=256),
}
KLEIN, QWEN_EDIT = "black-forest-labs/FLUX.2-klein-4B", "Qwen/Qwen-Image-Edit-2511"
ON_META = {"black-forest-labs/FLUX.1-Kontext-dev", KLEIN, QWEN_EDIT, "facebook/sam3"}  # see the module's docstring


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
    klein = millions("flux2-klein-4b")  # FLUX.2 [klein] 4B: a 4 B transformer, Qwen3-4B (tied embeddings) 4.02 B
    assert round(klein["transformer"] / 1e3, 1) == 3.9 and round(klein["text_encoder"] / 1e3, 2) == 4.02
    qwen = millions("qwen-image-edit-2511")  # a 20 B MMDiT; Qwen2.5-VL-7B with its vision tower 8.29 B
    assert round(qwen["transformer"] / 1e3, 2) == 20.43 and round(qwen["text_encoder"] / 1e3, 2) == 8.29
    assert qwen["vae"] == pytest.approx(126.9, abs=0.5)  # the Wan 2.1 VAE's 127 M
    # SAM 2.1 small publishes 46 M with the video memory modules; the image model (Sam2Model) is 38.5 M of it
    assert millions("sam2.1-hiera-small")["model"] == 38.5
    # SAM 3 publishes 848 M for detector and tracker together; the image model (Sam3Model) is 840.4 M of it
    assert millions("sam3")["model"] == 840.4
    assert millions("vitmatte-small")["model"] == 25.8  # ViTMatte-S: ViT-S backbone 23.7 M, decoder 2.1 M


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


def test_flux2_klein_shapes_on_the_meta_device():
    """FLUX.2 [klein] 4B at full depth, no weights: the stacked Qwen3 layers are the transformer's text width."""
    pipe = real_size.instantiate("flux2-klein-4b", depth="full", device="meta")
    assert type(pipe).__name__ == "Flux2KleinPipeline" and pipe.config.is_distilled
    assert size_multiple(pipe) == 16  # VAE stride 8, latents patchified 2x2
    transformer, vae, text = pipe.transformer.config, pipe.vae.config, pipe.text_encoder.config
    assert transformer.in_channels == vae.latent_channels * 4 == 128
    assert (transformer.num_layers, transformer.num_single_layers, transformer.num_attention_heads) == (5, 20, 24)
    assert (text.hidden_size, text.num_hidden_layers, text.vocab_size) == (2560, 36, 151936)
    height, width = SIZE[1] // 16, SIZE[0] // 16
    tokens = height * width  # the noisy latents; an edit appends as many tokens of the reference
    with torch.device("meta"):
        layers = pipe.text_encoder(input_ids=torch.zeros(1, 512, dtype=torch.long), output_hidden_states=True)
        text_states = torch.cat([layers.hidden_states[i] for i in (9, 18, 27)], dim=-1)  # the pipeline's default
        out = pipe.transformer(
            hidden_states=torch.empty(1, 2 * tokens, 128), encoder_hidden_states=text_states, timestep=torch.empty(1),
            img_ids=torch.empty(1, 2 * tokens, 4), txt_ids=torch.empty(1, 512, 4), return_dict=False,
        )[0]
    assert text_states.shape == (1, 512, transformer.joint_attention_dim) == (1, 512, 3 * 2560)
    assert out.shape == (1, 2 * tokens, 128)


def test_qwen_image_edit_2511_shapes_on_the_meta_device():
    """Qwen-Image-Edit-2511 at full depth, no weights: its image-only processor's tokens are the text encoder's
    vision tokens, and the transformer reads the edited picture's tokens followed by a reference's."""
    pipe = real_size.instantiate("qwen-image-edit-2511", depth="full", device="meta")
    assert type(pipe).__name__ == "QwenImageEditPlusPipeline" and size_multiple(pipe) == 16
    assert type(pipe.processor).__name__ == "ImageOnlyQwen2VLProcessor"
    transformer, vae, text = pipe.transformer.config, pipe.vae.config, pipe.text_encoder.config
    assert transformer.in_channels == vae.z_dim * 4 == 64 and transformer.zero_cond_t
    assert (transformer.num_layers, transformer.joint_attention_dim) == (60, 3584)
    assert text.text_config.hidden_size == text.vision_config.out_hidden_size == 3584
    assert pipe.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>") == text.image_token_id == 151655
    assert pipe.vae_scale_factor == 8 and pipe.latent_channels == 16
    height, width = SIZE[1] // 16, SIZE[0] // 16
    reference = (768 // 16, 1024 // 16)  # the pipeline encodes each reference at about a megapixel
    with torch.device("meta"):
        text_states = pipe.text_encoder(input_ids=torch.zeros(1, 40, dtype=torch.long),
                                        output_hidden_states=True).hidden_states[-1]
        out = pipe.transformer(
            hidden_states=torch.empty(1, height * width + reference[0] * reference[1], 64),
            encoder_hidden_states=text_states, timestep=torch.empty(1),
            img_shapes=[[(1, height, width), (1, *reference)]], return_dict=False,
        )[0]
    assert text_states.shape == (1, 40, 3584) and out.shape == (1, height * width + reference[0] * reference[1], 64)


def test_sam3_shapes_on_the_meta_device():
    """SAM 3 at full depth, no weights: a 1008 px square in 14 px patches, its FPN (the masks come out at the
    finest level, 288 px) and the 32-token CLIP text side. The whole forward pass cannot run on the meta device
    (the DETR decoder reads tensor values), and at reduced depth on the CPU it takes ~20 s: it runs on a GPU in
    tests/gpu/test_real_size_gpu.py."""
    model, tokenizer = real_size.instantiate("sam3", depth="full", device="meta")
    config = model.config
    backbone = config.vision_config.backbone_config
    assert (backbone.image_size, backbone.patch_size, backbone.num_hidden_layers) == (1008, 14, 32)
    assert backbone.global_attn_indexes == [7, 15, 23, 31]
    assert (config.text_config.vocab_size, config.text_config.max_position_embeddings) == (49408, 32)
    assert config.detr_decoder_config.num_queries == 200
    assert config.mask_decoder_config.hidden_size == EXPECTED[("select", "facebook/sam3")]["decoder_width"]
    assert type(tokenizer).__name__ == "CLIPTokenizer"
    with torch.device("meta"):
        vision = model.vision_encoder(pixel_values=torch.empty(1, 3, 1008, 1008))
        text = model.get_text_features(input_ids=torch.zeros(1, 32, dtype=torch.long))
    assert vision.last_hidden_state.shape == (1, 72 * 72, 1024)
    assert [tuple(level.shape[-2:]) for level in vision.fpn_hidden_states] == [(288, 288), (144, 144), (72, 72),
                                                                                (36, 36)]
    assert text.last_hidden_state.shape == (1, 32, 1024) and text.pooler_output.shape == (1, 32, 256)


def opt_in(variable: str, cost: str, checked: str) -> pytest.MarkDecorator:
    """A run too slow for every CI run: on when `variable`=1 (what it costs, and what is checked anyway)."""
    return pytest.mark.skipif(os.environ.get(variable) != "1",
                              reason=f"{cost}: set {variable}=1 to run it ({checked} on the meta device above, "
                                     "and it runs on a GPU in tests/gpu/)")


@opt_in("STUDIO_REAL_SIZE_SAM3", "SAM 3 at reduced depth adds ~22 s", "its encoders are checked")
def test_sam3_selects_by_words_at_reduced_depth(built, manager_for):
    op, model_id = OPERATIONS["select"], "facebook/sam3"
    request = request_for("select")
    request.values.update(points=None, text="a small test")
    steps: list[tuple[int, int]] = []
    with manager_for(model_id).use(real_size.spec(op, model_id, built(model_id))) as model:
        assert (model.pipe.family, model.pipe.size) == ("sam3", EXPECTED[("select", model_id)]["square"])
        assert type(model.pipe.tokenizer).__name__ == "CLIPTokenizer"
        prepared = op.prepare(request, model, 3, WORKING)
        outputs = op.forward(model, [prepared], lambda done, total: steps.append((done, total)))
        result = op.finish(prepared, outputs[0])
    assert steps and steps[-1][0] == steps[-1][1]
    assert result.size == SIZE and result.mode == "L"


def test_vitmatte_refines_an_edge_at_reduced_depth(tmp_path):
    """ViTMatte-S (select's edge refinement) saved, loaded as pipelines/edges.py loads the real one, and run
    on RGB + trimap: 4 input channels, ViT-S widths, an alpha the picture's size."""
    from pipelines.edges import LazyMatte, refine

    folder = real_size.build("vitmatte-small", tmp_path / "vitmatte", depth="reduced")
    matte = LazyMatte(str(folder), "cpu").model()
    backbone = matte.config.backbone_config
    assert (backbone.num_channels, backbone.hidden_size, backbone.num_attention_heads) == (4, 384, 6)
    assert (backbone.patch_size, backbone.window_size, backbone.image_size) == (16, 14, 512)
    assert matte.config.fusion_hidden_sizes == [256, 128, 64, 32]
    with torch.no_grad():
        assert matte(pixel_values=torch.zeros(1, 4, 64, 96)).alphas.shape == (1, 1, 64, 96)
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (32, 24, 96, 72))
    soft = refine(matte, samples.noise(*SIZE, seed=1), mask, SIZE[0] * SIZE[1])
    assert soft.size == SIZE and soft.mode == "L"


@opt_in("STUDIO_REAL_SIZE_FLUX", "FLUX.1 Kontext at real width adds ~45 s and 4 GB", "its shapes are checked")
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
