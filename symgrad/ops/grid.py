"""Spatial transformers: ``affine_grid`` (sampling locations from affine matrices) and
``grid_sample`` (an image read at those locations, bilinearly or nearest).

Both are compositions of recorded ops: the gradient reaches the image through the gathers
and the locations through the bilinear weights, and the verifier replays them in SymPy.
The corners, their in-bounds masks and the reflected coordinates' folds are worked out in
numpy (PyTorch's kernels treat them as constants of the derivative as well).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from symgrad.autograd.grad_mode import no_grad
from symgrad.tensor import Tensor, as_tensor

__all__ = ["affine_grid", "grid_sample"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = tuple(__all__)

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _base_coords(n: int, align_corners: bool) -> np.ndarray:
    """The normalised coordinates of ``n`` pixel centres (corners, with align_corners)."""
    if n <= 1:
        return np.zeros(max(n, 0))
    r = np.linspace(-1.0, 1.0, n)
    return r if align_corners else r * (n - 1) / n


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None
                ) -> Tensor:
    """For each output location of an (N, C, H, W) (or (N, C, D, H, W)) image, the
    normalised input location ``theta @ (x, y, [z,] 1)`` to read: shape (N, H, W, 2)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    theta = as_tensor(theta)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) == 4:
        want = (2, 3)
    elif len(size) == 5:
        want = (3, 4)
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.dim() != 3 or tuple(theta.shape[-2:]) != want:
        raise ValueError(f"Expected a batch of {len(size) - 2}D affine matrices of shape "
                         f"Nx{want[0]}x{want[1]} for size {size}. Got {theta.shape}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    # base[..., k]: x (the last spatial dimension) first, then y (and z), then 1
    axes = [_base_coords(s, align_corners) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*reversed(mesh), np.ones(tuple(spatial))], axis=-1)
    base = as_tensor(base.reshape(-1, len(spatial) + 1).astype(theta._data.dtype))
    grid = base @ theta.transpose(1, 2)                   # (N, prod(spatial), dims)
    return grid.reshape(size[0], *spatial, len(spatial))


def _unnormalize(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (n - 1)
    return ((coord + 1) * n - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """``coord`` folded back into [twice_low / 2, twice_high / 2] as often as it takes."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    with no_grad():
        flips = np.floor(dist._data / span)
    extra = dist - as_tensor(flips * span)          # = fmod(dist, span)
    odd = as_tensor((flips % 2) == 1)
    return (extra + low).where(~odd, span - extra + low)


def _source(coord: Tensor, n: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Pixel coordinates along one axis of size ``n``, padded as asked."""
    x = _unnormalize(coord, n, align_corners)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (n - 1)) if align_corners else _reflect(x, -1, 2 * n - 1)
    if padding_mode in ("border", "reflection"):
        x = x.clamp(0, n - 1)
    return x


def _read(image: Tensor, ys: np.ndarray, xs: np.ndarray) -> tuple[Tensor, np.ndarray]:
    """``image`` (N, H, W, C) at integer locations (N, Ho, Wo), and where they are inside."""
    h, w = image.shape[1], image.shape[2]
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    n = np.arange(image.shape[0]).reshape(-1, 1, 1)
    vals = image[as_tensor(np.broadcast_to(n, ys.shape).copy()),
                 as_tensor(np.clip(ys, 0, h - 1)), as_tensor(np.clip(xs, 0, w - 1))]
    return vals, inside


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """``input`` (N, C, H, W) read at the normalised locations ``grid`` (N, Ho, Wo, 2),
    x first: -1 and 1 are the outer edges (the outer pixel centres with align_corners)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    input, grid = as_tensor(input), as_tensor(grid)
    if mode == "bicubic" or input.dim() != 4:
        raise NotImplementedError("symgrad's grid_sample reads 4-d inputs bilinearly or "
                                  "nearest (no bicubic, no 5-d volumes)")
    if grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension and "
                           f"the input's batch size, but got grid with sizes {list(grid.shape)} "
                           f"for input with sizes {list(input.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"but input has {input.dtype} and grid has {grid.dtype}")
    h, w = input.shape[2], input.shape[3]
    ix = _source(grid[..., 0], w, padding_mode, align_corners)
    iy = _source(grid[..., 1], h, padding_mode, align_corners)
    image = input.permute(0, 2, 3, 1)                        # (N, H, W, C)
    if mode == "nearest":
        with no_grad():
            xs, ys = np.rint(ix._data).astype(np.int64), np.rint(iy._data).astype(np.int64)
        vals, inside = _read(image, ys, xs)
        # (``ix * 0``: the locations stay in the graph, with PyTorch's zero gradient)
        weight = as_tensor(inside.astype(vals._data.dtype)) + (ix + iy) * 0
        return (vals * weight.unsqueeze(-1)).permute(0, 3, 1, 2)
    with no_grad():
        x0, y0 = np.floor(ix._data), np.floor(iy._data)
    fx, fy = ix - as_tensor(x0), iy - as_tensor(y0)          # in [0, 1): the weights' parts
    gx, gy = 1 - fx, 1 - fy
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = None
    for dy, dx, weight in ((0, 0, gx * gy), (0, 1, fx * gy), (1, 0, gx * fy), (1, 1, fx * fy)):
        vals, inside = _read(image, y0 + dy, x0 + dx)
        term = vals * (weight * as_tensor(inside.astype(vals._data.dtype))).unsqueeze(-1)
        out = term if out is None else out + term
    return out.permute(0, 3, 1, 2)
