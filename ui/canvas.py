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
bool, "mask": data URL | None, "size": [W, H] (the picture's own pixels), "words": bool (a model
that selects by words is offered)}. The Mask input (pipelines/inputs.py) reads it.

The Select tool, beside the brush: a click selects the object under it, Alt-click or right-click
takes from the selection, a drag selects what is in the box, words name what to select; Invert,
Grow and Shrink change the mask. The page keeps the clicks of the selection being made and sends
them all each time (the server keeps no click state) with the custom event "selection" (its data:
{"action": "select" | "words" | "invert" | "grow" | "shrink", "n", "points", "box", "text", "refine",
"mask", "by"}); StudioHandlers.selection answers into a hidden HTML (build_selection_answer) that hands the
answer back here: {"n", "layer": the new mask as a data URL drawn in the brush's colour, "say":
a sentence, "error": bool}. The selection is drawn into the painted layer itself, so Run uses it
and the brush and eraser add to it or take from it.
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
        "canvas.tool": "Tool",
        "canvas.select": "Select",
        "canvas.size": "Size",
        "canvas.select_hint": "Click an object to select it, or drag a box around it. Alt-click, right-click "
                              "or Take away removes from the selection.",
        "canvas.take_away": "Take away",
        "canvas.words": "Select by words",
        "canvas.words_placeholder": "e.g. the red car",
        "canvas.find": "Find",
        "canvas.refine": "Refine edges (hair, fur)",
        "canvas.invert": "Invert selection",
        "canvas.grow": "Grow",
        "canvas.shrink": "Shrink",
        "canvas.by": "Pixels to grow or shrink by",
        "canvas.px": "px",
        "canvas.working": "Selecting…",
        "canvas.no_words": "Type what to select first, for example “the sky”.",
        "canvas.by_range": "Grow or shrink by a whole number of pixels from 1 to {limit}.",
        "canvas.unknown": "The page asked for something the Select tool does not do. Please reload the page.",
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
        "canvas.tool": "Verktyg",
        "canvas.select": "Markera",
        "canvas.size": "Storlek",
        "canvas.select_hint": "Klicka på ett föremål för att markera det, eller dra en ruta runt det. Alt-klick, "
                              "högerklick eller Dra ifrån tar bort från markeringen.",
        "canvas.take_away": "Dra ifrån",
        "canvas.words": "Markera med ord",
        "canvas.words_placeholder": "t.ex. den röda bilen",
        "canvas.find": "Hitta",
        "canvas.refine": "Förfina kanter (hår, päls)",
        "canvas.invert": "Invertera markeringen",
        "canvas.grow": "Väx",
        "canvas.shrink": "Krymp",
        "canvas.by": "Antal pixlar att växa eller krympa med",
        "canvas.px": "px",
        "canvas.working": "Markerar…",
        "canvas.no_words": "Skriv först vad som ska markeras, till exempel ”himlen”.",
        "canvas.by_range": "Väx eller krymp med ett heltal pixlar från 1 till {limit}.",
        "canvas.unknown": "Sidan bad om något som markeringsverktyget inte gör. Ladda om sidan.",
    },
}
ARIA = ("picture", "before_picture", "mask", "split", "zoom_in", "zoom_out", "by", "words_placeholder",
        "working", "tool")  # set from JS in the page's language

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
      <div class="cv-marks"></div>
      <div class="cv-before-clip"><div class="cv-before-frame"><img class="cv-before" alt="" draggable="false"></div></div>
      <span class="cv-label cv-label-before">__BEFORE__</span>
      <span class="cv-label cv-label-after">__AFTER__</span>
      <input type="range" class="cv-split" min="0" max="100" value="50">
    </div>
  </div>
  <div class="cv-empty">__EMPTY__</div>
  <div class="cv-tools">
    <span class="cv-modes" role="group">
      <button type="button" class="cv-mode-brush" aria-pressed="true">__BRUSH__</button><button
        type="button" class="cv-mode-select" aria-pressed="false">__SELECT__</button>
    </span>
    <label class="cv-brush-only">__SIZE__ <input class="cv-size" type="range" min="4" max="160" value="40"></label>
    <button type="button" class="cv-erase cv-brush-only"><span class="cv-off">__ERASER__</span><span
      class="cv-on">__ERASER_ON__</span></button>
    <button type="button" class="cv-take cv-select-only" aria-pressed="false">__TAKE_AWAY__</button>
    <button type="button" class="cv-clear">__CLEAR__</button>
    <span class="cv-hint cv-brush-only">__PAINT_HINT__</span>
    <span class="cv-hint cv-select-only">__SELECT_HINT__</span>
  </div>
  <div class="cv-tools cv-select-tools">
    <form class="cv-words"><label>__WORDS__ <input type="text" class="cv-phrase" maxlength="400"
      autocomplete="off"></label><button type="submit" class="cv-find">__FIND__</button></form>
    <label class="cv-refine-box"><input type="checkbox" class="cv-refine"> __REFINE__</label>
    <button type="button" class="cv-invert">__INVERT__</button>
    <span class="cv-steps"><button type="button" class="cv-grow">__GROW__</button><button type="button"
      class="cv-shrink">__SHRINK__</button><input class="cv-by" type="number" min="1" max="200" step="1"
      value="8"> __PX__</span>
  </div>
  <div class="cv-say" role="status" aria-live="polite"></div>
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
.cv:not(.selecting) .cv-tools.cv-select-tools, .cv.selecting .cv-brush-only,
.cv:not(.selecting) .cv-select-only { display: none; }
.cv.selecting .cv-mask { cursor: cell; }
.cv-modes button { border-radius: 0; }
.cv-modes button:first-child { border-radius: 6px 0 0 6px; }
.cv-modes button:last-child { border-radius: 0 6px 6px 0; border-left: 0; }
.cv-modes button[aria-pressed="true"], .cv-take[aria-pressed="true"] { background: var(--color-accent-soft); font-weight: 600; }
.cv-words { display: flex; gap: 0.4em; align-items: center; flex-wrap: wrap; margin: 0; }
.cv-words label { display: flex; gap: 0.4em; align-items: center; }
.cv-words input, .cv-by { padding: 0.2em 0.4em; border: 1px solid var(--border-color-primary); border-radius: 6px;
  font-size: var(--text-sm); background: var(--background-fill-primary); color: var(--body-text-color); }
