"""Tests of dataset provenance (citation, licence, url, info) and of Dataset.pick_indices."""

import pytest
import torch

from invwidgets.data import (
    Dataset,
    color_digits,
    digits,
    from_tensors,
    helix,
    sprites,
)
from invwidgets.data import provenance as src
from invwidgets.data.dataset import DatasetInfo
from invwidgets.data.digits import all_colorings


@pytest.mark.parametrize(
    ("make", "source"),
    [
        (digits, src.OPTDIGITS),
        (color_digits, src.COLOR_DIGITS),
        (lambda: sprites(size=16), src.SPRITES),
        (helix, src.HELIX),
    ],
)
def test_builtin_datasets_carry_their_source(make, source):
    d = make()
    assert (d.citation, d.license, d.url) == (source.citation, source.license, source.url)
    assert d.citation and d.license
    info = d.info
    assert isinstance(info, DatasetInfo)
    assert info.name == d.name and info.n == len(d) and info.shape == d.shape
    assert info.license == d.license and info.citation == d.citation


def test_provenance_survives_subset_split_empty_and_recolouring():
    d = color_digits()
    tr, te = d.split(0.2, seed=0)
    for part in (tr, te, d.subset([3, 1]), d.subset([]), all_colorings(te)):
        assert (part.citation, part.license, part.url) == (d.citation, d.license, d.url)


def test_info_factors_and_labels():
    assert digits().info.factors == (("label", 10),)
    assert color_digits(n_colors=5).info.factors == (("digit", 10), ("color", 5))
    assert sprites(size=16).info.factors == (("shape", 3), ("scale", 4), ("rotation", 4), ("x", 8), ("y", 8))
    assert helix(strands=3).info.factors == (("strand", 3),)
    assert from_tensors(torch.rand(4, 1, 5, 5)).info.factors == ()


def test_user_data_has_unknown_provenance_unless_given():
    d = from_tensors(torch.rand(4, 1, 5, 5))
    assert (d.citation, d.license, d.url) == (None, None, None)
    d = from_tensors(torch.rand(4, 1, 5, 5), citation="my lab, 2024", license="CC0", url="https://example.org")
    assert (d.citation, d.license, d.url) == ("my lab, 2024", "CC0", "https://example.org")
    assert d.subset([0, 1]).license == "CC0"


def test_old_constructor_calls_still_work_and_bad_provenance_is_refused():
    d = Dataset(torch.rand(3, 1, 4, 4), labels=[0, 1, 0], name="x")
    assert d.citation is None and d.license is None and d.url is None
    with pytest.raises(TypeError, match="license must be a string"):
        Dataset(torch.rand(3, 1, 4, 4), license=3)


def _sorted_digits():
    d = digits()
    return d.subset(torch.argsort(d.labels, stable=True))


def test_pick_indices_round_robin_over_labels_of_a_sorted_dataset():
    d = _sorted_digits()
    idx = d.pick_indices(25)
    assert idx.dtype == torch.int64 and idx.shape == (25,)
    assert d.labels[idx].tolist() == list(range(10)) * 2 + [0, 1, 2, 3, 4]
    assert len(set(idx.tolist())) == 25
    # within a class, round r takes the class's r-th sample in dataset order
    zeros = (d.labels == 0).nonzero().flatten()
    assert idx[[0, 10, 20]].tolist() == zeros[:3].tolist()
    assert torch.equal(d.pick_indices(25), idx)  # deterministic


def test_pick_indices_unbalanced_classes_all_samples_and_clamping():
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2])
    d = Dataset(torch.rand(7, 1, 2, 2), labels=labels)
    assert labels[d.pick_indices(7)].tolist() == [0, 1, 2, 0, 2, 0, 0]
    assert sorted(d.pick_indices(100).tolist()) == list(range(7))
    assert d.subset([]).pick_indices(5).shape == (0,)


def test_pick_indices_by_factor_and_without_labels():
    sp = sprites(size=16)
    idx = sp.pick_indices(16, by="x")
    assert sp.factors[idx, 3].tolist() == list(range(8)) * 2
    assert torch.equal(sp.pick_indices(16, by=3), idx)
    unlabelled = Dataset(torch.rand(5, 1, 2, 2))
    assert unlabelled.pick_indices(3).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="n must be a positive integer"):
        sp.pick_indices(0)
    with pytest.raises(ValueError, match="unknown factor"):
        sp.pick_indices(4, by="colour")
    with pytest.raises(ValueError, match="has no factors"):
        digits().pick_indices(4, by="digit")
