"""``F.affine_grid`` and ``F.grid_sample`` (the spatial transformer's pair) against
PyTorch's: values and the gradients of the image, the grid and the affine matrices."""

import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F


def _theta(n):
    rng = np.random.default_rng(5)
    return np.array([[1.1, 0.2, 0.1], [-0.3, 0.9, -0.2]]) + 0.3 * rng.standard_normal((n, 2, 3))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 2, 3, 4)])
def test_affine_grid_as_pytorch(torch, size, align_corners):
    n = size[0]
    theta = _theta(n) if len(size) == 4 else np.tile(np.eye(3, 4), (n, 1, 1)) + 0.1
    res = []
    for m in (sg, torch):
        t = m.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # (the unit-size grid's warning, checked below)
            g = m.nn.functional.affine_grid(t, list(size), align_corners=align_corners)
        (g * m.tensor(np.cos(np.arange(g.numel())).reshape(tuple(g.shape)))).sum().backward()
        res.append([g.detach().numpy(), t.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_as_pytorch(torch, mode, padding_mode, align_corners):
    rng = np.random.default_rng(1)
    image = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.6, 1.6, (2, 3, 6, 2))   # some locations outside the image
    res = []
    for m in (sg, torch):
        x, g = m.tensor(image, requires_grad=True), m.tensor(grid, requires_grad=True)
        out = m.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                          align_corners=align_corners)
        (out * m.tensor(np.sin(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy(), x.grad.numpy(), g.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_spatial_transformer_step_as_pytorch(torch):
    """affine_grid then grid_sample, as the spatial transformer tutorial does."""
    image = np.random.default_rng(2).standard_normal((2, 1, 5, 5))
    res = []
    for m in (sg, torch):
        t = m.tensor(_theta(2), requires_grad=True)
        x = m.tensor(image, requires_grad=True)
        grid = m.nn.functional.affine_grid(t, [2, 1, 4, 4], align_corners=False)
        out = m.nn.functional.grid_sample(x, grid, align_corners=False)
        (out ** 2).sum().backward()
        res.append([out.detach().numpy(), t.grad.numpy(), x.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_grid_sample_is_verified_exactly():
    rng = np.random.default_rng(3)
    x = sg.tensor(rng.standard_normal((1, 1, 3, 3)))
    theta = sg.tensor(_theta(1))

    def fn(x, theta):
        grid = F.affine_grid(theta, [1, 1, 2, 2], align_corners=True)
        return F.grid_sample(x, grid, padding_mode="border", align_corners=True).sum()

    report = sg.verify.check(fn, x, theta)
    assert report.ok, report.table()


def test_grid_misuse_raises_as_pytorch(torch):
    for m in (sg, torch):
        f = m.nn.functional
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            f.affine_grid(m.zeros(1, 2, 3), [1, 1, 2, 2])
        with pytest.warns(UserWarning, match="unit-size grids"):
            f.affine_grid(m.zeros(1, 2, 3), [1, 1, 1, 2], align_corners=True)
        with pytest.raises(ValueError, match="Nx2x3"):
            f.affine_grid(m.zeros(1, 3, 3), [1, 1, 2, 2], align_corners=False)
        with pytest.raises(ValueError, match="expected mode to be"):
            f.grid_sample(m.zeros(1, 1, 2, 2), m.zeros(1, 2, 2, 2), mode="cubic")
        with pytest.raises(ValueError, match="expected padding_mode"):
            f.grid_sample(m.zeros(1, 1, 2, 2), m.zeros(1, 2, 2, 2), padding_mode="wrap")