.cv-words input { width: 12em; max-width: 50vw; }
.cv-by { width: 4.5em; }
.cv-refine-box { display: inline-flex; gap: 0.3em; align-items: center; }
.cv-steps { display: inline-flex; gap: 0.3em; align-items: center; }
.cv.no-words .cv-words { display: none; }
.cv-marks { position: absolute; inset: 0; pointer-events: none; }
.cv-marks span { position: absolute; width: 14px; height: 14px; margin: -7px 0 0 -7px; border-radius: 50%;
  border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.6); line-height: 10px; text-align: center;
  font-size: 12px; font-weight: 700; color: #fff; }
.cv-marks span.add { background: #15803d; }
.cv-marks span.remove { background: #b91c1c; }
.cv-marks div { position: absolute; border: 2px dashed #fff; outline: 1px dashed #000; }
.cv.comparing .cv-marks { display: none; }
.cv-say { font-size: var(--text-sm); }
.cv-say:empty { display: none; }
.cv-say.error { color: var(--error-text-color, #b91c1c); }
.cv-erase.active .cv-off, .cv-erase:not(.active) .cv-on { display: none; }
.cv-hint { color: var(--body-text-color-subdued); }
"""

JS = """
const say = __LABELS__[document.documentElement.lang] || __LABELS__.en;
const state = { src: null, erasing: false, drawing: false, last: null, zoom: 1, comparing: false,
                tool: 'brush', taking: false, picks: [], box: null, base: null, subtract: false, asked: 0, pending: null,
                press: null };
const $ = (selector) => element.querySelector(selector);
const root = () => $('.cv');
const ZOOMS = [1, 1.5, 2, 3, 4];
const DRAG_PX = 6;  // a press that moves further than this (on screen) is a box, not a click

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

// --- the Select tool: the clicks of the selection being made, drawn as dots (and its box, dashed)

const marks = () => {
  const layer = $('.cv-marks'), canvas = $('canvas.cv-mask');
  layer.replaceChildren();
  const [w, h] = pictureSize();
  for (const [x, y, label] of state.picks) {
    const dot = document.createElement('span');
    dot.className = label ? 'add' : 'remove';
    dot.textContent = label ? '+' : '\u2212';
    Object.assign(dot.style, {left: `${x / w * 100}%`, top: `${y / h * 100}%`});
    layer.append(dot);
  }
  const box = state.press && state.press.box || state.box;
  if (box) {
    const [x0, y0, x1, y1] = box, frame = document.createElement('div');
    Object.assign(frame.style, {left: `${Math.min(x0, x1) / w * 100}%`, top: `${Math.min(y0, y1) / h * 100}%`,
                                width: `${Math.abs(x1 - x0) / w * 100}%`, height: `${Math.abs(y1 - y0) / h * 100}%`});
    layer.append(frame);
  }
  if (!canvas.width) layer.replaceChildren();
};

const pictureSize = () => {
  const size = (props.value || {}).size, canvas = $('canvas.cv-mask');
  return Array.isArray(size) && size.length === 2 ? size : [canvas.width || 1, canvas.height || 1];
};

const refining = () => $('.cv-refine').checked;  // ViTMatte decides the edge: slower, for hair and fur

const endSelection = () => {  // what is selected stays in the mask; the next click starts a new selection
  state.picks = []; state.box = null; state.base = null; state.subtract = false;
  marks();
};

const tell = (sentence, error) => {
  const line = $('.cv-say');
  line.textContent = sentence || '';
  line.classList.toggle('error', !!error);
};

const keepMask = () => {
  const canvas = $('canvas.cv-mask'), pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = false;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) { painted = true; break; }
  props.value = { ...(props.value || {}), mask: painted ? canvas.toDataURL('image/png') : null };
};

const ask = (body) => {
  state.asked += 1;
  tell(say.working, false);
  trigger('selection', { ...body, n: state.asked });
};

const answered = (answer) => {
  if (!answer || answer.n !== state.asked) return;  // an older answer: a newer question is on its way
  const pending = state.pending;
  state.pending = null;
  tell(answer.say, answer.error);
  if (answer.error || !answer.layer) {
    if (pending && pending.undo) { pending.undo(); marks(); }
    return;
  }
  const canvas = $('canvas.cv-mask'), ctx = canvas.getContext('2d'), layer = new Image();
  layer.onload = () => {
    if (answer.n !== state.asked) return;
    if (pending && pending.action === 'select') {
      ctx.putImageData(state.base, 0, 0);
      ctx.globalCompositeOperation = state.subtract ? 'destination-out' : 'source-over';
    } else {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.globalCompositeOperation = 'source-over';
    }
    ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
    ctx.globalCompositeOperation = 'source-over';
    if (!pending || pending.action !== 'select') endSelection();
    keepMask();
  };
  layer.src = answer.layer;
};

const select = (change) => {  // add a click or a box to the selection being made, and ask for its mask
  const canvas = $('canvas.cv-mask');
  const before = { picks: state.picks, box: state.box, base: state.base, subtract: state.subtract };
  if (!state.base) state.base = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  change();
  marks();
  state.pending = { action: 'select', undo: () => Object.assign(state, before) };
  ask({ action: 'select', points: state.picks.length ? state.picks : null, box: state.box, refine: refining() });
};

const show = () => {
  const value = props.value || {};
  const box = root();
  box.classList.toggle('has-picture', !!value.image);
  box.classList.toggle('painting', !!value.paint);
  box.classList.toggle('no-words', !value.words);
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
  if (value.image !== state.src) {  // a new picture: the old mask and selection do not belong to it
    state.src = value.image;
    const canvas = $('canvas.cv-mask');
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    state.asked += 1;  // an answer still on its way was for the old picture
    endSelection();
    tell('');
  }
  fit();
};

const useTool = (tool) => {
  state.tool = tool;
  root().classList.toggle('selecting', tool === 'select');
  $('.cv-mode-brush').setAttribute('aria-pressed', String(tool === 'brush'));
  $('.cv-mode-select').setAttribute('aria-pressed', String(tool === 'select'));
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
  $('.cv-by').setAttribute('aria-label', say.by);
  $('.cv-modes').setAttribute('aria-label', say.tool);
  $('.cv-phrase').setAttribute('placeholder', say.words_placeholder);
  const ctx = canvas.getContext('2d');
  $('img.cv-after').addEventListener('load', fit);
  new ResizeObserver(() => fit()).observe($('.cv-scroll'));
  document.addEventListener('studio-selection', (e) => answered(e.detail));
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  const inPicture = ([x, y]) => {  // canvas pixels -> the picture's own pixels
    const [w, h] = pictureSize();
    return [Math.round(x * w / canvas.width), Math.round(y * h / canvas.height)];
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
    ctx.globalCompositeOperation = 'source-over';
  };
  canvas.addEventListener('contextmenu', (e) => { if (state.tool === 'select') e.preventDefault(); });
  canvas.addEventListener('pointerdown', (e) => {
    if (!canvas.width) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    if (state.tool === 'select') {
      const remove = e.altKey || e.button === 2 || state.taking;
      state.press = { from: point(e), x: e.clientX, y: e.clientY, remove, box: null };
      return;
    }
    endSelection();  // the brush changes what is selected: a new click starts a new selection
    state.drawing = true;
    state.last = point(e);
    stroke(state.last, state.last);
  });
  canvas.addEventListener('pointermove', (e) => {
    const press = state.press;
    if (press) {
      if (press.box || Math.hypot(e.clientX - press.x, e.clientY - press.y) > DRAG_PX) {
        press.box = [...inPicture(press.from), ...inPicture(point(e))];
        marks();
      }
      return;
    }
    if (!state.drawing) return;
    const now = point(e);
    stroke(state.last, now);
    state.last = now;
  });
  const end = (e) => {
    const press = state.press;
    if (press) {
      state.press = null;
      if (e.type === 'pointercancel') { marks(); return; }
      const [x, y] = inPicture(press.from);
      select(() => {
        // taking away with nothing being selected: select the object, then take it from the mask
        if (press.remove && !state.picks.length && !state.box) state.subtract = true;
        if (press.box) state.box = press.box;
        else state.picks = [...state.picks, [x, y, press.remove === state.subtract ? 1 : 0]];
      });
      return;
    }
    if (!state.drawing) return;
    state.drawing = false;
    keepMask();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('.cv-mode-brush').addEventListener('click', () => useTool('brush'));
  $('.cv-mode-select').addEventListener('click', () => useTool('select'));
  $('.cv-take').addEventListener('click', () => {  // on a phone: no Alt key, no right button
    state.taking = !state.taking;
    $('.cv-take').setAttribute('aria-pressed', String(state.taking));
  });
  $('.cv-erase').addEventListener('click', () => {
    state.erasing = !state.erasing;
    $('.cv-erase').classList.toggle('active', state.erasing);
  });
  $('.cv-clear').addEventListener('click', () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    state.asked += 1;
    endSelection();
    tell('');
    props.value = { ...(props.value || {}), mask: null };
  });
  $('.cv-words').addEventListener('submit', (e) => {
    e.preventDefault();
    endSelection();
    state.base = ctx.getImageData(0, 0, canvas.width, canvas.height);
    state.pending = { action: 'select', undo: endSelection };
    ask({ action: 'words', text: $('.cv-phrase').value, refine: refining() });
  });
  const change = (action, extra) => {
    state.pending = { action };
    ask({ action, mask: props.value && props.value.mask || null, ...extra });
  };
  $('.cv-invert').addEventListener('click', () => change('invert'));
  $('.cv-grow').addEventListener('click', () => change('grow', { by: $('.cv-by').value }));
  $('.cv-shrink').addEventListener('click', () => change('shrink', { by: $('.cv-by').value }));
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


# The answer to the Select tool's question arrives here (StudioHandlers.selection) and is handed to the canvas.
ANSWER_JS = """
watch('value', () => document.dispatchEvent(new CustomEvent('studio-selection', { detail: props.value })));
"""


def build_canvas(**kwargs) -> gr.HTML:
    template = TEMPLATE
    for name in ("empty", "compare", "before", "after", "fit", "brush", "eraser", "eraser_on", "clear", "paint_hint",
                 "select", "size", "select_hint", "words", "find", "invert", "grow", "shrink", "px", "take_away", "refine"):
        template = template.replace(f"__{name.upper()}__", in_every_language(f"canvas.{name}"))
    labels = {lang: {name: text(f"canvas.{name}", lang) for name in ARIA} for lang in LANGUAGES}
    js = JS.replace("__LABELS__", json.dumps(labels, ensure_ascii=False))
    return gr.HTML(value=None, html_template=template, css_template=CSS, js_on_load=js, **kwargs)


def build_selection_answer() -> gr.HTML:
    """Where StudioHandlers.selection puts its answer: rendered (so its script runs) but never shown."""
    return gr.HTML(value=None, html_template="", js_on_load=ANSWER_JS, elem_classes=["studio-hidden"],
                   elem_id="selection-answer")
