"""Misuse, extremes, graph scale and threads: clear errors, never a silent wrong answer."""

import gc
import threading
import warnings
import weakref

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F


@pytest.mark.parametrize("fn, exc, words", [
    (lambda: sg.ones(2, 3) @ sg.ones(2, 3), RuntimeError, "2x3 and 2x3"),
    (lambda: sg.ones(2, 3) @ sg.ones(4), RuntimeError, "(2, 3) and (4,)"),
    (lambda: sg.ones(2, 3) + sg.ones(2, 4), RuntimeError, "must match the size"),
    (lambda: sg.tensor([1, 2]).requires_grad_(), RuntimeError, "floating point"),
    (lambda: sg.ones(3, requires_grad=True).add_(1), RuntimeError, "leaf Variable"),
    (lambda: (sg.ones(3, requires_grad=True) * 2).backward(), RuntimeError, "scalar outputs"),
    (lambda: sg.ones(3).sum().backward(), RuntimeError, "does not require grad"),
    (lambda: (sg.ones(3, requires_grad=True) * 2).backward(sg.ones(2)), RuntimeError,
     "Mismatch in shape"),
    (lambda: sg.ones(6).view(4, -1), RuntimeError, "invalid for input of size 6"),
    (lambda: sg.ones(2, 3).T.view(6), RuntimeError, "view size is not compatible"),
    (lambda: sg.ones(3)[5], IndexError, "index 5"),
    (lambda: sg.ones(2, 3).sum(dim=4), IndexError, "Dimension out of range"),
    (lambda: F.binary_cross_entropy_with_logits(sg.ones(3), sg.ones(2)), ValueError,
     "Target size"),
    (lambda: F.mse_loss(sg.ones(3), sg.ones(3), reduction="avg"), ValueError,
     "not a valid value for reduction"),
    (lambda: sg.tensor([1.0]).to("cuda"), RuntimeError, "CPU only"),
    (lambda: sg.ones(3, requires_grad=True).numpy(), RuntimeError, "detach"),
    (lambda: bool(sg.ones(3)), RuntimeError, "ambiguous"),
    (lambda: sg.tensor([1, 2]) ** -1, RuntimeError, "negative integer powers"),
    (lambda: sg.tensor(object()), TypeError, "cannot make a tensor"),
])
def test_misuse_gets_a_clear_error(fn, exc, words):
    with pytest.raises(exc) as e:
        fn()
    assert words in str(e.value)


def test_int_tensor_in_place_with_float_result_is_refused():
    t = sg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 1.5
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def test_in_place_shape_change_is_refused():
    t = sg.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t.add_(sg.ones(2, 3))


def test_in_place_ops_and_version_counter():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with sg.no_grad():
        v = x.detach()
    y = x.exp()
    version = y._version
    with sg.no_grad():
        y.mul_(2)
    assert y._version == version + 1
    with pytest.raises(RuntimeError, match="ExpBackward0.*in-place"):
        y.sum().backward()
    for op in ("add_", "sub_", "mul_", "div_"):
        t = sg.tensor([4.0, 8.0])
        getattr(t, op)(2)
    t = sg.tensor([4.0, 8.0])
    t.pow_(2).zero_()
    t.fill_(3.0)
    t.copy_(sg.tensor([1.0, 5.0]))
    np.testing.assert_array_equal(t.numpy(), [1.0, 5.0])
    t[0] = 7.0
    t[1:] += 1
    np.testing.assert_array_equal(t.numpy(), [7.0, 6.0])
    assert v is not None


