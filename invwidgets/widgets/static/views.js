// invwidgets views: one plain ES module for ImageView, SampleGrid, LatentSliders and SketchPad,
// dispatching on the `_kind` trait. No build step, nothing fetched at run time.
//
// Shared here, written once: the status line (status / error / progress traits), the export
// button, colormap drawing (the 256×3 LUT comes from Python as bytes) and the compositing
// arithmetic of exports, which matches invwidgets/widgets/views/compose.py exactly:
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

// ---------------------------------------------------------------------------- shared parts

/** The status line and export button every view has, at the bottom of the view. */
function footer(ctx, onExport, exportTitle) {
  const { model, on } = ctx;
  const status = el("span", { class: "invw-status", role: "status", "aria-live": "polite" });
  const dismiss = button("dismiss", "×", "Dismiss the error");
  const exporter = button("export", "⤓", exportTitle);
  const bar = el("div", { class: "invw-footer" }, status, dismiss, exporter);

  // The kernel side is gone (kernel dead or restarted, or the widget closed): ipywidgets then
  // marks the view's element "jupyter-widgets-disconnected" and fires comm_live_update; a
  // closed comm fires comm:close. The status line must not keep saying "idle".
  let offline = false;
  const host = ctx.host;
  const isDisconnected = () =>
    Boolean(host && host.closest && host.closest(".jupyter-widgets-disconnected"));

  const update = () => {
    const state = offline ? "disconnected" : model.get("status") || "idle";
    const error = model.get("error") || "";
    const progress = model.get("progress") || {};
    let text = state;
    ctx.root.classList.toggle("invw-disconnected", offline);
    // An error from the model that draws this view: what it shows is from an earlier request.
    ctx.root.classList.toggle("invw-stale", !offline && state === "error");
    if (offline) {
      text = "not connected: the kernel is gone, re-run the cell";
    } else if (state === "error") {
      text = `${error || "error"} · picture not current`;
    } else if (state === "busy") {
      text = "busy";
      if (progress.total) text += ` ${fmt(progress.done)}/${fmt(progress.total)}`;
      if (progress.message) text += ` · ${progress.message}`;
    }
    status.dataset.status = state;
    status.textContent = text;
    status.title = text;
    dismiss.hidden = state !== "error";
  };
  on("comm_live_update", () => {
    offline = isDisconnected();
    update();
  });
  on("comm:close", () => {
    offline = true;
    update();
  });
  on("change:status", update);
  on("change:error", update);
  on("change:progress", update);
  update();

  ctx.listen(dismiss, "click", () => {
    model.set("error", "");
    model.set("status", "idle");
    model.save_changes();
  });
  ctx.listen(exporter, "click", onExport);
  return bar;
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
    frame.style.width = `${model.get("width")}px`;

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

function renderGrid(ctx) {
  const { model, body, on, listen } = ctx;
  const grid = el("div", { class: "invw-grid", role: "listbox" });
  const bar = colorbar(ctx);
  body.append(grid, bar.node);
  let cells = [];

  const build = (n) => {
    grid.replaceChildren();
    cells = [];
    for (let i = 0; i < n; i++) {
      const main = el("canvas", { class: "invw-main", width: 1, height: 1 });
      const overlay = el("canvas", { class: "invw-overlay", width: 1, height: 1 });
      const caption = el("div", { class: "invw-caption" });
      const node = el(
        "div",
        { class: "invw-cell", "data-index": i, role: "option", tabindex: 0 },
        el("div", { class: "invw-cell-image" }, main, overlay),
        caption,
      );
      grid.append(node);
      cells.push({ node, main, overlay, caption });
    }
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
    const cellWidth = model.get("cell_width");
    grid.style.gridTemplateColumns = `repeat(${meta.ncols}, ${cellWidth}px)`;
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
      cell.caption.hidden = !captions[i];
    });
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
  listen(grid, "keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(event);
    }
  });

  return () => {
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
  };
}

// ---------------------------------------------------------------------------- LatentSliders

