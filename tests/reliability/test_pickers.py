"""Pickers never show one class only: on a dataset sorted by label (as the MNIST sample file is)
every explorer's picker covers the classes, and clicking a cell selects that cell's image."""

from __future__ import annotations

import pytest
import torch

import invwidgets as iw
from invwidgets.data import from_tensors
from invwidgets.widgets.explorers.inputs import picker_indices


@pytest.fixture(autouse=True)
def _sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


def _sorted_by_label(ds):
    order = torch.argsort(ds.labels, stable=True)
    return ds.subset(order)


def test_picker_indices_cover_the_classes_or_spread_over_the_data():
    ds = _sorted_by_label(iw.data.digits())
    picks = picker_indices(ds, 16)
    assert len(set(ds.labels[picks].tolist())) == 10
    unlabelled = from_tensors(torch.rand(50, 1, 4, 4))
    assert picker_indices(unlabelled, 5) == [0, 12, 24, 37, 49]
    assert picker_indices(unlabelled, 500) == list(range(50))


@pytest.mark.parametrize("kind", ["latent", "invariance", "inversion", "factor"])
def test_every_explorer_picker_covers_the_classes(build, kind):
    ex = build(kind)
    try:
        data = ex.dataset
        classes = len(set(data.labels.tolist()))
        shown = data.labels[ex.pick_indices].tolist()
        assert len(set(shown)) == min(len(shown), classes), shown
        # The grid shows the images it says it shows, and a click selects that image.
        picker = ex.source_picker if kind == "factor" else ex.picker
        assert picker.captions == [str(i) for i in ex.pick_indices]
        cell = len(ex.pick_indices) - 1
        picker.selected = cell
        chosen = ex.source if kind == "factor" else ex.index
        assert chosen == ex.pick_indices[cell]
    finally:
        ex.close()


def test_a_label_sorted_dataset_shows_every_class_in_the_picker(build):
    data = _sorted_by_label(iw.data.digits().subset(range(300)))
    assert data.labels[:16].unique().numel() == 1  # the first images are one class
    ex = iw.LatentExplorer(build.model("latent"), data, n_pick=10, span=3.0, device="cpu")
    try:
        assert sorted(data.labels[ex.pick_indices].tolist()) == list(range(10))
        assert ex.picker.n == 10
    finally:
        ex.close()
