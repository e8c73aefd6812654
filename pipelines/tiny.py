"""Tiny random-weight models, built offline, saved once, then loaded like real ones.

They make the whole app (and CI) run without the Hub: each builder creates a model from a small
config (as diffusers' own fast tests do), `save_pretrained` writes it to the cache folder, and the
app loads it with `from_pretrained` - the same path real weights take. Outputs are noise; the
app shows a "demo weights" banner while any of these is in use.

Builders are named after the architecture they stand in for; an operation's models name theirs
(pipelines/base.py Model.tiny). An operation with a new architecture registers a builder from
its own file with `@builder("name")`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

def ensure(name: str, root: Path) -> Path:
    """The folder holding tiny model `name`, building it first if it is not there yet."""
    target = root / name
    if (target / ".complete").exists():
        return target
    from pipelines.loaders import BUILDING

    with BUILDING:  # building constructs torch modules: never beside a load in another thread
        if (target / ".complete").exists():
            return target
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            BUILDERS[name](staging)
            (staging / ".complete").touch()
            if target.exists():  # a half-built folder from a crash
                shutil.rmtree(target)
            os.replace(staging, target)  # atomic: another process sees all or nothing
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("built tiny model %s in %s", name, target)
    return target


# ------------------------------------------------------------------ text side


def _clip_tokenizer():
    """A byte-level BPE tokenizer built in memory: any text encodes, no files needed."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for char in alphabet:
            vocab[char + suffix] = len(vocab)
    merges = [("t", "h"), ("a", "n")]  # tokenizers wants tuples for in-memory merges
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def _clip_text_encoder(**overrides):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    config = dict(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, vocab_size=1000,
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
        layer_norm_eps=1e-5, max_position_embeddings=77,
    )
    config.update(overrides)
    return CLIPTextModel(CLIPTextConfig(**config))


def _t5_tokenizer():
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-"
    pieces += [("▁" + c, -3.0) for c in chars] + [(c, -4.0) for c in chars]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=512)


def _t5_encoder(vocab_size: int):
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    return T5EncoderModel(T5Config(
        vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0, is_encoder_decoder=True,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    ))


# ------------------------------------------------------------------ Stable Diffusion family