function renderSliders(ctx) {
  const { model, body, on, listen, cleanups } = ctx;
  const root = el("div", { class: "invw-sliders" });
  body.append(root);
  let rows = []; // per slider: { input, value }
  let groupNodes = new Map();
  // The slider being dragged (or stepped with keys) and the value waiting for the next frame.
  let active = -1;
  let pending = null; // { index, value }
  let frame = 0;

  const decimals = () => {
    const step = model.get("step") || 0.01;
    return Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  };

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

  const build = () => {
    root.replaceChildren();
    rows = [];
    groupNodes = new Map();
    const names = model.get("names") || [];
    const groups = model.get("groups") || [];
    const order = [...new Set(groups)];
    for (const group of order) {
      const header = el(
        "div",
        { class: "invw-group-header" },
        el("span", { class: "invw-group-name" }, group),
        button("reset", "reset", `Reset the ${group} sliders`, { "data-group": group }),
        button("randomize", "randomise", `Draw the ${group} sliders from N(0, 1)`,
          { "data-group": group }),
        button("unlock", "unlock", `Unlock the ${group} sliders`, { "data-group": group }),
        button("lock", "lock", `Lock the ${group} sliders`, { "data-group": group }),
        el("span", { class: "invw-warning" }),
      );
      const node = el("div", { class: "invw-group", "data-group": group }, header);
      groupNodes.set(group, node);
      root.append(node);
    }
    names.forEach((name, i) => {
      const input = el("input", { type: "range", "data-index": i, "aria-label": name });
      const value = el("span", { class: "invw-value" });
      const row = el(
        "div",
        { class: "invw-slider", "data-index": i },
        el("span", { class: "invw-name", title: name }, name),
        input,
        value,
      );
      groupNodes.get(groups[i])?.append(row);
      rows.push({ input, value });
    });
  };

  const update = () => {
    const values = model.get("values") || [];
    const lo = model.get("minimum") || [];
    const hi = model.get("maximum") || [];
    const groups = model.get("groups") || [];
    const locked = new Set(model.get("locked") || []);
    const warnings = model.get("warnings") || {};
    const step = model.get("step");
    const digits = decimals();
    rows.forEach((row, i) => {
      row.input.min = String(lo[i]);
      row.input.max = String(hi[i]);
      row.input.step = String(step);
      row.input.disabled = locked.has(groups[i]);
      if (i !== active) {
        // Never move the slider under the user's pointer: echoes would make it jitter.
        row.input.value = String(values[i]);
        row.value.textContent = Number(values[i]).toFixed(digits);
      }
    });
    for (const [group, node] of groupNodes) {
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
    rows.forEach((row, i) => row.input.parentElement.classList.toggle("invw-active", i === selected));
  };

  const rebuild = coalesce(() => {
    const names = model.get("names") || [];
    const groups = model.get("groups") || [];
    const shape = JSON.stringify([names, groups]);
    if (shape !== root.dataset.shape) {
      active = -1;
      pending = null;
      build();
      root.dataset.shape = shape;
    }
    update();
  });
  on("change:names", rebuild);
  on("change:groups", rebuild);
  const scheduleUpdate = coalesce(() => update());
  for (const name of ["values", "minimum", "maximum", "step", "locked", "warnings", "selected"]) {
    on(`change:${name}`, scheduleUpdate);
  }
  rebuild();

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
  listen(root, "input", (event) => {
    const i = indexOf(event);
    if (i < 0) return;
    if (pending && pending.index !== i) flush();
    active = i;
    const value = Number(event.target.value);
    rows[i].value.textContent = value.toFixed(decimals());
    pending = { index: i, value };
    // Throttle to about one update per animation frame, leading edge first: the first move
    // after a quiet frame goes out at once (no added latency), later ones wait for the next
    // frame and only the newest value of that frame is sent.
    if (!frame) {
      if (performance.now() - lastSent >= FRAME_MS) {
        flush();
      } else {
        frame = requestAnimationFrame(() => {
          frame = 0;
          flush();
        });
      }
    }
  });
  // Release (or a key step): send the final value now, then follow the model again.
  listen(root, "change", (event) => {
    const i = indexOf(event);
    if (i < 0) return;
    pending = { index: i, value: Number(event.target.value) };
    flush();
    active = -1;
    update();
  });
  listen(root, "pointerdown", (event) => {
    const i = indexOf(event);
    if (i >= 0) {
      active = i;
      touch(i);
    }
  });
  // A press that never moved the slider fires no "change": end the drag on any release.
  const release = () => {
    if (active < 0) return;
    flush();
    active = -1;
    update();
  };
  listen(window, "pointerup", release);
  listen(window, "pointercancel", release);
  listen(root, "focusin", (event) => touch(indexOf(event)));
  listen(root, "focusout", (event) => {
    const i = indexOf(event);
    if (i >= 0 && i === active) {
      flush();
      active = -1;
      update();
    }
  });
  listen(root, "click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target || !root.contains(target)) return;
    const { action, group } = target.dataset;
    if (action === "reset" || action === "randomize") {
      flush();
      model.send({ action, group });
    } else if (action === "unlock") {
      model.set("locked", (model.get("locked") || []).filter((g) => g !== group));
      model.save_changes();
    } else if (action === "lock") {
      model.set("locked", [...(model.get("locked") || []), group]);
      model.save_changes();
    }
  });

  return () => {
    const data = {
      names: model.get("names"),
      groups: model.get("groups"),
      values: model.get("values"),
      locked: model.get("locked"),
    };
    download(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }),
      "latents.json");
  };
}

