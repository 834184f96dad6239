"""LatentExplorer: drive any autoencoder's decoder from latent sliders, through the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets
import numpy as np
import torch
import traitlets

from ...data import Dataset
from ...models.adapter import as_autoencoder, check_autoencoder
from ..views import ImageView, LatentSliders, SampleGrid
from .base import Explorer, as_batch, check_dataset, row
from .inputs import check_image_batch, check_index, picker_indices

__all__ = ["LatentExplorer", "check_autoencoder"]


class LatentExplorer(Explorer):
    """Explore an autoencoder's latent space with sliders.

    Sliders (one per latent) drive ``decode(z)`` in the background worker and the result is
    drawn in an image view; a grid shows a traversal of the selected latent around the current
    point; clicking a dataset image starts from its encoding.

    Parameters
    ----------
    autoencoder:
        Anything with ``encode(x) -> z`` (N×d, or a tuple whose first item is the mean) and
        ``decode(z) -> x`` (N×C×H×W in [0, 1]). A zoo model or the user's own, of any float
        dtype; wrap it with :func:`invwidgets.models.as_autoencoder` (``decode_output=``) when
        ``decode`` returns a tuple or dict.
    dataset:
        An :class:`invwidgets.data.Dataset` (or ``None``; then ``latent_dim`` is needed).
    latent_dim:
        Number of latents when there is no dataset to encode.
    n_traversal:
        Number of images in the traversal grid.
    span:
        Sliders and traversals range over ``[-span, span]``. By default (``None``) each latent's
        range comes from the encodings of up to ``n_range`` dataset images (their min and max,
        widened by 10 %): a deterministic autoencoder's latents need not lie in [-3, 3]. Without
        a dataset the default is 3.
    n_pick:
        Number of dataset images offered in the picker grid.
    output_transform:
        Maps the decoder's output to images in [0, 1] (default: clamp to [0, 1]).
    device, seed:
        Worker device (default: automatic) and the seed of the sliders' randomise buttons.
    """

    index = traitlets.Int(0, help="Index of the dataset image the sliders started from")

    def __init__(
        self,
        autoencoder: Any,
        dataset: Dataset | None = None,
        *,
        latent_dim: int | None = None,
        n_traversal: int = 7,
        span: float | None = None,
        n_range: int = 512,
        n_pick: int = 16,
        output_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        device: torch.device | str | None = None,
        seed: int = 0,
    ) -> None:
        autoencoder = as_autoencoder(autoencoder)  # validated once: encode and decode
        if dataset is not None:
            check_dataset(dataset)
        if dataset is None and latent_dim is None:
            latent_dim = getattr(autoencoder, "latent_dim", None)
            if latent_dim is None:
                raise ValueError("without a dataset, pass latent_dim (the number of latents)")
        if n_traversal < 2:
            raise ValueError(f"n_traversal must be at least 2, got {n_traversal}")
        if span is not None and not span > 0:
            raise ValueError(f"span must be positive, got {span}")
        super().__init__(device=device)
        try:
            self._build(autoencoder, dataset, latent_dim, n_traversal, span, n_range, n_pick,
                        output_transform, seed)
        except BaseException:
            # A half-built explorer must not keep the worker alive or leave views open.
            self.close()
            raise

    def _build(self, autoencoder: Any, dataset: Dataset | None, latent_dim: int | None,
               n_traversal: int, span: float | None, n_range: int, n_pick: int,
               output_transform: Callable[[torch.Tensor], torch.Tensor] | None,
               seed: int) -> None:
        self.model = autoencoder
        self.dataset = dataset
        self.n_traversal = int(n_traversal)
        self._transform = output_transform
        autoencoder.eval()
        if autoencoder.device != self.device and isinstance(autoencoder.module, torch.nn.Module):
            autoencoder.to(self.device)

        # The starting point: the encoding of the first dataset image, or zeros.
        if dataset is not None:
            z0 = self._encode_index(0)
            d = z0.numel()
        else:
            d = int(latent_dim)  # type: ignore[arg-type]
            z0 = torch.zeros(d)
        self.latent_dim = d
        if span is not None:
            self._lo, self._hi = torch.full((d,), -float(span)), torch.full((d,), float(span))
        elif dataset is not None:
            self._lo, self._hi = self._latent_ranges(n_range)
        else:
            self._lo, self._hi = torch.full((d,), -3.0), torch.full((d,), 3.0)
        self.sliders = LatentSliders(
            self._clamp(z0), names=[f"z{i}" for i in range(d)], groups=["latent"] * d,
            minimum=self._lo.tolist(), maximum=self._hi.tolist(), seed=seed,
        )
        self.sliders.selected = 0
        self.sliders.label = "latents z"
        self.decoded = ImageView(caption="decode(z)", width=160, label="decoded")
        self.traversal = SampleGrid(ncols=self.n_traversal, cell_width=72, label="traversal")
        self.pick_indices: list[int] = []
        self.original = self.picker = None
        if dataset is not None:
            self.original = ImageView(caption="input", width=160, label="input")
            # Every class (or evenly spaced over the dataset), so the picker shows its variety.
            self.pick_indices = picker_indices(dataset, n_pick)
            self.picker = SampleGrid(
                dataset.images[self.pick_indices], captions=[str(i) for i in self.pick_indices],
                ncols=min(8, len(self.pick_indices)), cell_width=48, label="pick an input (dataset index)",
            )
            self.picker.selected = self._pick_position(0)
        self.set_layout(row(self.original, self.decoded, self.sliders), self.traversal, self.picker)

        self.sliders.observe(self.guard(self._on_values), names="values")
        self.sliders.observe(self.guard(self._on_selected), names="selected")
        if self.picker is not None:
            self.picker.observe(self.guard(self._on_pick), names="selected")
            self.original.set_image(dataset.images[0])  # type: ignore[union-attr]
        self._request_frames()

    # ------------------------------------------------------------------ model calls
    def _images(self, x: torch.Tensor) -> torch.Tensor:
        if self._transform is not None:
            x = self._transform(x)
        images = self._to_images(x)
        if images is None:
            raise ValueError(
                f"decode(z) returned shape {tuple(x.shape)}, expected N×C×H×W with C in (1, 3); "
                "pass output_transform to reshape it"
            )
        return images

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self._images(self.model.decode(z))

    def _encode_index(self, index: int) -> torch.Tensor:
        assert self.dataset is not None
        x = as_batch(self.dataset.images[index], tuple(self.dataset.images.shape[1:]))
        return self.model.encode_mean(x)[0]

    def _latent_ranges(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-latent [min, max] of the encodings of up to ``n`` evenly spaced dataset images,
        widened by 10 % on each side (and to at least ±0.5 around the middle)."""
        assert self.dataset is not None
        total = len(self.dataset)
        idx = torch.linspace(0, total - 1, min(max(int(n), 1), total)).round().long().unique()
        x = as_batch(self.dataset.images[idx], tuple(self.dataset.images.shape[1:]))
        z = self.model.encode_mean(x, batch_size=256)
        lo, hi = z.min(0).values, z.max(0).values
        mid, half = (lo + hi) / 2, ((hi - lo) / 2 * 1.1).clamp_min(0.5)
        return mid - half, mid + half

    def _clamp(self, z: torch.Tensor) -> list[float]:
        return [float(v) for v in torch.maximum(torch.minimum(z.float(), self._hi), self._lo)]

    def _traverse(self, z: torch.Tensor, j: int) -> torch.Tensor:
        values = torch.linspace(float(self._lo[j]), float(self._hi[j]), self.n_traversal)
        batch = z.repeat(self.n_traversal, 1)
        batch[:, j] = values
        return self._decode(batch)

    # ------------------------------------------------------------------ reactions
    def _current(self) -> torch.Tensor:
        return torch.tensor(self.sliders.values, dtype=torch.float32)

    def _request_frames(self, traversal: bool = True) -> None:
        z = self._current()
        key = ("decode", id(self.model), tuple(round(v, 6) for v in self.sliders.values))
        self.run_in_worker(
            "decode", lambda: self._decode(z.unsqueeze(0))[0], cache_key=key,
            on_result=self.decoded.set_image,
        )
        if traversal:
            self._request_traversal(z)

    def _request_traversal(self, z: torch.Tensor) -> None:
        j = self.sliders.selected
        if not 0 <= j < self.latent_dim:
            return
        values = torch.linspace(float(self._lo[j]), float(self._hi[j]), self.n_traversal).tolist()
        captions = [f"z{j}={v:+.1f}" for v in values]
        self.traversal.label = f"traversal of z{j} (the other latents as the sliders)"
        # A batch request: the slider's own frame is always computed first.
        self.run_in_worker(
            "traversal", self._traverse, z, j, priority="batch", busy=False,
            on_result=lambda imgs: self.traversal.set_images(imgs, captions=captions,
                                                             ncols=self.n_traversal),
        )

    def _on_values(self, change: dict) -> None:
        old, new = change["old"] or [], change["new"] or []
        moved = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        # The traversal of the selected latent does not depend on that latent's own value:
        # while the user drags it, only the decoded image needs the worker.
        only_selected = len(old) == len(new) and moved == [self.sliders.selected]
        self._request_frames(traversal=not only_selected)

    def _on_selected(self, change: dict) -> None:
        self._request_traversal(self._current())

    def _on_pick(self, change: dict) -> None:
        i = change["new"]
        if i is None or i < 0 or self.__dict__.get("_following"):
            return
        self.select(self.pick_indices[i])

    def _pick_position(self, index: int) -> int:
        """Where dataset image ``index`` sits in the picker (-1 when it does not offer it)."""
        return self.pick_indices.index(index) if index in self.pick_indices else -1

    # ------------------------------------------------------------------ public API
    def select(self, index: int) -> None:
        """Start from the encoding of dataset image ``index`` (computed in the worker)."""
        if self.dataset is None:
            raise ValueError("this explorer has no dataset to select from")
        index = check_index(index, len(self.dataset))
        # Checked before anything changes: a rejected image leaves the explorer as it was.
        image = check_image_batch(self.dataset.images[index], tuple(self.dataset.images.shape[1:]),
                                  name=f"dataset image {index}")[0]

        def done(z: torch.Tensor) -> None:
            # Only once the image is encoded do the index, the input view and the sliders move
            # together; a model that fails leaves all three as they were.
            if self.original is not None:
                self.original.set_image(image)
            self.index = index
            values = self._clamp(z)
            # "reset" returns to the picked input, and the picker outlines it (also when the
            # selection came from code).
            self.sliders.defaults = values
            self.sliders.values = values
            if self.picker is not None:
                self.__dict__["_following"] = True
                try:
                    self.picker.selected = self._pick_position(index)
                finally:
                    self.__dict__["_following"] = False

        self.run_in_worker("encode", self._encode_index, index, on_result=done)

    def set_latent(self, z: Any) -> None:
        """Set the sliders to the latent vector ``z`` (length ``latent_dim``)."""
        t = torch.as_tensor(z, dtype=torch.float32).flatten()
        if t.numel() != self.latent_dim:
            raise ValueError(f"z has {t.numel()} values, expected {self.latent_dim}")
        if not torch.isfinite(t).all():
            raise ValueError("z contains NaN or infinite values")
        self.sliders.values = self._clamp(t)

    def image(self) -> np.ndarray:
        """The decoded image of the current sliders as a float array C×H×W (computed now)."""
        return self._decode(self._current().unsqueeze(0))[0].numpy()

    def _view_targets(self) -> dict[str, Any]:
        return {"decode": self.decoded, "traversal": self.traversal}

    def _cache_dependencies(self) -> Any:
        return (self.model, self._transform, tuple(self._lo.tolist()), tuple(self._hi.tolist()),
                self.n_traversal)

    def _owned_widgets(self) -> list[ipywidgets.Widget]:
        names = ("sliders", "decoded", "traversal", "picker", "original")
        owned = [getattr(self, n, None) for n in names]
        return [w for w in owned if w is not None] + super()._owned_widgets()
