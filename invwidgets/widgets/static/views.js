// invwidgets front end: one plain ES module, the only front-end code an explorer sends. The
// root widget (an explorer, or one view shown alone) loads its panels — child models without
// code of their own: images, grids, sliders, sketch pads, charts, controls — and draws each by
// its `_kind`, laid out by the root's `sections` tree. No build step, nothing fetched at run time.
//
// Shared here, written once: the one status line and export button of a root, the error mark
// of a view, colormap drawing (the 256×3 LUT comes from Python as bytes), the canvas charts
// (plotly figure dicts built in Python) and the compositing arithmetic of exports, which
// matches invwidgets/widgets/views/compose.py exactly:
//   nearest source index  floor((i + 0.5) * src / dst)
//   blend                 floor(img * (1 - a) + lut * a + 0.5)
// The DOM class names are a contract with the browser tests; they are listed in the docstring
// of invwidgets/widgets/views/__init__.py.

// ---------------------------------------------------------------------------- helpers

/** The bytes of a binary trait (DataView from the widget manager, or any buffer). */
function bytesOf(value) {
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return new Uint8Array(0);
}

/** Create an element: el("div", {class: "x", "data-a": 1}, child, "text"). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

/** Images and grid cells are never drawn smaller than this (CSS pixels): readable. */
const MIN_IMAGE = 112;
const MIN_CELL = 40;

/** About one animation frame at 60 Hz: continuous controls send at most this often. */
const FRAME_MS = 16;

/** Run `fn` once at the end of the current task however often it is asked for. */
function coalesce(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      fn();
    });
  };
}

/** A compact number for labels. */
function fmt(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(2);
  return String(Number.parseFloat(value.toPrecision(3)));
}

function nearestIndex(dst, src) {
  const out = new Int32Array(dst);
  for (let i = 0; i < dst; i++) out[i] = Math.min(Math.floor(((i + 0.5) * src) / dst), src - 1);
  return out;
}

/** H×W×C (C = 1 or 3) uint8 pixels → RGBA ImageData. */
function toImageData(pixels, h, w, c) {
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0, q = 0; p < h * w; p++, q += 4) {
    if (c === 1) {
      const v = pixels[p];
      rgba[q] = v;
      rgba[q + 1] = v;
      rgba[q + 2] = v;
    } else {
      rgba[q] = pixels[3 * p];
      rgba[q + 1] = pixels[3 * p + 1];
      rgba[q + 2] = pixels[3 * p + 2];
    }
    rgba[q + 3] = 255;
  }
  return new ImageData(rgba, w, h);
}

/** LUT indices (h×w) → opaque RGBA ImageData of the LUT's colours. */
function lutImageData(index, h, w, lut) {
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0, q = 0; p < h * w; p++, q += 4) {
    const k = 3 * index[p];
    rgba[q] = lut[k];
    rgba[q + 1] = lut[k + 1];
    rgba[q + 2] = lut[k + 2];
    rgba[q + 3] = 255;
  }
  return new ImageData(rgba, w, h);
}

function putImage(canvas, imageData) {
  if (canvas.width !== imageData.width) canvas.width = imageData.width;
  if (canvas.height !== imageData.height) canvas.height = imageData.height;
  canvas.getContext("2d").putImageData(imageData, 0, 0);
}

/** What an export shows: the image with the heatmap blended in, as RGBA ImageData. */
function composite(pixels, h, w, c, index, hh, ww, lut, opacity) {
  const out = toImageData(pixels, h, w, c);
  if (!index) return out;
  const rows = nearestIndex(h, hh);
  const cols = nearestIndex(w, ww);
  const a = opacity;
  const d = out.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = 4 * (y * w + x);
      const k = 3 * index[rows[y] * ww + cols[x]];
      for (let ch = 0; ch < 3; ch++) {
        d[q + ch] = Math.floor(d[q + ch] * (1.0 - a) + lut[k + ch] * a + 0.5);
      }
    }
  }
  return out;
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function downloadImageData(imageData, filename) {
  const canvas = document.createElement("canvas");
  putImage(canvas, imageData);
  canvas.toBlob((blob) => blob && download(blob, filename), "image/png");
}

function button(action, label, title, extra = {}) {
  return el(
    "button",
    { type: "button", class: "invw-button", "data-action": action, title, ...extra },
    label,
  );
}

/** A colour bar (the LUT drawn 256×1 and stretched) with the heatmap's limits. */
function colorbar(ctx) {
  const canvas = el("canvas", { width: 256, height: 1 });
  const vmin = el("span", { class: "invw-vmin" });
  const vmax = el("span", { class: "invw-vmax" });
  const node = el("div", { class: "invw-colorbar" }, vmin, canvas, vmax);
  const index = new Uint8Array(256).map((_, i) => i);
  return {
    node,
    update(meta, show) {
      const visible = Boolean(show && meta && meta.h);
      node.hidden = !visible;
      if (!visible) return;
      const lut = bytesOf(ctx.model.get("_lut"));
      if (lut.length === 768) putImage(canvas, lutImageData(index, 1, 256, lut));
      vmin.textContent = fmt(meta.vmin);
      vmax.textContent = fmt(meta.vmax);
    },
  };
}

// ---------------------------------------------------------------------------- ImageView

function renderImage(ctx) {
  const { model, body, on } = ctx;
  const main = el("canvas", { class: "invw-main", width: 1, height: 1 });
  const overlay = el("canvas", { class: "invw-overlay", width: 1, height: 1 });
  const frame = el("div", { class: "invw-image" }, main, overlay);
  const caption = el("div", { class: "invw-caption" });
  const bar = colorbar(ctx);
  body.append(frame, caption, bar.node);

  const draw = coalesce(() => {
    const meta = model.get("_meta") || {};
    const pixels = bytesOf(model.get("_pixels"));
    const ok = meta.h && pixels.length === meta.h * meta.w * meta.c;
    frame.classList.toggle("invw-empty", !ok);
    frame.style.width = `${Math.max(model.get("width"), MIN_IMAGE)}px`;

    const hmeta = model.get("_heatmap_meta") || {};
    const index = bytesOf(model.get("_heatmap"));
    const lut = bytesOf(model.get("_lut"));
    const heat = hmeta.h && index.length === hmeta.h * hmeta.w && lut.length === 768;
    // Blend the heatmap here with the export's arithmetic (as to_png() does), not with CSS
    // opacity: the compositor rounds differently, by up to 2 levels per channel.
    if (ok) {
      putImage(main, composite(pixels, meta.h, meta.w, meta.c, heat ? index : null, hmeta.h,
        hmeta.w, lut, model.get("heatmap_opacity")));
    }
    overlay.hidden = true;
    bar.update(hmeta, heat && model.get("colorbar"));

    const text = model.get("caption") || "";
    caption.textContent = text;
    caption.style.maxWidth = frame.style.width;
    caption.hidden = !text;
  });
  for (const name of ["_meta", "_pixels", "_heatmap", "_heatmap_meta", "_lut", "heatmap_opacity",
    "colorbar", "width", "caption"]) {
    on(`change:${name}`, draw);
  }
  draw();

  return () => {
    const meta = model.get("_meta") || {};
    const pixels = bytesOf(model.get("_pixels"));
    if (!meta.h) return;
    const hmeta = model.get("_heatmap_meta") || {};
    const index = hmeta.h ? bytesOf(model.get("_heatmap")) : null;
    const image = composite(pixels, meta.h, meta.w, meta.c, index, hmeta.h, hmeta.w,
      bytesOf(model.get("_lut")), model.get("heatmap_opacity"));
    downloadImageData(image, "image.png");
  };
}

// ---------------------------------------------------------------------------- SampleGrid

/** The grid at native resolution as to_png() composes it (1-pixel white gaps). */
function exportGrid(model) {
  const meta = model.get("_meta") || {};
  const n = meta.n || 0;
  if (!n) return;
  const pixels = bytesOf(model.get("_pixels"));
  const hmeta = model.get("_heatmap_meta") || {};
  const index = hmeta.n ? bytesOf(model.get("_heatmaps")) : null;
  const lut = bytesOf(model.get("_lut"));
  const opacity = model.get("heatmap_opacity");
  const { h, w, c, ncols } = meta;
  const nrows = Math.ceil(n / ncols);
  const W = ncols * w + (ncols - 1);
  const H = nrows * h + (nrows - 1);
  const out = new ImageData(W, H);
  out.data.fill(255); // 1-pixel white gaps, like compose.grid
  const size = h * w * c;
  const hsize = hmeta.n ? hmeta.h * hmeta.w : 0;
  for (let i = 0; i < n; i++) {
    const heat = index && hmeta.present[i] ? index.subarray(i * hsize, (i + 1) * hsize) : null;
    const cell = composite(pixels.subarray(i * size, (i + 1) * size), h, w, c, heat,
      hmeta.h, hmeta.w, lut, opacity);
    const x0 = (i % ncols) * (w + 1);
    const y0 = Math.floor(i / ncols) * (h + 1);
    for (let y = 0; y < h; y++) {
      out.data.set(cell.data.subarray(4 * y * w, 4 * (y + 1) * w), 4 * ((y0 + y) * W + x0));
    }
  }
  downloadImageData(out, "grid.png");
}

