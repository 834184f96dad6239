"""Tests of the zoo: cards, safe loading, reproducible training and the shipped models' metrics."""

import json
import pickle
import shutil
import struct

import pytest
import torch

from invwidgets import zoo
from invwidgets.data import sprites
from invwidgets.models import ConvAutoencoder, SmallCNN, init_parameters

SHIPPED = ["ae-sprites", "cnn-digits"]


def _states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def quick_cnn():
    """cnn-digits trained for one epoch (a short budget, not the shipped one)."""
    return zoo.train("cnn-digits", seed=1, progress=False, epochs=1)


def test_shipped_models_available_with_complete_cards():
    assert set(SHIPPED) <= set(zoo.available())
    for name in SHIPPED:
        c = zoo.card(name)
        assert c["name"] == name
        for key in ("architecture", "dataset", "seed", "training", "metrics", "train_time_s", "torch_version"):
            assert key in c
        assert c["architecture"]["class"] in zoo.ARCHITECTURES
        assert c["primary_metric"] in c["metrics"]
        assert c["train_time_s"] > 0
        assert zoo.weights_path(name).stat().st_size < 1_000_000


def test_shipped_metrics_reached():
    assert zoo.card("cnn-digits")["metrics"]["test_accuracy"] >= 0.95
    ae = zoo.card("ae-sprites")["metrics"]
    # predicting the mean image everywhere gives an MSE of about 0.045 per pixel
    assert ae["test_mse_per_pixel"] < 0.02


@pytest.mark.parametrize("name", SHIPPED)
def test_loaded_model_reproduces_card_metric(name):
    stored = zoo.card(name)["metrics"]
    fresh = zoo.evaluate(name)
    assert fresh.keys() == stored.keys()
    for key, value in fresh.items():
        assert value == pytest.approx(stored[key], rel=1e-4, abs=1e-6), key


def test_load_returns_eval_model_and_keeps_global_rng():
    state = torch.random.get_rng_state()
    model = zoo.load("ae-sprites")
    assert torch.equal(state, torch.random.get_rng_state())
    assert isinstance(model, ConvAutoencoder) and not model.training
    z = model.encode(sprites(size=32)[:4][0])
    assert z.shape == (4, model.latent_dim)
    assert model.decode(z).shape == (4, 1, 32, 32)


def test_weights_are_safetensors_and_load_never_unpickles(monkeypatch):
    for name in SHIPPED:
        raw = zoo.weights_path(name).read_bytes()
        (header_len,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + header_len])
        assert header["__metadata__"]["name"] == name
        assert raw[:2] != b"\x80\x04" and b"PK" != raw[:2]  # neither a pickle nor a torch zip archive

    def forbidden(*args, **kwargs):
        raise AssertionError("zoo.load must not unpickle")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    assert isinstance(zoo.load("cnn-digits"), SmallCNN)


def test_save_load_round_trip_is_bit_equal(tmp_path, quick_cnn):
    model, card = quick_cnn
    path = zoo.save(model, card, tmp_path)
    assert path == tmp_path / "cnn-digits.safetensors"
    assert zoo.available(tmp_path) == ["cnn-digits"]
    loaded = zoo.load("cnn-digits", directory=tmp_path)
    assert _states_equal(model, loaded)
    saved = zoo.card("cnn-digits", tmp_path)
    assert saved["metrics"] == card["metrics"] and "weights_sha256" in saved
    assert zoo.evaluate("cnn-digits", directory=tmp_path) == pytest.approx(card["metrics"], rel=1e-6)
    assert zoo.evaluate(loaded, name="cnn-digits") == pytest.approx(card["metrics"], rel=1e-6)


def test_unknown_class_in_card_is_an_error(tmp_path):
    shutil.copy(zoo.weights_path("cnn-digits"), tmp_path / "evil.safetensors")
    c = zoo.card("cnn-digits")
    c["name"] = "evil"
    c["architecture"]["class"] = "os.system"
    c.pop("weights_sha256")
    (tmp_path / "evil.json").write_text(json.dumps(c))
    with pytest.raises(ValueError, match="unknown architecture class 'os.system'"):
        zoo.load("evil", directory=tmp_path)


def test_tampered_weights_are_rejected(tmp_path):
    for ext in ("json", "safetensors"):
        shutil.copy(zoo.WEIGHTS_DIR / f"cnn-digits.{ext}", tmp_path / f"cnn-digits.{ext}")
    raw = bytearray((tmp_path / "cnn-digits.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (tmp_path / "cnn-digits.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        zoo.load("cnn-digits", directory=tmp_path)


def test_missing_card_and_bad_names():
    with pytest.raises(FileNotFoundError, match="python -m invwidgets.zoo train nope"):
        zoo.card("nope")
    with pytest.raises(ValueError, match="plain file stem"):
        zoo.card("../etc/passwd")
    with pytest.raises(ValueError, match="unknown zoo model"):
        zoo.train("nope")
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        zoo.train("cnn-digits", progress=False, epochs=1, momentum=0.9)


def test_save_rejects_unregistered_class(tmp_path):
    class Custom(torch.nn.Linear):
        pass

    with pytest.raises(ValueError, match="not a registered zoo architecture"):
        zoo.save(Custom(2, 2), {"name": "custom"}, tmp_path)


def test_same_seed_trains_bit_identical_weights(quick_cnn):
    again, card = zoo.train("cnn-digits", seed=1, progress=False, epochs=1)
    assert _states_equal(quick_cnn[0], again)
    assert card["metrics"] == quick_cnn[1]["metrics"]
    other, _ = zoo.train("cnn-digits", seed=2, progress=False, epochs=1)
    assert not _states_equal(quick_cnn[0], other)


def test_autoencoder_training_is_bit_identical_for_a_seed():
    a, ca = zoo.train("ae-sprites", seed=3, progress=False, steps=3, batch_size=16)
    b, cb = zoo.train("ae-sprites", seed=3, progress=False, steps=3, batch_size=16)
    assert _states_equal(a, b)
    assert ca["training"]["hyperparameters"]["steps"] == 3
    assert ca["training"]["history"] == cb["training"]["history"]


def test_vae_training_uses_the_generator_only():
    data = sprites(size=16, rotations=1)
    hp = {"steps": 3, "batch_size": 8, "lr": 1e-3, "beta": 4.0}
    models = []
    for _ in range(2):
        g = torch.Generator().manual_seed(0)
        m = init_parameters(ConvAutoencoder(1, 16, 4, variational=True), g)
        torch.manual_seed(torch.seed())  # perturb the global state between runs
        zoo.train_autoencoder(m, data, hp, g, progress=False)
        models.append(m)
    assert _states_equal(*models)


def test_cli_list_and_card(capsys):
    from invwidgets.zoo.__main__ import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "ae-sprites" in out and "test_accuracy=" in out
    assert main(["card", "cnn-digits"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "cnn-digits"


def test_batch_indices_cover_each_epoch():
    b = zoo.batch_indices(10, 3, 6, torch.Generator().manual_seed(0))
    assert b.shape == (6, 3)
    first_epoch = b[:3].flatten()
    assert first_epoch.unique().numel() == 9