def _sd_components(unet_in_channels: int) -> dict:
    """4 input channels: img2img; 8: InstructPix2Pix; 9: inpainting."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32,
        in_channels=unet_in_channels, out_channels=4, cross_attention_dim=32,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
    )
    return {
        "unet": unet, "vae": vae,
        "scheduler": PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        "text_encoder": _clip_text_encoder(), "tokenizer": _clip_tokenizer(),
        "safety_checker": None, "feature_extractor": None, "requires_safety_checker": False,
    }


def _save_sd(pipeline_class: str, unet_in_channels: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        import diffusers

        cls = getattr(diffusers, pipeline_class)
        components = _sd_components(unet_in_channels)
        if "image_encoder" in cls._optional_components:
            components["image_encoder"] = None
        cls(**components).save_pretrained(folder)

    return build


def _save_kontext(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=[4, 4, 8],
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1,
        latent_channels=1, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
        shift_factor=0.0609, scaling_factor=1.5035,
    )
    t5_tokenizer = _t5_tokenizer()
    FluxKontextPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, transformer=transformer,
        text_encoder=_clip_text_encoder(hidden_act="gelu", projection_dim=32), tokenizer=_clip_tokenizer(),
        text_encoder_2=_t5_encoder(max(128, len(t5_tokenizer))), tokenizer_2=t5_tokenizer,
        image_encoder=None, feature_extractor=None,
    ).save_pretrained(folder)


# ------------------------------------------------------------------ FLUX.2 [klein]

# Enough for the Qwen3 chat template the klein pipelines apply to every prompt (no thinking block).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _qwen_tokenizer():
    """A byte-level BPE Qwen2 tokenizer built in memory, with a chat template: no files needed."""
    from tokenizers import pre_tokenizers
    from transformers import Qwen2TokenizerFast

    vocab = {char: index for index, char in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    merges = [("t", "h"), ("a", "n")]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    tokenizer = Qwen2TokenizerFast(vocab=vocab, merges=merges, model_max_length=512)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def _flux2_klein_components() -> dict:
    """Sizes from diffusers' fast tests (tests/pipelines/flux2/test_pipeline_flux2_klein*.py), except the
    text encoder: the pipelines stack its hidden states 9, 18 and 27 (their default, which real weights
    need), so the tiny Qwen3 has 28 narrow layers and the transformer takes 3 × its width."""
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2Transformer2DModel
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = _qwen_tokenizer()
    hidden = 16
    torch.manual_seed(0)
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * hidden, timestep_guidance_channels=256,
        axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False,
    )
    torch.manual_seed(0)
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        hidden_size=hidden, intermediate_size=16, num_hidden_layers=28, num_attention_heads=2,
        num_key_value_heads=2, head_dim=8, vocab_size=len(tokenizer), max_position_embeddings=512,
    ))
    torch.manual_seed(0)
    vae = AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1, latent_channels=1,
        norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
    )
    return {
        "scheduler": FlowMatchEulerDiscreteScheduler(), "text_encoder": text_encoder, "tokenizer": tokenizer,
        "transformer": transformer, "vae": vae,
    }


def _save_flux2_klein(folder: Path) -> None:
    """Saved as Flux2KleinPipeline, step-distilled like FLUX.2 [klein] 4B; Flux2KleinInpaintPipeline
    loads the same folder (by class, or with from_pipe on the loaded weights)."""
    from diffusers import Flux2KleinPipeline

    Flux2KleinPipeline(**_flux2_klein_components(), is_distilled=True).save_pretrained(folder)


# ------------------------------------------------------------------ transformers models


def _save_segmentation(folder: Path) -> None:
    import torch
    from transformers import SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor

    torch.manual_seed(0)
    config = SegformerConfig(
        num_channels=3, num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1], hidden_sizes=[8, 16],
        patch_sizes=[7, 3], strides=[4, 2], num_attention_heads=[1, 2], mlp_ratios=[2, 2],
        decoder_hidden_size=16, num_labels=2, id2label={0: "background", 1: "foreground"},
        label2id={"background": 0, "foreground": 1},
    )
    SegformerForSemanticSegmentation(config).save_pretrained(folder)
    SegformerImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)


def _save_swin2sr(upscale: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        import torch
        from transformers import Swin2SRConfig, Swin2SRForImageSuperResolution, Swin2SRImageProcessor

        torch.manual_seed(0)
        config = Swin2SRConfig(
            embed_dim=16, depths=[1, 1], num_heads=[2, 2], window_size=4, upscale=upscale, image_size=32,
        )
        Swin2SRForImageSuperResolution(config).save_pretrained(folder)
        Swin2SRImageProcessor(pad_size=4).save_pretrained(folder)

    return build


def _save_matting(folder: Path) -> None:
    """BiRefNet's stand-in: not remote code, a small module with its contract (pipelines/matting.py)."""
    from pipelines.matting import save_tiny

    save_tiny(folder)


def _save_sam2(folder: Path) -> None:
    """SAM 2's stand-in: sizes from transformers' own tests (tests/models/sam2), a 128 px square."""
    import torch
    from transformers import (
        Sam2Config,
        Sam2HieraDetConfig,
        Sam2MaskDecoderConfig,
        Sam2Model,
        Sam2PromptEncoderConfig,
        Sam2VisionConfig,
    )

    torch.manual_seed(0)
    backbone = Sam2HieraDetConfig(
        hidden_size=12, num_channels=3, image_size=128, patch_stride=4, patch_kernel_size=7, patch_padding=3,
        blocks_per_stage=[1, 2, 7, 2], embed_dim_per_stage=[12, 24, 48, 96],
    )
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[96, 48, 24, 12],
                              backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=32)
    prompts = Sam2PromptEncoderConfig(image_size=128, patch_size=16, mask_input_channels=8, hidden_size=32,
                                      num_point_embeddings=4, hidden_act="gelu")
    decoder = Sam2MaskDecoderConfig(hidden_size=32, hidden_act="relu", mlp_dim=64, num_hidden_layers=2,
                                    num_attention_heads=4, attention_downsample_rate=2, num_multimask_outputs=3,
                                    iou_head_depth=3, iou_head_hidden_dim=32)
    config = Sam2Config(vision_config=vision, prompt_encoder_config=prompts, mask_decoder_config=decoder,
                        memory_attention_hidden_size=32, memory_encoder_hidden_size=32,
                        memory_encoder_output_channels=32, mask_downsampler_embed_dim=32, memory_fuser_embed_dim=32)
    Sam2Model(config).save_pretrained(folder)