/** Enter or Space selects the focused cell; arrow keys move the focus (up/down by a row). */
function gridKey(event, cells, ncols, select) {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    select(event);
    return;
  }
  const cell = event.target.closest(".invw-cell");
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: ncols, ArrowUp: -ncols }[event.key];
  const next = cell && step ? cells[Number(cell.dataset.index) + step] : null;
  if (next) {
    event.preventDefault();
    next.node.focus();
  }
}

/** Replace the grid's cells by `n` new ones (canvas, overlay, caption each). */
function gridCells(grid, n) {
  grid.replaceChildren();
  const cells = [];
  for (let i = 0; i < n; i++) {
    const main = el("canvas", { class: "invw-main", width: 1, height: 1 });
    const overlay = el("canvas", { class: "invw-overlay", width: 1, height: 1 });
    const caption = el("div", { class: "invw-caption" });
    const node = el("div", { class: "invw-cell", "data-index": i, role: "option", tabindex: 0 },
      el("div", { class: "invw-cell-image" }, main, overlay), caption);
    grid.append(node);
    cells.push({ node, main, overlay, caption });
  }
  return cells;
}

/** Draw every cell (its image with its heatmap blended in) and its caption. */
function paintCells(model, cells, meta, pixels) {
  const n = meta.n;
  const size = meta.h * meta.w * meta.c;
  const captions = model.get("captions") || [];
  const hmeta = model.get("_heatmap_meta") || {};
  const index = bytesOf(model.get("_heatmaps"));
  const lut = bytesOf(model.get("_lut"));
  const heat = hmeta.n === n && index.length === n * hmeta.h * hmeta.w && lut.length === 768;
  const hsize = heat ? hmeta.h * hmeta.w : 0;
  const opacity = model.get("heatmap_opacity");
  cells.forEach((cell, i) => {
    // Blended here with the export's arithmetic and nearest-neighbour rule, as in the image
    // view: a CSS-stretched overlay picks other neighbours and rounds differently.
    const show = heat && hmeta.present[i];
    putImage(cell.main, composite(pixels.subarray(i * size, (i + 1) * size), meta.h, meta.w,
      meta.c, show ? index.subarray(i * hsize, (i + 1) * hsize) : null, hmeta.h, hmeta.w, lut,
      opacity));
    cell.overlay.hidden = true;
    cell.caption.textContent = captions[i] || "";
    cell.caption.title = captions[i] || "";
    cell.caption.hidden = !captions[i];
  });
  return { hmeta, heat };
}

function renderGrid(ctx) {
  const { model, body, on, listen } = ctx;
  const grid = el("div", { class: "invw-grid", role: "listbox", "aria-label": ctx.label || "images",
    "data-lm-suppress-shortcuts": "true" });
  const bar = colorbar(ctx);
  body.append(grid, bar.node);
  let cells = [];

  const build = (n) => {
    cells = gridCells(grid, n);
  };

  const highlight = () => {
    const selected = model.get("selected");
    cells.forEach((cell, i) => {
      cell.node.classList.toggle("invw-selected", i === selected);
      cell.node.setAttribute("aria-selected", String(i === selected));
    });
  };

  const draw = coalesce(() => {
    const meta = model.get("_meta") || {};
    const pixels = bytesOf(model.get("_pixels"));
    const n = meta.n || 0;
    const ok = n > 0 && pixels.length === n * meta.h * meta.w * meta.c;
    if (!ok) {
      build(0);
      grid.classList.add("invw-empty");
      bar.update(null, false);
      return;
    }
    grid.classList.remove("invw-empty");
    if (cells.length !== n) build(n);
    const cellWidth = Math.max(model.get("cell_width"), MIN_CELL);
    // Cells shrink (never below a third of their width) rather than overflow a narrow output.
    grid.style.gridTemplateColumns = `repeat(${meta.ncols}, minmax(${Math.ceil(cellWidth / 3)}px, ${cellWidth}px))`;
    const { hmeta, heat } = paintCells(model, cells, meta, pixels);
    bar.update(hmeta, heat && model.get("colorbar"));
    highlight();
  });
  for (const name of ["_meta", "_pixels", "_heatmaps", "_heatmap_meta", "_lut", "captions",
    "heatmap_opacity", "colorbar", "cell_width"]) {
    on(`change:${name}`, draw);
  }
  on("change:selected", highlight);
  draw();

  const select = (event) => {
    const cell = event.target.closest(".invw-cell");
    if (!cell || !grid.contains(cell)) return;
    const i = Number(cell.dataset.index);
    model.set("selected", model.get("selected") === i ? -1 : i);
    model.save_changes();
  };
  listen(grid, "click", select);
  listen(grid, "keydown", (event) => gridKey(event, cells, (model.get("_meta") || {}).ncols || 1, select));

  return () => exportGrid(model);
}

// ---------------------------------------------------------------------------- LatentSliders

/** The number of decimals the sliders' step shows. */
function stepDecimals(model) {
  const step = model.get("step") || 0.01;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** (Re)build the groups (header with their buttons) and one row per slider. */
function buildSliders(view, model) {
  view.root.replaceChildren();
  view.rows = [];
  view.groupNodes = new Map();
  const names = model.get("names") || [];
  const groups = model.get("groups") || [];
  for (const group of new Set(groups)) {
    const header = el(
      "div",
      { class: "invw-group-header" },
      el("span", { class: "invw-group-name" }, group),
      button("reset", "reset", `Reset the ${group} sliders`, { "data-group": group }),
      button("randomize", "randomise", `Draw the ${group} sliders from N(0, 1)`, { "data-group": group }),
      button("unlock", "unlock", `Unlock the ${group} sliders`, { "data-group": group }),
      button("lock", "lock", `Lock the ${group} sliders`, { "data-group": group }),
      el("span", { class: "invw-warning" }),
    );
    const node = el("div", { class: "invw-group", "data-group": group, role: "group", "aria-label": group }, header);
    view.groupNodes.set(group, node);
    view.root.append(node);
  }
  names.forEach((name, i) => {
    const input = el("input", { type: "range", "data-index": i, "aria-label": `${name} (${groups[i]})`,
      "data-lm-suppress-shortcuts": "true" });
    const value = el("span", { class: "invw-value" });
    const row = el("div", { class: "invw-slider", "data-index": i },
      el("span", { class: "invw-name", title: name }, name), input, value);
    view.groupNodes.get(groups[i])?.append(row);
    view.rows.push({ input, value });
  });
}

/** Follow the model: ranges, values (never the one under the user's pointer), locks, warnings. */
function updateSliders(view, model) {
  const values = model.get("values") || [];
  const lo = model.get("minimum") || [];
  const hi = model.get("maximum") || [];
  const groups = model.get("groups") || [];
  const locked = new Set(model.get("locked") || []);
  const warnings = model.get("warnings") || {};
  const digits = stepDecimals(model);
  view.rows.forEach((row, i) => {
    row.input.min = String(lo[i]);
    row.input.max = String(hi[i]);
    row.input.step = String(model.get("step"));
    row.input.disabled = locked.has(groups[i]);
    if (i !== view.active) {
      // Never move the slider under the user's pointer: echoes would make it jitter.
      row.input.value = String(values[i]);
      row.value.textContent = Number(values[i]).toFixed(digits);
      row.input.setAttribute("aria-valuetext", row.value.textContent);
    }
  });
  for (const [group, node] of view.groupNodes) {
    const isLocked = locked.has(group);
    const warning = warnings[group] || "";
    node.classList.toggle("invw-locked", isLocked);
    node.querySelector('[data-action="unlock"]').hidden = !isLocked;
    node.querySelector('[data-action="lock"]').hidden = isLocked || !warning;
    node.querySelector('[data-action="reset"]').disabled = isLocked;
    node.querySelector('[data-action="randomize"]').disabled = isLocked;
    const text = node.querySelector(".invw-warning");
    text.textContent = warning;
    text.hidden = !warning;
  }
  const selected = model.get("selected");
  view.rows.forEach((row, i) => row.input.parentElement.classList.toggle("invw-active", i === selected));
}

/** Send a dragged value at most once per animation frame, leading edge first: the first move
 * after a quiet frame goes out at once, later ones wait for the next frame (the newest wins). */
function sliderSender(model, cleanups) {
  let pending = null; // { index, value }
  let frame = 0;
  let lastSent = -Infinity;
  const flush = () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    if (!pending) return;
    const { index, value } = pending;
    pending = null;
    const values = (model.get("values") || []).slice();
    if (index >= values.length || values[index] === value) return;
    values[index] = value;
    model.set("values", values);
    model.save_changes();
    lastSent = performance.now();
  };
  cleanups.push(() => frame && cancelAnimationFrame(frame));
  return {
    flush,
    drop() {
      pending = null;
    },
    queue(index, value) {
      if (pending && pending.index !== index) flush();
      pending = { index, value };
      if (frame) return;
      if (performance.now() - lastSent >= FRAME_MS) {
        flush();
      } else {
        frame = requestAnimationFrame(() => {
          frame = 0;
          flush();
        });
      }
    },
  };
}

