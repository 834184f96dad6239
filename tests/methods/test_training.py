"""The public trainers: seeded and deterministic, early stopping restores the best weights,
cancellation through a worker job, devices, errors; the zoo's recipes go through them."""

from __future__ import annotations

import pytest
import torch

from invwidgets.data import digits
from invwidgets.methods import train_autoencoder, train_classifier
from invwidgets.models import ConvAutoencoder, SmallCNN, init_parameters
from invwidgets.worker import Worker


@pytest.fixture(scope="module")
def splits():
    return digits().split(0.2, seed=0)


def _cnn(seed: int = 0) -> SmallCNN:
    return init_parameters(SmallCNN(image_size=8, hidden=16), torch.Generator().manual_seed(seed))


def _accuracy(model, data) -> float:
    x, y = data[:]
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def test_classifier_learns_and_the_same_seed_gives_the_same_weights(splits):
    train, test = splits
    a, b = _cnn(), _cnn()
    ha = train_classifier(a, train, epochs=8, seed=1, progress=False)
    train_classifier(b, train, epochs=8, seed=1, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert ha["train_loss"][-1] < ha["train_loss"][0]
    assert _accuracy(a, test) > 0.8
    assert set(ha) == {"step", "train_loss"} and not a.training


def test_a_generator_replaces_the_seed(splits):
    a, b = _cnn(), _cnn()
    train_classifier(a, splits[0], epochs=1, generator=torch.Generator().manual_seed(5), progress=False)
    train_classifier(b, splits[0], epochs=1, seed=5, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_early_stopping_keeps_the_best_validation_epoch(splits):
    model = _cnn()
    # a learning rate this high makes the validation loss rise after the first epochs
    h = train_classifier(model, splits[0], epochs=40, lr=0.05, validation=0.2, patience=2, seed=0, progress=False)
    assert h["stopped_early"] and len(h["epoch"]) < 40
    assert h["epoch"][-1] - h["best_epoch"] == 2
    best = min(h["val_loss"])
    assert h["val_loss"][h["epoch"].index(h["best_epoch"])] == best
    # the model holds the weights of the best epoch: its validation loss is the best one recorded
    x, y = splits[0][:]
    from invwidgets.methods.training import _validation_split

    _, va = _validation_split(len(x), y, 0.2, 0)
    with torch.no_grad():
        loss = float(torch.nn.functional.cross_entropy(model(x[va]), y[va]))
    assert loss == pytest.approx(best, rel=1e-5)


def test_tensor_pairs_and_augmentation(splits):
    x, y = splits[0][:]
    calls = []

    def augment(batch, gen):
        calls.append(batch.shape[0])
        return (batch + 0.01 * torch.randn(batch.shape, generator=gen)).clamp(0, 1)

    model = _cnn()
    train_classifier(model, (x, y), epochs=1, batch_size=100, augment=augment, progress=False)
    assert calls == [100] * (len(x) // 100)


def test_autoencoder_steps_epochs_and_validation(splits):
    train, _ = splits
    ae = init_parameters(ConvAutoencoder(image_size=8, latent_dim=4, variational=True), torch.Generator().manual_seed(0))
    h = train_autoencoder(ae, train, steps=30, epochs=None, seed=0, progress=False)
    assert len(h["train_loss"]) <= 50 and h["step"][-1] == 30
    h = train_autoencoder(ae, train, epochs=2, validation=0.1, patience=3, seed=0, progress=False)
    assert h["epoch"] == [1, 2] and not h["stopped_early"]
    with pytest.raises(ValueError, match="exactly one of epochs and steps"):
        train_autoencoder(ae, train, epochs=2, steps=3, progress=False)
    with pytest.raises(TypeError, match="invwidgets Autoencoder"):
        train_autoencoder(_cnn(), train, progress=False)


def test_bad_input_is_refused(splits):
    with pytest.raises(ValueError, match="needs labels"):
        train_classifier(_cnn(), splits[0].images, progress=False)
    with pytest.raises(ValueError, match="validation must be a fraction"):
        train_classifier(_cnn(), splits[0], validation=1.5, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_classifier(_cnn(), splits[0], epochs=0, progress=False)
    with pytest.raises(TypeError, match="generator"):
        train_classifier(_cnn(), splits[0], generator=3, progress=False)


def test_a_worker_job_reports_progress_and_cancels_between_steps(splits):
    worker = Worker(device="cpu")
    seen: list[tuple] = []
    model = _cnn()
    try:
        def job_fn(job):
            return train_classifier(model, splits[0], epochs=2, progress=False, job=job)

        handle = worker.submit("train", job_fn, priority="batch", on_progress=seen.append)
        assert handle.wait(timeout=300) and handle.state == "done"
        assert handle.result["step"][-1] == 2 * (len(splits[0]) // 64)
        assert seen and seen[-1][0] == seen[-1][1] == 2 * (len(splits[0]) // 64)

        calls: list[int] = []

        def cancelling(job):
            def augment(batch, gen):
                if len(calls) == 3:
                    job_handle.cancel()
                calls.append(1)
                return batch

            return train_classifier(model, splits[0], epochs=5, augment=augment, progress=False, job=job)

        job_handle = worker.submit("cancel", cancelling, priority="batch")
        assert job_handle.wait(timeout=300) and job_handle.state == "cancelled"
        assert len(calls) == 4 and not model.training  # stopped after the step that saw the cancel
    finally:
        worker.stop()
