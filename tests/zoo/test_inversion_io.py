"""Saving and loading a user's own inversion set in the zoo's format."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from invwidgets.methods.inversion import fit_inversions, mutual_information
from invwidgets.zoo import locations
from invwidgets.zoo.inversion_io import load_inversion_set, save_inversion_set


def _bits(n: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(seed)).float()


@pytest.fixture(scope="module")
def fitted():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 6), nn.ReLU(), nn.Linear(6, 3)).eval()
    inv, _ = fit_inversions(net, ["1", "3"], _bits(96, 0), levels=2, epochs=2,
                            pixelcnn={"channels": 4, "n_layers": 1, "cond_hidden": 8}, seed=0)
    return net, inv


def test_round_trip_keeps_weights_histories_and_estimates(fitted, tmp_path):
    net, inv = fitted
    path = save_inversion_set(inv, "my-inv", directory=tmp_path, description="toy", fit={"epochs": 2}, seed=0)
    assert path == tmp_path / "my-inv.safetensors" and (tmp_path / "my-inv.json").is_file()
    card = json.loads((tmp_path / "my-inv.json").read_text())  # strict JSON: NaN written as null
    assert card["architecture"]["class"] == "InversionSet" and card["training"]["fit"] == {"epochs": 2}
    back = load_inversion_set("my-inv", directory=tmp_path)
    a, b = inv.state_dict(), back.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert back.histories.keys() == inv.histories.keys()
    for k, h in inv.histories.items():
        assert math.isnan(back.histories[k]["train_bpd"][0]) and math.isnan(back.histories[k]["grad_norm_max"][0])
        assert back.histories[k]["grad_norm_max"][1:] == h["grad_norm_max"][1:]
        assert back.histories[k]["val_bpd"] == h["val_bpd"] and back.histories[k]["best_epoch"] == h["best_epoch"]
    test = _bits(40, 1)
    e1 = mutual_information(inv, net, test, n_boot=50)
    e2 = mutual_information(back, net, test, n_boot=50)
    assert e1.as_dict() == e2.as_dict() and "overfit" not in e2.unchecked


def test_default_folder_is_the_users_zoo(fitted, tmp_path, monkeypatch):
    _, inv = fitted
    monkeypatch.setenv(locations.ENV_VAR, str(tmp_path / "zoo"))
    save_inversion_set(inv, "mine")
    assert (tmp_path / "zoo" / "mine.safetensors").is_file()
    assert load_inversion_set("mine").names == inv.names
    with pytest.raises(TypeError, match="InversionSet"):
        save_inversion_set(nn.Linear(2, 2), "x", directory=tmp_path)


def test_histories_of_zoo_trained_cards():
    from invwidgets.zoo.inversion_io import card_histories

    card = {"training": {"history": {"train_bpd": {"uncond": [None, 2.0, 1.5]}, "val_bpd": {"uncond": [3.0, 2.1, 2.4]},
                                     "best_epoch": {"uncond": 1}}}}
    h = card_histories(card)
    assert math.isnan(h["uncond"]["train_bpd"][0]) and h["uncond"]["val_bpd"] == [3.0, 2.1, 2.4]
    assert "grad_norm_max" not in h["uncond"]  # a set fitted without clipping kept none
    card["training"]["history"]["grad_norm_max"] = {"uncond": [None, 40.5, 12.0]}
    g = card_histories(card)["uncond"]["grad_norm_max"]
    assert math.isnan(g[0]) and g[1:] == [40.5, 12.0]
    assert card_histories({"training": {"history": {"val_bpd": {"uncond": [1.0]}}}}) == {}  # older shipped cards
    assert load_inversion_set("inv-digits-s0").histories == {}
