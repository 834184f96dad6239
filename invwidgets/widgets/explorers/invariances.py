"""InvarianceExplorer: what a supervised VAE's classifier is invariant to, interactively.

Pick an input; nuisance sliders (``z_n``) move the decoded sample while the class code ``z_c``
stays put, so the latent classifier's decision cannot change; "resample ×K" draws K nuisance
codes from the prior or the aggregate posterior. Readouts compare the latent classifier with the
closed loop (re-encode the sample and classify) and an optional external classifier, and an
attribution method (Captum) draws heatmaps on the input, on the sample and on every resampled
image, with their per-pixel mean and standard deviation. All model work runs in the worker.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
import torch
import traitlets

from ...data import Dataset
from ...methods.attribution import METHODS, attribute, composed_classifier
from ...methods.invariances import aggregate_posterior, check_svae, invariant_samples, nuisance_pixel_map
from ...models.adapter import as_classifier
from ..views import ImageView, LatentSliders, SampleGrid
from ..views import controls as ui
from ..views._base import DEFAULT_HEATMAP_OPACITY
from .base import Explorer, as_batch, check_dataset, row, section
from .inputs import check_image_batch, check_index, picker_indices

__all__ = ["InvarianceExplorer"]

CLASS_WARNING = (
    "Class dimensions feed the classifier: moving them changes the decision, so samples are no "
    "longer invariant transformations of the input."
)


class InvarianceExplorer(Explorer):
    """Explore the invariances of a supervised VAE (Nguyen & Rodríguez Martínez 2020).

    Parameters
    ----------
    svae:
        A supervised VAE: ``encode_dist(x) -> (mu, logvar)``, ``decode(z)``, ``classify(z_c)`` and
        integer ``d_c``, ``d_n`` (e.g. :class:`invwidgets.models.SupervisedVAE`, a zoo model, or
        the user's own module with these methods).
    dataset:
        An :class:`invwidgets.data.Dataset` of the model's inputs; its images feed the picker and
        the aggregate-posterior pool.
    external_classifier:
        An independent classifier (logits out), e.g. the baseline CNN; ``None`` hides its readout.
    k:
        Number of resampled images.
    n_pick:
        Number of dataset images in the picker grid.
    span:
        Sliders range over ``[-span, span]``.
    pool_size:
        Number of dataset images whose posterior means form the aggregate-posterior pool.
    method:
        Initial attribution method (see :data:`invwidgets.methods.attribution.METHODS`).
    seed:
        Seed of the resampling: draw ``i`` uses ``torch.Generator().manual_seed(seed + i)``, so a
        fixed seed replays the same sequence of grids.
    device:
        Worker device (default: automatic).

    Traits (not synced; what the readouts show): ``index``, ``prediction`` (``{"latent",
    "closed_loop", "external"}`` → ``{"class", "probability"}``), ``sample_predictions``
    (closed-loop classes of the resampled grid), ``sample_external`` (the external classifier's
    classes of that grid), ``sample_agreement`` (``{"closed_loop", "external"}`` → the fraction
    of the grid that keeps the input's class, shown under the grid), ``source``, ``method``, ``seed``.
    """

    index = traitlets.Int(0, help="Index of the dataset image being explained (-1 for a user input)")
    source = traitlets.Unicode("prior", help="'prior' or 'posterior' nuisance sampling")
    method = traitlets.Unicode("integrated_gradients", help="Attribution method")
    seed = traitlets.Int(0, help="Seed of the resampling sequence")
    prediction = traitlets.Dict({}, help="Predicted class and probability per classifier")
    sample_predictions = traitlets.List([], help="Closed-loop class of each resampled image")
    sample_external = traitlets.List([], help="External classifier's class of each resampled image")
    sample_agreement = traitlets.Dict({}, help="Fraction of the grid keeping the input's class: closed loop, external")

    #: Invariant samples attributed per call in the resample job.
    attribution_batch = 8

    def __init__(
        self,
        svae: Any,
        dataset: Dataset,
        external_classifier: Any = None,
        *,
        k: int = 8,
        n_pick: int = 16,
        span: float = 3.0,
        pool_size: int = 512,
        method: str = "integrated_gradients",
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        svae = check_svae(svae)  # wrapped once (device, dtype, errors naming the call)
        check_dataset(dataset)
        if external_classifier is not None and not callable(external_classifier):
            raise TypeError(f"external_classifier must be callable (logits out), got {type(external_classifier).__name__}")
        if external_classifier is not None:
            external_classifier = as_classifier(external_classifier)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if not span > 0:
            raise ValueError(f"span must be positive, got {span}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
        super().__init__(device=device)
        self.model = svae
        self.external = external_classifier
        self.dataset = dataset
        self.k, self.span, self.pool_size = int(k), float(span), int(pool_size)
        self.d_c, self.d_n = int(svae.d_c), int(svae.d_n)
        self.input_shape = tuple(getattr(svae, "input_shape", dataset.images.shape[1:]))
        for m in (svae, external_classifier):
            if m is not None:
                m.eval()
                if m.device != self.device and isinstance(m.module, torch.nn.Module):
                    m.to(self.device)
        self._dev = svae.device
        self._f = composed_classifier(svae)
        self._pool: dict[str, torch.Tensor] | None = None
        self._draw = 0
        self._last_seed = int(seed)
        self._x: torch.Tensor | None = None
        self.seed, self.method = int(seed), method
        try:
            self._build(n_pick)
        except Exception:
            self.close()
            raise
        self.select(0)

    # ------------------------------------------------------------------ layout
    def _build(self, n_pick: int) -> None:
        d_c, d_n = self.d_c, self.d_n
        self.sliders = LatentSliders(
            [0.0] * (d_c + d_n),
            names=[f"c{i}" for i in range(d_c)] + [f"n{j}" for j in range(d_n)],
            groups=["class"] * d_c + ["nuisance"] * d_n,
            minimum=-self.span, maximum=self.span, locked_groups=["class"],
            warnings={"class": CLASS_WARNING}, seed=self.seed,
        )
        w, op = 128, DEFAULT_HEATMAP_OPACITY
        self.sliders.label = "latents: class c (locked) and nuisance n"
        self.original = ImageView(caption="input x", width=w, heatmap_opacity=op, label="input")
        self.sample = ImageView(caption="sample x'", width=w, heatmap_opacity=op, label="sample")
        self.difference = ImageView(caption="x' − x", width=w, heatmap_opacity=1.0, label="difference")
        self.mean_map = ImageView(caption="mean attribution", width=w, heatmap_opacity=op, label="mean")
        self.std_map = ImageView(caption="std attribution", cmap="sequential", width=w, heatmap_opacity=op,
                                 label="std")
        self.pixel_map = ImageView(caption="∂x'/∂n (select a nuisance slider)", width=w, heatmap_opacity=1.0,
                                   label="pixel map")
        self.grid = SampleGrid(ncols=min(self.k, 8), cell_width=80, heatmap_opacity=op,
                               label="resampled nuisance (caption: closed-loop class)")
        self.pick_indices = picker_indices(self.dataset, n_pick)
        self.picker = SampleGrid(
            self.dataset.images[self.pick_indices], captions=[str(i) for i in self.pick_indices],
            ncols=min(8, len(self.pick_indices)), cell_width=48, label="pick an input (dataset index)",
        )
        self.picker.selected = self._pick_position(0)
        self.index_box = ui.BoundedIntText(value=0, min=0, max=len(self.dataset) - 1, description="index")
        self.method_box = ui.Dropdown(options=[(v, k) for k, v in METHODS.items()], value=self.method,
                                      description="attribution")
        self.source_box = ui.ToggleButtons(options=[("prior", "prior"), ("aggregate posterior", "posterior")],
                                           value=self.source, description="z_n from")
        self.resample_button = ui.Button(description=f"resample ×{self.k}")
        self.opacity_box = ui.FloatSlider(value=op, min=0.0, max=1.0, step=0.05, description="overlay")
        self.readout = ui.HTML(label="predictions of the sample").add_class("invw-invariance-readout")
        self.agreement = ui.HTML().add_class("invw-invariance-agreement")
        self.set_layout(
            section("Input and sample", row(self.index_box, self.method_box, self.opacity_box),
                    row(self.original, self.sample, self.difference, self.mean_map, self.std_map, self.pixel_map)),
            section("Latents", row(self.sliders, self.readout)),
            section("Resampling the nuisance", row(self.source_box, self.resample_button, self.agreement),
                    self.grid),
            section("Inputs", self.picker),
        )
        self.opacity_box.observe(self.guard(self._on_opacity), names="value")

        self.sliders.observe(self.guard(self._on_values), names="values")
        self.sliders.observe(self.guard(self._on_selected), names="selected")
        self.picker.observe(self.guard(self._on_pick), names="selected")
        self.index_box.observe(self.guard(self._on_index_box), names="value")
        self.method_box.observe(self.guard(self._on_method_box), names="value")
        self.source_box.observe(self.guard(self._on_source_box), names="value")
        self.resample_button.on_click(self.guard(lambda _b: self.resample()))

    # ------------------------------------------------------------------ model work (worker thread)
    def _check_input(self, x: Any) -> torch.Tensor:
        return as_batch(check_image_batch(x, self.input_shape), self.input_shape)

    def _attribute(self, x: torch.Tensor, target: int, method: str) -> torch.Tensor:
        return attribute(self._f, x.to(self._dev), target, method)  # type: ignore[arg-type]

    def _encode_input(self, x: Any, method: str) -> dict[str, Any]:
        x = self._check_input(x)
        if x.shape[0] != 1:
            raise ValueError(f"the explorer explains one input at a time, got a batch of {x.shape[0]}")
        with torch.no_grad():
            mu, _ = self.model.encode_dist(x)  # NaN/inf are the adapter's error
            if mu.shape != (1, self.d_c + self.d_n):
                raise ValueError(f"encode_dist returned means of shape {tuple(mu.shape)}; "
                                 f"expected (1, {self.d_c + self.d_n})")
            target = int(self.model.classify(mu[:, : self.d_c]).argmax(1))
        attr = self._attribute(x, target, method)[0]
        return {"x": x.cpu(), "z": mu[0].float().cpu(), "attribution": attr.float().cpu()}

    def _probs(self, logits: torch.Tensor) -> dict[str, float]:
        p = torch.softmax(logits.detach().float(), dim=1)[0]
        c = int(p.argmax())
        return {"class": c, "probability": float(p[c])}

    def _frame(self, z: torch.Tensor, x: torch.Tensor, method: str) -> dict[str, Any]:
        z = z.to(self._dev)[None]
        with torch.no_grad():
            xs = self.model.decode(z).float()  # NaN/inf are the adapter's error
            if xs.shape[1:] != x.shape[1:]:
                raise ValueError(f"decode(z) returned shape {tuple(xs.shape)}, expected (1, {', '.join(map(str, x.shape[1:]))})")
            pred = {"latent": self._probs(self.model.classify(z[:, : self.d_c])),
                    "closed_loop": self._probs(self._f(xs))}
            if self.external is not None:
                pred["external"] = self._probs(self.external(xs))
        attr = self._attribute(xs, pred["latent"]["class"], method)[0]
        xs = xs.detach().cpu()
        return {"sample": xs[0], "difference": (xs - x)[0], "attribution": attr.float().cpu(), "prediction": pred}

    def _resample(self, x: torch.Tensor, seed: int, source: str, method: str, job: Any = None) -> dict[str, Any]:
        pool = None
        if source == "posterior":
            if self._pool is None:
                images = self.dataset.images[: self.pool_size].to(self._dev)
                self._pool = aggregate_posterior(self.model, images)
            pool = self._pool["z_n"]
        g = torch.Generator().manual_seed(int(seed))
        s = invariant_samples(self.model, x.to(self._dev), self.k, g, source, pool)  # type: ignore[arg-type]
        images = s.images[0].float()
        with torch.no_grad():
            closed = self._f(images).argmax(1).cpu().tolist()
            external = self.external(images).argmax(1).cpu().tolist() if self.external is not None else None
        target = int(s.label[0])
        # Batches of samples: several times faster than one call per sample (benchmarks/invariances.py),
        # with progress and a cancellation point between batches.
        attrs = []
        for start in range(0, self.k, self.attribution_batch):
            if job is not None:
                job.check()
                job.progress(start, self.k, "attribution")
            attrs.append(self._attribute(images[start : start + self.attribution_batch], target, method))
        per = torch.cat(attrs)
        return {
            "images": images.cpu(), "closed_loop": closed, "external": external, "target": target,
            "attributions": per.cpu(), "mean": per.mean(0).cpu(), "std": per.std(0, unbiased=False).cpu(),
        }

    # ------------------------------------------------------------------ results (main context)
    def _show_input(self, r: dict[str, Any], index: int | None = None) -> None:
        # The views first: if one refuses the new input, the explorer keeps the previous one.
        self.original.set_image(r["x"][0])
        self.original.set_heatmap(r["attribution"].sum(0))
        self._x = r["x"]
        if index is not None:
            self.index = index
            if index >= 0 and self.index_box.value != index:
                self.index_box.value = index
            # The picker outlines the input shown (none for a user input), also after select().
            self.__dict__["_following"] = True
            try:
                self.picker.selected = self._pick_position(index) if index >= 0 else -1
            finally:
                self.__dict__["_following"] = False
        z = r["z"].clamp(-self.span, self.span)
        self.sliders.values = [float(v) for v in z]
        self.sliders.defaults = [float(v) for v in z]
        self._request_frame()
        self.resample()

    def _show_frame(self, r: dict[str, Any]) -> None:
        self.sample.set_image(r["sample"])
        self.sample.set_heatmap(r["attribution"].sum(0))
        diff = r["difference"].sum(0)
        self.difference.set_image(torch.zeros_like(r["sample"]))
        self.difference.set_heatmap(diff, vmin=-1.0, vmax=1.0)
        self.prediction = r["prediction"]
        self.readout.value = self._readout_html(r["prediction"])

    def _show_samples(self, r: dict[str, Any]) -> None:
        ext = r["external"]
        captions = [f"→ {c}" if ext is None else f"→ {c} | {e}" for c, e in zip(r["closed_loop"], ext or r["closed_loop"])]
        self.grid.set_images(r["images"], captions=captions, heatmaps=r["attributions"].sum(1))
        self.mean_map.set_image(self._x[0] if self._x is not None else None)
        self.mean_map.set_heatmap(r["mean"].sum(0))
        self.std_map.set_image(self._x[0] if self._x is not None else None)
        self.std_map.set_heatmap(r["std"].sum(0))
        self.sample_predictions = list(r["closed_loop"])
        self.sample_external = list(ext) if ext is not None else []
        agree = {"closed_loop": sum(c == r["target"] for c in r["closed_loop"]) / len(r["closed_loop"])}
        if ext is not None:
            agree["external"] = sum(e == r["target"] for e in ext) / len(ext)
        self.sample_agreement = agree
        parts = [f"closed loop keeps the class: {agree['closed_loop']:.0%}"]
        if "external" in agree:
            parts.append(f"external: {agree['external']:.0%}")
        self.agreement.value = html.escape(" · ".join(parts)) + (" (captions: closed loop | external)" if ext else "")

    def _readout_html(self, pred: dict[str, dict[str, float]]) -> str:
        names = self.dataset.class_names
        rows = [("latent h(z_c)", "latent"), ("closed loop h(μ_c(x'))", "closed_loop"), ("external", "external")]
        cells = []
        for label, key in rows:
            if key not in pred:
                continue
            c, p = pred[key]["class"], pred[key]["probability"]
            name = names[c] if names is not None and c < len(names) else str(c)
            cells.append(
                f"<tr data-classifier='{key}'><td>{html.escape(label)}</td>"
                f"<td class='invw-class'>{html.escape(name)}</td><td>{p:.3f}</td></tr>"
            )
        return "<table style='font-size:12px'><tr><th>classifier</th><th>class</th><th>p</th></tr>" + "".join(cells) + "</table>"

    # ------------------------------------------------------------------ requests
    def _request_frame(self) -> None:
        if self._x is None:
            return
        z = torch.tensor(self.sliders.values, dtype=torch.float32)
        self.run_in_worker("frame", self._frame, z, self._x, self.method, on_result=self._show_frame)

    def _request_original(self) -> None:
        def compute(x: torch.Tensor, method: str) -> torch.Tensor:
            with torch.no_grad():
                target = int(self._f(x.to(self._dev)).argmax(1))
            return self._attribute(x, target, method)[0].cpu()

        self.run_in_worker("original", compute, self._x, self.method,
                           on_result=lambda a: self.original.set_heatmap(a.sum(0)))

    def _request_pixel_map(self) -> None:
        j = self.sliders.selected - self.d_c
        if self._x is None or not 0 <= j < self.d_n:
            return
        z = torch.tensor(self.sliders.values, dtype=torch.float32)

        def show(m: torch.Tensor) -> None:
            self.pixel_map.caption = f"∂x'/∂n{j}"
            self.pixel_map.set_image(torch.zeros_like(m))
            self.pixel_map.set_heatmap(m.sum(0))

        self.run_in_worker("pixel_map", lambda: nuisance_pixel_map(self.model, z, j).cpu(), on_result=show)

    def _request_input(self, x: Any, index: int | None = None) -> None:
        self.run_in_worker("input", self._encode_input, x, self.method,
                           on_result=lambda r: self._show_input(r, index))

    # ------------------------------------------------------------------ reactions
    def _on_values(self, change: dict) -> None:
        self._request_frame()
        self._request_pixel_map()

    def _on_selected(self, change: dict) -> None:
        self._request_pixel_map()

    def _on_pick(self, change: dict) -> None:
        i = change["new"]
        if i is not None and i >= 0 and not self.__dict__.get("_following"):
            self.select(self.pick_indices[i])

    def _pick_position(self, index: int) -> int:
        return self.pick_indices.index(index) if index in self.pick_indices else -1

    def _on_index_box(self, change: dict) -> None:
        if int(change["new"]) == self.index and self._x is not None:
            return  # the box follows the explorer (set after a successful select)
        self.select(int(change["new"]))

    def _on_method_box(self, change: dict) -> None:
        self.set_method(change["new"])

    def _on_opacity(self, change: dict) -> None:
        for view in (self.original, self.sample, self.mean_map, self.std_map, self.grid):
            view.heatmap_opacity = float(change["new"])

    def _on_source_box(self, change: dict) -> None:
        self.source = change["new"]
        self.resample()

    # ------------------------------------------------------------------ public API
    def select(self, index: int) -> None:
        """Explain dataset image ``index`` (encoded in the worker; the sliders start at its
        posterior mean)."""
        index = check_index(index, len(self.dataset))
        try:
            # Checked before anything changes: a rejected image leaves the explorer as it was.
            x = check_image_batch(self.dataset.images[index : index + 1], self.input_shape,
                                  name=f"dataset image {index}")
        except (TypeError, ValueError):
            if self.index_box.value != self.index and self.index >= 0:
                self.index_box.value = self.index  # the box the user typed into shows the truth
            raise
        self._request_input(x, index)

    def set_input(self, x: Any) -> None:
        """Explain the user's own image ``x`` (``C×H×W`` or ``1×C×H×W``).

        Validation runs with the model in the worker: an input of the wrong shape, dtype or with
        NaN becomes this widget's ``error`` and the previous input stays.
        """
        self._request_input(x, -1)

    def set_method(self, method: str) -> None:
        """Switch the attribution method and recompute every heatmap."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
        self.method = method
        if self.method_box.value != method:
            self.method_box.value = method
        if self._x is not None:
            self._request_original()
            self._request_frame()
            self.resample(seed=self._last_seed)

    def resample(self, seed: int | None = None) -> None:
        """Draw ``k`` nuisance codes (the next draw of the seeded sequence, or ``seed``) and show
        the decoded images with their attributions, mean and std maps."""
        if self._x is None:
            return
        if seed is None:
            seed = self.seed + self._draw
            self._draw += 1
        self._last_seed = int(seed)
        self.run_in_worker("resample", self._resample, self._x, int(seed), self.source, self.method,
                           priority="batch", on_result=self._show_samples)

    def set_nuisance(self, values: Any) -> None:
        """Set the nuisance sliders to ``values`` (``d_n`` numbers)."""
        t = torch.as_tensor(values, dtype=torch.float32).flatten()
        if t.numel() != self.d_n or not torch.isfinite(t).all():
            raise ValueError(f"expected {self.d_n} finite nuisance values, got {t.numel()}")
        v = list(self.sliders.values)
        v[self.d_c :] = [float(a) for a in t.clamp(-self.span, self.span)]
        self.sliders.values = v

    def _view_targets(self) -> dict[str, Any]:
        return {"input": self.original, "original": self.original, "frame": [self.sample, self.difference],
                "pixel_map": self.pixel_map, "resample": [self.grid, self.mean_map, self.std_map]}

    def _owned_widgets(self) -> list[ipywidgets.Widget]:
        owned = [
            getattr(self, name, None)
            for name in ("sliders", "original", "sample", "difference", "mean_map", "std_map", "pixel_map", "grid",
                         "picker")
        ]
        return [w for w in owned if w is not None] + super()._owned_widgets()