def test_extremes_are_finite_and_exact():
    z = sg.tensor([-1000.0, -40.0, 0.0, 40.0, 1000.0], requires_grad=True)
    y = sg.tensor([1.0, 0.0, 0.5, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    s = sg.sigmoid(z).sum()
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(s.item())
    assert np.all(np.isfinite(z.grad.numpy()))
    # y=1 at z=-1000 and y=0 at z=1000 cost 1000 each; the others are log 2 and two e^-40 terms.
    assert loss.item() == pytest.approx(2000 + np.log(2) + 2 * np.log1p(np.exp(-40)), rel=1e-15)


def test_nan_and_inf_propagate_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = sg.tensor([0.0, -1.0, np.inf, np.nan], requires_grad=True)
        out = (a.log() + a / a).sum()
        out.backward()
    assert np.isnan(out.item())
    assert np.isnan(a.grad.numpy()[3])


def test_million_node_chain_runs_backward_and_is_released():
    a = sg.tensor([1.0], requires_grad=True)
    y = a
    for _ in range(1_000_000):
        y = y * 1.0
    mid = weakref.ref(y.grad_fn.next_functions[0][0])
    y.sum().backward()
    assert a.grad.item() == 1.0
    del y
    gc.collect()
    assert mid() is None


def test_wide_graph_reusing_one_tensor():
    a = sg.tensor([2.0], requires_grad=True)
    total = sg.stack([a * 1.0 for _ in range(100_000)]).sum()
    total.backward()
    assert a.grad.item() == 100_000.0


def test_two_threads_differentiate_separate_graphs():
    results = {}
    barrier = threading.Barrier(2)

    def worker(k: int):
        x = sg.tensor(np.linspace(-1, 1, 50) * (k + 1), requires_grad=True)
        barrier.wait()
        for _ in range(50):
            if x.grad is not None:
                x.grad.zero_()
            with sg.set_grad_enabled(True):
                loss = (x.tanh() * x.exp()).sum()
            loss.backward()
        xv = x.detach().numpy()
        expected = (1 - np.tanh(xv) ** 2) * np.exp(xv) + np.tanh(xv) * np.exp(xv)
        results[k] = np.allclose(x.grad.numpy(), expected, rtol=1e-14)

    def no_grad_worker():
        barrier.wait()
        with sg.no_grad():
            for _ in range(200):
                assert not sg.is_grad_enabled()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {0: True, 1: True}
    t = threading.Thread(target=no_grad_worker)
    barrier = threading.Barrier(1)
    t.start()
    t.join()
    assert sg.is_grad_enabled()


@pytest.mark.parametrize("call, low, high, shape", [
    (lambda: sg.randint(10, (400,)), 0, 10, (400,)),
    (lambda: sg.randint(3, 10, (20, 20)), 3, 10, (20, 20)),
    (lambda: sg.randint(10, size=(400,)), 0, 10, (400,)),
    (lambda: sg.randint(high=5, size=[400]), 0, 5, (400,)),
    (lambda: sg.randint(low=-3, high=2, size=(400,)), -3, 2, (400,)),
    (lambda: sg.randint(-3, high=2, size=(400,)), -3, 2, (400,)),
    (lambda: sg.randint(size=(400,), high=sg.tensor(4)), 0, 4, (400,)),
    (lambda: sg.randint(2, ()), 0, 2, ()),
    (lambda: sg.randint(2 ** 40, sg.Size([400])), 0, 2 ** 40, (400,)),
])
def test_randint_forms_as_pytorch(call, low, high, shape):
    # randint(high, size) and randint(low, high, size), positionally or by keyword
    t = call()
    assert t.dtype == sg.int64 and tuple(t.shape) == shape and not t.requires_grad
    v = t.numpy()
    assert v.min() >= low and v.max() < high
    if v.size >= 400 and high - low <= 10:
        assert set(np.unique(v).tolist()) == set(range(low, high))


def test_randint_keywords_as_pytorch():
    t = sg.randint(0, 5, (3,), dtype=sg.float32, requires_grad=True, generator=None)
    assert t.dtype == sg.float32 and t.requires_grad
    assert sg.randint(2, (3,), dtype=sg.int32).dtype == sg.int32
    u = sg.randint(0, 256, (500,), dtype=sg.uint8)
    assert u.dtype == sg.uint8 and u.numpy().max() > 200
    assert sg.randint(0, 2, (4,), dtype=sg.bool).dtype == sg.bool
    sg.manual_seed(3)
    a = sg.randint(10, (6,))
    sg.manual_seed(3)
    assert sg.randint(10, (6,)).tolist() == a.tolist()


@pytest.mark.parametrize("call, exc, words", [
    (lambda: sg.randint(10), TypeError, "size"),
    (lambda: sg.randint(10, 4), TypeError, "tuple of ints"),
    (lambda: sg.randint(10, size=4), TypeError, "tuple of ints"),
    (lambda: sg.randint(3, 10, 4), TypeError, "tuple of ints"),
    (lambda: sg.randint(10.5, (2,)), TypeError, "'high' must be int"),
    (lambda: sg.randint(True, (2,)), TypeError, "'high' must be int"),
    (lambda: sg.randint(low=3, size=(4,)), TypeError, "high"),
    (lambda: sg.randint(10, (2,), low=1), TypeError, "multiple values"),
    (lambda: sg.randint(1, 10, (2,), 5), TypeError, "positional"),
    (lambda: sg.randint(5, 5, (2,)), RuntimeError, "from=5 >= to=5"),
    (lambda: sg.randint(0, (2,)), RuntimeError, "less than 'to'"),
    (lambda: sg.randint(10, (-1,)), RuntimeError, "negative dimension"),
    (lambda: sg.randint(10, (2,), requires_grad=True), RuntimeError, "floating point"),
    (lambda: sg.randint(0, 300, (2,), dtype=sg.uint8), RuntimeError, "to - 1 is out of bounds"),
    (lambda: sg.randint(-1, 2, (2,), dtype=sg.uint8), RuntimeError, "from is out of bounds"),
    (lambda: sg.randint(0, 3, (2,), dtype=sg.bool), RuntimeError, "to - 1 is out of bounds"),
])
def test_randint_errors_as_pytorch(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
