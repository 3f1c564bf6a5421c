"""``symgrad.testing.assert_close`` against ``torch.testing.assert_close``: the same
verdict, exception type and message for the same comparison."""

import numpy as np
import pytest

import symgrad as sg

NAN, INF = float("nan"), float("inf")


def _cases(m):
    t = m.tensor
    f32, f64 = m.float32, m.float64
    return [
        ((t([1., 2., 3.], dtype=f64), t([1., 2.5, 3.], dtype=f64)), {}),
        ((t([1., 2., 3.], dtype=f32), t([1., 2., 3.], dtype=f64)), {}),
        ((t([1., 2.], dtype=f32), t([1., 2.1], dtype=f64)), {"check_dtype": False}),
        ((t([1., 2.], dtype=f32), t([1., 2.], dtype=f64)), {"check_dtype": False}),
        ((t([1., 2.]), t([1., 2., 3.])), {}),
        ((1.0, 1.1), {}),
        ((1.0, 0.0), {}),
        ((2, 3), {}),
        ((1, 1.0), {}),
        ((1.0, NAN), {}),
        ((True, False), {}),
        ((None, None), {}),
        ((t(1.), 1.0), {}),
        ((t([1., 2.]), np.array([1., 2.])), {}),
        (("a", "a"), {}),
        ((t([1, 2]), t([1, 3])), {}),
        ((t([True, False]), t([True, True])), {}),
        ((t([NAN]), t([NAN])), {}),
        ((t([NAN]), t([NAN])), {"equal_nan": True}),
        ((t([1., INF]), t([1., INF])), {}),
        ((t([1., INF]), t([1., -INF])), {}),
        ((t([]), t([])), {}),
        ((t([[0., 2.], [1., 1.]], dtype=f32), t([[0.5, 2.0], [1., 3.]], dtype=f32)), {}),
        ((t([0., 2.], dtype=f32), t([1e-9, 2.0], dtype=f32)), {}),
        ((t([1., 2.], dtype=f64), t([1., 2.], dtype=f64) + 1e-6), {}),
        ((t([1., 2.], dtype=f64), t([1., 2.5], dtype=f64)), {"rtol": 0.3, "atol": 0.0}),
        ((t([1., 2.]), t([1., 2.5])), {"rtol": 1e-3}),
        ((t([1., 2.]), t([1., 2.5])), {"msg": "custom"}),
        (([t(1., dtype=f32), t(2., dtype=f32)], [t(1., dtype=f32), t(2.5, dtype=f32)]), {}),
        (({"a": t(1., dtype=f64)}, {"a": t(1.5, dtype=f64)}), {}),
        (({"a": 1.0}, {"b": 1.0}), {}),
        (([1, 2], [1, 2, 3]), {}),
        (([1, 2], (1, 2)), {}),
        (([[1.0, 2.0]], [[1.0, 2.5]]), {}),
        ((np.array([1., 2.]), np.array([1., 2.5])), {}),
        ((t([1., 2.], requires_grad=True), t([1., 2.5])), {}),
    ]


def _outcome(m, args, kw):
    try:
        m.testing.assert_close(*args, **kw)
    except Exception as e:   # noqa: BLE001 - the outcome is compared, whatever it is
        text = str(e).replace("symgrad.tensor.", "torch.")   # (symgrad's class path)
        return type(e).__name__, text.replace("symgrad.", "torch.")
    return "passed", ""


@pytest.mark.parametrize("k", range(len(_cases(sg))))
def test_assert_close_as_pytorch(torch, k):
    (args, kw), (targs, tkw) = _cases(sg)[k], _cases(torch)[k]
    assert _outcome(sg, args, kw) == _outcome(torch, targs, tkw)


def test_callable_msg_wraps_the_message():
    with pytest.raises(AssertionError, match=r"^context: Tensor-likes are not close!"):
        sg.testing.assert_close(sg.tensor([1.0]), sg.tensor([2.0]),
                                msg=lambda m: "context: " + m)
