"""convolve2d: FFT equals direct, true convolution, padding, gradients, module, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from focuslab.errors import InvalidParameterError
from focuslab.render import Convolve2d, convolve2d


def _images(rng, b=2, c=3, h=23, w=31, dtype=torch.float32):
    return torch.from_numpy(rng.random((b, c, h, w))).to(dtype)


@pytest.mark.parametrize("padding", ["zeros", "replicate", "circular"])
@pytest.mark.parametrize("chromatic", [False, True])
def test_fft_equals_direct(rng, padding, chromatic):
    x = _images(rng)
    shape = (3, 9, 13) if chromatic else (9, 13)  # non-square, odd
    k = rng.random(shape)
    k /= k.sum(axis=(-2, -1), keepdims=True)
    direct = convolve2d(x, k, padding=padding, method="direct")
    fft = convolve2d(x, k, padding=padding, method="fft")
    assert fft.dtype == torch.float32 and fft.shape == x.shape
    assert torch.max(torch.abs(fft - direct)).item() < 2e-6


def test_fft_kernel_larger_than_image(rng):
    x = _images(rng, h=8, w=9)
    k = rng.random((21, 25))
    for padding in ("zeros", "replicate", "circular"):
        d = convolve2d(x, k, padding=padding, method="direct")
        f = convolve2d(x, k, padding=padding, method="fft")
        assert torch.max(torch.abs(f - d)).item() < 1e-4 * float(d.abs().max())


def test_true_convolution_moves_light_towards_kernel_mass():
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 4] = 1.0
    k = np.zeros((3, 3))
    k[1, 2] = 1.0  # mass at +x
    for method in ("direct", "fft"):
        y = convolve2d(x, k, method=method)
        assert abs(y[0, 0, 4, 5].item() - 1.0) < 1e-6
        assert abs(y.sum().item() - 1.0) < 1e-6


def test_zero_padding_conserves_interior_energy_and_replicate_keeps_uniform(rng):
    x = torch.zeros(1, 1, 64, 64)
    x[0, 0, 20:40, 25:45] = torch.from_numpy(rng.random((20, 20))).float()
    k = rng.random((17, 17))
    k /= k.sum()
    y = convolve2d(x, k)
    assert abs(y.sum().item() / x.sum().item() - 1.0) < 1e-6
    u = torch.full((1, 2, 20, 20), 0.7)
    assert torch.max(torch.abs(convolve2d(u, k, padding="replicate") - 0.7)).item() < 1e-6
    assert convolve2d(u, k, padding="zeros")[0, 0, 0, 0].item() < 0.7 * 0.5


def test_delta_kernel_is_identity_and_keeps_dtype(rng):
    x = _images(rng, dtype=torch.float64)
    y = convolve2d(x, np.ones((1, 1)))
    assert y.dtype == torch.float64 and torch.equal(y, x)


def test_module_equals_function(rng):
    x = _images(rng)
    k = rng.random((19, 19))
    m = Convolve2d(k, padding="replicate")
    assert torch.equal(m(x), convolve2d(x, k, padding="replicate"))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_gradcheck_float64(rng, method):
    x = torch.from_numpy(rng.random((1, 2, 7, 8))).requires_grad_(True)
    k = torch.from_numpy(rng.random((5, 3))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: convolve2d(a, b, method=method, padding="replicate"), (x, k))


def test_nan_input_propagates_not_crashes():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 3] = float("nan")
    y = convolve2d(x, np.ones((3, 3)) / 9, method="direct")
    assert torch.isnan(y[0, 0, 3, 3]) and not torch.isnan(y[0, 0, 7, 7])


@pytest.mark.parametrize(
    ("images", "kernel", "kwargs", "match"),
    [
        (torch.zeros(3, 8, 8), np.ones((3, 3)), {}, r"expected \(B, C, H, W\), got \(3, 8, 8\)"),
        (torch.zeros(1, 1, 8, 8, dtype=torch.int32), np.ones((3, 3)), {}, "floating point"),
        (torch.zeros(1, 1, 8, 8), np.ones((4, 3)), {}, "odd"),
        (torch.zeros(1, 2, 8, 8), np.ones((3, 3, 3)), {}, r"\(2, kh, kw\)"),
        (torch.zeros(1, 1, 8, 8), np.ones((3, 3)), {"padding": "reflect"}, "padding"),
        (torch.zeros(1, 1, 8, 8), np.ones((3, 3)), {"method": "fast"}, "method"),
        (np.zeros((1, 1, 8, 8)), np.ones((3, 3)), {}, "torch.Tensor"),
    ],
)
def test_errors(images, kernel, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        convolve2d(images, kernel, **kwargs)