/** Drags, key steps, focus and the group buttons. */
function listenSliders(ctx, view, sender, update) {
  const { model, listen } = ctx;
  const root = view.root;
  const indexOf = (event) => {
    const input = event.target.closest('input[type="range"]');
    return input && root.contains(input) ? Number(input.dataset.index) : -1;
  };
  const touch = (i) => {
    if (i >= 0 && model.get("selected") !== i) {
      model.set("selected", i);
      model.save_changes();
    }
  };
  const finish = () => {
    sender.flush();
    view.active = -1;
    update();
  };
  listen(root, "input", (event) => {
    const i = indexOf(event);
    if (i < 0) return;
    view.active = i;
    view.rows[i].value.textContent = Number(event.target.value).toFixed(stepDecimals(model));
    sender.queue(i, Number(event.target.value));
  });
  // Release (or a key step): send the final value now, then follow the model again.
  listen(root, "change", (event) => {
    const i = indexOf(event);
    if (i < 0) return;
    sender.queue(i, Number(event.target.value));
    finish();
  });
  listen(root, "pointerdown", (event) => {
    const i = indexOf(event);
    if (i >= 0) {
      view.active = i;
      touch(i);
    }
  });
  // A press that never moved the slider fires no "change": end the drag on any release.
  const release = () => view.active >= 0 && finish();
  listen(window, "pointerup", release);
  listen(window, "pointercancel", release);
  listen(root, "focusin", (event) => touch(indexOf(event)));
  listen(root, "focusout", (event) => {
    const i = indexOf(event);
    if (i >= 0 && i === view.active) finish();
  });
  listen(root, "click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target || !root.contains(target)) return;
    const { action, group } = target.dataset;
    if (action === "reset" || action === "randomize") {
      sender.flush();
      model.send({ action, group });
    } else if (action === "unlock" || action === "lock") {
      const others = (model.get("locked") || []).filter((g) => g !== group);
      model.set("locked", action === "lock" ? [...others, group] : others);
      model.save_changes();
    }
  });
}

function renderSliders(ctx) {
  const { model, body, on, cleanups } = ctx;
  const view = { root: el("div", { class: "invw-sliders" }), rows: [], groupNodes: new Map(), active: -1 };
  body.append(view.root);
  const sender = sliderSender(model, cleanups);
  const update = () => updateSliders(view, model);
  const rebuild = coalesce(() => {
    const shape = JSON.stringify([model.get("names") || [], model.get("groups") || []]);
    if (shape !== view.root.dataset.shape) {
      view.active = -1;
      sender.drop();
      buildSliders(view, model);
      view.root.dataset.shape = shape;
    }
    update();
  });
  on("change:names", rebuild);
  on("change:groups", rebuild);
  const scheduleUpdate = coalesce(update);
  for (const name of ["values", "minimum", "maximum", "step", "locked", "warnings", "selected"]) {
    on(`change:${name}`, scheduleUpdate);
  }
  rebuild();
  listenSliders(ctx, view, sender, update);
  return () => {
    const data = { names: model.get("names"), groups: model.get("groups"), values: model.get("values"),
      locked: model.get("locked") };
    download(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }), "latents.json");
  };
}

// ---------------------------------------------------------------------------- SketchPad

/** Paint an anti-aliased segment from `a` to `b`, `2r` pixels wide, into the h×w buffer
 * (pixel centres at +0.5); erasing lowers the ink instead. */
function paintSegment(buf, h, w, a, b, r, erasing) {
  const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r - 1));
  const x1 = Math.min(w - 1, Math.ceil(Math.max(a.x, b.x) + r + 1));
  const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 1));
  const y1 = Math.min(h - 1, Math.ceil(Math.max(a.y, b.y) + r + 1));
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / len2)) : 0;
      const d = Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
      const cover = Math.max(0, Math.min(1, r + 0.5 - d));
      if (cover <= 0) continue;
      const v = Math.round(cover * 255);
      const k = y * w + x;
      buf[k] = erasing ? Math.min(buf[k], 255 - v) : Math.max(buf[k], v);
    }
  }
}

/** The sketch pad's tools: brush size, eraser toggle, clear. */
function sketchTools() {
  const brush = el("input", {
    type: "range", class: "invw-brush", min: 1, max: 16, step: 1, "aria-label": "brush size",
    title: "brush size", "data-lm-suppress-shortcuts": "true",
  });
  const erase = button("erase", "erase", "Toggle the eraser", { "aria-pressed": "false" });
  const clear = button("clear", "clear", "Clear the drawing");
  return { brush, erase, clear };
}

/** Pointer strokes on the canvas: paint, redraw, send at most once per frame and at the end. */
function listenStrokes(listen, canvas, st, paint, redraw, send) {
  const position = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) / rect.width) * st.w, y: ((event.clientY - rect.top) / rect.height) * st.h };
  };
  const schedule = () => {
    if (!st.frame) st.frame = requestAnimationFrame(send);
  };
  listen(canvas, "pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    st.drawing = true;
    st.last = position(event);
    paint(st.last, st.last);
    redraw();
    schedule();
  });
  listen(canvas, "pointermove", (event) => {
    if (!st.drawing) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = position(e);
      paint(st.last, p);
      st.last = p;
    }
    redraw();
    schedule();
  });
  const end = () => {
    if (!st.drawing) return;
    st.drawing = false;
    st.last = null;
    send();
  };
  listen(canvas, "pointerup", end);
  listen(canvas, "pointercancel", end);
  listen(canvas, "lostpointercapture", end);
}

function renderSketch(ctx) {
  const { model, body, on, listen, cleanups } = ctx;
  const canvas = el("canvas", { class: "invw-main", width: 1, height: 1 });
  const { brush, erase, clear } = sketchTools();
  const pad = el("div", { class: "invw-sketch" }, canvas);
  body.append(pad, el("div", { class: "invw-tools" }, brush, erase, clear));
  const st = { h: 0, w: 0, buf: new Uint8Array(0), drawing: false, last: null, frame: 0 };

  const redraw = () => putImage(canvas, toImageData(st.buf, st.h, st.w, 1));
  const load = coalesce(() => {
    st.h = model.get("height");
    st.w = model.get("width");
    const pixels = bytesOf(model.get("_pixels"));
    st.buf = pixels.length === st.h * st.w ? pixels.slice() : new Uint8Array(st.h * st.w);
    canvas.style.width = `${model.get("display_width")}px`;
    redraw();
  });
  const send = () => {
    if (st.frame) cancelAnimationFrame(st.frame);
    st.frame = 0;
    // A custom message with the pixels as a binary buffer: a panel's plain widget model would
    // JSON-copy a binary trait set from here (to {}), so Python sets the trait itself.
    model.send({ action: "pixels", height: st.h, width: st.w }, undefined, [st.buf.slice().buffer]);
  };
  cleanups.push(() => st.frame && cancelAnimationFrame(st.frame));
  // While a stroke is drawn the canvas is the truth; model changes (echoes) wait for its end.
  on("change:_pixels", () => st.drawing || load());
  for (const name of ["height", "width", "display_width"]) on(`change:${name}`, load);
  const tools = () => {
    brush.max = String(Math.max(16, model.get("brush")));
    brush.value = String(model.get("brush"));
    const erasing = Boolean(model.get("erase"));
    erase.setAttribute("aria-pressed", String(erasing));
    erase.classList.toggle("invw-pressed", erasing);
    pad.classList.toggle("invw-erasing", erasing);
  };
  on("change:brush", tools);
  on("change:erase", tools);
  load();
  tools();
  const paint = (a, b) => paintSegment(st.buf, st.h, st.w, a, b, model.get("brush") / 2, model.get("erase"));
  listenStrokes(listen, canvas, st, paint, redraw, send);
  listen(brush, "input", () => saver(model)({ brush: Number(brush.value) }));
  listen(erase, "click", () => saver(model)({ erase: !model.get("erase") }));
  listen(clear, "click", () => {
    st.buf.fill(0);
    redraw();
    send();
  });
  return () => downloadImageData(toImageData(st.buf, st.h, st.w, 1), "sketch.png");
}

