"""Differential tests against PyTorch for the torch.* functions and Tensor methods added to
fill symgrad's namespace (ops.pieces, ops.numbers, ops.writes, ops.statistics, the
additions to ops.discrete and symgrad.special, symgrad.functional_forms, symgrad.runtime
and symgrad._tensor_extras).

Each row of a table is one call written once against a library argument (``symgrad`` or
``torch``): values, dtypes and shapes must agree, and where PyTorch's result has a gradient,
the gradients of a fixed random weighting of the outputs agree to rtol 1e-12 (float64).
Misuse must raise the error type PyTorch raises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad as sg
import symgrad.nn.functional as F  # noqa: F401  (functional forms import it)

RNG = np.random.default_rng(7)


class G:
    """An input that requires grad (float64 data)."""

    def __init__(self, data) -> None:
        self.data = np.asarray(data, dtype=np.float64)


def _r(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape)


def _convert(lib, arg):
    if isinstance(arg, G):
        return lib.tensor(arg.data.copy(), requires_grad=True)
    if isinstance(arg, np.ndarray):
        return lib.tensor(arg.copy())
    return arg


def _leaves(args):
    return [a for a in args if getattr(a, "requires_grad", False) and a.is_leaf]


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _compare(s, t, rtol):
    if isinstance(t, (bool, int, float)) and not hasattr(t, "shape"):
        assert s == t, (s, t)
        return
    assert tuple(s.shape) == tuple(t.shape), (s.shape, t.shape)
    assert s.dtype.name == str(t.dtype).removeprefix("torch."), (s.dtype, t.dtype)
    np.testing.assert_allclose(s.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=rtol, atol=1e-12,
                               equal_nan=True)


def _run(torch, fn, args, rtol=1e-12):
    sargs = [_convert(sg, a) for a in args]
    targs = [_convert(torch, a) for a in args]
    s_out, t_out = fn(sg, *sargs), fn(torch, *targs)
    souts, touts = _flat(s_out), _flat(t_out)
    assert len(souts) == len(touts)
    for s, t in zip(souts, touts):
        _compare(s, t, rtol)
    grads = [(s, t) for s, t in zip(souts, touts) if getattr(t, "requires_grad", False)]
    if not grads:
        return
    s_loss, t_loss = 0.0, 0.0
    for s, t in grads:
        w = RNG.standard_normal(tuple(t.shape))
        s_loss = s_loss + (s * sg.tensor(w)).sum()
        t_loss = t_loss + (t * torch.tensor(w)).sum()
    t_loss.backward()
    s_loss.backward()
    for s, t in zip(_leaves(sargs), _leaves(targs)):
        if t.grad is None:
            assert s.grad is None or not np.any(s.grad.numpy())
            continue
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-12)


I = np.array  # noqa: E741  (integer and bool data read as they are)

CASES = {
    # ---------------------------------------------------------------- shape pieces
    "ravel": (lambda L, x: L.ravel(x.t()), [G(_r(3, 4))]),
    "hsplit_int": (lambda L, x: L.hsplit(x, 2), [G(_r(3, 4))]),
    "hsplit_list": (lambda L, x: L.hsplit(x, [1, 3]), [G(_r(3, 4))]),
    "hsplit_vector": (lambda L, x: L.hsplit(x, 3), [G(_r(6))]),
    "vsplit": (lambda L, x: L.vsplit(x, [2]), [G(_r(3, 4))]),
    "dsplit": (lambda L, x: x.dsplit(2), [G(_r(2, 3, 4))]),
    "split_with_sizes": (lambda L, x: L.split_with_sizes(x, [1, 3], 1), [G(_r(2, 4))]),
    "unsafe_split": (lambda L, x: L.unsafe_split(x, 2), [G(_r(5, 2))]),
    "unsafe_split_with_sizes": (lambda L, x: x.unsafe_split_with_sizes([2, 3]), [G(_r(5))]),
    "unsafe_chunk": (lambda L, x: L.unsafe_chunk(x, 3, 1), [G(_r(2, 7))]),
    "row_stack": (lambda L, x, y: L.row_stack([x, y]), [G(_r(3)), G(_r(2, 3))]),
    "adjoint": (lambda L, x: L.adjoint(x) * 2, [G(_r(2, 3, 4))]),
    "unfold": (lambda L, x: x.unfold(1, 3, 1), [G(_r(2, 5))]),
    "unfold_step": (lambda L, x: x.unfold(0, 2, 3), [G(_r(8, 2))]),
    "unfold_size1": (lambda L, x: x.unfold(-1, 1, 1), [G(_r(3))]),
    "unfold_scalar": (lambda L, x: x.unfold(0, 1, 1), [G(2.5)]),
    "unfold_of_view": (lambda L, x: x.t().unfold(0, 2, 1).exp(), [G(_r(2, 4))]),
    "sum_to_size": (lambda L, x: x.sum_to_size(3, 1), [G(_r(2, 3, 4))]),
    "sum_to_size_list": (lambda L, x: x.sum_to_size([1, 4]), [G(_r(3, 4))]),
    "sum_to_size_same": (lambda L, x: x.sum_to_size(3, 4) * 1, [G(_r(3, 4))]),
    "narrow_copy": (lambda L, x: L.narrow_copy(x, 1, 1, 2), [G(_r(3, 4))]),
    "is_same_size": (lambda L, x, y: (L.is_same_size(x, y), x.is_same_size(x)),
                     [_r(2, 3), _r(3, 2)]),
    # ---------------------------------------------------------------- numbers
    "erfc": (lambda L, x: L.erfc(x), [G([-3.0, -0.4, 0.0, 0.5, 2.0, 5.5])]),
    "erfc_int": (lambda L, x: x.erfc(), [I([0, 1, 2])]),
    "erfc_": (lambda L, x: (x * 1).erfc_(), [G(_r(4))]),
    "fix": (lambda L, x: L.fix(x), [G([-1.5, -0.5, 0.5, 2.7])]),
    "fix_": (lambda L, x: x.clone().fix_(), [_r(5) * 3]),
    "signbit": (lambda L, x: L.signbit(x), [np.array([-1.0, -0.0, 0.0, 2.0, -math.inf])]),
    "signbit_int": (lambda L, x: x.signbit(), [I([-3, 0, 4])]),
    "copysign_tensor": (lambda L, x, y: L.copysign(x, y),
                        [G([1.0, -2.0, 0.0, 3.0, -0.5]), np.array([-1.0, 2.0, -3.0, -0.0, 0.0])]),
    "copysign_number": (lambda L, x: x.copysign(-2.0), [G([1.0, -2.0, 0.0])]),
    "copysign_broadcast": (lambda L, x, y: L.copysign(x, y), [G(_r(2, 3)), _r(3)]),
    "copysign_int": (lambda L, x, y: L.copysign(x, y), [I([1, -2, 3]), I([-1, 1, -1])]),
    "copysign_": (lambda L, x, y: (x * 1).copysign_(y), [G(_r(3)), _r(3)]),
    # (PyTorch's input gradient is 0 for a negative integer exponent: 2**e in integers)
    "ldexp": (lambda L, x, e: L.ldexp(x, e), [G(_r(4)), I([0, 1, 2, 5])]),
    "ldexp_negative_exponent": (lambda L, x, e: L.ldexp(x, e), [_r(3), I([-1, -2, 3])]),
    "ldexp_float_exponent": (lambda L, x, e: L.ldexp(x, e), [G(_r(3)), G([0.5, 1.0, -1.5])]),
    "ldexp_": (lambda L, x, e: (x * 1).ldexp_(e), [G(_r(3)), I([1, 2, 3])]),
    "frexp": (lambda L, x: L.frexp(x), [np.array([8.0, 0.3, -5.0, 0.0, 1e-300])]),
    "gcd": (lambda L, x, y: L.gcd(x, y), [I([12, -18, 0, 7]), I([8, 12, 0, 0])]),
    "gcd_broadcast": (lambda L, x, y: x.gcd(y), [I([[4], [9]]), I([6, 3])]),
    "lcm": (lambda L, x, y: L.lcm(x, y), [I([4, -6, 0, 5]), I([6, 4, 3, 7])]),
    "gcd_": (lambda L, x, y: x.clone().gcd_(y), [I([12, 18]), I([8, 12])]),
    "lcm_": (lambda L, x, y: L.lcm_(x.clone(), y), [I([4, 3]), I([6, 5])]),
    "nextafter": (lambda L, x, y: L.nextafter(x, y) - x,
                  [np.array([1.0, 1.0, 0.0, -2.0]), np.array([2.0, 0.0, 1.0, -3.0])]),
    "nextafter_": (lambda L, x, y: x.clone().nextafter_(y), [np.array([1.0]), np.array([0.0])]),
    "isreal": (lambda L, x: L.isreal(x), [_r(2, 3)]),
    "real_only": (lambda L, x: (L.conj(x), L.resolve_conj(x), x.resolve_neg(), L.is_conj(x),
                                x.is_neg(), x.real * 3), [G(_r(3))]),
    # ---------------------------------------------------------------- discrete
    "unique_consecutive": (lambda L, x: L.unique_consecutive(x, return_inverse=True,
                                                              return_counts=True),
                           [I([1, 1, 2, 2, 3, 1, 1])]),
    "unique_consecutive_plain": (lambda L, x: x.unique_consecutive(), [np.array([1.0, 1, 2])]),
    "unique_consecutive_dim": (lambda L, x: L.unique_consecutive(x, return_inverse=True,
                                                                  return_counts=True, dim=1),
                               [I([[1, 1, 2, 1], [3, 3, 4, 3]])]),
    "unique_consecutive_2d_flat": (lambda L, x: L.unique_consecutive(x, return_inverse=True),
                                   [I([[1, 1], [1, 2]])]),
    "histogram": (lambda L, x: L.histogram(x, 4), [np.array([0.0, 0.5, 0.5, 1.0, 2.0, 3.0])]),
    "histogram_range_weight": (lambda L, x, w: L.histogram(x, 3, range=(0.0, 3.0), weight=w),
                               [np.array([0.0, 1.2, 2.5, 3.0, 4.0]),
                                np.array([1.0, 2.0, 0.5, 1.0, 9.0])]),
    "histogram_density": (lambda L, x: x.histogram(5, density=True), [_r(40)]),
    "histogram_edges": (lambda L, x, e: L.histogram(x, e),
                        [np.array([0.1, 0.5, 0.9, 2.0]), np.array([0.0, 0.5, 1.0, 2.0])]),
    "histogram_constant": (lambda L, x: L.histogram(x, 3), [np.array([1.0, 1.0])]),
    "isin": (lambda L, x, y: L.isin(x, y), [I([1, 2, 3, 4]), I([2, 4, 6])]),
    "isin_invert": (lambda L, x, y: L.isin(x, y, invert=True), [_r(2, 3).round(), I([0.0, 1.0])]),
    "isin_scalar_test": (lambda L, x: L.isin(x, 3), [I([1, 3, 3])]),
    "isin_scalar_element": (lambda L, y: L.isin(3, y), [I([1, 3])]),
    "unravel_index": (lambda L, i: L.unravel_index(i, (2, 3, 4)), [I([0, 5, 23, 17])]),
    "unravel_index_wrap": (lambda L, i: L.unravel_index(i, (2, 3)), [I([-1, 6, -7, 13])]),
    "unravel_index_int": (lambda L, i: L.unravel_index(i, 5), [I(3)]),
    # ---------------------------------------------------------------- writes
    "index_copy": (lambda L, x, s, i: L.index_copy(x, 0, i, s),
                   [G(_r(4, 2)), G(_r(2, 2)), I([3, 0])]),
    "index_copy_dim1": (lambda L, x, s, i: x.index_copy(1, i, s),
                        [G(_r(2, 4)), G(_r(2, 3)), I([2, 0, 1])]),
    "index_copy_": (lambda L, x, s, i: (x * 1).index_copy_(1, i, s),
                    [G(_r(2, 3)), G(_r(2, 1)), I([1])]),
    "index_fill": (lambda L, x, i: L.index_fill(x, 1, i, -1.5), [G(_r(2, 4)), I([0, 3])]),
    "index_fill_tensor_value": (lambda L, x, i, v: x.index_fill(0, i, v),
                                [G(_r(3, 2)), I([2, 2]), G(0.5)]),
    "index_fill_": (lambda L, x, i: (x * 1).index_fill_(0, i, 2.0), [G(_r(3)), I([1])]),
    "masked_scatter": (lambda L, x, m, s: L.masked_scatter(x, m, s),
                       [G(_r(2, 3)), I([[True, False, True], [False, True, True]]),
                        G(_r(2, 3))]),
    "masked_scatter_broadcast": (lambda L, x, m, s: x.masked_scatter(m, s),
                                 [G(_r(2, 3)), I([True, False, True]), G(_r(5))]),
    "masked_scatter_": (lambda L, x, m, s: (x * 1).masked_scatter_(m, s),
                        [G(_r(4)), I([False, True, True, False]), G(_r(3))]),
    "put": (lambda L, x, i, s: L.put(x, i, s), [G(_r(2, 3)), I([0, -1, 4]), G(_r(3))]),
    "put_accumulate": (lambda L, x, i, s: x.put(i, s, accumulate=True),
                       [G(_r(2, 3)), I([1, 1, 5]), G(_r(3))]),
    "put_": (lambda L, x, i, s: (x * 1).put_(i, s), [G(_r(4)), I([[2, 0]]), G(_r(1, 2))]),
    "select_scatter": (lambda L, x, s: L.select_scatter(x, s, 1, -1), [G(_r(2, 3)), G(_r(2))]),
    "slice_scatter": (lambda L, x, s: L.slice_scatter(x, s, 1, 0, None, 2),
                      [G(_r(2, 5)), G(_r(2, 3))]),
    "slice_scatter_default": (lambda L, x, s: x.slice_scatter(s, start=1, end=3),
                              [G(_r(4, 2)), G(_r(2, 2))]),
    "diagonal_scatter": (lambda L, x, s: L.diagonal_scatter(x, s), [G(_r(3, 3)), G(_r(3))]),
    "diagonal_scatter_offset": (lambda L, x, s: L.diagonal_scatter(x, s, 1),
                                [G(_r(3, 4)), G(_r(3))]),
    "diagonal_scatter_negative": (lambda L, x, s: x.diagonal_scatter(s, -1),
                                  [G(_r(3, 3)), G(_r(2))]),
    "diagonal_scatter_dims": (lambda L, x, s: L.diagonal_scatter(x, s, 0, 2, 0),
                              [G(_r(3, 2, 4)), G(_r(2, 3))]),
    "renorm": (lambda L, x: L.renorm(x, 2, 0, 1.5), [G(_r(3, 4))]),
    "renorm_p1_dim1": (lambda L, x: x.renorm(1, 1, 2.0), [G(_r(2, 3, 2))]),
    "renorm_": (lambda L, x: (x * 1).renorm_(3, -1, 0.5), [G(_r(4, 2))]),
    # ---------------------------------------------------------------- statistics
    "cov": (lambda L, x: L.cov(x), [G(_r(3, 5))]),
    "cov_correction0": (lambda L, x: x.cov(correction=0), [G(_r(2, 4))]),
    "cov_vector": (lambda L, x: L.cov(x), [G(_r(6))]),
    "cov_weights": (lambda L, x, f, a: L.cov(x, fweights=f, aweights=a),
                    [G(_r(3, 4)), I([1, 2, 1, 3]), G([0.5, 1.0, 2.0, 1.5])]),
    "cov_fweights": (lambda L, x, f: L.cov(x, fweights=f), [G(_r(2, 3)), I([2, 1, 1])]),
    "corrcoef": (lambda L, x: L.corrcoef(x), [G(_r(3, 6))]),
    "corrcoef_vector": (lambda L, x: x.corrcoef(), [G(_r(4))]),
    # (torch.vander's backward fails in PyTorch 2.13: values here, gradients via linalg's)
    "vander": (lambda L, x: L.vander(x), [_r(4)]),
    "vander_N_increasing": (lambda L, x: L.vander(x, N=3, increasing=True), [_r(4)]),
    "vander_int": (lambda L, x: L.vander(x, 4), [I([1, 2, 3])]),
    "vander_empty": (lambda L, x: L.vander(x, 0), [_r(3)]),
    "linalg_vander": (lambda L, x: L.linalg.vander(x), [G([1.5, -2.0, 0.0, 0.5])]),
    "linalg_vander_batched": (lambda L, x: L.linalg.vander(x, N=3), [G(_r(2, 4))]),
    "linalg_diagonal": (lambda L, x: L.linalg.diagonal(x, offset=1), [G(_r(2, 3, 4))]),
    "logdet": (lambda L, x: L.logdet(x @ x.mT + L.eye(3)), [G(_r(2, 3, 3))]),
    "logdet_negative": (lambda L, x: x.logdet(), [np.array([[1.0, 2.0], [3.0, 4.0]])]),
    "slogdet": (lambda L, x: L.slogdet(x), [G([[1.0, 2.0], [3.0, 4.5]])]),
    "slogdet_method": (lambda L, x: x.slogdet(), [G(_r(2, 3, 3))]),
    "ger": (lambda L, x, y: L.ger(x, y), [G(_r(3)), G(_r(2))]),
    # ---------------------------------------------------------------- torch.* forms of F.*
    "layer_norm": (lambda L, x, w, b: L.layer_norm(x, [4], w, b, 1e-5, True),
                   [G(_r(2, 4)), G(_r(4)), G(_r(4))]),
    "group_norm": (lambda L, x, w, b: L.group_norm(x, 2, w, b, 1e-5, True),
                   [G(_r(2, 4, 3)), G(_r(4)), G(_r(4))]),
    "batch_norm": (lambda L, x, w, b, m, v: L.batch_norm(x, w, b, m, v, True, 0.1, 1e-5, False),
                   [G(_r(4, 3)), G(_r(3)), G(_r(3)), _r(3), _r(3, lo=0.5, hi=2.0)]),
    "batch_norm_eval": (lambda L, x, m, v: L.batch_norm(x, None, None, m, v, False, 0.1, 1e-5,
                                                       False),
                        [G(_r(4, 3)), _r(3), _r(3, lo=0.5, hi=2.0)]),
    "instance_norm": (lambda L, x, w, b: L.instance_norm(x, w, b, None, None, True, 0.1, 1e-5,
                                                         False),
                      [G(_r(2, 3, 4)), G(_r(3)), G(_r(3))]),
    "rms_norm": (lambda L, x, w: L.rms_norm(x, [3], w, 1e-6), [G(_r(2, 3)), G(_r(3))]),
    "embedding": (lambda L, w, i: L.embedding(w, i), [G(_r(5, 3)), I([[0, 4], [4, 2]])]),
    "embedding_padding": (lambda L, w, i: L.embedding(w, i, 1), [G(_r(4, 2)), I([1, 3, 1])]),
    "bilinear": (lambda L, a, b, w, c: L.bilinear(a, b, w, c),
                 [G(_r(2, 3)), G(_r(2, 4)), G(_r(5, 3, 4)), G(_r(5))]),
    "pdist": (lambda L, x: L.pdist(x, 3), [G(_r(4, 3))]),
    "pairwise_distance": (lambda L, x, y: L.pairwise_distance(x, y, 1.5, 1e-6, True),
                          [G(_r(3, 4)), G(_r(3, 4))]),
    "cosine_similarity": (lambda L, x, y: L.cosine_similarity(x, y, 0), [G(_r(3, 2)),
                                                                         G(_r(3, 2))]),
    "kl_div": (lambda L, x, t: L.kl_div(x, t, 2, log_target=True), [G(_r(3, 2)), G(_r(3, 2))]),
    "kl_div_default": (lambda L, x, t: L.kl_div(x, t), [G(_r(4)), G(_r(4, lo=0.1, hi=1.0))]),
    "bce_with_logits": (lambda L, x, t, w, p: L.binary_cross_entropy_with_logits(x, t, w, p, 0),
                        [G(_r(2, 3)), _r(2, 3, lo=0, hi=1), _r(3), _r(3, lo=0.5, hi=2)]),
    "cosine_embedding_loss": (lambda L, a, b, y: L.cosine_embedding_loss(a, b, y, 0.1, 2),
                              [G(_r(3, 4)), G(_r(3, 4)), np.array([1.0, -1.0, -1.0])]),
    "hinge_embedding_loss": (lambda L, x, y: L.hinge_embedding_loss(x, y, 0.5, 0),
                             [G(_r(4)), np.array([1.0, -1.0, 1.0, -1.0])]),
    "margin_ranking_loss": (lambda L, a, b, y: L.margin_ranking_loss(a, b, y, 0.2),
                            [G(_r(4)), G(_r(4)), np.array([1.0, -1.0, 1.0, -1.0])]),
    "poisson_nll_loss": (lambda L, x, t: L.poisson_nll_loss(x, t, True, True, 1e-8, 2),
                         [G(_r(4)), _r(4, lo=0.5, hi=3)]),
    "triplet_margin_loss": (lambda L, a, p, n: L.triplet_margin_loss(a, p, n, 1.0, 2, 1e-6,
                                                                     True, 1),
                            [G(_r(3, 4)), G(_r(3, 4)), G(_r(3, 4))]),
    "dropout_eval": (lambda L, x: (L.dropout(x, 0.5, False), L.alpha_dropout(x, 0.3, False),
                                   L.feature_dropout(x, 0.2, False),
                                   L.feature_alpha_dropout(x, 0.2, False)), [G(_r(2, 3, 2))]),
    "dropout_p0": (lambda L, x: L.dropout(x, 0.0, True) * 1, [G(_r(3))]),
    "dropout_p1": (lambda L, x: (L.dropout(x, 1.0, True), L.feature_dropout(x, 1.0, True)),
                   [G(_r(2, 3))]),
    "hardshrink": (lambda L, x: (L.hardshrink(x, 0.7), x.hardshrink()), [G(_r(6))]),
    "prelu": (lambda L, x, w: (L.prelu(x, w), x.prelu(w)), [G(_r(2, 3, 2)), G(_r(3))]),
    "threshold": (lambda L, x: L.threshold(x, 0.1, -2.0), [G(_r(5))]),
    "threshold_": (lambda L, x: L.threshold_(x * 1, 0.1, -2.0), [G(_r(5))]),
    "celu": (lambda L, x: (L.celu(x), L.celu(x, 0.5)), [G(_r(5))]),
    "celu_": (lambda L, x: L.celu_(x * 1, 2.0), [G(_r(5))]),
    "rrelu_eval": (lambda L, x: L.rrelu(x, 0.1, 0.3), [G(_r(6))]),
    "rrelu_eval_": (lambda L, x: L.rrelu_(x * 1), [G(_r(6))]),
    # ---------------------------------------------------------------- torch.special
    "special_erfc": (lambda L, x: L.special.erfc(x), [G(_r(5, lo=-4, hi=4))]),
    "special_ndtr": (lambda L, x: L.special.ndtr(x), [G([-9.0, -1.0, 0.0, 0.3, 4.0])]),
    "special_log_ndtr": (lambda L, x: L.special.log_ndtr(x), [G([-9.0, -1.0, 0.0, 2.0])]),
    "special_entr": (lambda L, x: L.special.entr(x), [G([0.0, 0.5, 1.0, 3.0])]),
    "special_entr_negative": (lambda L, x: L.special.entr(x), [np.array([-1.0, 0.0, 2.0])]),
    "special_xlog1py": (lambda L, x, y: L.special.xlog1py(x, y),
                        [G([0.0, 1.5, -2.0, 0.5]), G([0.5, 2.0, 0.25, -0.5])]),
    "special_xlog1py_number": (lambda L, y: L.special.xlog1py(2.0, y), [G([0.5, 1.0])]),
    "special_multigammaln": (lambda L, x: L.special.multigammaln(x, 3), [G([1.5, 2.0, 4.5])]),
    # ---------------------------------------------------------------- making tensors
    "asarray": (lambda L: (L.asarray([1, 2]), L.asarray([1.5]), L.asarray(3.0),
                           L.asarray([[1, 2]], dtype=L.float32)), []),
    "asarray_tensor_shares": (lambda L, x: L.asarray(x) is x, [_r(3)]),
    "asarray_copy": (lambda L, x: L.asarray(x, copy=True), [_r(3)]),
    "scalar_tensor": (lambda L: (L.scalar_tensor(2), L.scalar_tensor(1.5, dtype=L.float32)), []),
    "range": (lambda L: (L.range(1, 4), L.range(0, 1, 0.25), L.range(5, 1, -2),
                         L.range(1, 3, dtype=L.int64)), []),
}


_SPD = (lambda a: a @ a.T + 3 * np.eye(3))(_r(3, 3))
_SPD_B = np.stack([_SPD, _SPD + np.eye(3)])
_LOW = np.linalg.cholesky(_SPD)

CASES.update({
    # ---------------------------------------------------------------- second batch
    "gradient": (lambda L, x: L.gradient(x), [G(_r(5))]),
    "gradient_2d_spacing": (lambda L, x: L.gradient(x, spacing=[2.0, 0.5]), [G(_r(3, 4))]),
    "gradient_dim_edge2": (lambda L, x: L.gradient(x, dim=1, edge_order=2), [G(_r(2, 5))]),
    "gradient_coordinates": (lambda L, x, c: L.gradient(x, spacing=(c,), dim=0),
                             [G(_r(5)), np.array([0.0, 0.5, 2.0, 2.5, 4.0])]),
    "gradient_coordinates_edge2": (lambda L, x, c: L.gradient(x, spacing=[c], dim=-1,
                                                              edge_order=2),
                                   [G(_r(2, 4)), np.array([0.0, 1.0, 1.5, 3.0])]),
    "gradient_int": (lambda L, x: L.gradient(x), [I([1, 4, 9, 16])]),
    "as_strided": (lambda L, x: L.as_strided(x, (3, 2), (1, 2)), [G(_r(2, 3))]),
    "as_strided_overlap": (lambda L, x: x.as_strided((3, 3), (1, 1), 1), [G(_r(6))]),
    "as_strided_offset_view": (lambda L, x: (x * 1)[1:].as_strided((2,), (2,)), [G(_r(6))]),
    # (PyTorch 2.13's gradient for input is wrong here: test_as_strided_scatter_gradient)
    "as_strided_scatter": (lambda L, x, s: L.as_strided_scatter(x, s, (2, 2), (1, 3), 1),
                           [_r(2, 4), G(_r(2, 2))]),
    "mvlgamma": (lambda L, x: (L.mvlgamma(x, 2), x.mvlgamma(3)), [G([2.5, 3.0, 7.25])]),
    "mvlgamma_": (lambda L, x: (x * 1).mvlgamma_(1), [G([0.5, 2.0])]),
    "bitwise_shifts": (lambda L, x, y: (L.bitwise_left_shift(x, y), x.bitwise_right_shift(y),
                                        x.bitwise_left_shift(2)),
                       [I([1, -8, 5, 100]), I([2, 1, 0, 3])]),
    "bitwise_shift_": (lambda L, x: x.clone().bitwise_right_shift_(1), [I([9, -9])]),
    "real": (lambda L, x: L.real(x) * 2, [G(_r(3))]),
    "fill": (lambda L, x, v: L.fill(x, v), [G(_r(2, 3)), G(1.5)]),
    "fill_number": (lambda L, x: L.fill(x, 2), [I([1, 2])]),
    "constant_pad_nd": (lambda L, x: L.constant_pad_nd(x, [1, 2, 0, 1], 0.5), [G(_r(2, 3))]),
    "frobenius_norm": (lambda L, x: (L.frobenius_norm(x, [1]), L.frobenius_norm(x, [0, 1], True)),
                       [G(_r(2, 3))]),
    "nonzero_static": (lambda L, x: (L.nonzero_static(x, size=4), x.nonzero_static(size=1),
                                     L.nonzero_static(x, size=3, fill_value=7)),
                       [I([[0, 1], [1, 1]])]),
    "selu": (lambda L, x: (L.selu(x), L.selu_(x * 1)), [G(_r(5))]),
    "new": (lambda L, x: (x.new(2, 3).shape, x.new([1, 2]), x.new().shape,
                          x.new(x).dtype == x.dtype), [I([1, 2])]),
    "new_tensor_source": (lambda L, x, y: x.new(y), [_r(2), _r(3)]),
    # ---------------------------------------------------------------- linear systems
    "linalg_solve": (lambda L, a, b: L.linalg.solve(a, b), [G(_r(3, 3)), G(_r(3, 2))]),
    "linalg_solve_vector": (lambda L, a, b: L.linalg.solve(a, b), [G(_r(2, 3, 3)), G(_r(3))]),
    "linalg_solve_batch_vector": (lambda L, a, b: L.linalg.solve(a, b),
                                  [G(_r(2, 3, 3)), G(_r(2, 3))]),
    "linalg_solve_broadcast": (lambda L, a, b: L.linalg.solve(a, b),
                               [G(_r(3, 3)), G(_r(2, 3, 1))]),
    "linalg_solve_right": (lambda L, a, b: L.linalg.solve(a, b, left=False),
                           [G(_r(3, 3)), G(_r(2, 3))]),
    "linalg_solve_ex": (lambda L, a, b: L.linalg.solve_ex(a, b), [G(_r(3, 3)), G(_r(3, 2))]),
    "linalg_inv_ex": (lambda L, a: L.linalg.inv_ex(a), [G(_r(2, 3, 3))]),
    "solve_triangular": (lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
                         [G(_r(3, 3) + 3 * np.eye(3)), G(_r(3, 2))]),
    "solve_triangular_lower_unit_right": (
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False, left=False,
                                                  unitriangular=True),
        [G(_r(3, 3)), G(_r(2, 3))]),
    "triangular_solve": (lambda L, b, a: L.triangular_solve(b, a, False, True),
                         [G(_r(3, 2)), G(_r(3, 3) + 3 * np.eye(3))]),
    "triangular_solve_method": (lambda L, b, a: b.triangular_solve(a, unitriangular=True),
                                [G(_r(3, 1)), G(_r(3, 3))]),
    "cholesky": (lambda L, a: L.linalg.cholesky(a), [G(_SPD)]),
    "cholesky_nonsymmetric_upper": (lambda L, a: L.linalg.cholesky(a),
                                    [G(_SPD + np.triu(np.ones((3, 3)), 1))]),
    "cholesky_upper_batched": (lambda L, a: L.linalg.cholesky(a, upper=True), [G(_SPD_B)]),
    "cholesky_ex": (lambda L, a: L.linalg.cholesky_ex(a), [G(_SPD)]),
    "cholesky_legacy": (lambda L, a: (L.cholesky(a), a.cholesky(upper=True)), [G(_SPD)]),
    "cholesky_solve": (lambda L, b, f: L.cholesky_solve(b, f), [G(_r(3, 2)), G(_LOW)]),
    "cholesky_solve_upper": (lambda L, b, f: b.cholesky_solve(f, True), [G(_r(3, 1)),
                                                                         G(_LOW.T)]),
    "cholesky_inverse": (lambda L, f: (L.cholesky_inverse(f), f.mT.cholesky_inverse(True)),
                         [G(_LOW)]),
    "matrix_exp": (lambda L, a: L.matrix_exp(a), [G(_r(3, 3))]),
    "matrix_exp_large": (lambda L, a: L.linalg.matrix_exp(a), [G(_r(3, 3) * 4)]),
    "matrix_exp_batched": (lambda L, a: a.matrix_exp(), [G(_r(2, 2, 2))]),
    "matrix_exp_zero": (lambda L, a: L.matrix_exp(a), [G(np.zeros((2, 2)))]),
    "linalg_slogdet": (lambda L, a: L.linalg.slogdet(a), [G(_r(3, 3))]),
    "tensorinv": (lambda L, a: L.linalg.tensorinv(a, 1), [G(_r(4, 2, 2))]),
    "tensorsolve": (lambda L, a, b: L.linalg.tensorsolve(a, b), [G(_r(2, 3, 6)), G(_r(2, 3))]),
    "tensorsolve_dims": (lambda L, a, b: L.linalg.tensorsolve(a, b, dims=(0,)),
                         [G(_r(2, 6, 3)), G(_r(6))]),
    "mvlgamma_pole": (lambda L, x: L.mvlgamma(x, 3), [np.array([0.5, 1.2])]),
})


_LU_CASES = {
    "lu_factor": (lambda L, a: L.linalg.lu_factor(a), [G(_r(3, 3))]),
    "lu_factor_tall": (lambda L, a: L.linalg.lu_factor(a), [G(_r(4, 3))]),
    "lu_factor_wide_batched": (lambda L, a: L.linalg.lu_factor(a), [G(_r(2, 3, 5))]),
    "lu_factor_ex": (lambda L, a: L.linalg.lu_factor_ex(a), [G(_r(3, 3))]),
    "linalg_lu": (lambda L, a: L.linalg.lu(a), [G(_r(4, 3))]),
    "lu_legacy": (lambda L, a: (L.lu(a), a.lu(get_infos=True)), [G(_r(3, 3))]),
    "lu_unpack": (lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a)), [G(_r(3, 4))]),
    "lu_unpack_parts": (lambda L, a: (L.lu_unpack(*L.linalg.lu_factor(a), False, True)[0],
                                      L.lu_unpack(*L.linalg.lu_factor(a), True, False)[1:]),
                        [G(_r(3, 3))]),
    "linalg_lu_solve": (lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b),
                        [G(_r(3, 3)), G(_r(3, 2))]),
    "linalg_lu_solve_adjoint_right": (
        lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False, adjoint=True),
        [G(_r(3, 3)), G(_r(2, 3))]),
    "lu_solve_legacy": (lambda L, a, b: b.lu_solve(*L.linalg.lu_factor(a)),
                        [G(_r(2, 3, 3)), G(_r(2, 3, 1))]),
    "matrix_rank": (lambda L, a: (L.linalg.matrix_rank(a), L.linalg.matrix_rank(a, atol=1.0),
                                  L.linalg.matrix_rank(a, rtol=0.5),
                                  L.linalg.matrix_rank(a @ a.mT, hermitian=True)),
                    [_r(2, 4, 3)]),
    "matrix_rank_deficient": (lambda L, a: L.linalg.matrix_rank(a), [np.ones((3, 4))]),
    "pinv": (lambda L, a: (L.linalg.pinv(a), L.pinverse(a), a.pinverse()), [_r(4, 3)]),
    "pinv_rank_deficient": (lambda L, a: L.linalg.pinv(a, rtol=1e-10), [np.ones((3, 2))]),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), [_r(2, 3, 4)]),
    "svd_reconstructs": (lambda L, a: (lambda u, s, vh: (s, u @ L.diag_embed(s) @ vh,
                                                         (u.mT @ u)))(*L.linalg.svd(a, False)),
                         [_r(4, 3)]),
    "svd_legacy": (lambda L, a: (lambda u, s, v: (s, u.shape, v.shape, u @ L.diag(s) @ v.mT))(
        *L.svd(a)), [_r(3, 4)]),
    "svd_legacy_full": (lambda L, a: (lambda u, s, v: (s, u.shape, v.shape))(
        *a.svd(some=False)), [_r(3, 2)]),
    "svd_no_uv": (lambda L, a: L.svd(a, compute_uv=False), [_r(3, 2)]),
    "qr": (lambda L, a: (L.linalg.qr(a), L.linalg.qr(a, "complete"), L.linalg.qr(a, "r")),
           [_r(4, 3)]),
    "qr_legacy": (lambda L, a: (L.qr(a), a.qr(some=False)), [_r(2, 3, 2)]),
    "eigh": (lambda L, a: (lambda w, v: (w, v.abs()))(*L.linalg.eigh(a + a.mT)), [_r(3, 3)]),
    "eigvalsh": (lambda L, a: (L.linalg.eigvalsh(a), L.linalg.eigvalsh(a, "U")), [_r(2, 3, 3)]),
    "lstsq": (lambda L, a, b: L.linalg.lstsq(a, b), [_r(5, 3), _r(5, 2)]),
    "spectral_norms": (lambda L, a: (L.linalg.matrix_norm(a, 2), L.linalg.matrix_norm(a, -2),
                                     L.linalg.norm(a[0], "nuc"),
                                     L.linalg.matrix_norm(a, "nuc", (0, 2), keepdim=True),
                                     L.nuclear_norm(a[1]), L.nuclear_norm(a, (1, 2), True)),
                       [_r(2, 3, 4)]),
}
CASES.update(_LU_CASES)

_MORE_CASES = {
    "histogramdd": (lambda L, x: L.histogramdd(x, [3, 4]), [_r(50, 2, lo=0, hi=1)]),
    "histogramdd_range_weight_density": (
        lambda L, x, w: L.histogramdd(x, 2, range=[0.0, 1.0, 0.0, 2.0], weight=w,
                                      density=True), [_r(30, 2, lo=0, hi=1), _r(30, lo=0, hi=1)]),
    "histogramdd_edges": (lambda L, x, e0, e1: L.histogramdd(x, [e0, e1]),
                          [_r(40, 2, lo=0, hi=1), np.array([0.0, 0.5, 1.0]),
                           np.array([0.0, 0.2, 0.7, 1.0])]),
    # (PyTorch's igamma is accurate to about 5e-10 relative; symgrad's to 1e-13)
    "igamma": (lambda L, a, x: (L.igamma(a, x), a.igammac(x), L.special.gammainc(a, x),
                                L.special.gammaincc(a, x)),
               [_r(6, lo=0.1, hi=12), G(_r(6, lo=0.05, hi=20))], 1e-8),
    "igamma_broadcast_edges": (lambda L, a, x: L.igamma(a, x),
                               [np.array([[0.0], [1.0], [-1.0], [2.5]]),
                                np.array([0.0, 1.0, 3.0, math.inf])], 1e-8),
    "igamma_": (lambda L, a, x: a.clone().igamma_(x), [_r(3, lo=1, hi=3), _r(3, lo=1, hi=3)],
                1e-8),
    "i0": (lambda L, x: (L.i0(x), x.i0(), L.special.i0(x)), [G([-3.0, -0.5, 0.0, 0.7, 12.0,
                                                              35.0])]),
    "i0_": (lambda L, x: L.i0_(x * 1), [G(_r(4))]),
    "i0_int": (lambda L, x: L.i0(x), [I([0, 1, 2])]),
    "special_i1": (lambda L, x: L.special.i1(x), [G([-40.0, -2.0, 0.0, 0.5, 3.0, 31.0])]),
    "special_i0e": (lambda L, x: L.special.i0e(x), [G([-50.0, -1.0, 0.5, 4.0, 29.0, 700.0])]),
    "special_i1e": (lambda L, x: L.special.i1e(x), [G([-33.0, -1.5, 0.0, 0.25, 8.0, 800.0])]),
    "index_reduce": (lambda L, x, i, s: L.index_reduce(x, 0, i, s, "prod"),
                     [G(_r(3, 2)), I([0, 2, 0]), G(_r(3, 2))]),
    "index_reduce_mean_dim1": (lambda L, x, i, s: x.index_reduce(1, i, s, "mean",
                                                                  include_self=False),
                               [G(_r(2, 3)), I([2, 2, 0, 2]), G(_r(2, 4))]),
    "index_reduce_amax": (lambda L, x, i, s: x.index_reduce(0, i, s, "amax"),
                          [G(_r(4)), I([1, 3, 1]), G(_r(3))]),
    "index_reduce_": (lambda L, x, i, s: (x * 1).index_reduce_(0, i, s, "amin"),
                      [G(_r(3, 2)), I([1, 1]), G(_r(2, 2))]),
}
CASES.update(_MORE_CASES)

# PyTorch warns for its deprecated names; the comparison wants only their values
pytestmark = [pytest.mark.filterwarnings("ignore:torch.range is deprecated"),
              pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name):
    fn, args, *rtol = CASES[name]     # a third entry: the rtol where PyTorch's own is worse
    _run(torch, fn, args, *rtol)


# ---------------------------------------------------------------- errors
ERRORS = {
    "hsplit_not_divisible": (lambda L, x: L.hsplit(x, 3), [_r(2, 4)], RuntimeError),
    "hsplit_scalar": (lambda L, x: L.hsplit(x, 1), [np.array(1.0)], RuntimeError),
    "vsplit_1d": (lambda L, x: L.vsplit(x, 1), [_r(4)], RuntimeError),
    "dsplit_2d": (lambda L, x: L.dsplit(x, 1), [_r(2, 4)], RuntimeError),
    "split_with_sizes_sum": (lambda L, x: L.split_with_sizes(x, [1, 1]), [_r(3)], RuntimeError),
    "adjoint_vector": (lambda L, x: x.adjoint(), [_r(3)], RuntimeError),
    "unfold_too_big": (lambda L, x: x.unfold(0, 4, 1), [_r(3)], RuntimeError),
    "unfold_step0": (lambda L, x: x.unfold(0, 2, 0), [_r(3)], RuntimeError),
    "sum_to_size_bad": (lambda L, x: x.sum_to_size(2, 4), [_r(3, 4)], RuntimeError),
    "frexp_int": (lambda L, x: L.frexp(x), [I([1, 2])], RuntimeError),
    "gcd_float": (lambda L, x: L.gcd(x, x), [_r(2)], RuntimeError),
    "gcd_number": (lambda L, x: L.gcd(x, 2), [I([4])], TypeError),
    "unravel_float": (lambda L, x: L.unravel_index(x, (2,)), [_r(2)], TypeError),
    "index_copy_float_index": (lambda L, x, i: L.index_copy(x, 0, i, x), [_r(2), _r(2)],
                               RuntimeError),
    "index_copy_count": (lambda L, x, i, s: x.index_copy(0, i, s), [_r(3), I([0, 1]), _r(3)],
                         IndexError),
    "masked_scatter_float_mask": (lambda L, x, m: x.masked_scatter(m, x), [_r(2), _r(2)],
                                  RuntimeError),
    "masked_scatter_short_source": (lambda L, x, m, s: x.masked_scatter(m, s),
                                    [_r(3), I([True, True, True]), _r(2)], RuntimeError),
    "put_out_of_range": (lambda L, x, i, s: x.put(i, s), [_r(3), I([3]), _r(1)], IndexError),
    "select_scatter_shape": (lambda L, x, s: L.select_scatter(x, s, 0, 0), [_r(2, 3), _r(2)],
                             RuntimeError),
    "diagonal_scatter_1d": (lambda L, x, s: L.diagonal_scatter(x, s), [_r(3), _r(3)],
                            IndexError),
    "scatter_reduce_bad_reduce": (lambda L, x, i: x.scatter_reduce(0, i, x, "median"),
                                  [_r(2), I([0, 1])], RuntimeError),
    "renorm_1d": (lambda L, x: L.renorm(x, 2, 0, 1.0), [_r(3)], RuntimeError),
    "renorm_int": (lambda L, x: L.renorm(x, 2, 0, 1.0), [I([[1, 2]])], RuntimeError),
    "cov_3d": (lambda L, x: L.cov(x), [_r(2, 2, 2)], RuntimeError),
    "vander_2d": (lambda L, x: L.vander(x), [_r(2, 2)], RuntimeError),
    "vander_negative_N": (lambda L, x: L.vander(x, -1), [_r(2)], RuntimeError),
    "logdet_nonsquare": (lambda L, x: L.logdet(x), [_r(2, 3)], RuntimeError),
    "kl_div_string_reduction": (lambda L, x: L.kl_div(x, x, "mean"), [_r(2)], TypeError),
    "dropout_missing_train": (lambda L, x: L.dropout(x, 0.5), [_r(2)], TypeError),
    "feature_dropout_1d": (lambda L, x: L.feature_dropout(x, 0.5, True), [_r(3)],
                           RuntimeError),
    "is_nonzero_many": (lambda L, x: L.is_nonzero(x), [_r(2)], RuntimeError),
    "is_nonzero_empty": (lambda L, x: x.is_nonzero(), [np.zeros(0)], RuntimeError),
    "fill_diagonal_1d": (lambda L, x: x.fill_diagonal_(1), [_r(3)], RuntimeError),
    "fill_diagonal_unequal": (lambda L, x: x.fill_diagonal_(1), [_r(2, 3, 2)], RuntimeError),
    "exponential_negative": (lambda L, x: x.exponential_(-1.0), [_r(3)], RuntimeError),
    "geometric_p": (lambda L, x: x.geometric_(1.5), [_r(3)], RuntimeError),
    "random_bounds": (lambda L, x: x.random_(5, 2), [_r(3)], RuntimeError),
    "set_default_device_cuda_like": (lambda L: L.set_default_device("meta") if L is sg
                                     else (_ for _ in ()).throw(RuntimeError()), [],
                                     RuntimeError),
}


ERRORS.update({
    "histogramdd_bins_count": (lambda L, x: L.histogramdd(x, [2, 2, 2]), [_r(5, 2)],
                               RuntimeError),
    "igamma_input_grad": (lambda L, a, x: L.igamma(a, x).sum().backward(),
                          [G(_r(2, lo=1, hi=2)), _r(2, lo=1, hi=2)], NotImplementedError),
    "igamma_number": (lambda L, a: L.igamma(a, 2.0), [_r(2, lo=1, hi=2)], TypeError),
    "index_reduce_sum": (lambda L, x, i: x.index_reduce(0, i, x, "sum"), [_r(2), I([0, 1])],
                         RuntimeError),
    "index_reduce_count": (lambda L, x, i: x.index_reduce(0, i, x, "prod"), [_r(2), I([0])],
                           RuntimeError),
    "poisson_negative": (lambda L, x: L.poisson(x), [np.array([-1.0])], RuntimeError),
    "i0_bool": (lambda L, x: L.special.i1(x), [_r(2).tolist()], TypeError),
    "qr_mode": (lambda L, a: L.linalg.qr(a, "full"), [_r(3, 3)], RuntimeError),
    "svd_int": (lambda L, a: L.linalg.svd(a), [I([[1, 2], [3, 4]])], RuntimeError),
    "eigh_uplo": (lambda L, a: L.linalg.eigh(a, "X"), [_r(2, 2)], RuntimeError),
    "lu_factor_1d": (lambda L, a: L.linalg.lu_factor(a), [_r(3)], RuntimeError),
    "matrix_rank_1d": (lambda L, a: L.linalg.matrix_rank(a), [_r(3)], RuntimeError),
    "gradient_too_short": (lambda L, x: L.gradient(x, edge_order=2), [_r(2)], RuntimeError),
    "gradient_spacing_count": (lambda L, x: L.gradient(x, spacing=[1.0, 2.0]), [_r(3)],
                               RuntimeError),
    "as_strided_out_of_bounds": (lambda L, x: L.as_strided(x, (3,), (2,)), [_r(4)],
                                 RuntimeError),
    "imag_of_real": (lambda L, x: x.imag, [_r(2)], RuntimeError),
    "shift_float": (lambda L, x: L.bitwise_left_shift(x, x), [_r(2)], RuntimeError),
    "mvlgamma_p0": (lambda L, x: L.mvlgamma(x, 0), [np.array([2.0])], RuntimeError),
    "new_other_dtype": (lambda L, x, y: x.new(y), [_r(2), I([3, 4])], TypeError),
    "solve_singular": (lambda L, a, b: L.linalg.solve(a, b), [np.ones((2, 2)), _r(2)],
                       RuntimeError),
    "solve_shapes": (lambda L, a, b: L.linalg.solve(a, b), [_r(3, 3), _r(2, 1)], RuntimeError),
    "solve_nonsquare": (lambda L, a, b: L.linalg.solve(a, b), [_r(2, 3), _r(2)], RuntimeError),
    "cholesky_not_pd": (lambda L, a: L.linalg.cholesky(a), [-np.eye(2)], RuntimeError),
    "cholesky_int": (lambda L, a: L.linalg.cholesky(a), [I([[1, 0], [0, 1]])], RuntimeError),
    "matrix_exp_nonsquare": (lambda L, a: L.matrix_exp(a), [_r(2, 3)], RuntimeError),
    "tensorinv_shape": (lambda L, a: L.linalg.tensorinv(a, 1), [_r(4, 2, 3)], RuntimeError),
})


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_misuse_raises_as_torch(torch, name):
    fn, args, exc = ERRORS[name]
    with pytest.raises(exc):
        fn(torch, *[_convert(torch, a) for a in args])
    with pytest.raises(exc):
        fn(sg, *[_convert(sg, a) for a in args])


@pytest.mark.parametrize("call", [
    lambda L, a: L.linalg.svd(a), lambda L, a: L.linalg.svdvals(a), lambda L, a: L.linalg.qr(a),
    lambda L, a: L.linalg.eigh(a), lambda L, a: L.linalg.pinv(a), lambda L, a: L.svd(a),
    lambda L, a: L.linalg.lstsq(a, a)])
def test_orthogonal_factorizations_refuse_gradients(call):
    # symgrad has no rule for these (PyTorch has): values only, never a missing gradient
    a = sg.tensor(_r(3, 3), requires_grad=True)
    with pytest.raises(NotImplementedError, match="no derivative"):
        call(sg, a)
    with sg.no_grad():
        call(sg, a)
    call(sg, a.detach())


def test_as_strided_scatter_gradient():
    # the overwritten entries of input get no gradient (PyTorch 2.13 gives them the
    # gradient and zeros the kept ones)
    x = sg.zeros(6, requires_grad=True)
    src = sg.ones(2, requires_grad=True)
    sg.as_strided_scatter(x, src, (2,), (3,), 1).backward(sg.arange(6.0))
    assert x.grad.tolist() == [0.0, 0.0, 2.0, 3.0, 0.0, 5.0]
    assert src.grad.tolist() == [1.0, 4.0]


# ---------------------------------------------------------------- scatter_reduce
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(torch, reduce, include_self):
    x, src = _r(3, 4), _r(2, 5)
    src[0, 1] = src[1, 1]         # a tie at one position, shared by the gradient
    index = I([[0, 2, 2, 0, 1], [2, 2, 0, 0, 0]])

    def fn(L, x, src, index):
        return L.scatter_reduce(x, 1, index, src, reduce, include_self=include_self)
    _run(torch, fn, [G(x), G(src), index])
    _run(torch, lambda L, x, s, i: (x * 1).scatter_reduce_(0, i, s, reduce,
                                                           include_self=include_self),
         [G(_r(3)), G(_r(4)), I([0, 2, 0, 0])])


def test_ldexp_gradient_for_negative_exponents():
    x = sg.tensor([1.0, 3.0], requires_grad=True)
    sg.ldexp(x, sg.tensor([-2, -3])).sum().backward()
    assert x.grad.tolist() == [0.25, 0.125]


def test_scatter_reduce_integers(torch):
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        _run(torch, lambda L, x, i, s: x.scatter_reduce(0, i, s, reduce),
             [I([5, -3, 8]), I([0, 0, 2, 2]), I([2, 7, -4, 1])])


# ---------------------------------------------------------------- unfold is a view
def test_unfold_shares_memory_and_rewrites_history(torch):
    data = _r(2, 6)
    out = {}
    for L in (sg, torch):
        x = L.tensor(data.copy(), requires_grad=True)
        y = x * 2
        windows = y.unfold(1, 2, 2)          # no overlap: writes go to distinct entries
        windows.mul_(3)
        out[L] = (y, windows)
        (y.sin().sum() + windows.sum()).backward()
        out[L] += (x.grad,)
    for s, t in zip(out[sg], out[torch]):
        _compare(s, t, 1e-12)
    assert out[sg][1].grad_fn.name() == out[torch][1].grad_fn.name()


def test_unfold_sees_base_changes(torch):
    x = sg.tensor([1.0, 2.0, 3.0, 4.0])
    w = x.unfold(0, 2, 1)
    x.add_(10)
    assert w.tolist() == [[11.0, 12.0], [12.0, 13.0], [13.0, 14.0]]
    assert w._base is x
    assert sg.tensor(_r(3, 5)).unfold(1, 2, 1).grad_fn is None


def test_unfold_overlapping_windows_refuse_in_place_writes():
    # PyTorch writes some entries twice here (an undefined result); symgrad refuses
    x = sg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="share memory"):
        x.unfold(0, 2, 1).add_(1)
    assert x.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- fill_diagonal_
@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 2), True), ((7, 3), True),
                                        ((7, 3), False), ((2, 4), False), ((3, 3, 3), False)])
def test_fill_diagonal(torch, shape, wrap):
    _run(torch, lambda L, x: (x * 1).fill_diagonal_(-2.0, wrap), [G(_r(*shape))])


# ---------------------------------------------------------------- layout and dtypes
def test_layout_queries(torch):
    data = _r(3, 4)
    for expr in (lambda x: x, lambda x: x.t(), lambda x: x[:, 1:], lambda x: x[1],
                 lambda x: x.unsqueeze(0).expand(2, 3, 4), lambda x: x[:, ::2],
                 lambda x: x.unfold(1, 2, 1)):
        s, t = expr(sg.tensor(data)), expr(torch.tensor(data))
        assert s.stride() == t.stride()
        assert s.stride(-1) == t.stride(-1)
        assert s.storage_offset() == t.storage_offset()
        assert (s.nbytes, s.itemsize, s.is_cpu, s.get_device()) == \
            (t.nbytes, t.itemsize, t.is_cpu, t.get_device())
    base_s, base_t = sg.tensor(data), torch.tensor(data)
    assert base_s[1:].data_ptr() - base_s.data_ptr() == \
        base_t[1:].data_ptr() - base_t.data_ptr()
    assert sg.zeros(0).data_ptr() == 0 == torch.zeros(0).data_ptr()
    assert sg.get_device(base_s) == -1


@pytest.mark.parametrize("conv", ["byte", "char", "short"])
def test_integer_conversions(torch, conv):
    data = np.array([1.7, -2.2, 100.0, 0.0])
    if conv == "byte":
        data = np.abs(data)
    _compare(getattr(sg.tensor(data), conv)(), getattr(torch.tensor(data), conv)(), 0)


def test_bfloat16_is_refused():
    with pytest.raises(TypeError, match="BFloat16"):
        sg.ones(2).bfloat16()


def test_predicates(torch):
    for data in (np.array([1.5]), np.array([0]), np.array([True]), np.array(3, np.uint8),
                 np.array([-1], np.int8)):
        s, t = sg.tensor(data), torch.tensor(data)
        assert s.is_signed() == t.is_signed() == sg.is_signed(s)
        assert s.is_nonzero() == t.is_nonzero() == sg.is_nonzero(s)


def test_in_place_comparison_aliases(torch):
    a, b = _r(5), _r(5)
    for name in ("greater_", "less_", "greater_equal_", "less_equal_", "not_equal_"):
        _run(torch, lambda L, x, y: getattr(x.clone(), name)(y), [a, b])
    _run(torch, lambda L, x: (x * 1).absolute_(), [G(_r(4))])
    _run(torch, lambda L, x: L.fix_(x * 1), [G(_r(4) * 3)])


# ---------------------------------------------------------------- random fills, apply_, map_
@pytest.mark.parametrize("call,check", [
    (lambda t: t.random_(3, 7), lambda a: np.all((a >= 3) & (a < 7) & (a == a.round()))),
    (lambda t: t.random_(4), lambda a: np.all((a >= 0) & (a < 4))),
    (lambda t: t.random_(), lambda a: np.all((a >= 0) & (a <= 2 ** 53))),
    (lambda t: t.exponential_(2.0), lambda a: np.all(a > 0) and abs(a.mean() - 0.5) < 0.05),
    (lambda t: t.cauchy_(1.0, 0.5), lambda a: abs(np.median(a) - 1.0) < 0.1),
    (lambda t: t.log_normal_(0.0, 0.5), lambda a: np.all(a > 0)
     and abs(np.log(a).std() - 0.5) < 0.05),
    (lambda t: t.geometric_(0.25), lambda a: np.all(a >= 1) and abs(a.mean() - 4) < 0.4),
    (lambda t: t.bernoulli_(0.3), lambda a: set(np.unique(a)) <= {0.0, 1.0}
     and abs(a.mean() - 0.3) < 0.05),
    (lambda t: t.bernoulli_(sg.zeros(2000)), lambda a: not a.any()),
])
def test_random_fills(call, check):
    sg.manual_seed(3)
    t = sg.zeros(2000)
    version = t._version
    assert call(t) is t
    assert t._version == version + 1 and t.grad_fn is None
    assert check(t.numpy())
    sg.manual_seed(3)
    again = call(sg.zeros(2000))
    np.testing.assert_array_equal(again.numpy(), t.numpy())


def test_poisson_and_binomial():
    sg.manual_seed(5)
    rates = sg.tensor([0.5, 4.0, 20.0]).expand(4000, 3)
    draws = sg.poisson(rates).numpy()
    assert draws.dtype == np.float64 and np.all(draws == draws.round())
    np.testing.assert_allclose(draws.mean(0), [0.5, 4.0, 20.0], rtol=0.05)
    counts = sg.tensor([10.0, 3.0]).expand(4000, 2)
    b = sg.binomial(counts, sg.tensor([0.3, 0.9])).numpy()
    assert np.all((b >= 0) & (b <= counts.numpy()))
    np.testing.assert_allclose(b.mean(0), [3.0, 2.7], rtol=0.05)
    sg.manual_seed(5)
    np.testing.assert_array_equal(sg.poisson(rates).numpy(), draws)


def test_random_fill_of_a_leaf_that_requires_grad_raises(torch):
    for L in (torch, sg):
        with pytest.raises(RuntimeError):
            L.zeros(3, requires_grad=True).exponential_()


def test_apply_and_map(torch):
    data, other = _r(2, 3), _r(3)
    s, t = sg.tensor(data), torch.tensor(data)
    _compare(s.apply_(lambda v: v * 2 + 1), t.apply_(lambda v: v * 2 + 1), 1e-15)
    _compare(s.map_(sg.tensor(other), lambda a, b: a - b),
             t.map_(torch.tensor(other), lambda a, b: a - b), 1e-15)
    with pytest.raises(RuntimeError):
        sg.ones(2, requires_grad=True).apply_(abs)


# ---------------------------------------------------------------- process-wide settings
def test_settings_round_trip(torch):
    assert sg.get_default_device() == sg.device("cpu")
    sg.set_default_device("cpu")
    sg.set_default_device(None)
    prev = sg.get_num_threads()
    sg.set_num_threads(3)
    assert sg.get_num_threads() == 3
    sg.set_num_threads(prev)
    sg.set_num_interop_threads(2)
    assert sg.get_num_interop_threads() == 2
    assert not sg.is_anomaly_enabled()
    sg.set_anomaly_enabled(True)
    assert sg.is_anomaly_enabled() and sg.is_anomaly_check_nan_enabled()
    sg.set_anomaly_enabled(False)
    assert not sg.is_anomaly_enabled()
    assert not sg.are_deterministic_algorithms_enabled()
    sg.use_deterministic_algorithms(True, warn_only=True)
    assert sg.are_deterministic_algorithms_enabled()
    assert sg.is_deterministic_algorithms_warn_only_enabled()
    assert sg.get_deterministic_debug_mode() == 1
    sg.set_deterministic_debug_mode("error")
    assert sg.get_deterministic_debug_mode() == 2
    sg.set_deterministic_debug_mode(0)
    assert not sg.are_deterministic_algorithms_enabled()
    sg.set_float32_matmul_precision("high")
    assert sg.get_float32_matmul_precision() == "high"
    sg.set_float32_matmul_precision("highest")


def test_rng_state_round_trip():
    sg.manual_seed(11)
    state = sg.get_rng_state()
    assert state.dtype == sg.uint8 and state.ndim == 1
    first = sg.randn(5)
    sg.randn(3)
    sg.set_rng_state(state)
    np.testing.assert_array_equal(sg.randn(5).numpy(), first.numpy())
    assert sg.initial_seed() == 11
    with pytest.raises(TypeError):
        sg.set_rng_state(sg.zeros(3))


def test_typename_and_is_storage(torch):
    for data in (np.zeros(1), np.zeros(1, np.float32), np.zeros(1, np.int64),
                 np.zeros(1, bool), np.zeros(1, np.uint8), np.zeros(1, np.float16)):
        assert sg.typename(sg.tensor(data)) == torch.typename(torch.tensor(data))
    assert sg.typename(3) == torch.typename(3) == "int"
    assert sg.typename(np.float64(1.0)) == torch.typename(np.float64(1.0))
    assert sg.is_storage(sg.zeros(2)) is torch.is_storage(torch.zeros(2)) is False


def test_strided_factories(torch):
    for L in (sg, torch):
        assert L.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
        assert L.empty_strided((2, 3), (1, 2)).shape == (2, 3)
        assert L.empty_permuted((2, 3, 4), (0, 2, 1)).stride() == (12, 1, 3)
    assert sg.empty_strided((2, 0), (1, 1), dtype=sg.int64).numel() == 0
    assert sg.empty_permuted((2, 3), (1, 0), requires_grad=True).requires_grad
    buf = bytearray(np.array([1, 2, 3], dtype=np.int32).tobytes())
    t = sg.frombuffer(buf, dtype=sg.int32, count=2, offset=4)
    _compare(t, torch.frombuffer(bytearray(buf), dtype=torch.int32, count=2, offset=4), 0)
    buf[4] = 9                                    # the memory is shared, not copied
    assert t.tolist() == [9, 3]
    with pytest.raises(RuntimeError):
        sg.empty_permuted((2, 3), (0, 0))


def test_resize(torch):
    for L in (sg, torch):
        x = L.arange(6.0)
        assert x.resize_(2, 3) is x and tuple(x.shape) == (2, 3)
        assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        x.resize_(2, 2)
        assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        y = L.ones(2)
        L.resize_as_(y, L.zeros(1, 2))
        assert tuple(y.shape) == (1, 2) and y.tolist() == [[1.0, 1.0]]
        with pytest.raises(RuntimeError):
            L.ones(2, requires_grad=True).resize_(3)
    grown = sg.ones(2).resize_(4)
    assert grown.tolist() == [1.0, 1.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="shares its memory"):
        base = sg.ones(4)
        view = base[:2]
        view.resize_(5)


def test_asarray_sharing_and_grad(torch):
    a = np.arange(3.0)
    s, t = sg.asarray(a), torch.asarray(a)
    a[0] = 7.0
    assert s[0].item() == t[0].item() == 7.0
    r = sg.asarray([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf
    with pytest.raises(ValueError):
        sg.asarray(np.arange(3), dtype=sg.float64, copy=False)


def test_torch_forms_train_mode_use_the_generator():
    x = sg.ones(200, 8)
    sg.manual_seed(0)
    a = sg.dropout(x, 0.5, True)
    sg.manual_seed(0)
    b = sg.nn.functional.dropout(x, 0.5, True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    f = sg.feature_dropout(sg.ones(4, 50, 3), 0.5, True).numpy()
    assert np.all(f.min(axis=2) == f.max(axis=2))          # whole channels kept or dropped
    y = sg.ones(3, 4)
    assert sg.dropout_(y, 1.0, True) is y and not y.numpy().any()
    z = sg.tensor(_r(5, 3), requires_grad=True)
    sg.rrelu(z, 0.1, 0.3, True).sum().backward()
    slopes = z.grad.numpy()[z.detach().numpy() < 0]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3))
