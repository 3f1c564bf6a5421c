"""The mpmath namespace the rules run in at high precision: same values as numpy's object
arithmetic, fast where a Jacobian's one-hot cotangents allow it."""

import random

import mpmath
import numpy as np

from symgrad.ops.namespaces import MPMATH


def _entries(rng, shape, p_zero, special):
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        r = rng.random()
        if r < p_zero:
            out[idx] = mpmath.mpf(0) if rng.random() < 0.7 else 0
        elif special and r < p_zero + 0.05:
            out[idx] = mpmath.mpf(rng.choice(["inf", "-inf", "nan"]))
        else:
            out[idx] = mpmath.mpf(rng.uniform(-3, 3)) / 3
    return out


def test_matmul_skipping_zero_rows_and_columns_is_numpys_product():
    """Rows of a and columns of b that are all zeros are skipped; every entry (its type
    too: int 0 where all products are of ints) is still what np.matmul gives, inf and nan
    included (0 * inf is nan: nothing is skipped then)."""
    rng = random.Random(0)
    with mpmath.workdps(60):
        for _ in range(1500):
            m, k, n = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
            a = _entries(rng, (m, k), rng.choice([0, 0.5, 0.9, 1.0]), rng.random() < 0.2)
            b = _entries(rng, (k, n), rng.choice([0, 0.5, 0.9, 1.0]), rng.random() < 0.2)
            if rng.random() < 0.3:   # a one-hot cotangent
                a[:] = 0
                a[rng.randrange(m), rng.randrange(k)] = mpmath.mpf(1)
            want, got = np.matmul(a, b), MPMATH.matmul(a, b)
            assert got.shape == want.shape
            for w, g in zip(want.flat, got.flat):
                assert type(w) is type(g) and (w == g or (w != w and g != g))


def test_matmul_of_one_hot_cotangent_multiplies_one_row(monkeypatch):
    shapes = []
    matmul = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b: shapes.append((a.shape, b.shape))
                        or matmul(a, b))
    g = np.full((20, 20), mpmath.mpf(0), dtype=object)
    g[3, 4] = mpmath.mpf(2)
    b = np.array([[mpmath.mpf(i + j) for j in range(20)] for i in range(20)], dtype=object)
    out = MPMATH.matmul(g, b)
    assert out[3, 7] == 2 * (4 + 7) and out[0, 0] == 0
    assert shapes == [((1, 20), (20, 20))]   # g's one live row, not all 20
    shapes.clear()
    out = MPMATH.matmul(b.T, g)              # the other rule: one live column of g
    assert out[7, 4] == 2 * (3 + 7) and shapes == [((20, 20), (20, 1))]


def test_log1p_below_minus_one_is_nan_as_in_numpy():
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.log1p(np.array([-2.0, -1.0, 0.5]))
    got = MPMATH.log1p(np.array([mpmath.mpf(-2), mpmath.mpf(-1), mpmath.mpf(0.5)], dtype=object))
    assert mpmath.isnan(got[0]) and np.isnan(want[0])
    assert got[1] == want[1] == -np.inf
    assert float(got[2]) == want[2]
