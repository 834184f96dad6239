"""Where the zoo reads and writes: retraining never touches the shipped files; a retrained model
is read back when asked for (a folder, or INVWIDGETS_ZOO_DIR)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from invwidgets import zoo
from invwidgets.zoo.__main__ import main
from invwidgets.zoo.entries_factors import train_factor_model


def _digest(name: str) -> str:
    folder = zoo.WEIGHTS_DIR
    return hashlib.sha256((folder / f"{name}.safetensors").read_bytes() + (folder / f"{name}.json").read_bytes()).hexdigest()


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_user_dir_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert zoo.user_dir() == tmp_path / "xdg" / "invwidgets" / "zoo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert zoo.user_dir() == tmp_path / "home" / ".cache" / "invwidgets" / "zoo"
    monkeypatch.setenv("INVWIDGETS_ZOO_DIR", str(tmp_path / "mine"))
    assert zoo.user_dir() == tmp_path / "mine"
    assert zoo.search_path() == [tmp_path / "mine", zoo.WEIGHTS_DIR]
    assert zoo.search_path(tmp_path) == [tmp_path]
    monkeypatch.delenv("INVWIDGETS_ZOO_DIR")
    assert zoo.search_path() == [zoo.WEIGHTS_DIR]


def test_retraining_writes_to_the_user_dir_and_load_prefers_it_only_when_asked(monkeypatch):
    before = _digest("cnn-digits")
    shipped = zoo.load("cnn-digits")
    model, card = zoo.train("cnn-digits", epochs=1, progress=False, save=True)
    mine = zoo.user_dir()
    assert (mine / "cnn-digits.safetensors").is_file() and card == zoo.card("cnn-digits", mine)
    assert _digest("cnn-digits") == before  # the package's files are untouched
    assert not _same_weights(model, shipped)
    assert _same_weights(zoo.load("cnn-digits"), shipped)  # not asked: the shipped model
    assert _same_weights(zoo.load("cnn-digits", directory=mine), model)  # asked per call
    monkeypatch.setenv("INVWIDGETS_ZOO_DIR", str(mine))  # asked for the session
    assert _same_weights(zoo.load("cnn-digits"), model)
    assert zoo.card("cnn-digits")["training"]["hyperparameters"]["epochs"] == 1
    assert zoo.weights_path("cnn-digits") == mine / "cnn-digits.safetensors"
    assert _same_weights(zoo.load("ae-sprites"), zoo.load("ae-sprites", directory=zoo.WEIGHTS_DIR))  # falls back
    assert set(zoo.available()) == set(zoo.available(zoo.WEIGHTS_DIR))
    assert zoo.metric_mismatches(zoo.evaluate("cnn-digits"), card["metrics"]) == []


def test_an_explicit_folder_is_the_only_one_read(tmp_path):
    with pytest.raises(FileNotFoundError, match="train it|Train it"):
        zoo.load("cnn-digits", directory=tmp_path)
    assert zoo.available(tmp_path) == []


def test_command_line_trains_into_the_user_dir(capsys):
    before = _digest("cnn-digits")
    assert main(["train", "cnn-digits", "--set", "epochs=1", "--no-progress"]) == 0
    assert (zoo.user_dir() / "cnn-digits.json").is_file()
    assert _digest("cnn-digits") == before
    assert main(["evaluate", "cnn-digits"]) == 0  # the shipped card reproduces
    assert main(["evaluate", "cnn-digits", "--directory", str(zoo.user_dir())]) == 0
    capsys.readouterr()


def test_command_line_evaluate_fails_on_a_card_that_does_not_reproduce(tmp_path, capsys):
    model, card = zoo.train("cnn-digits", epochs=1, progress=False)
    card["metrics"]["test_loss"] += 0.01
    zoo.save(model, card, tmp_path)
    assert main(["evaluate", "cnn-digits", "--directory", str(tmp_path)]) == 1
    assert "does not reproduce: test_loss" in capsys.readouterr().out


def test_iin_retraining_reads_the_shipped_first_stage_and_writes_elsewhere(tmp_path: Path):
    before = _digest("iin-cnn-color-digits-s1")
    _, card = train_factor_model("iin-cnn-color-digits-s1", steps=4, batch_size=32, progress=False, save=True,
                                 directory=tmp_path)
    assert (tmp_path / "iin-cnn-color-digits-s1.safetensors").is_file()
    assert not (tmp_path / "cnn-color-digits-s1.json").exists()  # the first stage came from the package
    assert card["training"]["hyperparameters"]["steps"] == 4
    assert _digest("iin-cnn-color-digits-s1") == before


def test_every_notebook_has_a_retrain_flag_that_writes_to_the_user_folder():
    import json

    for path in sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        assert "RETRAIN = False" in code, path.name
        assert "WEIGHTS_DIR" not in code and "directory=" not in code, path.name  # saves go to user_dir()