// ---------------------------------------------------------------------------- Chart

/** plotly's default trace colours, so a figure looks as it would in plotly. */
const PALETTE = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
  "#b6e880", "#ff97ff", "#fecb52"];
/** Viridis at ten stops (sequential scales), and blue–white–red (diverging ones). */
const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
const DIVERGING = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [239, 138, 98], [178, 24, 43]];

function scaleStops(name) {
  const n = String(name || "").toLowerCase();
  return /rdbu|bwr|diverg|picnic|balance|spectral/.test(n) ? DIVERGING : VIRIDIS;
}

function scaleColor(t, stops) {
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const k = Math.min(Math.floor(x), stops.length - 2);
  const f = x - k;
  const c = stops[k].map((v, i) => Math.round(v + (stops[k + 1][i] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** The JupyterLab theme's colours (light fallbacks outside JupyterLab). */
function themeColors(node) {
  const cs = getComputedStyle(node);
  const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  return {
    fg: v("--jp-ui-font-color1", "#1f1f1f"),
    fg2: v("--jp-ui-font-color2", "#616161"),
    grid: v("--jp-border-color2", "#e0e0e0"),
    axis: v("--jp-border-color1", "#bdbdbd"),
    bg: v("--jp-layout-color1", "#ffffff"),
    font: v("--jp-ui-font-family", "system-ui, sans-serif"),
  };
}

const text = (v) => (v && typeof v === "object" ? v.text || "" : v || "");
const arr = (v) => (Array.isArray(v) ? v : v && typeof v === "object" && v.bdata ? [] : []);
const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** "Nice" tick values covering [lo, hi] (about `n` of them). */
function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

function errorBars(trace, n) {
  const e = trace.error_y;
  if (!e || e.visible === false || !Array.isArray(e.array)) return null;
  const up = e.array;
  const down = e.symmetric === false && Array.isArray(e.arrayminus) ? e.arrayminus : up;
  return Array.from({ length: n }, (_, i) => [Number(down[i]) || 0, Number(up[i]) || 0]);
}

/** What each axis shows: categories (bars, heatmaps, strings) or a numeric range. */
function chartAxes(fig) {
  const data = (fig.data || []).filter((t) => t.visible !== false);
  const layout = fig.layout || {};
  const xcats = [];
  const ycats = [];
  let xnum = [Infinity, -Infinity];
  let ynum = [Infinity, -Infinity];
  const addCat = (list, v) => list.includes(String(v)) || list.push(String(v));
  const span = (r, v) => {
    if (isNum(v)) {
      r[0] = Math.min(r[0], v);
      r[1] = Math.max(r[1], v);
    }
  };
  let xCategorical = (layout.xaxis || {}).type === "category";
  let yCategorical = (layout.yaxis || {}).type === "category";
  for (const t of data) {
    if (t.type === "heatmap") {
      const z = arr(t.z);
      const rows = z.length;
      const cols = rows ? arr(z[0]).length : 0;
      const xs = Array.isArray(t.x) ? t.x : [...Array(cols).keys()];
      const ys = Array.isArray(t.y) ? t.y : [...Array(rows).keys()];
      xs.forEach((v) => addCat(xcats, v));
      ys.forEach((v) => addCat(ycats, v));
      xCategorical = yCategorical = true;
      continue;
    }
    const ys = arr(t.y);
    const xs = Array.isArray(t.x) ? t.x : ys.map((_, i) => i);
    if (t.type === "bar" || xs.some((v) => typeof v === "string")) xCategorical = true;
    xs.forEach((v) => (xCategorical ? addCat(xcats, v) : span(xnum, Number(v))));
    const err = errorBars(t, ys.length);
    ys.forEach((v, i) => {
      span(ynum, Number(v));
      if (err) {
        span(ynum, Number(v) - err[i][0]);
        span(ynum, Number(v) + err[i][1]);
      }
    });
    if (t.type === "bar") span(ynum, 0);
  }
  for (const s of layout.shapes || []) {
    if (s.yref !== "paper") {
      span(ynum, Number(s.y0));
      span(ynum, Number(s.y1));
    }
  }
  const fix = (r, given) => {
    if (Array.isArray(given) && given.length === 2 && isNum(given[0]) && isNum(given[1])) return given.slice();
    if (!(r[1] >= r[0])) return [0, 1];
    if (r[1] === r[0]) return [r[0] - 1, r[1] + 1];
    const pad = (r[1] - r[0]) * 0.05;
    return [r[0] - pad, r[1] + pad];
  };
  return {
    x: xCategorical ? { cats: xcats } : { range: fix(xnum, (layout.xaxis || {}).range) },
    y: yCategorical ? { cats: ycats } : { range: fix(ynum, (layout.yaxis || {}).range) },
    yReversed: (layout.yaxis || {}).autorange === "reversed",
  };
}

/** Legend entries: named traces, or the categories of a scatter coloured by integer labels. */
function legendEntries(fig) {
  const data = (fig.data || []).filter((t) => t.visible !== false && t.type !== "heatmap");
  const entries = [];
  data.forEach((t, i) => {
    const colors = (t.marker || {}).color;
    if (t.type !== "bar" && Array.isArray(colors) && categorical(colors)) {
      [...new Set(colors)].sort((a, b) => a - b).forEach((c) => {
        entries.push({ name: `${t.name || "label"} ${c}`, color: PALETTE[c % PALETTE.length], dot: true });
      });
    } else if (t.name || data.length > 1) {
      entries.push({ name: t.name || `trace ${i}`, color: traceColor(t, i), dot: t.type !== "bar", dash: (t.line || {}).dash });
    }
  });
  const show = (fig.layout || {}).showlegend;
  return show === false ? [] : entries;
}

function categorical(values) {
  const unique = new Set(values);
  return values.every((v) => Number.isInteger(v) && v >= 0) && unique.size <= 20;
}

function traceColor(t, i) {
  const m = t.marker || {};
  if (typeof m.color === "string") return m.color;
  if (Array.isArray(m.color) && typeof m.color[0] === "string") return m.color[0];
  if (t.line && typeof t.line.color === "string") return t.line.color;
  return PALETTE[i % PALETTE.length];
}

function hatch(g, x, y, w, h, color) {
  g.save();
  g.beginPath();
  g.rect(x, y, w, h);
  g.clip();
  g.strokeStyle = color;
  g.lineWidth = 1;
  for (let d = -h; d < w; d += 5) {
    g.beginPath();
    g.moveTo(x + d, y + h);
    g.lineTo(x + d + h, y);
    g.stroke();
  }
  g.restore();
}

function marker(g, symbol, x, y, size) {
  const r = size / 2;
  g.beginPath();
  if (symbol === "x" || symbol === "cross") {
    g.moveTo(x - r, y - r);
    g.lineTo(x + r, y + r);
    g.moveTo(x + r, y - r);
    g.lineTo(x - r, y + r);
    g.lineWidth = 2;
    g.stroke();
    return;
  }
  g.arc(x, y, r, 0, 2 * Math.PI);
  g.fill();
}

/** Wrap `s` into lines of at most `width` pixels (at most `max` lines). */
function wrapText(g, s, width, max = 2) {
  const words = String(s).split(/\s+/);
  const lines = [];
  let line = "";
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (g.measureText(next).width > width && line) {
      lines.push(line);
      line = w;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  if (lines.length > max) {
    lines.length = max;
    lines[max - 1] += " …";
  }
  return lines;
}

const fontOf = (colors) => (size, bold) => `${bold ? "600 " : ""}${size}px ${colors.font}`;

/** The title (wrapped) and the legend at the top; returns where the plot area starts. */
function drawHeader(g, fig, w, colors) {
  const font = fontOf(colors);
  let top = 6;
  g.fillStyle = colors.fg;
  g.font = font(12, true);
  g.textBaseline = "top";
  g.textAlign = "left";
  for (const line of wrapText(g, text((fig.layout || {}).title), w - 12)) {
    g.fillText(line, 6, top);
    top += 15;
  }
  const legend = legendEntries(fig);
  g.font = font(11);
  let lx = 6;
  if (legend.length) top += 2;
  for (const e of legend) {
    const lw = 16 + g.measureText(e.name).width + 10;
    if (lx + lw > w && lx > 6) {
      lx = 6;
      top += 14;
    }
    g.fillStyle = e.color;
    if (e.dot) {
      g.beginPath();
      g.arc(lx + 5, top + 6, 4, 0, 2 * Math.PI);
      g.fill();
    } else {
      g.fillRect(lx, top + 2, 10, 8);
    }
    g.fillStyle = colors.fg2;
    g.fillText(e.name, lx + 14, top);
    lx += lw;
  }
  return top + (legend.length ? 16 : 0) + 4;
}

/** The plot area below `top` and the maps from data to CSS pixels. */
function plotFrame(g, fig, w, h, top, colors) {
  const layout = fig.layout || {};
  const axes = chartAxes(fig);
  const heat = (fig.data || []).some((t) => t.visible !== false && t.type === "heatmap");
  const xTitle = text((layout.xaxis || {}).title);
  const yTitle = text((layout.yaxis || {}).title);
  g.font = fontOf(colors)(10);
  const yLabels = axes.y.cats ? axes.y.cats : niceTicks(...axes.y.range).map(fmt);
  const yLabelWidth = Math.min(90, Math.max(12, ...yLabels.map((s) => g.measureText(String(s)).width)));
  const left = 8 + (yTitle ? 14 : 0) + yLabelWidth + 4;
  // a colour bar's labels (e.g. "6.63e-4") get the room they need right of the bar
  const barLabels = heat ? (fig.data || []).filter((t) => t.type === "heatmap").flatMap(heatLimits).map(fmt) : [];
  const right = w - (heat ? Math.max(44, 22 + Math.max(...barLabels.map((s) => g.measureText(s).width))) : 10);
  const bottom = h - (xTitle ? 30 : 18);
  const f = { axes, top, left, right, bottom, w, h, xTitle, yTitle,
    plotW: Math.max(10, right - left), plotH: Math.max(10, bottom - top) };
  f.cellW = axes.x.cats ? f.plotW / Math.max(1, axes.x.cats.length) : 0;
  f.cellH = axes.y.cats ? f.plotH / Math.max(1, axes.y.cats.length) : 0;
  f.xPos = (v, i) => {
    if (axes.x.cats) {
      const k = axes.x.cats.indexOf(String(v));
      return left + ((k < 0 ? i : k) + 0.5) * f.cellW;
    }
    const [a, b] = axes.x.range;
    return left + ((Number(v) - a) / (b - a)) * f.plotW;
  };
  f.yPos = (v, i) => {
    if (axes.y.cats) {
      const n = Math.max(1, axes.y.cats.length);
      let k = axes.y.cats.indexOf(String(v));
      if (k < 0) k = i;
      return top + ((axes.yReversed ? k : n - 1 - k) + 0.5) * f.cellH;
    }
    const [a, b] = axes.y.range;
    const t = (Number(v) - a) / (b - a);
    return axes.yReversed ? top + t * f.plotH : bottom - t * f.plotH;
  };
  return f;
}

/** Grid lines, tick labels (thinned so they never overlap), the axes and their titles. */
function drawAxes(g, f, colors) {
  const { axes, left, right, top, bottom } = f;
  const font = fontOf(colors);
  g.strokeStyle = colors.grid;
  g.fillStyle = colors.fg2;
  g.lineWidth = 1;
  g.font = font(10);
  g.textBaseline = "middle";
  g.textAlign = "right";
  const yTicks = axes.y.cats ? axes.y.cats.map((c, i) => [f.yPos(c, i), c])
    : niceTicks(...axes.y.range).map((t) => [f.yPos(t), fmt(t)]);
  const yEvery = Math.max(1, Math.ceil((12 * yTicks.length) / f.plotH));
  yTicks.forEach(([y, label], i) => {
    if (!axes.y.cats) g.strokeRect(left, Math.round(y) + 0.5, right - left, 0);
    if (i % yEvery === 0) g.fillText(String(label), left - 4, y);
  });
  g.textAlign = "center";
  g.textBaseline = "top";
  const xTicks = axes.x.cats ? axes.x.cats.map((c, i) => [f.xPos(c, i), c])
    : niceTicks(...axes.x.range).map((t) => [f.xPos(t), fmt(t)]);
  const widest = Math.max(1, ...xTicks.map(([, l]) => g.measureText(String(l)).width + 6));
  const xEvery = Math.max(1, Math.ceil((widest * xTicks.length) / f.plotW));
  xTicks.forEach(([x, label], i) => {
    if (!axes.x.cats) g.strokeRect(Math.round(x) + 0.5, top, 0, bottom - top);
    if (i % xEvery === 0) g.fillText(String(label), x, bottom + 3);
  });
  g.strokeStyle = colors.axis;
  g.beginPath();
  g.moveTo(left + 0.5, top);
  g.lineTo(left + 0.5, bottom + 0.5);
  g.lineTo(right, bottom + 0.5);
  g.stroke();
  g.fillStyle = colors.fg;
  g.font = font(11);
  if (f.xTitle) g.fillText(f.xTitle, left + f.plotW / 2, f.h - 15);
  if (f.yTitle) {
    g.save();
    g.translate(10, top + f.plotH / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = "middle";
    g.fillText(f.yTitle, 0, 0);
    g.restore();
  }
}

/** A heatmap trace's colour limits [zmin, zmax]. */
function heatLimits(t) {
  const flat = arr(t.z).flat().filter(isNum);
  return [isNum(t.zmin) ? t.zmin : Math.min(...flat), isNum(t.zmax) ? t.zmax : Math.max(...flat)];
}

/** A heatmap's cells and its colour bar (right of the plot). */
function drawHeatmap(g, t, index, f, colors, hits) {
  const z = arr(t.z);
  const [zmin, zmax] = heatLimits(t);
  const stops = scaleStops(t.colorscale);
  const xs = Array.isArray(t.x) ? t.x : null;
  const ys = Array.isArray(t.y) ? t.y : null;
  z.forEach((rowValues, r) => arr(rowValues).forEach((v, c) => {
    const cx = f.xPos(xs ? xs[c] : c, c) - f.cellW / 2;
    const cy = f.yPos(ys ? ys[r] : r, r) - f.cellH / 2;
    g.fillStyle = isNum(v) ? scaleColor((v - zmin) / (zmax - zmin || 1), stops) : colors.grid;
    g.fillRect(cx, cy, f.cellW + 0.5, f.cellH + 0.5);
    hits.push({ trace: index, point: [r, c], x: xs ? xs[c] : c, y: ys ? ys[r] : r, value: v,
      box: [cx, cy, f.cellW, f.cellH], name: t.name });
  }));
  const bx = f.right + 10;
  for (let k = 0; k < f.plotH; k++) {
    g.fillStyle = scaleColor(1 - k / f.plotH, stops);
    g.fillRect(bx, f.top + k, 10, 1.5);
  }
  g.fillStyle = colors.fg2;
  g.font = fontOf(colors)(10);
  g.textAlign = "left";
  g.textBaseline = "top";
  g.fillText(fmt(zmax), bx - 2, Math.max(0, f.top - 12));
  g.textBaseline = "bottom";
  g.fillText(fmt(zmin), bx - 2, Math.min(f.h, f.bottom + 12));
}

/** The colour of point `i` of a trace: per-point colours, categories or a colour scale. */
function pointColors(t, ti) {
  const m = t.marker || {};
  const base = traceColor(t, ti);
  if (!Array.isArray(m.color)) return () => base;
  const nums = m.color.filter(isNum);
  const lo = Math.min(...nums);
  const span = Math.max(...nums) - lo || 1;
  const cats = categorical(m.color);
  return (i) => {
    const c = m.color[i];
    if (typeof c === "string") return c;
    return cats ? PALETTE[c % PALETTE.length] : scaleColor((c - lo) / span, scaleStops(m.colorscale));
  };
}

/** One bar trace, the `k`-th of `n` side by side in each category. */
function drawBars(g, t, index, ti, k, n, f, colors, hits) {
  const ys = arr(t.y);
  const xs = Array.isArray(t.x) ? t.x : ys.map((_, i) => i);
  const m = t.marker || {};
  const colorOf = pointColors(t, ti);
  const err = errorBars(t, ys.length);
  const hover = Array.isArray(t.hovertext) ? t.hovertext : [];
  const barW = (f.cellW * 0.8) / Math.max(1, n);
  const y0 = f.yPos(0);
  ys.forEach((v, i) => {
    if (!isNum(v)) return;
    const x = f.xPos(xs[i], i) - (f.cellW * 0.8) / 2 + k * barW;
    const y = f.yPos(v);
    g.fillStyle = colorOf(i);
    g.fillRect(x, Math.min(y, y0), Math.max(1, barW - 1), Math.abs(y0 - y));
    const pattern = m.pattern || {};
    const shape = Array.isArray(pattern.shape) ? pattern.shape[i] : pattern.shape;
    if (shape) hatch(g, x, Math.min(y, y0), barW - 1, Math.abs(y0 - y), colors.bg);
    hits.push({ trace: index, point: i, x: xs[i], y: v, box: [x, Math.min(y, y0) - 2, barW, Math.abs(y0 - y) + 4],
      name: t.name, hover: hover[i] });
    if (err) drawError(g, x + barW / 2, v, err[i], f.yPos, colors.fg);
  });
}

/** A scatter trace: lines and/or markers (per-point symbols and sizes), error bars. */
function drawScatter(g, t, index, ti, f, hits) {
  const ys = arr(t.y);
  const xs = Array.isArray(t.x) ? t.x : ys.map((_, i) => i);
  const m = t.marker || {};
  const line = t.line || {};
  const colorOf = pointColors(t, ti);
  const err = errorBars(t, ys.length);
  const hover = Array.isArray(t.hovertext) ? t.hovertext : [];
  const mode = t.mode || (ys.length > 20 ? "lines" : "lines+markers");
  const pts = ys.map((v, i) => [f.xPos(xs[i], i), f.yPos(v), v, i]).filter((p) => isNum(p[2]));
  if (mode.includes("lines") && pts.length > 1) {
    g.strokeStyle = line.color || traceColor(t, ti);
    g.lineWidth = line.width || 2;
    g.setLineDash(line.dash === "dash" ? [6, 4] : line.dash === "dot" ? [2, 3] : []);
    g.beginPath();
    pts.forEach(([x, y], k) => (k ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
    g.setLineDash([]);
  }
  for (const [x, y, v, i] of pts) {
    if (err) drawError(g, x, v, err[i], f.yPos, colorOf(i));
    hits.push({ trace: index, point: i, x: xs[i], y: v, box: [x - 5, y - 5, 10, 10], name: t.name, hover: hover[i] });
    if (!mode.includes("markers")) continue;
    g.fillStyle = colorOf(i);
    g.strokeStyle = colorOf(i);
    marker(g, Array.isArray(m.symbol) ? m.symbol[i] : m.symbol, x, y, Array.isArray(m.size) ? m.size[i] : m.size || 6);
  }
}

/** Shapes: vertical lines (yref "paper") and rectangles around cells, in data coordinates. */
function drawShapes(g, layout, f, colors) {
  for (const s of layout.shapes || []) {
    const line = s.line || {};
    g.strokeStyle = line.color || colors.fg;
    g.lineWidth = line.width || 2;
    g.setLineDash(line.dash === "dot" ? [2, 3] : line.dash === "dash" ? [6, 4] : []);
    if (s.type === "line") {
      const y = (v) => (s.yref === "paper" ? f.bottom - Number(v) * f.plotH : f.yPos(v));
      g.beginPath();
      g.moveTo(f.xPos(s.x0, 0), y(s.y0));
      g.lineTo(f.xPos(s.x1, 0), y(s.y1));
      g.stroke();
    } else if (s.type === "rect") {
      const xa = f.xPos(s.x0, 0) - f.cellW / 2;
      const xb = f.xPos(s.x1, 0) + f.cellW / 2;
      const ya = f.yPos(s.y0, 0);
      const yb = f.yPos(s.y1, 0);
      g.strokeRect(Math.min(xa, xb), Math.min(ya, yb) - f.cellH / 2, Math.abs(xb - xa), Math.abs(yb - ya) + f.cellH);
    }
    g.setLineDash([]);
  }
}

/** Draw a figure dict on `canvas` (CSS size w×h); returns the hit regions of its points. */
function drawFigure(canvas, fig, w, h, colors) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = colors.bg; // the theme's background: dark charts in a dark theme
  g.fillRect(0, 0, w, h);
  const f = plotFrame(g, fig, w, h, drawHeader(g, fig, w, colors), colors);
  drawAxes(g, f, colors);
  const hits = [];
  const data = (fig.data || []).filter((t) => t.visible !== false);
  const bars = data.filter((t) => t.type === "bar");
  data.forEach((t, ti) => {
    const index = (fig.data || []).indexOf(t);
    if (t.type === "heatmap") drawHeatmap(g, t, index, f, colors, hits);
    else if (t.type === "bar") drawBars(g, t, index, ti, bars.indexOf(t), bars.length, f, colors, hits);
    else drawScatter(g, t, index, ti, f, hits);
  });
  drawShapes(g, fig.layout || {}, f, colors);
  return hits;
}

function drawError(g, x, v, [down, up], yPos, color) {
  g.strokeStyle = color;
  g.lineWidth = 1;
  const ya = yPos(v - down);
  const yb = yPos(v + up);
  g.beginPath();
  g.moveTo(x, ya);
  g.lineTo(x, yb);
  g.moveTo(x - 3, ya);
  g.lineTo(x + 3, ya);
  g.moveTo(x - 3, yb);
  g.lineTo(x + 3, yb);
  g.stroke();
}

/** A point's values in words (tooltip, screen readers). */
function describeHit(hit) {
  if (hit.hover) return String(hit.hover).replace(/<br>/g, "\n");
  return `${hit.name ? `${hit.name}: ` : ""}x=${hit.x}, y=${fmt(hit.value ?? hit.y)}`;
}

/** The hit a key moves to from `k`: left/right along the points, up/down a heatmap row. */
function stepHit(hits, k, key) {
  const here = hits[k];
  if (key === "Home") return 0;
  if (key === "End") return hits.length - 1;
  if (key === "ArrowRight") return Math.min(hits.length - 1, k + 1);
  if (key === "ArrowLeft") return Math.max(0, k - 1);
  if (!here || !Array.isArray(here.point)) return key === "ArrowDown" ? Math.min(hits.length - 1, k + 1) : Math.max(0, k - 1);
  const [r, c] = here.point;
  const dr = key === "ArrowDown" ? 1 : -1;
  const next = hits.findIndex((h) => h.trace === here.trace && h.point[0] === r + dr && h.point[1] === c);
  return next < 0 ? k : next;
}

function renderChart(ctx) {
  const { model, body, on, listen } = ctx;
  const canvas = el("canvas", { class: "invw-chart-canvas", role: "img", tabindex: 0 });
  body.append(canvas);
  let hits = [];
  let focused = -1; // the point the keyboard is on
  const draw = coalesce(() => {
    const fig = model.get("_figure") || {};
    const layout = fig.layout || {};
    const avail = ctx.availableWidth();
    const w = Math.max(160, Math.min(layout.width || 340, avail || layout.width || 340));
    const h = layout.height || 240;
    const colors = themeColors(canvas);
    hits = drawFigure(canvas, fig, w, h, colors);
    canvas.invwHits = hits; // where each cell, bar and point is drawn (CSS pixels; for tests)
    const hit = hits[focused];
    if (hit && document.activeElement === canvas) {
      const g = canvas.getContext("2d");
      g.strokeStyle = colors.fg;
      g.lineWidth = 2;
      g.setLineDash([3, 2]);
      g.strokeRect(...hit.box);
    }
    const title = text(layout.title) || "chart";
    canvas.setAttribute("aria-label", hit ? `${title}. ${describeHit(hit)}` : title);
  });
  on("change:_figure", draw);
  ctx.onResize(draw);
  ctx.onTheme(draw);
  draw();
  const hitAt = (event) => {
    const r = canvas.getBoundingClientRect();
    const x = event.clientX - r.left;
    const y = event.clientY - r.top;
    return hits.find(({ box: [bx, by, bw, bh] }) => x >= bx && x <= bx + bw && y >= by && y <= by + bh);
  };
  const send = (hit) => hit && model.send({ action: "click", trace: hit.trace, point: hit.point, x: hit.x, y: hit.y });
  listen(canvas, "click", (event) => send(hitAt(event)));
  listen(canvas, "mousemove", (event) => {
    const hit = hitAt(event);
    canvas.title = hit ? describeHit(hit) : "";
    canvas.style.cursor = hit ? "pointer" : "";
  });
  // The keyboard walks the points (arrows, Home, End) and Enter or Space clicks the one it is on.
  listen(canvas, "keydown", (event) => {
    if (!hits.length) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      send(hits[focused]);
    } else if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) {
      event.preventDefault();
      focused = focused < 0 ? 0 : stepHit(hits, focused, event.key);
      draw();
    }
  });
  listen(canvas, "focus", draw);
  listen(canvas, "blur", draw);
}

// ---------------------------------------------------------------------------- controls

/** Send `fn()`'s changes at most once per animation frame (the newest wins). */
function throttled(fn) {
  let frame = 0;
  return {
    now() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      fn();
    },
    soon() {
      if (!frame) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          fn();
        });
      }
    },
  };
}

/** Set and send control values. */
const saver = (model) => (values) => {
  for (const [k, v] of Object.entries(values)) model.set(k, v);
  model.save_changes();
};

// Each control kind: its element(s) and how it follows the model; `listen` adds its listeners.
const CONTROLS = {
  html(model) {
    const input = el("div", { class: "invw-html" });
    return { input, update: () => { input.innerHTML = model.get("value") || ""; } };
  },
  button(model, listen) {
    const input = el("button", { type: "button", class: "invw-button" });
    listen(input, "click", () => model.send({ action: "click" }));
    return { input, update: () => { input.textContent = model.get("description") || ""; } };
  },
  toggle(model, listen) {
    const input = el("button", { type: "button", class: "invw-button" });
    listen(input, "click", () => saver(model)({ value: !model.get("value") }));
    const update = () => {
      input.textContent = model.get("description") || "";
      input.setAttribute("aria-pressed", String(Boolean(model.get("value"))));
      input.classList.toggle("invw-pressed", Boolean(model.get("value")));
    };
    return { input, update };
  },
  dropdown(model, listen) {
    const input = el("select", { "data-lm-suppress-shortcuts": "true" });
    listen(input, "change", () => saver(model)({ index: Number(input.value) }));
    const update = () => {
      const labels = model.get("_labels") || [];
      if (input.options.length !== labels.length || [...input.options].some((o, i) => o.text !== labels[i])) {
        input.replaceChildren(...labels.map((l, i) => el("option", { value: i }, l)));
      }
      input.value = String(model.get("index"));
    };
    return { input, update };
  },
  toggles(model, listen) {
    const input = el("div", { class: "invw-toggles", role: "group" });
    listen(input, "click", (event) => {
      const b = event.target.closest("button[data-index]");
      if (b) saver(model)({ index: Number(b.dataset.index) });
    });
    const update = () => {
      const labels = model.get("_labels") || [];
      if (input.children.length !== labels.length) {
        input.replaceChildren(...labels.map((l, i) => el("button", { type: "button", class: "invw-button", "data-index": i }, l)));
      }
      [...input.children].forEach((b, i) => {
        b.setAttribute("aria-pressed", String(i === model.get("index")));
        b.classList.toggle("invw-pressed", i === model.get("index"));
      });
    };
    return { input, update };
  },
  slider(model, listen, selection = false) {
    const input = el("input", { type: "range", "data-lm-suppress-shortcuts": "true" });
    const shown = el("span", { class: "invw-value" });
    const valueText = () => (selection ? (model.get("_labels") || [])[Number(input.value)] : fmt(Number(input.value)));
    let dragging = false;
    const send = throttled(() => saver(model)(selection ? { index: Number(input.value) } : { value: Number(input.value) }));
    listen(input, "input", () => {
      dragging = true;
      shown.textContent = valueText();
      send.soon();
    });
    listen(input, "change", () => {
      send.now();
      dragging = false;
    });
    const update = () => {
      const n = (model.get("_labels") || []).length;
      input.min = selection ? "0" : String(model.get("min"));
      input.max = selection ? String(n - 1) : String(model.get("max"));
      input.step = selection ? "1" : String(model.get("step"));
      if (!dragging) input.value = String(selection ? model.get("index") : model.get("value"));
      shown.textContent = valueText();
      input.setAttribute("aria-valuetext", shown.textContent);
    };
    return { input, update, after: shown };
  },
  selection: (model, listen) => CONTROLS.slider(model, listen, true),
  number: (model, listen) => CONTROLS.text(model, listen, true),
  text(model, listen, number = false) {
    const input = el("input", { type: number ? "number" : "text", "data-lm-suppress-shortcuts": "true" });
    listen(input, "change", () => saver(model)({ value: number ? Math.round(Number(input.value)) : input.value }));
    const update = () => {
      if (number) {
        input.min = String(model.get("min"));
        input.max = String(model.get("max"));
      }
      if (document.activeElement !== input) input.value = String(model.get("value"));
    };
    return { input, update };
  },
};

function renderControl(ctx) {
  const { model, body, on, listen } = ctx;
  const kind = model.get("control");
  const make = CONTROLS[kind] || CONTROLS.html;
  const { input, update, after } = make(model, listen);
  const label = el("span", { class: "invw-control-label" });
  // A <label> only around one form field: a label's click would also press a group's first button.
  const tag = ["dropdown", "slider", "selection", "number", "text"].includes(kind) ? "label" : "div";
  const wrap = el(tag, { class: "invw-control", "data-control": kind }, label, input, after || null);
  body.append(wrap);
  const common = () => {
    const description = model.get("description") || "";
    label.textContent = kind === "button" || kind === "toggle" ? "" : description;
    label.hidden = !label.textContent;
    input.title = model.get("tooltip") || "";
    if (description) input.setAttribute("aria-label", description);
    if ("disabled" in input) input.disabled = Boolean(model.get("disabled"));
    update();
  };
  for (const name of ["value", "index", "_labels", "description", "tooltip", "disabled", "min", "max", "step"]) {
    on(`change:${name}`, common);
  }
  common();
}

// ---------------------------------------------------------------------------- the root

const RENDERERS = {
  image: renderImage,
  grid: renderGrid,
  sliders: renderSliders,
  sketch: renderSketch,
  chart: renderChart,
  control: renderControl,
};

/** Keys that a focused control uses itself: notebook shortcuts must not see them. */
const OWN_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp",
  "PageDown", " ", "Enter", "Backspace", "Delete"]);

