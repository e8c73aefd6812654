"""The canvas: the picture Run edits, shown large; the brush paints on it; Compare shows before and after.

One picture on the page, always the current one: a result replaces it in place (undo/redo and the
history strip walk back). Painting a mask happens on that same picture (brush size, eraser, clear,
zoom). Compare is on demand and aligned: the picture before this edit sits where it sits in the
result (inside the larger canvas after an extension, at the same display size after an upscale),
behind a slider, labelled Before and After; transparency shows on a checkerboard.

Why not gr.ImageEditor? In Gradio 6.31 it posts the background, the composite and every layer
through /gradio_api/upload for each stroke, so copies of the photo land in Gradio's cache. This
is a gr.HTML: the picture arrives as a data URL and only the mask goes back, inline in the event.

Value (ui/views.canvas_value): {"image": data URL | None, "before": data URL | None,
"placement": [x, y, w, h] (where the before picture sits in the result, as fractions), "paint":
bool, "mask": data URL | None, "size": "W×H"}. The Mask input (pipelines/inputs.py) reads it.
"""

from __future__ import annotations

import json

import gradio as gr

from kernel.language import LANGUAGES
from ui.i18n import in_every_language, text

STRINGS = {
    "en": {
        "canvas.empty": "Upload a photo above to start.",
        "canvas.compare": "Compare",
        "canvas.before": "Before",
        "canvas.after": "After",
        "canvas.split": "Where before ends and after begins",
        "canvas.zoom_in": "Zoom in",
        "canvas.zoom_out": "Zoom out",
        "canvas.fit": "Fit",
        "canvas.brush": "Brush",
        "canvas.eraser": "Eraser",
        "canvas.eraser_on": "Eraser on",
        "canvas.clear": "Clear mask",
        "canvas.paint_hint": "Paint over what to change.",
        "canvas.picture": "The current picture: Run edits this one",
        "canvas.before_picture": "The picture before this edit",
        "canvas.mask": "Paint over the area to change",
    },
    "sv": {
        "canvas.empty": "Ladda upp ett foto ovan för att börja.",
        "canvas.compare": "Jämför",
        "canvas.before": "Före",
        "canvas.after": "Efter",
        "canvas.split": "Var före slutar och efter börjar",
        "canvas.zoom_in": "Zooma in",
        "canvas.zoom_out": "Zooma ut",
        "canvas.fit": "Anpassa",
        "canvas.brush": "Pensel",
        "canvas.eraser": "Suddgummi",
        "canvas.eraser_on": "Suddgummi på",
        "canvas.clear": "Rensa masken",
        "canvas.paint_hint": "Måla över det som ska ändras.",
        "canvas.picture": "Den aktuella bilden: Kör redigerar den här",
        "canvas.before_picture": "Bilden före den här redigeringen",
        "canvas.mask": "Måla över området som ska ändras",
    },
}
ARIA = ("picture", "before_picture", "mask", "split", "zoom_in", "zoom_out")  # set from JS in the page's language

# The same template serves every language: each text is there in all of them, the page's shows.
TEMPLATE = """
<div class="cv">
  <div class="cv-bar">
    <button type="button" class="cv-compare" aria-pressed="false" disabled>__COMPARE__</button>
    <span class="cv-zoom">
      <button type="button" class="cv-out">−</button><button type="button" class="cv-fit">__FIT__</button><button
        type="button" class="cv-in">+</button>
    </span>
  </div>
  <div class="cv-scroll">
    <div class="cv-stage">
      <img class="cv-after" alt="" draggable="false">
      <canvas class="cv-mask"></canvas>
      <div class="cv-before-clip"><div class="cv-before-frame"><img class="cv-before" alt="" draggable="false"></div></div>
      <span class="cv-label cv-label-before">__BEFORE__</span>
      <span class="cv-label cv-label-after">__AFTER__</span>
      <input type="range" class="cv-split" min="0" max="100" value="50">
    </div>
  </div>
  <div class="cv-empty">__EMPTY__</div>
  <div class="cv-tools">
    <label>__BRUSH__ <input class="cv-size" type="range" min="4" max="160" value="40"></label>
    <button type="button" class="cv-erase"><span class="cv-off">__ERASER__</span><span class="cv-on">__ERASER_ON__</span></button>
    <button type="button" class="cv-clear">__CLEAR__</button>
    <span class="cv-hint">__PAINT_HINT__</span>
  </div>
</div>
"""

