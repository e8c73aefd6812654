"""A bare gr.Interface around the same tiny InstructPix2Pix call: the yardstick for overhead.

Run by bench/overhead.py in its own process: PORT and TINY_MODEL_DIR come from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr
import torch
from diffusers import StableDiffusionInstructPix2PixPipeline

from pipelines import tiny

folder = tiny.ensure("sd-pix2pix", Path(os.environ["TINY_MODEL_DIR"]))
pipe = StableDiffusionInstructPix2PixPipeline.from_pretrained(folder)
pipe.set_progress_bar_config(disable=True)


def edit(image, prompt, steps, seed):
    generator = torch.Generator("cpu").manual_seed(int(seed))
    return pipe(prompt=prompt, image=image, num_inference_steps=int(steps), generator=generator).images[0]


demo = gr.Interface(edit, [gr.Image(type="pil"), gr.Textbox(), gr.Number(), gr.Number()], gr.Image(type="pil"),
                    api_name="edit")
demo.launch(server_name="127.0.0.1", server_port=int(os.environ["PORT"]))
