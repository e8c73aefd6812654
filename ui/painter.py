"""The mask brush: a canvas over the picture, built on gr.HTML.

Why not gr.ImageEditor? In Gradio 6.31 its front end posts the background, the composite and
every layer through /gradio_api/upload (83 uploads for one brush stroke and Run, measured), so
copies of the user's photo land in Gradio's cache. This painter keeps the picture in the page
and sends only the mask, inline as a PNG data URL in the event payload: nothing is written.

Value: {"image": data URL shown under the brush, "mask": data URL of the painted alpha or null}.
"""

from __future__ import annotations

import json

import gradio as gr

from kernel.language import LANGUAGES
from ui.i18n import in_every_language, text

STRINGS = {
    "en": {
        "painter.empty": "Upload a photo, then paint over what you want to change.",
        "painter.brush": "Brush",
        "painter.eraser": "Eraser",
        "painter.eraser_on": "Eraser on",
        "painter.clear": "Clear mask",
        "painter.picture": "The picture to paint on",
        "painter.canvas": "Paint over the area to change",
    },
    "sv": {
        "painter.empty": "Ladda upp ett foto och måla sedan över det du vill ändra.",
        "painter.brush": "Pensel",
        "painter.eraser": "Suddgummi",
        "painter.eraser_on": "Suddgummi på",
        "painter.clear": "Rensa masken",
        "painter.picture": "Bilden att måla på",
        "painter.canvas": "Måla över området som ska ändras",
    },
}

# Texts are in every language (the same template serves everyone); the page's language shows.
TEMPLATE = """
<div class="mp">
  <div class="mp-stage ${value && value.image ? '' : 'mp-hidden'}">
    <img class="mp-image" src="${value && value.image ? value.image : ''}" alt="" draggable="false">
    <canvas class="mp-mask"></canvas>
  </div>
  <div class="mp-empty ${value && value.image ? 'mp-hidden' : ''}">__EMPTY__</div>
  <div class="mp-tools">
    <label>__BRUSH__ <input class="mp-size" type="range" min="4" max="120" value="32"></label>
    <button type="button" class="mp-erase"><span class="mp-off">__ERASER__</span><span class="mp-on">__ERASER_ON__</span></button>
    <button type="button" class="mp-clear">__CLEAR__</button>
  </div>
</div>
"""

CSS = """
.mp-stage { position: relative; display: block; max-width: 100%; line-height: 0; }
.mp-stage img { display: block; width: 100%; height: auto; user-select: none; pointer-events: none; }
.mp-stage canvas { position: absolute; inset: 0; width: 100%; height: 100%; opacity: 0.55; cursor: crosshair; touch-action: none; }
.mp-hidden { display: none !important; }
.mp-empty { padding: 1.5em; border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.mp-tools { display: flex; gap: 0.75em; align-items: center; margin-top: 0.5em; flex-wrap: wrap; }
.mp-tools button { padding: 0.2em 0.7em; border: 1px solid var(--border-color-primary); border-radius: 6px;
                   font-size: var(--text-sm); font-weight: normal; }
.mp-tools button.active { background: var(--color-accent-soft); }
.mp-erase.active .mp-off, .mp-erase:not(.active) .mp-on { display: none; }
"""

JS = """
const state = { src: null, erasing: false, drawing: false, last: null };
const say = __LABELS__[document.documentElement.lang] || __LABELS__.en;
const parts = () => ({
  img: element.querySelector('img.mp-image'),
  canvas: element.querySelector('canvas.mp-mask'),
  size: element.querySelector('input.mp-size'),
  erase: element.querySelector('button.mp-erase'),
  clear: element.querySelector('button.mp-clear'),
});
const publish = (canvas) => {
  props.value = { ...(props.value || {}), mask: canvas.toDataURL('image/png') };
};
const bind = () => {
  const p = parts();
  if (!p.canvas || p.canvas.dataset.bound) return;
  p.canvas.dataset.bound = '1';
  p.img.alt = say.picture;
  p.canvas.setAttribute('aria-label', say.canvas);
  const ctx = p.canvas.getContext('2d');
  const stage = element.querySelector('.mp-stage');
  const fit = () => {
    if (!p.img.naturalWidth) return;
    // as wide as the column allows, at most 460 px tall, keeping the picture's shape
    const tallest = 460 * p.img.naturalWidth / p.img.naturalHeight;
    stage.style.width = Math.min(stage.parentElement.clientWidth || tallest, tallest) + 'px';
    if (p.canvas.width !== p.img.naturalWidth || p.canvas.height !== p.img.naturalHeight) {
      p.canvas.width = p.img.naturalWidth;
      p.canvas.height = p.img.naturalHeight;
    }
    const mask = props.value && props.value.mask;
    if (mask) {
      const saved = new Image();
      saved.onload = () => ctx.drawImage(saved, 0, 0, p.canvas.width, p.canvas.height);
      saved.src = mask;
    }
  };
  if (p.img.complete) fit();
  p.img.addEventListener('load', fit);
  const point = (e) => {
    const r = p.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * p.canvas.width / r.width, (e.clientY - r.top) * p.canvas.height / r.height];
  };
  const stroke = (from, to) => {
    const r = p.canvas.getBoundingClientRect();
    ctx.globalCompositeOperation = state.erasing ? 'destination-out' : 'source-over';
    ctx.strokeStyle = ctx.fillStyle = 'rgb(255, 48, 48)';
    ctx.lineWidth = Number(p.size.value) * p.canvas.width / Math.max(r.width, 1);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.arc(from[0], from[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  };
  p.canvas.addEventListener('pointerdown', (e) => {
    if (!p.img.naturalWidth) return;
    e.preventDefault();
    p.canvas.setPointerCapture(e.pointerId);
    state.drawing = true;
    state.last = point(e);
    stroke(state.last, state.last);
  });
  p.canvas.addEventListener('pointermove', (e) => {
    if (!state.drawing) return;
    const now = point(e);
    stroke(state.last, now);
    state.last = now;
  });
  const end = () => {
    if (!state.drawing) return;
    state.drawing = false;
    publish(p.canvas);
  };
  p.canvas.addEventListener('pointerup', end);
  p.canvas.addEventListener('pointercancel', end);
  p.erase.addEventListener('click', () => {
    state.erasing = !state.erasing;
    p.erase.classList.toggle('active', state.erasing);
  });
  p.clear.addEventListener('click', () => {
    ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    props.value = { ...(props.value || {}), mask: null };
  });
};
bind();
watch('value', () => {
  const image = props.value && props.value.image;
  if (image !== state.src) {
    state.src = image;
    const canvas = parts().canvas;
    if (canvas) canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
  }
  bind();
});
"""


def mask_painter(**kwargs) -> gr.HTML:
    template = TEMPLATE
    for name in ("empty", "brush", "eraser", "eraser_on", "clear"):
        template = template.replace(f"__{name.upper()}__", in_every_language(f"painter.{name}"))
    labels = {lang: {name: text(f"painter.{name}", lang) for name in ("picture", "canvas")} for lang in LANGUAGES}
    js = JS.replace("__LABELS__", json.dumps(labels, ensure_ascii=False))
    return gr.HTML(value=None, html_template=template, css_template=CSS, js_on_load=js, **kwargs)