CSS = """
.cv { display: flex; flex-direction: column; gap: 0.4em; }
.cv-bar { display: flex; justify-content: space-between; align-items: center; gap: 0.5em; }
.cv-bar button, .cv-tools button { padding: 0.2em 0.7em; border: 1px solid var(--border-color-primary);
  border-radius: 6px; font-size: var(--text-sm); background: var(--background-fill-primary); cursor: pointer; }
.cv-bar button[disabled] { opacity: 0.45; cursor: default; }
.cv-compare[aria-pressed="true"], .cv-erase.active { background: var(--color-accent-soft); }
.cv-zoom button { min-width: 2.2em; }
.cv-scroll { overflow: auto; max-height: min(68vh, 680px); border-radius: 8px; }
.cv-stage { position: relative; margin: 0 auto; line-height: 0; max-width: none;
  background: repeating-conic-gradient(#d9d9d9 0% 25%, #f4f4f4 0% 50%) 0 0 / 20px 20px; }
.cv-stage img { display: block; width: 100%; height: auto; user-select: none; pointer-events: none; }
.cv-mask { position: absolute; inset: 0; width: 100%; height: 100%; opacity: 0.55; touch-action: none;
  pointer-events: none; }
.cv.painting .cv-mask { pointer-events: auto; cursor: crosshair; }
.cv-before-clip { position: absolute; inset: 0; display: none;
  background: repeating-conic-gradient(#bdbdbd 0% 25%, #e6e6e6 0% 50%) 0 0 / 20px 20px; }
.cv-before-frame { position: absolute; }
.cv-before-frame img { width: 100%; height: 100%; }
.cv-label { position: absolute; top: 8px; display: none; padding: 2px 8px; border-radius: 4px; line-height: 1.4;
  background: rgba(0, 0, 0, 0.65); font-size: var(--text-sm); pointer-events: none; }
.cv-label, .cv-label span { color: #fff !important; }
.cv-label-before { left: 8px; }
.cv-label-after { right: 8px; }
.cv-split { position: absolute; left: 0; right: 0; bottom: 8px; width: 90%; margin: 0 5%; display: none; }
.cv.comparing .cv-before-clip, .cv.comparing .cv-label, .cv.comparing .cv-split { display: block; }
.cv.comparing .cv-mask { display: none; }
.cv-empty { padding: 2em 1em; text-align: center; color: var(--body-text-color-subdued);
  border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.cv.has-picture .cv-empty, .cv:not(.has-picture) .cv-scroll, .cv:not(.has-picture) .cv-bar { display: none; }
.cv-tools { display: none; gap: 0.75em; align-items: center; flex-wrap: wrap; font-size: var(--text-sm); }
.cv.painting:not(.comparing) .cv-tools { display: flex; }
.cv-erase.active .cv-off, .cv-erase:not(.active) .cv-on { display: none; }
.cv-hint { color: var(--body-text-color-subdued); }
"""

