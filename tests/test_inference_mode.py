"""inference_mode as PyTorch's: no recording, and the tensors made inside are inference
tensors, which autograd refuses to save or change in place outside the mode."""

import threading

import numpy as np
import pytest

import symgrad as sg

SAVED = "Inference tensors cannot be saved for backward"
IN_PLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"


def _inference_tensor():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with sg.inference_mode():
        y = x * 2
    return x, y


def test_mode_flags_and_what_is_made_inside():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    assert not sg.is_inference_mode_enabled()
    with sg.inference_mode():
        assert sg.is_inference_mode_enabled() and not sg.is_grad_enabled()
        y = x * 2
        made = [sg.ones(2), sg.tensor([1.0]), sg.zeros_like(x), sg.arange(3),
                sg.from_numpy(np.ones(2)), sg.Tensor([1.0])]
        views = [x[0], x.view(2), x.detach()]          # of a normal tensor: normal
        with sg.no_grad():
            under_no_grad = x * 2
        with sg.inference_mode(False):
            assert not sg.is_inference_mode_enabled() and sg.is_grad_enabled()
            outside = sg.ones(2)
    assert not sg.is_inference_mode_enabled() and sg.is_grad_enabled()
    assert y.is_inference() and not y.requires_grad and y.grad_fn is None
    assert all(t.is_inference() for t in made) and under_no_grad.is_inference()
    assert not any(t.is_inference() for t in views) and not outside.is_inference()
    assert not x.is_inference() and sg.is_inference(y) and not sg.is_inference(x)


def test_views_and_detach_of_an_inference_tensor_are_inference_tensors():
    _, y = _inference_tensor()
    assert y[0].is_inference() and y.view(2, 1).is_inference() and y.detach().is_inference()
    assert y.data.is_inference()
    assert not y.clone().is_inference() and not (y * 2).is_inference()


@pytest.mark.parametrize("use", [
    lambda x, y: y * x, lambda x, y: x.exp() * y, lambda x, y: x / y, lambda x, y: y / x,
    lambda x, y: y ** x, lambda x, y: sg.matmul(y, x),
])
def test_saving_an_inference_tensor_for_backward_raises(use):
    x, y = _inference_tensor()
    with pytest.raises(RuntimeError, match=SAVED):
        use(x, y)


def test_ops_that_save_nothing_may_use_inference_tensors():
    x, y = _inference_tensor()
    out = x + y                    # add saves neither argument, as in PyTorch
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert (x.exp() + y.exp()).requires_grad
    assert not (y * 2).is_inference()               # made outside the mode: normal
    with sg.no_grad():
        assert not (y * x).is_inference()           # nothing recorded: nothing saved
    assert (y.clone() * x).requires_grad            # the documented way out


def test_custom_function_saving_an_inference_tensor_raises():
    class Mul(sg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            (b,) = ctx.saved_tensors
            return g * b, None

    x, y = _inference_tensor()
    with pytest.raises(RuntimeError, match=SAVED):
        Mul.apply(x, y)
    with sg.inference_mode():
        out = Mul.apply(x, y)
    assert out.is_inference() and not out.requires_grad


def _setitem(y):
    y[0] = 5.0


@pytest.mark.parametrize("change", [
    lambda y: y.add_(1), lambda y: y.mul_(2), _setitem, lambda y: y.zero_(),
    lambda y: y.fill_(1.0), lambda y: y.copy_(sg.ones(2)), lambda y: y.t_(),
    lambda y: y.unsqueeze_(0), lambda y: y.uniform_(),
])
def test_in_place_on_an_inference_tensor_outside_the_mode_raises(change):
    _, y = _inference_tensor()
    with pytest.raises(RuntimeError, match=IN_PLACE):
        change(y)
    with sg.no_grad(), pytest.raises(RuntimeError, match=IN_PLACE):
        change(y)
    with sg.inference_mode():
        change(y)                   # inside the mode it is allowed
    c = y.clone()
    change(c)                       # and on a clone


def test_in_place_function_on_an_inference_tensor_outside_the_mode_raises():
    class Inc_(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    _, y = _inference_tensor()
    with pytest.raises(RuntimeError, match=IN_PLACE):
        Inc_.apply(y)


def test_requires_grad_and_version_of_an_inference_tensor():
    _, y = _inference_tensor()
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor "
                                           "outside InferenceMode is not allowed"):
        y.requires_grad_()
    with pytest.raises(RuntimeError, match="Setting requires_grad=True"):
        y.requires_grad = True
    assert not y.requires_grad_(False).requires_grad
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        _ = y._version
    with sg.inference_mode():
        w = sg.tensor([1.0], requires_grad=True)    # allowed inside, as in PyTorch
    assert w.requires_grad and w.is_inference()


def test_a_normal_tensor_changed_inside_the_mode_stays_normal():
    t = sg.ones(3)
    with sg.inference_mode():
        t.add_(1)
    assert not t.is_inference() and t._version == 1 and t.tolist() == [2.0, 2.0, 2.0]


def test_decorator_forms_and_generators():
    @sg.inference_mode()
    def f(a):
        return (a * 2).is_inference(), sg.is_inference_mode_enabled()

    @sg.inference_mode
    def g(a):
        return (a * 2).is_inference()

    def gen():
        yield sg.is_inference_mode_enabled()
        yield sg.is_inference_mode_enabled()

    x = sg.tensor([1.0], requires_grad=True)
    assert f(x) == (True, True) and g(x) is True
    steps = sg.inference_mode()(gen)()
    assert next(steps) and not sg.is_inference_mode_enabled() and next(steps)
    with sg.inference_mode() as entered:
        assert entered is None


def test_inference_mode_is_thread_local():
    seen = []
    with sg.inference_mode():
        t = threading.Thread(target=lambda: seen.append(
            (sg.is_inference_mode_enabled(), sg.ones(1).is_inference())))
        t.start()
        t.join()
    assert seen == [(False, False)]


def _scenario(m):
    """What PyTorch or symgrad ``m`` allows around inference tensors."""
    log = []
    x = m.tensor([1.0, 2.0], requires_grad=True)
    with m.inference_mode():
        y = x * 2
        log.append((y.is_inference(), x[0].is_inference(), m.is_grad_enabled()))
    for name, f in [("mul", lambda: y * x), ("add", lambda: x + y), ("add_", lambda: y.add_(1)),
                    ("requires_grad_", lambda: y.requires_grad_()),
                    ("clone", lambda: y.clone().add_(1))]:
        try:
            f()
            log.append((name, "ok"))
        except RuntimeError as e:
            log.append((name, str(e).split(".")[0]))
    return log


def test_inference_mode_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert _scenario(sg) == _scenario(torch)


def test_enable_grad_inside_inference_mode_records_nothing():
    """As PyTorch: grad mode reads as on, but nothing is recorded and results are still
    inference tensors; leaving both modes restores recording."""
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with sg.inference_mode():
        with sg.enable_grad():
            y = x * 2
            assert sg.is_grad_enabled()
        assert not sg.is_grad_enabled()
    assert not y.requires_grad and y.is_inference()
    assert sg.is_grad_enabled() and (x * 2).requires_grad