/** The panel models of a root, in the order of its `panels` trait. */
async function panelModels(model) {
  const ids = model.get("panels") || [];
  return Promise.all(ids.map((id) => model.widget_manager.get_model(String(id).slice("IPY_MODEL_".length))));
}

/** Mark a view whose model's last request failed (the error on the view it concerns). */
function markErrors(ctx, view, badge) {
  const { model, on } = ctx;
  const update = () => {
    const failed = model.get("status") === "error";
    const message = model.get("error") || "";
    view.classList.toggle("invw-stale", failed);
    badge.hidden = !failed;
    badge.textContent = failed ? `⚠ ${message || "error"} · picture not current` : "";
    badge.title = badge.textContent;
  };
  on("change:status", update);
  on("change:error", update);
  update();
}

/** Draw one panel (a view, chart or control) into a new element. */
function renderPanel(shared, panel) {
  const kind = panel.get("_kind");
  const view = el("div", { class: `invw-view invw-kind-${kind}`, "data-kind": kind });
  const heading = el("div", { class: "invw-panel-label" });
  const body = el("div", { class: "invw-body" });
  const badge = el("div", { class: "invw-view-error", role: "alert" });
  view.append(heading, body, badge);
  const cleanups = shared.cleanups;
  const ctx = {
    model: panel,
    host: shared.host,
    root: view,
    body,
    cleanups,
    label: panel.get("label"),
    on(event, fn) {
      panel.on(event, fn);
      cleanups.push(() => panel.off(event, fn));
    },
    listen(target, event, fn, options) {
      target.addEventListener(event, fn, options);
      cleanups.push(() => target.removeEventListener(event, fn, options));
    },
    availableWidth: () => shared.width(),
    onResize: (fn) => shared.resizers.push(fn),
    onTheme: (fn) => shared.themers.push(fn),
  };
  let classes = [];
  const common = () => {
    const label = panel.get("label") || "";
    heading.textContent = label;
    heading.hidden = !label;
    view.hidden = Boolean(panel.get("hidden"));
    view.classList.remove(...classes);
    classes = (panel.get("_dom_classes") || []).filter(Boolean);
    view.classList.add(...classes);
  };
  ctx.on("change:label", common);
  ctx.on("change:hidden", common);
  ctx.on("change:_dom_classes", common);
  common();
  const renderer = RENDERERS[kind];
  if (!renderer) {
    body.textContent = `invwidgets: unknown panel kind ${JSON.stringify(kind)}`;
    return { view, exporter: null };
  }
  const exporter = renderer(ctx) || null;
  if (panel.get("status") !== undefined) markErrors(ctx, view, badge);
  else badge.hidden = true;
  return { view, exporter };
}