JS = """
const say = __LABELS__[document.documentElement.lang] || __LABELS__.en;
const state = { src: null, erasing: false, drawing: false, last: null, zoom: 1, comparing: false };
const $ = (selector) => element.querySelector(selector);
const root = () => $('.cv');
const ZOOMS = [1, 1.5, 2, 3, 4];

const fit = () => {
  const img = $('img.cv-after'), stage = $('.cv-stage'), scroll = $('.cv-scroll');
  if (!img || !img.naturalWidth) return;
  const room = Math.max(scroll.clientWidth || root().clientWidth || 600, 100);
  const tallest = Math.min(window.innerHeight * 0.68, 680) * img.naturalWidth / img.naturalHeight;
  stage.style.width = Math.round(Math.min(room, tallest) * state.zoom) + 'px';
  const canvas = $('canvas.cv-mask');
  if (canvas.width !== img.naturalWidth || canvas.height !== img.naturalHeight) {
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const mask = props.value && props.value.mask;
    if (mask) {
      const saved = new Image();
      saved.onload = () => canvas.getContext('2d').drawImage(saved, 0, 0, canvas.width, canvas.height);
      saved.src = mask;
    }
  }
};

const split = () => {
  const at = Number($('.cv-split').value);
  $('.cv-before-clip').style.clipPath = `inset(0 ${100 - at}% 0 0)`;
};

const show = () => {
  const value = props.value || {};
  const box = root();
  box.classList.toggle('has-picture', !!value.image);
  box.classList.toggle('painting', !!value.paint);
  const compare = $('.cv-compare');
  compare.disabled = !value.before;
  if (!value.before) state.comparing = false;
  box.classList.toggle('comparing', state.comparing);
  compare.setAttribute('aria-pressed', String(state.comparing));
  const after = $('img.cv-after');
  if (value.image && after.getAttribute('src') !== value.image) after.src = value.image;
  const before = $('img.cv-before');
  if (value.before && before.getAttribute('src') !== value.before) before.src = value.before;
  const [x, y, w, h] = value.placement || [0, 0, 1, 1];
  Object.assign($('.cv-before-frame').style, {left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`,
                                              height: `${h * 100}%`});
  split();
  if (value.image !== state.src) {  // a new picture: the old mask does not belong to it
    state.src = value.image;
    const canvas = $('canvas.cv-mask');
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
  }
  fit();
};

const bind = () => {
  const canvas = $('canvas.cv-mask');
  if (!canvas || canvas.dataset.bound) return;
  canvas.dataset.bound = '1';
  $('img.cv-after').alt = say.picture;
  $('img.cv-before').alt = say.before_picture;
  canvas.setAttribute('aria-label', say.mask);
  $('.cv-split').setAttribute('aria-label', say.split);
  $('.cv-in').setAttribute('aria-label', say.zoom_in);
  $('.cv-out').setAttribute('aria-label', say.zoom_out);
  const ctx = canvas.getContext('2d');
  $('img.cv-after').addEventListener('load', fit);
  new ResizeObserver(() => fit()).observe($('.cv-scroll'));
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  const stroke = (from, to) => {
    const r = canvas.getBoundingClientRect();
    ctx.globalCompositeOperation = state.erasing ? 'destination-out' : 'source-over';
    ctx.strokeStyle = ctx.fillStyle = 'rgb(255, 48, 48)';
    ctx.lineWidth = Number($('.cv-size').value) * canvas.width / Math.max(r.width, 1);
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
  canvas.addEventListener('pointerdown', (e) => {
    if (!canvas.width) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    state.drawing = true;
    state.last = point(e);
    stroke(state.last, state.last);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!state.drawing) return;
    const now = point(e);
    stroke(state.last, now);
    state.last = now;
  });
  const end = () => {
    if (!state.drawing) return;
    state.drawing = false;
    props.value = { ...(props.value || {}), mask: canvas.toDataURL('image/png') };
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('.cv-erase').addEventListener('click', () => {
    state.erasing = !state.erasing;
    $('.cv-erase').classList.toggle('active', state.erasing);
  });
  $('.cv-clear').addEventListener('click', () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    props.value = { ...(props.value || {}), mask: null };
  });
  $('.cv-compare').addEventListener('click', () => { state.comparing = !state.comparing; show(); });
  $('.cv-split').addEventListener('input', split);
  const zoomBy = (step) => {
    const at = ZOOMS.indexOf(state.zoom);
    state.zoom = ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, at + step))];
    fit();
  };
  $('.cv-in').addEventListener('click', () => zoomBy(1));
  $('.cv-out').addEventListener('click', () => zoomBy(-1));
  $('.cv-fit').addEventListener('click', () => { state.zoom = 1; fit(); });
};

bind();
show();
watch('value', () => { bind(); show(); });
"""


def build_canvas(**kwargs) -> gr.HTML:
    template = TEMPLATE
    for name in ("empty", "compare", "before", "after", "fit", "brush", "eraser", "eraser_on", "clear", "paint_hint"):
        template = template.replace(f"__{name.upper()}__", in_every_language(f"canvas.{name}"))
    labels = {lang: {name: text(f"canvas.{name}", lang) for name in ARIA} for lang in LANGUAGES}
    js = JS.replace("__LABELS__", json.dumps(labels, ensure_ascii=False))
    return gr.HTML(value=None, html_template=template, css_template=CSS, js_on_load=js, **kwargs)
