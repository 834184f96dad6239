"""ResponseExplorer: interventional assays on an autoencoder's latents (docs/methods/responses.md).

Four panels, all computed in the background worker:

1. **Response matrix** — a plotly heatmap of ``M`` (rows = intervened latent ``j``, columns =
   responding latent ``i``). Clicking cell ``(j, i)`` shows the decoded images of interventions
   ``do(z_j := v)`` around the current latent point and a line plot of ``R(z)_i`` against ``v``.
2. **Intervention** — latent sliders; ``D(z)``, ``D(R(z))`` and bars of ``z``, ``R(z)``,
   ``R(z) − z`` and the diagonal of ``M`` (informative latents have a large diagonal).
3. **Response map** — two latents, a base point, radius and resolution; heatmaps of the
   magnitude, divergence and mean curvature of ``R(z) − z`` (latent units), the posterior
   histogram of the dataset's codes, and decoded images over the grid. Maps are drawn with the
   rows flipped so that latent ``b`` increases upwards.
4. **Factors** (when the dataset has ground-truth factors) — the conditioned response matrix,
   bars of CDS, MIG and DCI, and one traversal of a chosen factor with its encodings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
import traitlets

from ...data import BaseDataset, traversal
from ...methods.disentanglement import dci, mig
from ...methods.response_maps import ResponseMap, posterior_histogram, response_map
from ...methods.responses import (
    check_scale,
    conditioned_response_matrix,
    decode_mean,
    encode_mean,
    latent_dim_of,
    latent_std,
    rescale,
    response,
    response_matrix,
)
from ...models import gaussian_kl
from ...models.adapter import as_autoencoder, to_images
from ..views import Chart, ImageView, LatentSliders, SampleGrid
from ..views import controls as ui
from .base import Explorer, check_dataset, col, row, section

__all__ = ["ResponseExplorer"]


class ResponseExplorer(Explorer):
    """Explore an autoencoder through interventions on its latents.

    Parameters
    ----------
    autoencoder:
        Anything with ``encode(x)`` (posterior mean; a tuple's first item is used) and
        ``decode(z)``; a zoo model or the user's own, of any float dtype. Wrap it with
        :func:`invwidgets.models.as_autoencoder` (``decode_output=``) when ``decode`` returns
        a tuple or dict.
    dataset:
        Optional :class:`invwidgets.data.Dataset` or ``VectorDataset``: its first sample starts
        the sliders, its codes give the posterior histogram, and with factors it enables the
        factor panel.
    latent_dim:
        Number of latents when the model has no ``latent_dim`` attribute and there is no dataset.
    n_samples:
        Base samples of the response matrix (prior draws).
    n_steps, span:
        Interventions of the cell view: ``n_steps`` values over ``[-span, span]``.
    radius, resolution:
        Initial response-map grid.
    n_traversals:
        Traversals per factor of the conditioned response matrix.
    scale:
        Units of the response matrix M: ``"raw"`` (latent units, the default and the paper's) or
        ``"std"`` (each responding latent's change divided by its aggregate-posterior standard
        deviation, measured on the dataset's codes; needs a dataset), so that models whose latents
        spread differently (an AE's codes can have std ≈ 5) are shown on one scale. The matrix
        title says which.
    output_transform:
        Maps decoder outputs to images N×C×H×W in [0, 1] (default: clamp; the fraction clamped is
        the ``clamped`` trait, shown in the status line); models whose outputs
        are not images (e.g. the helix) simply show no images.
    device, seed:
        Worker device (default: automatic) and the seed of every random draw (same seed and same
        actions give the same numbers).
    """

    cell = traitlets.Tuple(traitlets.Int(), traitlets.Int(), default_value=(-1, -1),
                           help="The selected matrix cell (j intervened, i responding); (-1, -1) none")
    dims = traitlets.Tuple(traitlets.Int(), traitlets.Int(), default_value=(0, 1),
                           help="The two latents of the response map")
    factor = traitlets.Unicode("", help="The factor shown in the factor panel")

    def __init__(
        self,
        autoencoder: Any,
        dataset: BaseDataset | None = None,
        *,
        latent_dim: int | None = None,
        n_samples: int = 128,
        n_steps: int = 7,
        span: float = 2.5,
        radius: float = 2.0,
        resolution: int = 32,
        n_traversals: int = 10,
        scale: str = "raw",
        output_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        device: torch.device | str | None = None,
        seed: int = 0,
    ) -> None:
        # wrapped (and validated) once: every method below gets the same adapter
        autoencoder = as_autoencoder(autoencoder)
        if dataset is not None:
            check_dataset(dataset, BaseDataset)
        if n_steps < 2:
            raise ValueError(f"n_steps must be at least 2, got {n_steps}")
        if not span > 0 or not radius > 0:
            raise ValueError(f"span and radius must be positive, got {span} and {radius}")
        if resolution < 3:
            raise ValueError(f"resolution must be at least 3, got {resolution}")
        check_scale(scale)
        if scale == "std" and dataset is None:
            raise ValueError("scale='std' needs a dataset: its codes give each latent's standard deviation")
        super().__init__(device=device)
        self.add_class("invw-response-explorer")
        self.scale = scale
        self.model = autoencoder
        self.dataset = dataset
        self.seed = int(seed)
        self.n_samples, self.n_steps, self.span = int(n_samples), int(n_steps), float(span)
        self.n_traversals = int(n_traversals)
        self._transform = output_transform
        self._generator = torch.Generator().manual_seed(self.seed)
        autoencoder.eval()
        if autoencoder.device != self.device and isinstance(autoencoder.module, torch.nn.Module):
            autoencoder.to(self.device)

        # starting point and latent size (quick: one sample)
        if dataset is not None:
            z0 = encode_mean(autoencoder, dataset[0:1][0])[0]
            d = int(z0.numel())
        else:
            d = latent_dim_of(autoencoder, latent_dim)
            z0 = torch.zeros(d)
        if d < 2:
            raise ValueError("the response explorer needs at least two latents")
        self.latent_dim = d
        self.matrix = self.map = self.codes = self.conditioned = None
        self.cell_values = self.cell_response = self.current_response = None
        self.posterior = self.kl_per_dim = self.traversal_codes = None
        self.scores: dict[str, float] = {}
        self.radius, self.resolution = float(radius), int(resolution)
        self._map_base = z0.clone()
        self._auto_dims = True  # map the two latents with the largest diagonal of M first
        self._quiet_controls = False
        self.has_factors = bool(dataset is not None and dataset.factors is not None
                                and any(s >= 2 for s in (dataset.factor_sizes or ())))
        self.set_layout(self._build_matrix(), self._build_intervention(z0), self._build_map(),
                        self._build_factors())
        self._connect()
    # ------------------------------------------------------------------ panels
    def _build_matrix(self) -> dict:
        d = self.latent_dim
        units = "units of each latent's posterior std" if self.scale == "std" else "raw latent units"
        self.matrix_fig = Chart(title=f"response matrix M (row j intervened, column i responds; {units})",
                                width=360, height=330, label="click a cell to intervene",
                                xaxis=dict(title="responding latent i", dtick=1),
                                yaxis=dict(title="intervened latent j", dtick=1, autorange="reversed"))
        self.matrix_fig.add_trace(go.Heatmap(z=np.zeros((d, d)).tolist(), x=list(range(d)), y=list(range(d)),
                                             colorscale="Viridis", name="M"))
        self.matrix_fig.on_click(self.guard(self._on_matrix_click))
        self.matrix_fig.add_class("invw-response-matrix")  # stable hooks for browser tests and CSS
        self.cell_images = SampleGrid(cell_width=56, label="decoded interventions do(z_j := v)")
        self.cell_images.add_class("invw-response-cell-images")
        self.cell_fig = Chart(title="click a cell of M", width=330, height=260,
                              xaxis=dict(title="intervention value v"), yaxis=dict(title="R(z)_i"))
        self.cell_fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="R(z)_i"))
        return section("Latent response matrix", row(self.matrix_fig, self.cell_fig), self.cell_images)

    def _build_intervention(self, z0: torch.Tensor) -> dict:
        d = self.latent_dim
        self.sliders = LatentSliders([float(v) for v in z0.clamp(-3, 3)], names=[f"z{i}" for i in range(d)],
                                     minimum=-3.0, maximum=3.0, seed=self.seed, label="latent point z")
        self.decoded = ImageView(caption="D(z)", width=128, label="decoded")
        self.redecoded = ImageView(caption="D(R(z))", width=128, label="after the response")
        self.vector_fig = Chart(title="z, R(z), R(z) − z and diag(M)", width=420, height=260, barmode="group",
                                xaxis=dict(dtick=1, title="latent"), yaxis=dict(title="value"))
        for label in ("z", "R(z)", "R(z) − z", "diag M", "KL per dim"):
            self.vector_fig.add_trace(go.Bar(x=list(range(d)), y=[0.0] * d, name=label))
        return section("Intervention", row(self.sliders, col(self.decoded, self.redecoded), self.vector_fig))

    def _build_map(self) -> dict:
        options = [(f"z{i}", i) for i in range(self.latent_dim)]
        self.dim_a = ui.Dropdown(options=options, value=0, description="a (x)")
        self.dim_b = ui.Dropdown(options=options, value=1, description="b (y)")
        self.radius_slider = ui.FloatSlider(value=self.radius, min=0.5, max=4.0, step=0.25, description="radius")
        self.resolution_slider = ui.IntSlider(value=self.resolution, min=8, max=96, step=4, description="resolution")
        self.base_button = ui.Button(description="new base point")
        maps = [("map_magnitude", "‖R(z) − z‖", "sequential"), ("map_divergence", "divergence", "diverging"),
                ("map_curvature", "mean curvature", "diverging"),
                ("map_posterior", "posterior (log counts)", "sequential")]
        for name, caption, cmap in maps:
            setattr(self, name, ImageView(caption="", cmap=cmap, heatmap_opacity=1.0, width=150, label=caption))
        self.map_decoded = SampleGrid(cell_width=24, label="decoded over the grid (b up, a right)")
        return section("Response map", row(self.dim_a, self.dim_b, self.base_button),
                       row(self.radius_slider, self.resolution_slider),
                       row(*(getattr(self, name) for name, _, _ in maps)), self.map_decoded)

    def _build_factors(self) -> dict | None:
        self.factor_fig = self.scores_fig = self.codes_fig = self.factor_dropdown = None
        self.factor_traversal = SampleGrid(cell_width=40, label="traversal of the factor")
        if not self.has_factors:
            return None
        dataset, d = self.dataset, self.latent_dim
        assert dataset is not None and dataset.factor_names is not None and dataset.factor_sizes is not None
        usable = [n for n, s in zip(dataset.factor_names, dataset.factor_sizes) if s >= 2]
        self.factor_fig = Chart(title="conditioned response matrix C", width=380, height=260,
                                xaxis=dict(title="latent", dtick=1), yaxis=dict(title="factor", autorange="reversed"))
        self.factor_fig.add_trace(go.Heatmap(z=np.zeros((len(usable), d)).tolist(), x=list(range(d)), y=usable,
                                             colorscale="Viridis", name="C"))
        self.scores_fig = Chart(title="disentanglement scores", width=330, height=260,
                                yaxis=dict(range=[0, 1], title="score"), xaxis=dict(title="metric"))
        self.scores_fig.add_trace(go.Bar(x=["CDS", "MIG", "DCI-D", "DCI-C", "DCI-I"], y=[0.0] * 5, name="score"))
        self.factor_dropdown = ui.Dropdown(options=usable, value=usable[0], description="factor")
        self.codes_fig = Chart(title="encodings along the traversal", width=330, height=240,
                               xaxis=dict(title="factor value"), yaxis=dict(title="posterior mean"))
        for i in range(d):
            self.codes_fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name=f"z{i}"))
        self.factor = usable[0]
        return section("Factors", row(self.factor_fig, self.scores_fig), row(self.factor_dropdown, self.codes_fig),
                       self.factor_traversal)

    def _connect(self) -> None:
        self.observe(self.guard(self._on_cell), names="cell")
        self.sliders.observe(self.guard(self._on_values), names="values")
        for control in (self.dim_a, self.dim_b, self.radius_slider, self.resolution_slider):
            control.observe(self.guard(self._on_map_controls), names="value")
        self.base_button.on_click(self.guard(lambda _b: self.new_base_point()))
        if self.factor_dropdown is not None:
            self.factor_dropdown.observe(self.guard(self._on_factor_dropdown), names="value")
            self.observe(self.guard(self._on_factor), names="factor")
        self._first_requests()

    def _first_requests(self) -> None:
        self.recompute_matrix()
        self._request_intervention()
        if self.dataset is not None:
            self.run_in_worker("codes", self._encode_dataset, on_result=self._show_codes, priority="batch", busy=False)
        self._request_map()
        if self.has_factors:
            self._request_traversal()
            self.run_in_worker("factors", self._factor_scores, priority="batch", on_result=self._show_factor_scores)

    # ------------------------------------------------------------------ model helpers
    def _images(self, x: torch.Tensor, record: bool = True) -> torch.Tensor | None:
        """Decoder output as images N×C×H×W in [0, 1], or ``None`` when it is not an image;
        ``record`` keeps the fraction of values clamped in :attr:`clamped`."""
        if self._transform is not None:
            x = self._transform(x)
        return self._to_images(x) if record else to_images(x)[0]

    def _decode_images(self, z: torch.Tensor) -> torch.Tensor | None:
        return self._images(decode_mean(self.model, z))

    def _current(self) -> torch.Tensor:
        return torch.tensor(self.sliders.values, dtype=torch.float32)

    # ------------------------------------------------------------------ 1. matrix and cell
    def recompute_matrix(self, seed: int | None = None) -> None:
        """(Re)compute the response matrix in the worker with ``seed`` (default: the explorer's)."""
        seed = self.seed if seed is None else int(seed)
        d = self.latent_dim

        def work() -> torch.Tensor:
            m = response_matrix(self.model, d, n_samples=self.n_samples, generator=seed)
            if self.scale == "std":  # same draws as raw, columns in units of each latent's std
                assert self.dataset is not None
                m = rescale(m, latent_std(encode_mean(self.model, self.dataset[:][0])))
            return m

        def show(m: torch.Tensor) -> None:
            self.matrix = m
            with self.matrix_fig.batch_update():
                self.matrix_fig.data[0].z = m.numpy().tolist()
            self.vector_fig.data[3].y = m.diagonal().tolist()
            if self._auto_dims:  # until the user picks latents, map the two most informative ones
                self._auto_dims = False
                a, b = (int(k) for k in torch.argsort(m.diagonal(), descending=True, stable=True)[:2])
                if (a, b) != (self.dim_a.value, self.dim_b.value):
                    self._quiet_controls = True
                    try:
                        self.dim_a.value, self.dim_b.value = a, b
                    finally:
                        self._quiet_controls = False
                    self._request_map()

        self.run_in_worker("matrix", work, on_result=show)

    def _on_matrix_click(self, trace: int, point: dict) -> None:
        j, i = (int(v) for v in point["index"])  # [row, column] of the heatmap
        self.select_cell(j, i)

    def select_cell(self, j: int, i: int) -> None:
        """Select matrix cell (``j`` intervened, ``i`` responding): shows interventions on
        ``z_j`` around the current latent point and ``R(z)_i`` against the intervention value."""
        d = self.latent_dim
        if not (0 <= int(j) < d and 0 <= int(i) < d):
            raise IndexError(f"cell ({j}, {i}) out of range for {d} latents")
        self.cell = (int(j), int(i))

    def _on_cell(self, change: dict) -> None:
        j, i = change["new"]
        # The clicked cell stays marked on the matrix.
        self.matrix_fig.layout.shapes = [] if j < 0 else [
            dict(type="rect", x0=i, x1=i, y0=j, y1=j, line=dict(color="#ff4081", width=3))]
        self._request_cell()

    def _request_cell(self) -> None:
        j, i = self.cell
        if j < 0:
            return
        z = self._current()
        values = torch.linspace(-self.span, self.span, self.n_steps)

        def work() -> tuple[torch.Tensor | None, torch.Tensor]:
            zs = z.repeat(self.n_steps, 1)
            zs[:, j] = values
            return self._decode_images(zs), response(self.model, zs)[:, i]

        def show(result: tuple[torch.Tensor | None, torch.Tensor]) -> None:
            images, r = result
            self.cell_values, self.cell_response = values, r
            if images is not None:
                self.cell_images.set_images(images, captions=[f"z{j}={v:+.1f}" for v in values.tolist()],
                                            ncols=self.n_steps)
            with self.cell_fig.batch_update():
                self.cell_fig.data[0].x = values.tolist()
                self.cell_fig.data[0].y = r.tolist()
                self.cell_fig.data[0].name = f"R(z)_{i}"  # the legend names the latent plotted
                self.cell_fig.layout.title.text = f"R(z)_{i} under do(z_{j} := v)"
                self.cell_fig.layout.yaxis.title.text = f"R(z)_{i}"

        self.run_in_worker("cell", work, on_result=show)

    # ------------------------------------------------------------------ 2. interventions
    def set_latent(self, z: Any) -> None:
        """Set the sliders (the current latent point) to ``z`` (length ``latent_dim``)."""
        t = torch.as_tensor(z, dtype=torch.float32).flatten()
        if t.numel() != self.latent_dim:
            raise ValueError(f"z has {t.numel()} values, expected {self.latent_dim}")
        if not torch.isfinite(t).all():
            raise ValueError("z contains NaN or infinite values")
        self.sliders.values = [float(v) for v in t.clamp(-3, 3)]

    def _on_values(self, change: dict) -> None:
        self._request_intervention()
        self._request_cell()

    def _request_intervention(self) -> None:
        z = self._current()

        def work() -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
            r = response(self.model, z[None])[0]
            return r, self._decode_images(z[None]), self._decode_images(r[None])

        def show(result: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]) -> None:
            r, dz, dr = result
            self.current_response = r
            if dz is not None:
                self.decoded.set_image(dz[0])
                self.redecoded.set_image(dr[0])  # type: ignore[index]
            with self.vector_fig.batch_update():
                self.vector_fig.data[0].y = z.tolist()
                self.vector_fig.data[1].y = r.tolist()
                self.vector_fig.data[2].y = (r - z).tolist()

        self.run_in_worker("intervention", work, on_result=show,
                           cache_key=("intervention", id(self.model), tuple(round(v, 6) for v in z.tolist())))

    # ------------------------------------------------------------------ 3. response maps
    def new_base_point(self) -> None:
        """Draw a new base point of the response map from the prior (seeded generator)."""
        self._map_base = torch.randn(self.latent_dim, generator=self._generator)
        self._request_map()

    def set_map(self, dims: tuple[int, int] | None = None, radius: float | None = None,
                resolution: int | None = None, base: Any = None) -> None:
        """Change the response map's latents, radius, resolution or base point and recompute."""
        self._auto_dims = False
        with self.hold_trait_notifications():
            if base is not None:
                b = torch.as_tensor(base, dtype=torch.float32).flatten()
                if b.numel() != self.latent_dim:
                    raise ValueError(f"base has {b.numel()} values, expected {self.latent_dim}")
                self._map_base = b
            if dims is not None:
                a, b2 = int(dims[0]), int(dims[1])
                if a == b2 or not (0 <= a < self.latent_dim and 0 <= b2 < self.latent_dim):
                    raise ValueError(f"dims must be two different latents in [0, {self.latent_dim}), got {dims}")
                self.dim_a.value, self.dim_b.value = a, b2
            if radius is not None:
                self.radius_slider.value = float(radius)
            if resolution is not None:
                self.resolution_slider.value = int(resolution)
        self._request_map()

    def _on_map_controls(self, change: dict) -> None:
        if self._quiet_controls:
            return
        self._auto_dims = False
        if self.dim_a.value == self.dim_b.value:
            raise ValueError("choose two different latents for the response map")
        self._request_map()

    def _request_map(self) -> None:
        a, b = int(self.dim_a.value), int(self.dim_b.value)
        if a == b:
            return
        radius, resolution = float(self.radius_slider.value), int(self.resolution_slider.value)
        base = self._map_base.clone()
        every = max(1, resolution // 8)

        def work() -> tuple[ResponseMap, torch.Tensor | None]:
            m = response_map(self.model, base, (a, b), radius=radius, resolution=resolution)
            z = m.latents.flip(0)[::every, ::every]  # top row = highest b
            rows, cols, _ = z.shape
            return m, self._decode_images(z.reshape(rows * cols, -1))

        def show(result: tuple[ResponseMap, torch.Tensor | None]) -> None:
            m, images = result
            self.map = m
            self.radius, self.resolution = radius, resolution
            self.dims = (a, b)
            blank = np.zeros((resolution, resolution), dtype=np.float32)
            for view, values in ((self.map_magnitude, m.magnitude), (self.map_divergence, m.divergence),
                                 (self.map_curvature, m.curvature)):
                h = values.flip(0).numpy()
                view.set_image(blank)
                lim = float(np.quantile(np.abs(h), 0.98)) or 1.0
                if view is self.map_magnitude:
                    view.set_heatmap(h, vmin=0.0, vmax=max(lim, 1e-12))
                else:
                    view.set_heatmap(h, vmin=-lim, vmax=lim)
            for view in (self.map_magnitude, self.map_divergence, self.map_curvature, self.map_posterior):
                view.caption = f"z{a} → right, z{b} ↑ up, ±{radius:g}"
            if images is not None:
                ncols = len(range(0, resolution, every))
                self.map_decoded.set_images(images, ncols=ncols)
            self._show_posterior()

        self.run_in_worker("map", work, on_result=show)

    def _show_posterior(self) -> None:
        if self.codes is None or self.map is None:
            return
        a, b = self.map.dims
        h = posterior_histogram(self.codes, (a, b), self.map.radius, self.map.resolution)
        self.posterior = h
        self.map_posterior.set_image(np.zeros(tuple(h.shape), dtype=np.float32))
        self.map_posterior.set_heatmap(torch.log1p(h).flip(0).numpy(), vmin=0.0,
                                       vmax=max(float(torch.log1p(h).max()), 1e-12))

    def _encode_dataset(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Posterior means of the dataset, and the mean KL per latent when the model exposes
        ``encode_dist`` (a VAE): active units have a large KL and a large diagonal of M."""
        assert self.dataset is not None
        x = self.dataset[:][0]
        codes = encode_mean(self.model, x)
        kl = None
        encode_dist = getattr(self.model, "encode_dist", None)
        if callable(encode_dist) and getattr(self.model, "variational", True):
            with torch.inference_mode():
                mu, logvar = encode_dist(x)
            kl = gaussian_kl(mu.float().cpu(), logvar.float().cpu()).mean(0)
        return codes, kl

    def _show_codes(self, result: tuple[torch.Tensor, torch.Tensor | None]) -> None:
        codes, kl = result
        self.codes = codes
        self.kl_per_dim = kl
        if kl is not None:
            with self.vector_fig.batch_update():
                self.vector_fig.data[4].y = kl.tolist()
        self._show_posterior()

    # ------------------------------------------------------------------ 4. factors
    def _factor_scores(self, job: Any) -> tuple[Any, dict[str, float]]:
        assert self.dataset is not None and self.dataset.factors is not None

        def progress(done: float, total: float, message: str) -> None:
            job.progress(done, total, message)

        cond = conditioned_response_matrix(self.model, self.dataset, n_traversals=self.n_traversals,
                                           generator=self.seed, progress=progress)
        job.check()
        codes = encode_mean(self.model, self.dataset[:][0])
        m = mig(codes, self.dataset.factors, factor_names=self.dataset.factor_names)
        job.check()
        d = dci(codes, self.dataset.factors, factor_names=self.dataset.factor_names, seed=self.seed)
        scores = {"cds": cond.score, "mig": m.score, "dci_disentanglement": d.disentanglement,
                  "dci_completeness": d.completeness, "dci_informativeness": d.informativeness}
        return cond, scores

    def _show_factor_scores(self, result: tuple[Any, dict[str, float]]) -> None:
        cond, scores = result
        self.conditioned, self.scores = cond, scores
        assert self.factor_fig is not None and self.scores_fig is not None
        shown = "degenerate" if cond.degenerate else f"{scores['cds']:.3f}"
        with self.factor_fig.batch_update():
            self.factor_fig.data[0].z = cond.matrix.numpy().tolist()
            self.factor_fig.data[0].y = list(cond.factor_names)
            self.factor_fig.layout.title.text = f"conditioned response matrix C (CDS = {shown})"
        # a degenerate CDS is not drawn as a bar (it would read as a clean 1.0): its label says why
        self.scores_fig.data[0].y = [0.0 if cond.degenerate else scores["cds"], scores["mig"],
                                     scores["dci_disentanglement"], scores["dci_completeness"],
                                     max(0.0, scores["dci_informativeness"])]
        self.scores_fig.data[0].x = ["CDS (degenerate)" if cond.degenerate else "CDS", "MIG", "DCI-D", "DCI-C",
                                     "DCI-I"]
        self.scores_fig.data[0].hovertext = [cond.degenerate or "", "", "", "", ""]
        self.scores_fig.layout.title.text = ("disentanglement scores (CDS degenerate: hover its bar)"
                                             if cond.degenerate else "disentanglement scores")

    def select_factor(self, name: str) -> None:
        """Show a traversal of factor ``name`` (from the current dataset sample) and its codes."""
        if self.factor_dropdown is None:
            raise ValueError("this explorer has no dataset with factors")
        if name not in self.factor_dropdown.options:
            raise ValueError(f"unknown factor {name!r}; factors: {list(self.factor_dropdown.options)}")
        self.factor = name

    def _on_factor_dropdown(self, change: dict) -> None:
        self.factor = change["new"]

    def _on_factor(self, change: dict) -> None:
        if self.factor_dropdown is not None and self.factor_dropdown.value != change["new"]:
            self.factor_dropdown.value = change["new"]
        self._request_traversal()

    def _request_traversal(self) -> None:
        assert self.dataset is not None
        name = self.factor
        idx = traversal(self.dataset, name, 0)

        def work() -> tuple[torch.Tensor, torch.Tensor | None]:
            x = self.dataset[idx][0]  # type: ignore[index]
            return encode_mean(self.model, x), self._images(x, record=False)

        def show(result: tuple[torch.Tensor, torch.Tensor | None]) -> None:
            codes, images = result
            self.traversal_codes = codes
            steps = list(range(codes.shape[0]))
            if images is not None:
                # cells are 40 px wide: the heading names the factor, captions give its value only
                self.factor_traversal.label = f"traversal of {name} (caption: its value)"
                self.factor_traversal.set_images(images, captions=[str(s) for s in steps], ncols=len(steps))
            assert self.codes_fig is not None
            with self.codes_fig.batch_update():
                for i, tr in enumerate(self.codes_fig.data):
                    tr.x = steps
                    tr.y = codes[:, i].tolist()
                self.codes_fig.layout.title.text = f"encodings along a traversal of {name}"

        self.run_in_worker("traversal", work, on_result=show)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Close the explorer, its views and charts, and release the worker."""
        if "_client_token" not in self.__dict__:  # the constructor failed before the widget existed
            return
        super().close()

    def _view_targets(self) -> dict[str, Any]:
        views = {"intervention": ("decoded", "redecoded"), "cell": ("cell_images",),
                 "map": ("map_magnitude", "map_divergence", "map_curvature", "map_decoded"),
                 "traversal": ("factor_traversal",)}
        return {request: [getattr(self, n, None) for n in names] for request, names in views.items()}

    def _cache_dependencies(self) -> Any:
        return (self.model, self._transform)