/** Build the layout tree (panel indices, rows, columns, sections) into DOM nodes. */
function buildTree(node, nodes) {
  if (typeof node === "number") return nodes[node] ? nodes[node].view : el("div");
  if (node && node.section !== undefined) {
    const box = el("section", { class: "invw-section", "aria-label": node.section },
      el("h3", { class: "invw-section-title" }, node.section));
    for (const child of node.children || []) box.append(buildTree(child, nodes));
    return box;
  }
  const isRow = Boolean(node && node.row);
  const box = el("div", { class: isRow ? "invw-row" : "invw-col" });
  for (const child of (isRow ? node.row : node && node.col) || []) box.append(buildTree(child, nodes));
  return box;
}

/** The status line of the root: the explorer's status, or the one view's when shown alone. */
function statusLine(shared, source, isExplorer, panels) {
  const { listen } = shared;
  const status = el("span", { class: "invw-status", role: "status", "aria-live": "polite" });
  const dismiss = button("dismiss", "×", "Dismiss the error", { "aria-label": "Dismiss the error" });
  let offline = false;
  // The kernel is gone (dead, restarted) or the widget closed: the widget manager marks every
  // model's comm dead (comm_live, readable on the panels' own models) and fires
  // comm_live_update; ipywidgets' own containers also get "jupyter-widgets-disconnected".
  const isDisconnected = () => panels.some((p) => p.comm_live === false)
    || Boolean(shared.host.closest && shared.host.closest(".jupyter-widgets-disconnected"));
  const update = () => {
    const state = offline ? "disconnected" : source.get("status") || "idle";
    let line = isExplorer ? source.get("status_text") || state : state;
    if (offline) {
      line = "not connected: the kernel is gone, re-run the cell";
    } else if (!isExplorer && state === "error") {
      line = `${source.get("error") || "error"} · picture not current`;
    } else if (!isExplorer && state === "busy") {
      const p = source.get("progress") || {};
      line = `busy${p.total ? ` ${fmt(p.done)}/${fmt(p.total)}` : ""}${p.message ? ` · ${p.message}` : ""}`;
    }
    shared.rootNode.classList.toggle("invw-disconnected", offline);
    status.dataset.status = state;
    status.textContent = line;
    status.title = line;
    dismiss.hidden = state !== "error";
  };
  for (const m of new Set([shared.model, source, ...panels])) {
    const live = () => {
      offline = isDisconnected();
      update();
    };
    const closed = () => {
      offline = true;
      update();
    };
    m.on("comm_live_update", live);
    m.on("comm:close", closed);
    shared.cleanups.push(() => m.off("comm_live_update", live), () => m.off("comm:close", closed));
  }
  for (const name of ["status", "status_text", "error", "progress"]) {
    source.on(`change:${name}`, update);
    shared.cleanups.push(() => source.off(`change:${name}`, update));
  }
  update();
  listen(dismiss, "click", () => {
    source.set("error", "");
    source.set("status", "idle");
    source.save_changes();
  });
  return [status, dismiss];
}

