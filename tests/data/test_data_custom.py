"""Tests of from_tensors: accepted layouts and dtypes, and the error messages for bad input."""

import numpy as np
import pytest
import torch

from invwidgets.data import from_tensors


def test_float_nchw_passthrough():
    x = torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    d = from_tensors(x, labels=[0, 1, 0, 1, 2])
    assert torch.equal(d.images, x) and d.shape == (3, 6, 6) and d.levels is None
    assert d.class_names == ("0", "1", "2")


def test_nhw_adds_channel_and_float64_numpy():
    x = np.random.default_rng(0).random((4, 7, 7))
    d = from_tensors(x)
    assert d.shape == (1, 7, 7) and d.images.dtype == torch.float32
    assert torch.allclose(d.images[:, 0].double(), torch.from_numpy(x), atol=1e-7)


def test_uint8_divided_by_255():
    x = torch.tensor([[[0, 255], [51, 102]]], dtype=torch.uint8)
    d = from_tensors(x)
    assert d.levels == 256
    assert torch.allclose(d.images.flatten(), torch.tensor([0.0, 1.0, 0.2, 0.4]))


def test_channels_last_is_converted():
    x = torch.rand(2, 5, 6, 3, generator=torch.Generator().manual_seed(1))
    d = from_tensors(x)
    assert d.shape == (3, 5, 6)
    assert torch.equal(d.images, x.permute(0, 3, 1, 2))
    forced = from_tensors(torch.rand(2, 3, 4, 3), channels_last=True)
    assert forced.shape == (3, 3, 4)


def test_ambiguous_channel_axis_error():
    with pytest.raises(ValueError, match="cannot tell the channel axis.*channels_last"):
        from_tensors(torch.rand(2, 5, 6, 7))
    assert from_tensors(torch.rand(2, 5, 6, 7), channels_last=False).shape == (5, 6, 7)


def test_nan_rejected():
    x = torch.rand(3, 1, 4, 4)
    x[1, 0, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="1 NaN and 0 infinite"):
        from_tensors(x)
    x[1, 0, 2, 2] = float("inf")
    with pytest.raises(ValueError, match="0 NaN and 1 infinite"):
        from_tensors(x)


def test_wrong_ndim():
    with pytest.raises(ValueError, match="3 .* or 4 .* dimensions, got 2"):
        from_tensors(torch.rand(4, 16))
    with pytest.raises(ValueError, match="got 5"):
        from_tensors(torch.rand(1, 1, 1, 4, 4))


def test_out_of_range_message_names_range_and_fix():
    with pytest.raises(ValueError, match=r"found range \[0, 255\]; divide by 255"):
        from_tensors(torch.tensor([[[0.0, 255.0]]]))
    with pytest.raises(ValueError, match=r"found range \[-1, 1\]; undo the normalisation"):
        from_tensors(torch.tensor([[[-1.0, 1.0]]]))


def test_label_length_mismatch():
    with pytest.raises(ValueError, match="one label per image: got shape \\(3,\\) for 4 images"):
        from_tensors(torch.rand(4, 1, 2, 2), labels=[0, 1, 2])
    with pytest.raises(ValueError, match="one row per image"):
        from_tensors(torch.rand(4, 1, 2, 2), factors=np.zeros((3, 2), dtype=np.int64))


def test_wrong_dtypes():
    with pytest.raises(TypeError, match="dtype torch.int64; use uint8"):
        from_tensors(torch.zeros(2, 1, 3, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match="labels must have an integer dtype, got torch.float32"):
        from_tensors(torch.rand(2, 1, 3, 3), labels=torch.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="torch.Tensor or numpy.ndarray, got list"):
        from_tensors([[[0.0]]])
