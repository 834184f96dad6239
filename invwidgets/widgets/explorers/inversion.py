"""InversionExplorer: samples of p(x | f_l(x)), per-pixel entropy, Î per layer and over training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import traitlets
from torch import nn

from ...data import Dataset
from ...methods.inversion import (
    CheckpointMI,
    MIEstimate,
    entropy_map,
    fit_inversions,
    layer_features,
    mutual_information,
    sample_inversion,
)
from ...methods.layers import resolve_layer
from ...models.pixelcnn import InversionSet
from ..views import Chart, ImageView, SampleGrid
from ..views import controls as ui
from .base import Explorer, as_batch, check_dataset, col, row, section
from .inputs import check_image_batch, check_index, picker_indices

__all__ = ["InversionExplorer"]

#: Bar colours of a clean and of a flagged estimate (a flagged bar is also hatched).
CLEAN_COLOR = "#4c78a8"
FLAGGED_COLOR = "#e45756"


class InversionExplorer(Explorer):
    """Explore what a classifier's layers keep of the input (Nash et al. 2019).

    Pick an input (grid) and a layer (dropdown): the explorer shows ``n_samples`` draws from the
    inversion model ``p(x | f_l(x))`` beside the input, the input with its per-pixel conditional
    entropy ``H(x_i | x_<i, f_l(x))`` (bits) as a heatmap, a bar chart of Î(x; f_l(x)) per layer
    with bootstrap intervals and Ĥ(x) as a reference line, and — when ``checkpoint_mi`` is given —
    an epoch slider over the classifier's checkpoints with Î curves per layer.

    Every estimate carries its diagnostics (:func:`~invwidgets.methods.inversion.mutual_information`,
    read with the test set's labels for the Fano check): a flagged bar is drawn red and hatched,
    with the reasons in its hover text, the chart title and :attr:`flags_note`; flagged
    checkpoint points are crosses.

    All model work runs in the background worker. Without ``inversions`` the models are fitted
    there as a batch job (progress in the status line, cancellable with :meth:`cancel`).

    Parameters
    ----------
    classifier:
        Any ``nn.Module``; its layers are named by module path (or ``probe_layers`` names).
    layers:
        The layers to invert (``"input"`` = the image itself).
    dataset:
        An :class:`invwidgets.data.Dataset` on discrete levels (``levels`` set): the images to
        pick from, and the held-out images of the MI estimate (unless ``test_set`` is given).
    inversions:
        A fitted :class:`~invwidgets.models.pixelcnn.InversionSet` with ``"uncond"`` and these
        layers, e.g. from the zoo; ``None`` fits one on ``train_set`` (default: ``dataset``).
    train_set, test_set:
        Images to fit on / to estimate MI on (default: ``dataset``; when fitting without either,
        a seeded 80/20 split of ``dataset``).
    checkpoint_mi:
        Î over training (:func:`~invwidgets.methods.inversion.mi_over_checkpoints`), optional.
    n_samples, n_pick:
        Samples per input; dataset images offered in the picker.
    fit:
        Keyword arguments of :func:`~invwidgets.methods.inversion.fit_inversions` when fitting.
    n_boot, seed:
        Bootstrap resamples of the intervals; seed of samples and bootstrap.
    """

    layer = traitlets.Unicode("", help="The layer whose inversion is shown")
    index = traitlets.Int(0, help="Index of the picked dataset image")
    epoch = traitlets.Int(-1, help="Checkpoint epoch shown in the bar chart; -1 = the inversions' own")
    seed = traitlets.Int(0, help="Seed of the current samples")

    def __init__(
        self,
        classifier: nn.Module,
        layers: Sequence[str],
        dataset: Dataset,
        inversions: InversionSet | None = None,
        *,
        train_set: Dataset | None = None,
        test_set: Dataset | None = None,
        checkpoint_mi: CheckpointMI | None = None,
        n_samples: int = 8,
        n_pick: int = 16,
        fit: Mapping[str, Any] | None = None,
        n_boot: int = 200,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        if not isinstance(classifier, nn.Module):
            raise TypeError(f"classifier must be an nn.Module, got {type(classifier).__name__}")
        check_dataset(dataset, hint="from_tensors(images, levels=...)")
        if dataset.levels is None:
            raise ValueError("the dataset must be on discrete levels (Dataset.levels) for a categorical PixelCNN")
        layers = list(layers)
        if not layers:
            raise ValueError("give at least one layer")
        for l in layers:
            resolve_layer(classifier, l)  # KeyError with the model's layers for a typo
        if inversions is not None:
            if not isinstance(inversions, InversionSet):
                raise TypeError(f"inversions must be an InversionSet, got {type(inversions).__name__}")
            missing = [l for l in ["uncond", *layers] if l not in inversions]
            if missing:
                raise ValueError(f"inversions lack models for {missing}; have {inversions.names}")
        if n_samples < 1:
            raise ValueError(f"n_samples must be positive, got {n_samples}")
        if checkpoint_mi is not None and not isinstance(checkpoint_mi, CheckpointMI):
            raise TypeError("checkpoint_mi must be a CheckpointMI from mi_over_checkpoints")
        super().__init__(device=device)
        classifier.eval()
        self.classifier = classifier
        self.layers = layers
        self.dataset = dataset
        if inversions is None and train_set is None and test_set is None:
            # fit on 80 % and estimate MI on the held-out 20 % (a stratified, seeded split)
            train_set, test_set = dataset.split(test_fraction=0.2, seed=int(seed))
        self.train_set = train_set or dataset
        self.test_set = test_set or dataset
        self.inversions = inversions
        self.checkpoint_mi = checkpoint_mi
        self.n_samples = int(n_samples)
        self.n_boot = int(n_boot)
        self.mi: MIEstimate | None = None
        self._fit_kwargs = dict(fit or {})
        self.seed = int(seed)

        self.pick_indices = picker_indices(dataset, n_pick)
        self.layer = layers[0]
        self.set_layout(*self._build_panels())
        self._connect()
        if inversions is None:
            self._start_fit()
        else:
            self._request_mi()
            self._request_samples()

    # ------------------------------------------------------------------ panels
    def _build_panels(self) -> list:
        images, layers = self.dataset.images, self.layers
        self.picker = SampleGrid(images[self.pick_indices], captions=[str(i) for i in self.pick_indices],
                                 ncols=min(8, len(self.pick_indices)), cell_width=48,
                                 label="pick an input (dataset index)")
        self.picker.selected = self._pick_position(0)
        self.original = ImageView(images[0], caption="input", width=160, label="input")
        self.entropy = ImageView(images[0], caption="H(x_i | x_<i, h) bits", width=160, cmap="sequential",
                                 label="per-pixel entropy (bits)")
        self.samples = SampleGrid(ncols=min(4, self.n_samples), cell_width=80,
                                  label="samples of p(x | layer features)")
        self.layer_picker = ui.Dropdown(options=layers, value=layers[0], description="layer")
        self.resample_button = ui.Button(description="resample")
        self.mi_figure = Chart(title="Î(x; layer) in bits", height=280, width=420, yaxis_title="bits",
                               xaxis_title="layer", showlegend=True)
        self.mi_figure.add_bar(x=layers, y=[0.0] * len(layers), name="Î",
                               error_y=dict(type="data", array=[0.0] * len(layers)))
        self.mi_figure.add_scatter(x=layers, y=[0.0] * len(layers), mode="lines", name="Ĥ(x)",
                                   line=dict(dash="dash", color="gray"))
        self.note = ui.HTML("")
        #: One text line per diagnostic flag of the estimate shown (empty when it is clean).
        self.flags_note = ui.HTML("")
        self.curves_figure, self.epoch_slider = self._build_curves()
        top = row(col(row(self.layer_picker, self.resample_button), row(self.original, self.entropy), self.samples),
                  col(self.mi_figure, self.flags_note, self.epoch_slider, self.curves_figure))
        return [section("Inversions of one layer", top, self.note), section("Inputs", self.picker)]

    def _build_curves(self) -> tuple[Chart | None, ui.SelectionSlider | None]:
        cmi = self.checkpoint_mi
        if cmi is None:
            return None, None
        curves = Chart(title="Î over training", height=280, width=420, xaxis_title="epoch", yaxis_title="bits")
        for l in cmi.layers:
            lo_hi, ys = cmi.intervals(l), cmi.curve(l)
            bad = [cmi.estimates[e].layers[l].flagged for e in cmi.epochs]
            curves.add_scatter(
                x=cmi.epochs, y=ys, mode="lines+markers", name=l,
                marker=dict(symbol=["x" if b else "circle" for b in bad], size=[10 if b else 6 for b in bad]),
                hovertext=["; ".join(f.message for f in cmi.estimates[e].layers[l].flags) or "no flag"
                           for e in cmi.epochs],
                error_y=dict(type="data", symmetric=False, array=[hi - y for (lo, hi), y in zip(lo_hi, ys)],
                             arrayminus=[y - lo for (lo, hi), y in zip(lo_hi, ys)]))
        slider = ui.SelectionSlider(options=cmi.epochs, value=cmi.epochs[-1], description="epoch")
        return curves, slider

    def _connect(self) -> None:
        self.layer_picker.observe(self.guard(self._on_layer_pick), names="value")
        self.observe(self.guard(self._on_layer), names="layer")
        self.picker.observe(self.guard(self._on_pick), names="selected")
        self.resample_button.on_click(self.guard(lambda _b: self.resample()))
        if self.epoch_slider is not None:
            self.epoch_slider.observe(self.guard(self._on_epoch), names="value")

    def _pick_position(self, index: int) -> int:
        return self.pick_indices.index(index) if index in self.pick_indices else -1

    # ------------------------------------------------------------------ worker requests
    def _start_fit(self) -> None:
        kwargs = {"epochs": 10, **self._fit_kwargs}
        images = self.train_set.images
        levels = int(self.dataset.levels)  # type: ignore[arg-type]

        def job_fn(job: Any = None) -> InversionSet:
            inv, _ = fit_inversions(self.classifier, self.layers, images, levels=levels, job=job, **kwargs)
            return inv

        def done(inv: InversionSet) -> None:
            self.inversions = inv
            self.note.value = ""
            self._request_mi()
            self._request_samples()

        self.note.value = "<i>fitting inversion models in the background…</i>"
        self._fit_handle = None
        self.observe(self._fit_note, names="status")
        self._fit_handle = self.run_in_worker("fit", job_fn, priority="batch", on_result=done)
        self._fit_note()  # in sync mode the fit has already ended

    def _fit_note(self, change: Any = None) -> None:
        """Replace the "fitting…" note when the fit ended without models (cancelled or failed)."""
        handle = getattr(self, "_fit_handle", None)
        if handle is None or self.inversions is not None or self._released:
            return
        if handle.cancelled or handle.state == "cancelled":
            text = "fitting cancelled: there are no inversion models to show (pass fitted inversions=)"
        elif handle.exception is not None:
            text = "fitting failed (the error is in the status line): there are no inversion models to show"
        else:
            return
        self.note.value = f"<i>{text}</i>"

    def cancel(self, view: str | None = None) -> None:
        """Cancel this explorer's request for ``view`` (all when ``None``); a cancelled fit says
        so in the note."""
        super().cancel(view)
        self._fit_note()

    def _compute_mi(self) -> MIEstimate:
        assert self.inversions is not None
        return mutual_information(self.inversions, self.classifier, self.test_set.images, layers=self.layers,
                                  n_boot=self.n_boot, seed=self.seed, labels=self.test_set.labels)

    def _request_mi(self) -> None:
        self.run_in_worker("mi", self._compute_mi, priority="batch", on_result=self._show_mi)

    def _show_mi(self, est: MIEstimate) -> None:
        self.mi = est
        if self.epoch == -1 or self.checkpoint_mi is None:
            self._draw_bars(est, f"Î(x; layer) in bits (n={est.n_test} held-out images)")

    def _draw_bars(self, est: MIEstimate, title: str) -> None:
        names = [l for l in self.layers if l in est.layers]
        ys = [est.layers[l].mi_bits for l in names]
        flagged = [est.layers[l].flagged for l in names]
        hover = [f"{l}: {y:.1f} bits [{est.layers[l].ci_low:.1f}, {est.layers[l].ci_high:.1f}]"
                 + ("<br>FLAGGED: " + "<br>".join(f.message for f in est.layers[l].flags) if bad else "")
                 for l, y, bad in zip(names, ys, flagged)]
        lines = [f"⚠ {f.layer or 'all layers'}: {f.message}" for f in est.flags]
        self.flags_note.value = "<br>".join(lines) if lines else ""
        with self.mi_figure.batch_update():
            bar, ref = self.mi_figure.data
            bar.x, bar.y = names, ys
            bar.marker = dict(color=[FLAGGED_COLOR if b else CLEAN_COLOR for b in flagged],
                              pattern=dict(shape=["/" if b else "" for b in flagged]))
            bar.hovertext, bar.hoverinfo = hover, "text"
            bar.error_y = dict(type="data", symmetric=False,
                               array=[est.layers[l].ci_high - y for l, y in zip(names, ys)],
                               arrayminus=[y - est.layers[l].ci_low for l, y in zip(names, ys)])
            ref.x, ref.y = names, [est.h_x_bits] * len(names)
            ref.name = f"Ĥ(x) = {est.h_x_bits:.1f} bits"
            n_bad = sum(flagged)
            self.mi_figure.layout.title = title + (f" — {n_bad} flagged" if n_bad else "")

    def _compute_samples(self, layer: str, index: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.inversions is not None
        x = as_batch(self.dataset.images[index], tuple(self.dataset.images.shape[1:]))
        h = layer_features(self.classifier, [layer], x)[layer]
        samples = sample_inversion(self.inversions, None, layer, x, self.n_samples, generator=seed, h=h)
        ent = entropy_map(self.inversions[layer], x, h)
        return samples, ent

    def _request_samples(self) -> None:
        if self.inversions is None:
            return
        layer, index, seed = self.layer, self.index, self.seed

        def show(result: tuple[torch.Tensor, torch.Tensor]) -> None:
            samples, ent = result
            self.samples.set_images(samples, captions=[f"{layer} #{i}" for i in range(len(samples))])
            self.entropy.set_heatmap(ent.numpy(), vmin=0.0, cmap="sequential")
            self.entropy.caption = f"H(x_i | x_<i, {layer}): {float(ent.sum()):.1f} bits"

        self.run_in_worker("samples", self._compute_samples, layer, index, seed,
                           cache_key=("samples", id(self.inversions), layer, index, seed, self.n_samples),
                           on_result=show)

    # ------------------------------------------------------------------ reactions
    def _on_layer_pick(self, change: dict) -> None:
        self.layer = change["new"]

    def _on_layer(self, change: dict) -> None:
        if change["new"] not in self.layers:
            raise ValueError(f"unknown layer {change['new']!r}; choose one of {self.layers}")
        if self.layer_picker.value != change["new"]:
            self.layer_picker.value = change["new"]
        self._request_samples()

    def _on_pick(self, change: dict) -> None:
        i = change["new"]
        if i is not None and i >= 0 and not self.__dict__.get("_following"):
            self.select(self.pick_indices[i])

    def _on_epoch(self, change: dict) -> None:
        self.show_epoch(int(change["new"]))

    # ------------------------------------------------------------------ public API
    def select(self, index: int) -> None:
        """Show the inversions of dataset image ``index``."""
        index = check_index(index, len(self.dataset))
        # Checked before anything changes: a rejected image leaves the explorer as it was.
        image = check_image_batch(self.dataset.images[index], tuple(self.dataset.images.shape[1:]),
                                  name=f"dataset image {index}")[0]
        self.original.set_image(image)
        self.entropy.set_image(image)
        self.index = index
        self.__dict__["_following"] = True  # the picker outlines the input, also after select()
        try:
            self.picker.selected = self._pick_position(index)
        finally:
            self.__dict__["_following"] = False
        self._request_samples()

    def resample(self, seed: int | None = None) -> None:
        """Draw new samples (with ``seed``, default the next one)."""
        self.seed = self.seed + 1 if seed is None else int(seed)
        self._request_samples()

    def show_epoch(self, epoch: int) -> None:
        """Show the checkpoint estimates of ``epoch`` in the bar chart (the final epoch shows the
        estimate of the explorer's own inversions when it has them)."""
        if self.checkpoint_mi is None:
            raise ValueError("this explorer has no checkpoint_mi")
        if epoch not in self.checkpoint_mi.epochs:
            raise ValueError(f"no checkpoint at epoch {epoch}; have {self.checkpoint_mi.epochs}")
        self.epoch = int(epoch)
        if self.epoch_slider is not None and self.epoch_slider.value != epoch:
            self.epoch_slider.value = epoch
        self._draw_bars(self.checkpoint_mi.estimates[epoch], f"Î(x; layer) at epoch {epoch} (bits)")
        assert self.curves_figure is not None
        self.curves_figure.layout.shapes = [dict(type="line", x0=epoch, x1=epoch, yref="paper", y0=0, y1=1,
                                                 line=dict(color="gray", dash="dot"))]

    def sample_images(self) -> np.ndarray | None:
        """The samples currently shown (N×H×W×C uint8), or ``None``."""
        return self.samples.images

    def _view_targets(self) -> dict[str, Any]:
        return {"samples": [self.samples, self.entropy]}

    def _cache_dependencies(self) -> Any:
        return (self.classifier, self.inversions, self.dataset.images, self.n_samples)