/** A PNG of the whole root as shown: every canvas at its place, headings and captions as text. */
function exportRoot(rootNode, filename) {
  const box = rootNode.getBoundingClientRect();
  const scale = 2;
  const canvas = document.createElement("canvas");
  canvas.width = Math.ceil(box.width * scale);
  canvas.height = Math.ceil(box.height * scale);
  const g = canvas.getContext("2d");
  const colors = themeColors(rootNode);
  g.fillStyle = colors.bg;
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingEnabled = false;
  g.scale(scale, scale);
  const visible = (node) => node.offsetParent !== null && !node.closest("[hidden]");
  for (const c of rootNode.querySelectorAll("canvas")) {
    if (!visible(c) || !c.width) continue;
    const r = c.getBoundingClientRect();
    g.drawImage(c, r.left - box.left, r.top - box.top, r.width, r.height);
  }
  const texts = ".invw-section-title, .invw-panel-label, .invw-caption, .invw-control-label, .invw-value, "
    + ".invw-name, .invw-group-name, .invw-vmin, .invw-vmax, .invw-html, .invw-view-error, .invw-status";
  for (const node of rootNode.querySelectorAll(texts)) {
    if (!visible(node) || !node.textContent.trim()) continue;
    const r = node.getBoundingClientRect();
    const cs = getComputedStyle(node);
    g.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    g.fillStyle = cs.color;
    g.textBaseline = "top";
    const lines = node.innerText.split("\n").filter((l) => l.trim());
    const lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.3;
    lines.forEach((line, i) => g.fillText(line, r.left - box.left, r.top - box.top + i * lh, r.width + 40));
  }
  canvas.toBlob((blob) => blob && download(blob, filename), "image/png");
}

