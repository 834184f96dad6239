"""FactorExplorer: swap, interpolate and resample the semantic factors of a frozen model's
representation through an invertible interpretation network (Esser, Rombach & Ommer 2020).

Layout (top to bottom): source and target pickers; per-factor swap toggles with the decoded
result; a per-factor interpolation slider, beside the same walk done linearly in ``z``;
"resample factor k ×N" with a grid of decoded samples and a histogram of the classifier head's
predictions; a bar chart of the factor sizes (the IIN's, and the dimension estimate from the
dataset's factors); a 2-D PCA scatter of one factor coloured by label; two sketch pads that define
a new concept, for which a factor is trained in the worker (progress, cancel). All model work runs
in the background worker; charts are set from its ``on_result`` callbacks.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import traitlets

from ...data import Dataset, sample_pairs
from ...methods.factors import (
    estimate_factor_dims,
    factor_sensitivity,
    interpolate_factor,
    interpolate_latent,
    resample_factor,
    swap_factors,
    train_iin,
)
from ...methods.pairs import PairSource, SketchRenderer
from ...models import init_parameters
from ...models.adapter import as_classifier, as_model, module_dtype
from ...models.iin import FactorIIN
from ..views import Chart, ImageView, SampleGrid, SketchPad
from ..views import controls as ui
from .base import Explorer, as_batch, check_dataset, col, row, section
from .inputs import check_image_batch, check_index, picker_indices

__all__ = ["FactorExplorer"]


def _callable(obj: Any, method: str, what: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if obj is None:
        raise TypeError(f"{what} is required")
    fn = getattr(obj, method, None)
    if callable(fn):
        return fn
    if callable(obj):
        return obj
    raise TypeError(f"{what} must be callable or have a callable {method}(), got {type(obj).__name__}")


def _through_adapter(obj: Any, method: str, what: str, first_of_tuple: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """``obj.method`` (or ``obj`` itself) called through the adapter: inputs on its device and in
    its dtype, one tensor out (a tuple's first item with ``first_of_tuple``), errors naming it."""
    fn = _callable(obj, method, what)
    model = as_model(obj)
    name = f"{model.name}.{method}" if fn is not obj else model.name

    def call(x: torch.Tensor) -> torch.Tensor:
        return model.call(fn, x, what=f"{name}(x)", verb=what, first_of_tuple=first_of_tuple,
                          hint=f"a {what} that returns one tensor (or wrap it with invwidgets.models.as_autoencoder)")

    return call


#: The colour of single-series bars.
CHART_BLUE = "#4c78a8"


class FactorExplorer(Explorer):
    """Explore a FactorIIN attached to a model's representation.

    Parameters
    ----------
    encoder:
        ``E``: an object with ``encode(x)`` or a callable ``x -> z`` (N×dim).
    iin:
        A trained :class:`~invwidgets.models.iin.FactorIIN` on that representation.
    decoder:
        ``D``: ``decode(z)`` or a callable ``z -> images`` in [0, 1] (an autoencoder's decoder);
        ``None`` hides the decoded views.
    classifier_head:
        ``G``: a callable ``z -> logits`` (a classifier's head); ``None`` hides the histogram.
    dataset:
        An :class:`invwidgets.data.Dataset` of the model's inputs (pickers, scatter, dimension
        estimate, sketch backgrounds).
    n_pick:
        Images offered in each picker.
    n_resample:
        Decoded samples in the resample grid (the histogram uses ``n_hist``).
    n_interp:
        Steps of the interpolation strips.
    seed:
        Seed of every random draw (resampling and concept training).
    device:
        Worker device.
    """

    source = traitlets.Int(0, help="Dataset index of the source image")
    target = traitlets.Int(1, help="Dataset index of the target image")
    swap = traitlets.List(traitlets.Unicode(), help="Factors copied from source to target")

    def __init__(
        self,
        encoder: Any,
        iin: FactorIIN,
        decoder: Any = None,
        classifier_head: Callable[[torch.Tensor], torch.Tensor] | None = None,
        dataset: Dataset | None = None,
        *,
        n_pick: int = 16,
        n_resample: int = 16,
        n_hist: int = 200,
        n_interp: int = 7,
        n_scatter: int = 600,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        self._encode = _through_adapter(encoder, "encode", "encoder", first_of_tuple=True)
        if not isinstance(iin, torch.nn.Module) or not all(hasattr(iin, a) for a in ("reverse", "factor_names", "factor_slice")):
            raise TypeError(f"iin must be a FactorIIN (forward, reverse, named factors), got {type(iin).__name__}")
        self._decode = None if decoder is None else _through_adapter(decoder, "decode", "decoder")
        if classifier_head is not None and not callable(classifier_head):
            raise TypeError(f"classifier_head must be callable z -> logits, got {type(classifier_head).__name__}")
        check_dataset(dataset)
        if len(dataset) < 2:
            raise ValueError("dataset needs at least 2 images (a source and a target)")
        for value, what in ((n_pick, "n_pick"), (n_resample, "n_resample"), (n_hist, "n_hist"), (n_interp, "n_interp")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{what} must be an integer >= 2, got {value!r}")
        super().__init__(device=device)
        self.iin = iin.eval()
        self.head = classifier_head
        self._head = None if classifier_head is None else as_classifier(classifier_head)
        self.dataset = dataset
        self.seed = int(seed)
        self.n_resample, self.n_hist, self.n_interp = n_resample, n_hist, n_interp
        self.n_scatter = max(2, min(int(n_scatter), len(dataset)))
        self._resample_count = 0
        self._syncing_toggles = False
        self.concept_iin: FactorIIN | None = None
        self.pick_indices = picker_indices(dataset, n_pick)
        self.set_layout(self._build_swap(), self._build_interp(), self._build_resample(),
                        self._build_charts(), self._build_concept())
        self._connect()
        self._request_all()

    # ------------------------------------------------------------------ panels
    def _picker(self, label: str, index: int) -> SampleGrid:
        imgs = self.dataset.images[self.pick_indices]
        grid = SampleGrid(imgs, captions=[str(i) for i in self.pick_indices], ncols=min(8, len(self.pick_indices)),
                          cell_width=40, label=label)
        grid.selected = self._pick_position(index)
        return grid

    def _build_swap(self) -> dict:
        names = list(self.iin.factor_names)
        decoded = self._decode is not None
        self.source_picker = self._picker("source (dataset index)", 0)
        self.target_picker = self._picker("target (dataset index)", 1)
        self.source_view = ImageView(self.dataset.images[0], caption="source", width=112, label="source")
        self.target_view = ImageView(self.dataset.images[1], caption="target", width=112, label="target")
        self.swap_view = ImageView(caption="target with source's factors", width=112, label="swapped",
                                   hidden=not decoded).add_class("invw-swap-result")
        self.swap_toggles = {n: ui.ToggleButton(value=False, description=n, tooltip=f"copy {n} from source")
                             .add_class("invw-swap-toggle").add_class(f"invw-swap-{n}") for n in names}
        self.swap_label = ui.HTML()
        return section("Swap factors (copy the pressed factors from source into target)",
                       row(self.source_picker, self.target_picker), row(*self.swap_toggles.values()),
                       row(self.source_view, self.target_view, self.swap_view), self.swap_label)

    def _build_interp(self) -> dict:
        names = list(self.iin.factor_names)
        hidden = self._decode is None
        self.interp_factor = ui.Dropdown(options=names, value=names[0], description="factor")
        self.alpha = ui.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="α")
        self.interp_iin_view = ImageView(caption="in the IIN's factor", width=96, label="IIN: factor walk",
                                         hidden=hidden)
        self.interp_z_view = ImageView(caption="linear in z", width=96, label="linear in z", hidden=hidden)
        self.interp_strip = SampleGrid(ncols=self.n_interp, cell_width=44, hidden=hidden,
                                       label="α from 0 to 1 (top row: IIN factor, bottom row: linear in z)")
        return section("Interpolate one factor (source → target)", row(self.interp_factor, self.alpha),
                       row(self.interp_iin_view, self.interp_z_view), self.interp_strip)

    def _build_resample(self) -> dict:
        names = list(self.iin.factor_names)
        self.resample_factor = ui.Dropdown(options=names, value=names[0], description="factor")
        self.resample_button = ui.Button(description=f"resample ×{self.n_resample}").add_class("invw-resample")
        self.resample_grid = SampleGrid(ncols=min(8, self.n_resample), cell_width=40, label="decoded samples",
                                        hidden=self._decode is None)
        classes = list(self.dataset.class_names or [str(i) for i in range(10)])
        self.hist_fig = Chart(title="predicted labels", xaxis={"type": "category", "title": {"text": "label"}},
                              yaxis={"title": {"text": "count"}}, hidden=self.head is None)
        self.hist_fig.add_bar(x=classes, y=[0] * len(classes), marker_color=CHART_BLUE, name="predictions")
        return section("Resample one factor of the source", row(self.resample_factor, self.resample_button),
                       row(self.resample_grid, self.hist_fig))

    def _build_charts(self) -> dict:
        names = list(self.iin.factor_names)
        self.dims_fig = Chart(title="factor sizes", xaxis={"title": {"text": "factor"}},
                              yaxis={"title": {"text": "dimensions"}})
        self.dims_fig.add_bar(x=names, y=list(self.iin.factor_sizes), name="IIN")
        self.scatter_factor = ui.Dropdown(options=names, value=names[0], description="factor")
        self.scatter_fig = Chart(title="factor (PCA) by label", height=280, xaxis={"title": {"text": "PC 1"}},
                                 yaxis={"title": {"text": "PC 2"}})
        self.scatter_fig.add_scatter(x=[], y=[], mode="markers", marker={"size": 4, "colorscale": "Turbo"},
                                     name="images")
        return section("Factors", row(self.dims_fig, col(self.scatter_factor, self.scatter_fig)))

    def _build_concept(self) -> dict:
        c, h, w = self.dataset.shape
        self.sketch_a = SketchPad(h, w, brush=1, label="sketch A").add_class("invw-sketch-a")
        self.sketch_b = SketchPad(h, w, brush=1, label="sketch B").add_class("invw-sketch-b")
        self.concept_name = ui.Text(value="concept", description="concept")
        self.concept_steps = ui.IntSlider(value=300, min=20, max=3000, step=20, description="steps")
        self.train_button = ui.Button(description="train concept").add_class("invw-train-concept")
        self.cancel_button = ui.Button(description="cancel").add_class("invw-cancel-concept")
        self.concept_label = ui.HTML()
        self.concept_grid = SampleGrid(ncols=6, cell_width=40, label="dataset images closest to each sketch")
        palette = self.dataset.metadata.get("palette")
        self.renderer = SketchRenderer(palette if palette is not None and c == 3 else [[1.0, 1.0, 1.0]])
        return section("Define a concept with two sketches (they should differ in it)",
                       row(self.sketch_a, self.sketch_b),
                       row(self.concept_name, self.concept_steps, self.train_button, self.cancel_button),
                       self.concept_label, self.concept_grid)

    def _connect(self) -> None:
        self.source_picker.observe(self.guard(self._on_source_pick), names="selected")
        self.target_picker.observe(self.guard(self._on_target_pick), names="selected")
        for t in self.swap_toggles.values():
            t.observe(self.guard(self._on_toggle), names="value")
        self.observe(self.guard(self._on_pair), names=["source", "target"])
        self.observe(self.guard(self._on_swap), names="swap")
        self.interp_factor.observe(self.guard(lambda ch: self._request_interp(strip=True)), names="value")
        self.alpha.observe(self.guard(lambda ch: self._request_interp(strip=False)), names="value")
        self.resample_factor.observe(self.guard(lambda ch: self.resample()), names="value")
        self.resample_button.on_click(self.guard(lambda b: self.resample(new_draw=True)))
        self.scatter_factor.observe(self.guard(lambda ch: self._request_scatter()), names="value")
        self.train_button.on_click(self.guard(lambda b: self.train_concept()))
        self.cancel_button.on_click(self.guard(lambda b: self.cancel("concept")))

    # ------------------------------------------------------------------ model calls (worker)
    def _z(self, index: Any) -> torch.Tensor:
        x = as_batch(self.dataset.images[index], self.dataset.shape, "image")
        return self._encode_images(x)

    def _encode_images(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            z = self._encode(x)  # NaN/inf are the adapter's error
        if z.ndim != 2 or z.shape[1] != self.iin.dim:
            raise ValueError(f"encoder returned {tuple(z.shape)}, expected N×{self.iin.dim} (the IIN's dim)")
        return z.detach().float()

    def _images(self, z: torch.Tensor) -> torch.Tensor:
        assert self._decode is not None
        with torch.no_grad():
            x = self._decode(z)
        images = self._to_images(x, "decoder(z)")  # clamped to [0, 1], the fraction recorded
        if images is None:
            raise ValueError(f"decoder returned {tuple(x.shape)}, expected N×C×H×W with C in (1, 3)")
        return images

    def _predict(self, z: torch.Tensor) -> torch.Tensor:
        assert self._head is not None
        return self._head.logits(z).argmax(1)

    def compute_swap(self, source: int, target: int, factors: list[str]) -> dict[str, Any]:
        """Swap ``factors`` of ``source`` into ``target``: ``{"z", "image", "label"}`` (image
        ``None`` without a decoder, label ``None`` without a head)."""
        z_s, z_t = self._z([source]), self._z([target])
        z = swap_factors(self.iin, z_t, z_s, factors) if factors else z_t.to(module_dtype(self.iin))
        return {
            "z": z.float().cpu(),
            "image": None if self._decode is None else self._images(z)[0],
            "label": None if self.head is None else int(self._predict(z)[0]),
        }

    def compute_interp(self, source: int, target: int, factor: str, alphas: list[float]) -> dict[str, Any]:
        """Walk ``factor`` from source to target at ``alphas``, in the IIN and linearly in z."""
        z_s, z_t = self._z([source]), self._z([target])
        path = interpolate_factor(self.iin, z_s, z_t, factor, alphas)
        lin = interpolate_latent(z_s, z_t, alphas)
        out: dict[str, Any] = {"iin_z": path.float().cpu(), "linear_z": lin.cpu()}
        if self._decode is not None:
            out["iin"], out["linear"] = self._images(path), self._images(lin)
        return out

    def compute_resample(self, source: int, factor: str, seed: int) -> dict[str, Any]:
        """Resample ``factor`` of ``source``: decoded samples, predicted labels and their std."""
        z = self._z([source])
        gen = torch.Generator().manual_seed(int(seed))
        zs = resample_factor(self.iin, z, factor, self.n_resample, gen)[0]
        out: dict[str, Any] = {"z": zs.float().cpu(), "images": None if self._decode is None else self._images(zs)}
        if self.head is not None:
            std, labels = factor_sensitivity(self.iin, z, self._head, factor, self.n_hist, gen)
            out["labels"], out["std"] = labels[0].cpu(), float(std[0])
        return out

    def compute_scatter(self, factor: str) -> dict[str, Any]:
        """2-D PCA of ``T(z)_factor`` over the first ``n_scatter`` dataset images."""
        z = self._encode_images(self.dataset.images[: self.n_scatter])
        with torch.no_grad():
            w = self.iin(z.to(module_dtype(self.iin)))[0][:, self.iin.factor_slice(factor)].double()
        w = w - w.mean(0)
        if w.shape[1] == 1:
            xy = torch.cat([w, torch.zeros_like(w)], 1)
        else:
            _, _, v = torch.linalg.svd(w, full_matrices=False)
            xy = w @ v[:2].T
        k = self.dataset.factor_names.index(factor) if self.dataset.factor_names and factor in self.dataset.factor_names else None
        if k is not None:
            color, what = self.dataset.factors[: self.n_scatter, k], factor  # type: ignore[index]
        elif self.dataset.labels is not None:
            color, what = self.dataset.labels[: self.n_scatter], "label"
        else:
            color, what = torch.zeros(self.n_scatter, dtype=torch.int64), "none"
        return {"xy": xy.float().cpu(), "color": color.cpu(), "colored_by": what}

    def compute_dims(self) -> dict[str, Any] | None:
        """Dimension estimate (docs/methods/factors.md, Factor dimensions) from the dataset's factors named like the IIN's."""
        names = [n for n in self.iin.factor_names[:-1] if self.dataset.factor_names and n in self.dataset.factor_names]
        if not names:
            return None
        gen = torch.Generator().manual_seed(self.seed)
        n = min(len(self.dataset), 2000)
        z_all = self._encode_images(self.dataset.images[:n])
        sub = self.dataset.subset(torch.arange(n))
        pairs = {}
        for f in names:
            idx = sample_pairs(sub, f, 1000, gen)
            pairs[f] = (z_all[idx[:, 0]], z_all[idx[:, 1]])
        sizes, scores = estimate_factor_dims(z_all, pairs)
        return {"names": [*names, "residual"], "sizes": sizes, "scores": scores}

    def fit_concept(self, sketch_a: torch.Tensor, sketch_b: torch.Tensor, name: str, steps: int,
                    seed: int, job: Any = None) -> dict[str, Any]:
        """Train a two-factor IIN ``(name, residual)`` from two sketches (see
        :meth:`invwidgets.methods.pairs.PairSource.from_sketches`); runs as a worker batch job."""
        source = PairSource.from_sketches(sketch_a, sketch_b, self.renderer, background=self.dataset.images,
                                          concept=name)
        dim = self.iin.dim
        iin = FactorIIN(dim, [2, dim - 2], [name, "residual"], n_blocks=2, hidden=32, depth=1, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        for block in iin.blocks:
            init_parameters(block.coupling, gen)

        def batches(step: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            xa, xb, shared = source.sample(128, g)
            return self._encode_images(xa), self._encode_images(xb), shared

        def progress(step: int, total: int, loss: float) -> None:
            if job is not None:
                job.progress(step, total, f"training {name}")

        train_iin(iin, batches, int(steps), gen, lr=2e-3, progress=progress)
        # where the two sketches and the real images fall on the new factor
        sl = iin.factor_slice(name)
        both = torch.cat([torch.as_tensor(sketch_a).reshape(1, 1, *sketch_a.shape[-2:]),
                          torch.as_tensor(sketch_b).reshape(1, 1, *sketch_b.shape[-2:])]).float()
        g2 = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            ca = iin(self._encode_images(self.renderer(both[:1].repeat(32, 1, 1, 1), g2)))[0][:, sl].mean(0)
            cb = iin(self._encode_images(self.renderer(both[1:].repeat(32, 1, 1, 1), g2)))[0][:, sl].mean(0)
            n = min(len(self.dataset), 1000)
            wd = iin(self._encode_images(self.dataset.images[:n]))[0][:, sl]
        axis = (cb - ca) / (cb - ca).norm().clamp(min=1e-8)
        proj = (wd - ca) @ axis
        order = torch.argsort(proj)
        k = min(6, n // 2)
        return {"iin": iin, "separation": float((cb - ca).norm()),
                "closest_a": order[:k].cpu(), "closest_b": order.flip(0)[:k].cpu()}

    # ------------------------------------------------------------------ reactions
    def _request_all(self) -> None:
        self._request_swap()
        self._request_interp(strip=True)
        self.resample()
        self._request_scatter()
        self.run_in_worker("dims", self.compute_dims, priority="batch", busy=False, on_result=self._show_dims)

    def _request_swap(self) -> None:
        factors = [n for n in self.iin.factor_names if n in self.swap]
        s, t = self.source, self.target

        def show(r: dict[str, Any]) -> None:
            if r["image"] is not None:
                self.swap_view.set_image(r["image"])
            label = "" if r["label"] is None else f" → predicted label <b>{r['label']}</b>"
            self.swap_label.value = f"<small>swapped: {html.escape(', '.join(factors) or 'nothing')}{label}</small>"

        self.run_in_worker("swap", self.compute_swap, s, t, factors, on_result=show,
                           cache_key=("swap", s, t, tuple(factors)))

    def _request_interp(self, strip: bool) -> None:
        s, t, f, a = self.source, self.target, self.interp_factor.value, float(self.alpha.value)
        if self._decode is None:
            return

        def show_one(r: dict[str, Any]) -> None:
            self.interp_iin_view.set_image(r["iin"][0])
            self.interp_z_view.set_image(r["linear"][0])

        self.run_in_worker("interp", self.compute_interp, s, t, f, [a], on_result=show_one,
                           cache_key=("interp", s, t, f, round(a, 4)))
        if strip:
            alphas = np.linspace(0, 1, self.n_interp).tolist()

            def show_strip(r: dict[str, Any]) -> None:
                caps = [f"α={x:.2f}" for x in alphas] * 2  # rows: the heading says which is which
                self.interp_strip.set_images(torch.cat([r["iin"], r["linear"]]), captions=caps, ncols=self.n_interp)

            self.run_in_worker("strip", self.compute_interp, s, t, f, alphas, on_result=show_strip,
                               priority="batch", busy=False)

    def resample(self, new_draw: bool = False) -> None:
        """Resample the chosen factor of the source (a new seeded draw when ``new_draw``)."""
        if new_draw:
            self._resample_count += 1
        s, f, seed = self.source, self.resample_factor.value, self.seed + self._resample_count

        def show(r: dict[str, Any]) -> None:
            if r["images"] is not None:
                self.resample_grid.set_images(r["images"], ncols=min(8, self.n_resample))
            if "labels" in r:
                counts = torch.bincount(r["labels"], minlength=len(self.hist_fig.data[0].x)).tolist()
                with self.hist_fig.batch_update():
                    self.hist_fig.data[0].y = counts[: len(self.hist_fig.data[0].x)]
                    self.hist_fig.layout.title.text = f"predictions, {f} resampled ×{self.n_hist}: std {r['std']:.2f}"

        self.run_in_worker("resample", self.compute_resample, s, f, seed, on_result=show,
                           cache_key=("resample", s, f, seed))

    def _request_scatter(self) -> None:
        f = self.scatter_factor.value

        def show(r: dict[str, Any]) -> None:
            with self.scatter_fig.batch_update():
                tr = self.scatter_fig.data[0]
                tr.x, tr.y = r["xy"][:, 0].tolist(), r["xy"][:, 1].tolist()
                tr.marker.color = r["color"].tolist()
                tr.name = r["colored_by"]
                self.scatter_fig.layout.title.text = f"{f} (PCA), coloured by {r['colored_by']}"

        self.run_in_worker("scatter", self.compute_scatter, f, on_result=show, priority="batch", busy=False,
                           cache_key=("scatter", f))

    def _show_dims(self, r: dict[str, Any] | None) -> None:
        if r is None:
            return
        with self.dims_fig.batch_update():
            if len(self.dims_fig.data) < 2:
                self.dims_fig.add_bar(x=r["names"], y=r["sizes"], name="estimated")
            else:
                self.dims_fig.data[1].y = r["sizes"]
        self.dim_estimate = r

    def _pick_position(self, index: int) -> int:
        """Where dataset image ``index`` sits in the pickers (-1 when they do not offer it)."""
        return self.pick_indices.index(index) if index in self.pick_indices else -1

    def _on_source_pick(self, change: dict) -> None:
        if change["new"] is not None and change["new"] >= 0:
            self.source = self.pick_indices[int(change["new"])]

    def _on_target_pick(self, change: dict) -> None:
        if change["new"] is not None and change["new"] >= 0:
            self.target = self.pick_indices[int(change["new"])]

    def _on_toggle(self, change: dict) -> None:
        if not self._syncing_toggles:
            self.swap = [n for n, t in self.swap_toggles.items() if t.value]

    def _on_swap(self, change: dict) -> None:
        self._syncing_toggles = True
        try:
            for n, t in self.swap_toggles.items():
                if t.value != (n in self.swap):
                    t.value = n in self.swap
        finally:
            self._syncing_toggles = False
        self._request_swap()

    def _on_pair(self, change: dict) -> None:
        for i, view in ((self.source, self.source_view), (self.target, self.target_view)):
            view.set_image(self.dataset.images[i])
        # the pickers outline the pair shown, also after select() from code
        self.source_picker.selected = self._pick_position(self.source)
        self.target_picker.selected = self._pick_position(self.target)
        self._request_swap()
        self._request_interp(strip=True)
        if change["name"] == "source":
            self.resample()

    # ------------------------------------------------------------------ validation
    @traitlets.validate("source", "target")
    def _valid_index(self, proposal: dict) -> int:
        name = proposal["trait"].name
        try:
            i = check_index(proposal["value"], len(self.dataset), name=name)
            # A rejected image is refused here, so source/target keep their previous value.
            check_image_batch(self.dataset.images[i], tuple(self.dataset.images.shape[1:]),
                              name=f"dataset image {i}")
        except (IndexError, TypeError, ValueError) as exc:
            raise traitlets.TraitError(str(exc)) from None
        return i

    @traitlets.validate("swap")
    def _valid_swap(self, proposal: dict) -> list[str]:
        unknown = [n for n in proposal["value"] if n not in self.iin.factor_names]
        if unknown:
            raise traitlets.TraitError(f"unknown factors {unknown}; the IIN has {list(self.iin.factor_names)}")
        return list(proposal["value"])

    # ------------------------------------------------------------------ public API
    def select(self, source: int | None = None, target: int | None = None) -> None:
        """Pick the source and/or target dataset images by index."""
        with self.hold_trait_notifications():
            if source is not None:
                self.source = source
            if target is not None:
                self.target = target

    def train_concept(self, sketch_a: Any = None, sketch_b: Any = None, name: str | None = None,
                      steps: int | None = None) -> None:
        """Train a factor for the concept that separates two sketches (default: the sketch pads),
        as a cancellable batch job in the worker. The result is :attr:`concept_iin`; the grid shows
        the dataset images closest to sketch A's and to sketch B's side of the new factor."""
        a = self.sketch_a.tensor if sketch_a is None else torch.as_tensor(sketch_a, dtype=torch.float32)
        b = self.sketch_b.tensor if sketch_b is None else torch.as_tensor(sketch_b, dtype=torch.float32)
        name = (name or self.concept_name.value or "concept").strip()
        steps = int(steps or self.concept_steps.value)
        # Validate on the main thread so a bad sketch is an immediate, clear error.
        PairSource.from_sketches(a, b, self.renderer, concept=name)
        self.concept_label.value = "<small>training…</small>"

        def show(r: dict[str, Any]) -> None:
            self.concept_iin = r["iin"]
            idx = torch.cat([r["closest_a"], r["closest_b"]])
            k = len(r["closest_a"])
            self.concept_grid.set_images(self.dataset.images[idx], captions=["like A"] * k + ["like B"] * k, ncols=k)
            self.concept_label.value = (f"<small>factor <b>{html.escape(name)}</b> trained ({steps} steps); "
                                        f"distance between the sketches on it: {r['separation']:.2f}</small>")

        self.run_in_worker("concept", self.fit_concept, a, b, name, steps, self.seed, priority="batch",
                           on_result=show)

    def _view_targets(self) -> dict[str, Any]:
        return {"swap": self.swap_view, "interp": [self.interp_iin_view, self.interp_z_view],
                "strip": self.interp_strip, "resample": self.resample_grid, "concept": self.concept_grid}

    def _cache_dependencies(self) -> Any:
        return (self._encode, self.iin, self._decode, self.head, self.dataset.images, self.n_resample,
                self.n_hist, self.n_interp, self.n_scatter)