def _save_sam3(folder: Path) -> None:
    """SAM 3's stand-in: sizes from transformers' own tests (tests/models/sam3) at a 112 px square, and a
    CLIP tokenizer built in memory (SAM 3's text side is CLIP's), saved beside the model."""
    import torch
    from transformers import Sam3Model
    from transformers.models.sam3.configuration_sam3 import (
        Sam3Config,
        Sam3DETRDecoderConfig,
        Sam3DETREncoderConfig,
        Sam3GeometryEncoderConfig,
        Sam3MaskDecoderConfig,
        Sam3VisionConfig,
        Sam3ViTConfig,
    )

    torch.manual_seed(0)
    backbone = Sam3ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                             num_channels=3, image_size=112, patch_size=14, window_size=4, global_attn_indexes=[0, 1])
    text = dict(vocab_size=1000, hidden_size=32, intermediate_size=64, projection_dim=32, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=32, hidden_act="gelu", bos_token_id=0, eos_token_id=1,
                pad_token_id=1)
    config = Sam3Config(
        vision_config=Sam3VisionConfig(backbone_config=backbone, fpn_hidden_size=32, scale_factors=[2.0, 1.0]),
        text_config=text,
        geometry_encoder_config=Sam3GeometryEncoderConfig(hidden_size=32, num_layers=1, num_attention_heads=4,
                                                          intermediate_size=64, mask_fuser_hidden_size=32,
                                                          mask_fuser_num_layers=1),
        detr_encoder_config=Sam3DETREncoderConfig(hidden_size=32, num_layers=1, num_attention_heads=4,
                                                  intermediate_size=64),
        detr_decoder_config=Sam3DETRDecoderConfig(hidden_size=32, num_layers=1, num_queries=5, num_attention_heads=4,
                                                  intermediate_size=64),
        mask_decoder_config=Sam3MaskDecoderConfig(hidden_size=32, num_upsampling_stages=2),
    )
    Sam3Model(config).save_pretrained(folder)
    tokenizer = _clip_tokenizer()
    tokenizer.model_max_length = 32  # SAM 3 reads 32 tokens
    tokenizer.save_pretrained(folder)


def _save_vitmatte(folder: Path) -> None:
    """ViTMatte's stand-in (the Select tool's edge refiner): a VitDet backbone as in transformers' own tests."""
    import torch
    from transformers import VitDetConfig, VitMatteConfig, VitMatteForImageMatting

    torch.manual_seed(0)
    backbone = VitDetConfig(image_size=32, patch_size=16, num_channels=4, num_hidden_layers=2, num_attention_heads=2,
                            hidden_size=8, hidden_act="gelu", out_features=["stage1"])
    config = VitMatteConfig(backbone_config=backbone, hidden_size=8, fusion_hidden_sizes=[32, 16, 8, 8],
                            convstream_hidden_sizes=[8, 16, 16])
    VitMatteForImageMatting(config).save_pretrained(folder)


BUILDERS: dict[str, Callable[[Path], None]] = {
    "sd-pix2pix": _save_sd("StableDiffusionInstructPix2PixPipeline", 8),
    "sd-inpaint": _save_sd("StableDiffusionInpaintPipeline", 9),
    "sd-img2img": _save_sd("StableDiffusionImg2ImgPipeline", 4),
    "flux-kontext": _save_kontext,
    "flux2-klein": _save_flux2_klein,
    "segformer": _save_segmentation,
    "birefnet": _save_matting,
    "swin2sr-x2": _save_swin2sr(2),
    "swin2sr-x4": _save_swin2sr(4),
    "sam2": _save_sam2,
    "sam3": _save_sam3,
    "vitmatte": _save_vitmatte,
}


# What each stand-in stands in for, as the page says in demo mode ("runs a tiny random InstructPix2Pix").
STANDS_IN_FOR = {
    "sd-pix2pix": "InstructPix2Pix", "sd-inpaint": "Stable Diffusion inpainting", "sd-img2img": "Stable Diffusion",
    "flux-kontext": "FLUX.1 Kontext", "flux2-klein": "FLUX.2 [klein]", "segformer": "SegFormer",
    "birefnet": "BiRefNet", "swin2sr-x2": "Swin2SR ×2", "swin2sr-x4": "Swin2SR ×4",
    "sam2": "SAM 2", "sam3": "SAM 3", "vitmatte": "ViTMatte",
}


def builder(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    """Register a tiny builder: `@builder("my-arch")` above a function that saves a model into a folder."""

    def register(build: Callable[[Path], None]) -> Callable[[Path], None]:
        BUILDERS[name] = build
        return build

    return register