// Jupyter's widget manager puts the root's _dom_classes (invw-explorer, add_class) on the host
// element; marimo's anywidget host does not, so there they go on the root's own element.
// Returns the function that stops following them.
function rootClassesOutsideJupyter(model, host, rootNode) {
  if (host.classList.contains("jupyter-widgets") || host.classList.contains("lm-Widget")) return () => {};
  let current = [];
  const apply = () => {
    rootNode.classList.remove(...current);
    current = (model.get("_dom_classes") || []).filter(Boolean);
    rootNode.classList.add(...current);
  };
  apply();
  model.on("change:_dom_classes", apply);
  return () => model.off("change:_dom_classes", apply);
}

async function render({ model, el: host }) {
  const rootNode = el("div", { class: "invw-root" });
  host.append(rootNode);
  const cleanups = [];
  const shared = {
    model,
    host,
    rootNode,
    cleanups,
    resizers: [],
    themers: [],
    width: () => Math.max(0, (rootNode.clientWidth || host.clientWidth || 0) - 8),
    listen(target, event, fn, options) {
      target.addEventListener(event, fn, options);
      cleanups.push(() => target.removeEventListener(event, fn, options));
    },
  };
  // Keys a focused control uses stay in the widget (JupyterLab's notebook would take arrows,
  // space and enter for its own shortcuts); Escape, Tab and shortcuts with modifiers pass.
  const keep = (event) => {
    const t = event.target;
    const own = t.matches && t.matches("input, select, textarea, button, [role=option], .invw-cell, canvas[tabindex]");
    if (own && OWN_KEYS.has(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) event.stopPropagation();
  };
  rootNode.addEventListener("keydown", keep);
  const dropRootClasses = rootClassesOutsideJupyter(model, host, rootNode);
  let lastWidth = 0;
  const resize = new ResizeObserver(() => {
    const w = shared.width();
    if (Math.abs(w - lastWidth) < 2) return;
    lastWidth = w;
    shared.resizers.forEach((fn) => fn());
  });
  resize.observe(rootNode);
  const theme = new MutationObserver(() => shared.themers.forEach((fn) => fn()));
  theme.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });

  const build = async () => {
    const models = await panelModels(model);
    while (cleanups.length) cleanups.pop()();
    shared.resizers.length = 0;
    shared.themers.length = 0;
    rootNode.replaceChildren();
    const nodes = models.map((m) => renderPanel(shared, m));
    const content = el("div", { class: "invw-content" });
    for (const node of model.get("sections") || []) content.append(buildTree(node, nodes));
    const isExplorer = model.get("status") !== undefined;
    const single = !isExplorer && models.length === 1 ? nodes[0] : null;
    const source = isExplorer || !models.length ? model : models[0];
    const exportButton = button("export", "⤓ PNG", isExplorer ? "Download the explorer as PNG" : "Download as PNG",
      { "aria-label": "Download as PNG" });
    shared.listen(exportButton, "click", () => {
      if (single && single.exporter) single.exporter();
      else exportRoot(rootNode, `${model.get("export_name") || "explorer"}.png`);
    });
    const footer = el("div", { class: "invw-footer" }, ...statusLine(shared, source, isExplorer, models),
      exportButton);
    rootNode.append(content, footer);
  };
  const rebuild = () => build().catch((e) => {
    rootNode.textContent = `invwidgets: could not draw this widget (${e})`;
  });
  model.on("change:panels", rebuild);
  model.on("change:sections", rebuild);
  await build();
  return () => {
    model.off("change:panels", rebuild);
    model.off("change:sections", rebuild);
    dropRootClasses();
    while (cleanups.length) cleanups.pop()();
    rootNode.removeEventListener("keydown", keep);
    resize.disconnect();
    theme.disconnect();
    rootNode.remove();
  };
}

export default { render };