// ---------------------------------------------------------------------------- SketchPad

function renderSketch(ctx) {
  const { model, body, on, listen, cleanups } = ctx;
  const canvas = el("canvas", { class: "invw-main", width: 1, height: 1 });
  const brush = el("input", {
    type: "range", class: "invw-brush", min: 1, max: 16, step: 1, "aria-label": "brush size",
    title: "brush size",
  });
  const erase = button("erase", "erase", "Toggle the eraser", { "aria-pressed": "false" });
  const clear = button("clear", "clear", "Clear the drawing");
  const pad = el("div", { class: "invw-sketch" }, canvas);
  body.append(pad, el("div", { class: "invw-tools" }, brush, erase, clear));

  let h = 0;
  let w = 0;
  let buf = new Uint8Array(0);
  let drawing = false;
  let last = null;
  let frame = 0;

  const redraw = () => putImage(canvas, toImageData(buf, h, w, 1));
  const load = coalesce(() => {
    h = model.get("height");
    w = model.get("width");
    const pixels = bytesOf(model.get("_pixels"));
    buf = pixels.length === h * w ? pixels.slice() : new Uint8Array(h * w);
    canvas.style.width = `${model.get("display_width")}px`;
    redraw();
  });
  const send = () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    model.set("_pixels", new DataView(buf.slice().buffer));
    model.save_changes();
  };
  cleanups.push(() => frame && cancelAnimationFrame(frame));
  // While a stroke is drawn the canvas is the truth; model changes (echoes) wait for its end.
  on("change:_pixels", () => drawing || load());
  on("change:height", load);
  on("change:width", load);
  on("change:display_width", load);
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

  /** Paint an anti-aliased segment `brush` pixels wide (pixel centres at +0.5). */
  const paint = (a, b) => {
    const r = model.get("brush") / 2;
    const erasing = model.get("erase");
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
  };
  const position = (event) => {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * w,
      y: ((event.clientY - rect.top) / rect.height) * h,
    };
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(send);
  };
  listen(canvas, "pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    drawing = true;
    last = position(event);
    paint(last, last);
    redraw();
    schedule();
  });
  listen(canvas, "pointermove", (event) => {
    if (!drawing) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = position(e);
      paint(last, p);
      last = p;
    }
    redraw();
    schedule();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    send();
  };
  listen(canvas, "pointerup", end);
  listen(canvas, "pointercancel", end);
  listen(canvas, "lostpointercapture", end);

  listen(brush, "input", () => {
    model.set("brush", Number(brush.value));
    model.save_changes();
  });
  listen(erase, "click", () => {
    model.set("erase", !model.get("erase"));
    model.save_changes();
  });
  listen(clear, "click", () => {
    buf.fill(0);
    redraw();
    send();
  });

  return () => downloadImageData(toImageData(buf, h, w, 1), "sketch.png");
}

// ---------------------------------------------------------------------------- entry point

const RENDERERS = {
  image: renderImage,
  grid: renderGrid,
  sliders: renderSliders,
  sketch: renderSketch,
};

function render({ model, el: host }) {
  const kind = model.get("_kind");
  const root = el("div", { class: `invw-view invw-kind-${kind}`, "data-kind": kind });
  const body = el("div", { class: "invw-body" });
  root.append(body);
  host.append(root);

  const cleanups = [];
  const ctx = {
    model,
    host,
    root,
    body,
    cleanups,
    on(event, fn) {
      model.on(event, fn);
      cleanups.push(() => model.off(event, fn));
    },
    listen(target, event, fn, options) {
      target.addEventListener(event, fn, options);
      cleanups.push(() => target.removeEventListener(event, fn, options));
    },
  };

  const renderer = RENDERERS[kind];
  if (!renderer) {
    body.textContent = `invwidgets: unknown view kind ${JSON.stringify(kind)}`;
    return () => root.remove();
  }
  const onExport = renderer(ctx);
  const title = kind === "sliders" ? "Download the values as JSON" : "Download as PNG";
  root.append(footer(ctx, onExport, title));

  return () => {
    while (cleanups.length) cleanups.pop()();
    root.remove();
  };
}

export default { render };
