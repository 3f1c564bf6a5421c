"""gradcheck / gradgradcheck (exact, with PyTorch's calling conventions) and anomaly mode."""

import threading
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.autograd import api
from symgrad.autograd.gradcheck import GradcheckError
from symgrad.nn import functional as F
from symgrad.ops import OPS

gradcheck, gradgradcheck = sg.autograd.gradcheck, sg.autograd.gradgradcheck


def _x(*values):
    return sg.tensor(list(values), requires_grad=True)


def _square(lib, scale=1.0, detach_factor=False, with_mirror=True, use_g=True):
    """x**2 as a custom Function of ``lib`` (symgrad or torch), its backward optionally
    wrong: scaled, ignoring g, or with a detached factor (right values, no second order)."""

    class Square(lib.autograd.Function):
        elementwise = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            factor = x.detach() if detach_factor else x
            return (g if use_g else 1.0) * 2 * scale * factor

    if with_mirror:
        Square.mirror = staticmethod(lambda x: x ** 2)
    return Square


# ---------------------------------------------------------------- gradcheck: passes
def test_correct_programs_pass_with_tuple_and_non_scalar_outputs():
    x, w = _x(0.3, -0.7, 1.2), sg.tensor([[0.5, 1.5, -1.0], [2.0, 3.0, 0.1]],
                                         requires_grad=True)
    y = sg.tensor([1.0, 0.0])   # a constant input, and a non-tensor one
    assert gradcheck(lambda x, w, y, k: (sg.tanh(w @ x) * y * k, sg.sigmoid(x) * x.exp()),
                     (x, w, y, 2.0))
    assert gradcheck(lambda w: F.binary_cross_entropy_with_logits(w @ x, y), w)
    assert gradcheck(lambda x: [x.sum(), (x * x).cumsum(0)], [x])   # a list works too
    assert x.grad is None and w.grad is None   # the caller's tensors are left alone


def test_float64_rounding_loss_passes():
    # exp(x) - 1 - x at 1e-5 cancels ~11 digits of its value; its derivative keeps within
    # atol. tanh'(20) is 1.7e-17 exactly but the engine gives 0 ("numerically inaccurate").
    assert gradcheck(lambda x: x.exp() - 1 - x, _x(1e-5))
    assert gradcheck(lambda x: sg.tanh(x), _x(20.0, 0.5))


# ---------------------------------------------------------------- gradcheck: failures
def test_planted_wrong_rule_fails_and_names_the_op(mutate):
    mutate(OPS["sigmoid"], vjp=(lambda xp, g, ans, x: g * ans * (1 - ans) * (1 + 1e-10),))
    x, w = _x(0.3, -0.7), _x(1.5, 0.25)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w: (x + 1, sg.sigmoid(x * w)), (x, w))
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "mismatch for output 1 with respect to input 0" in msg
    assert "rule mismatch" in msg and "SigmoidBackward0" in msg   # the report names the op
    assert gradcheck(lambda x, w: sg.sigmoid(x * w), (x, w), raise_exception=False) is False


def test_custom_function_with_a_mirror_is_checked_exactly():
    x = _x(0.3, -0.7, 1.2)
    assert gradcheck(_square(sg).apply, x)
    # off by 1e-7: far inside central differences' tolerance, a rule mismatch here
    with pytest.raises(GradcheckError, match="(?s)rule mismatch.*SquareBackward"):
        gradcheck(_square(sg, scale=1 + 1e-7).apply, x)


def test_without_a_mirror_central_differences_judge_and_say_so():
    x = _x(0.3, -0.7, 1.2)
    assert gradcheck(_square(sg, with_mirror=False).apply, x)
    assert gradcheck(_square(sg, scale=1 + 1e-7, with_mirror=False).apply, x)   # unseen
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: _square(sg, scale=1.1, with_mirror=False).apply(x) + x, x)
    msg = str(info.value)
    assert "central differences" in msg and "no SymPy mirror for SquareBackward" in msg


def test_backward_that_ignores_grad_output_fails():
    # with a scalar output every Jacobian row reaches the rule with g = 1: only a zero
    # grad_output shows that the rule does not multiply by it (PyTorch tests this too)
    sq = _square(sg, use_g=False)
    with pytest.raises(GradcheckError, match="not multiplied by grad_output"):
        gradcheck(lambda x: sq.apply(x).sum(), _x(0.3, -0.7))


def test_a_function_without_differentiable_outputs_must_be_constant():
    x = _x(0.3, -0.7)
    assert gradcheck(lambda x: (x > 0).float(), x)
    with pytest.raises(GradcheckError, match="expected to be zero"):
        gradcheck(lambda x: x.detach() * 2, x)


def test_a_function_that_cuts_the_graph_passes_with_a_warning():
    with pytest.warns(UserWarning, match="leaves the graph"):
        assert gradcheck(lambda x: x * x.detach(), _x(0.3, -0.7))


def test_bad_arguments_raise_pytorchs_error_types():
    x = _x(0.5)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda x: x * 2, sg.tensor([0.5]), raise_exception=False)
    with pytest.raises(TypeError):
        gradcheck(lambda x: x, x, not_a_keyword=True)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: x, x, check_forward_ad=False, check_backward_ad=False)
    with pytest.raises(AssertionError):
        gradgradcheck(lambda x: x, x, check_rev_over_rev=False)
    with pytest.raises(TypeError):
        gradcheck(lambda x: x, (x, x))   # more inputs than func takes
    with pytest.raises(TypeError, match="Tensor"):
        gradcheck(lambda x: 1.0, x)
    # PyTorch's other keywords are accepted
    assert gradcheck(lambda x: x * 3, x, nondet_tol=0.0, check_undefined_grad=False,
                     check_grad_dtypes=True, check_batched_grad=True, fast_mode=True,
                     masked=False)


def test_float32_inputs_warn():
    with pytest.warns(UserWarning, match="not float64"):
        gradcheck(lambda x: x * 2, sg.tensor([0.5], dtype=sg.float32, requires_grad=True))


def test_gradcheck_error_is_reachable_like_pytorchs():
    import sys

    import symgrad.autograd.gradcheck  # noqa: F401  (the module stays loaded, importable ...

    module = sys.modules["symgrad.autograd.gradcheck"]
    assert sg.autograd.gradcheck.GradcheckError is GradcheckError is module.GradcheckError
    assert issubclass(GradcheckError, RuntimeError)
    assert sg.autograd.gradcheck(lambda x: x * 2, _x(1.0))   # ... the name is the function
    assert "gradcheck" in sg.autograd.__all__ and "detect_anomaly" in sg.autograd.__all__


# ---------------------------------------------------------------- gradgradcheck
def test_gradgradcheck_passes_correct_programs():
    x, w = _x(0.3, -0.7, 1.2), _x(0.5, 2.0, -1.0)
    assert gradgradcheck(lambda x, w: (sg.tanh(x * w) * x).sum(), (x, w))    # scalar
    assert gradgradcheck(lambda x, w: (sg.sigmoid(x) * w, x.exp()), (x, w))  # tuple
    assert gradgradcheck(lambda x: x * 2, x)    # the gradient does not depend on x
    g = sg.tensor([0.5, -1.0, 2.0], requires_grad=True)   # differentiated too, as PyTorch
    assert gradgradcheck(lambda x: sg.tanh(x) * x, x, grad_outputs=g)
    assert gradgradcheck(lambda x: sg.tanh(x).sum() * x, x, grad_outputs=(g.detach(),))
    with pytest.raises(RuntimeError, match="shape"):
        gradgradcheck(lambda x: x * x, x, grad_outputs=sg.ones(2))


def test_gradgradcheck_names_a_wrong_rule_in_the_backward_graph(mutate):
    mul = OPS["mul"]
    mutate(mul, vjp=(lambda xp, g, ans, x, y: g * y * (1 + 1e-9), mul.vjp[1]))
    x = _x(0.3, -0.7, 1.2)
    for f in (lambda x: sg.tanh(x).sum(), lambda x: sg.tanh(x)):
        with pytest.raises(GradcheckError, match="(?s)gradgradcheck.*MulBackward0"):
            gradgradcheck(f, x)


def test_gradgradcheck_catches_a_backward_that_cuts_the_graph():
    # the first derivative is right; the second, through the detached factor, is not
    x = _x(0.3, -0.7, 1.2)
    sq = _square(sg, detach_factor=True)
    assert gradcheck(sq.apply, x)
    for f in (sq.apply, lambda x: sq.apply(x).sum()):
        with pytest.raises(GradcheckError, match="mismatch"):
            gradgradcheck(f, x)


def test_gradgradcheck_without_a_mirror_uses_central_differences():
    x = _x(0.3, -0.7, 1.2)
    assert gradgradcheck(_square(sg, with_mirror=False).apply, x)
    with pytest.raises(GradcheckError, match="central differences"):
        gradgradcheck(_square(sg, with_mirror=False, detach_factor=True).apply, x)


# ---------------------------------------------------------------- against PyTorch
def _programs(lib):
    """name -> (function, input values): the same program in either library."""
    sq = lambda **kw: _square(lib, **kw).apply   # noqa: E731
    return {
        "composite": (lambda a, b: (lib.tanh(a * b) + lib.sigmoid(a).exp(), (a * b).sum()),
                      ([0.3, -0.7, 1.2], [0.5, 2.0, -1.0])),
        "matmul_softmax": (lambda a, b: lib.softmax(a.reshape(2, 2) @ b.reshape(2, 2), 1),
                           ([0.3, -0.7, 1.2, 0.1], [0.5, 2.0, -1.0, 0.25])),
        "abs_at_zero": (lambda a, b: a.abs() * b, ([0.0, 1.0], [2.0, 3.0])),
        "relu_at_zero": (lambda a, b: lib.relu(a) * b, ([0.0, 1.0], [2.0, 3.0])),
        "custom_right": (lambda a, b: sq()(a) * b, ([0.3, -0.7], [2.0, 3.0])),
        "custom_10pc_off": (lambda a, b: sq(scale=1.1)(a) * b, ([0.3, -0.7], [2.0, 3.0])),
        "custom_ignores_g": (lambda a, b: (sq(use_g=False)(a) * b).sum(),
                             ([0.3, -0.7], [2.0, 3.0])),
        "detached_output": (lambda a, b: a.detach() * b.detach(), ([0.3, -0.7], [2.0, 3.0])),
    }


@pytest.mark.parametrize("name", sorted(_programs(sg)))
def test_gradcheck_agrees_with_pytorch_on_pass_or_fail(name):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (sg, torch):
        f, values = _programs(lib)[name]
        inputs = tuple(lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values)
        results.append(lib.autograd.gradcheck(f, inputs, raise_exception=False))
    assert results[0] == results[1], results


@pytest.mark.parametrize("detach_factor", [False, True])
def test_gradgradcheck_agrees_with_pytorch_on_pass_or_fail(detach_factor):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (sg, torch):
        x = lib.tensor([0.3, -0.7, 1.2], dtype=lib.float64, requires_grad=True)
        f = _square(lib, detach_factor=detach_factor).apply
        results.append((lib.autograd.gradcheck(f, x, raise_exception=False),
                        lib.autograd.gradgradcheck(f, x, raise_exception=False)))
    assert results[0] == results[1] == (True, not detach_factor)


# ---------------------------------------------------------------- anomaly mode
def _nan_in_sqrt():
    a = _x(0.0, 1.0)
    return a, (a.sqrt() * 0).sum()   # sqrt'(0) * 0 = inf * 0 = nan


def test_anomaly_mode_names_the_node_that_returned_nan():
    with pytest.warns(UserWarning, match="anomaly"):
        guard = sg.autograd.detect_anomaly()
    # (each error also warns with the traceback of the node's forward call, as PyTorch)
    with guard, pytest.warns(UserWarning, match="Error detected in"):
        assert sg.autograd.is_anomaly_enabled() and sg.autograd.is_anomaly_check_nan_enabled()
        a, loss = _nan_in_sqrt()
        with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned nan "
                                               r"values in its 0th output\.$"):
            loss.backward()
        b = _x(0.0)
        with pytest.raises(RuntimeError, match="'DivBackward0' returned nan values in its 1th"):
            sg.autograd.grad((b * 0 / b).sum(), b)      # 0/0 in d/d(denominator)
        for create_graph in (False, True):
            a, loss = _nan_in_sqrt()
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                sg.autograd.grad(loss, a, create_graph=create_graph)
    assert not sg.autograd.is_anomaly_enabled()
    a, loss = _nan_in_sqrt()
    loss.backward()                                      # off: nan goes through, as PyTorch
    assert np.isnan(a.grad.numpy()[0])


def test_anomaly_mode_switches():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with sg.autograd.detect_anomaly(check_nan=False):
            assert sg.autograd.is_anomaly_enabled()
            assert not sg.autograd.is_anomaly_check_nan_enabled()
            a, loss = _nan_in_sqrt()
            loss.backward()
            assert np.isnan(a.grad.numpy()[0])

        @sg.autograd.detect_anomaly()
        def run():
            assert sg.autograd.is_anomaly_enabled()
            _nan_in_sqrt()[1].backward()

    with pytest.raises(RuntimeError, match="SqrtBackward0"), \
            pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
        run()
    assert not sg.autograd.is_anomaly_enabled()
    sg.autograd.set_detect_anomaly(True)
    try:
        assert sg.autograd.is_anomaly_enabled()
        with sg.autograd.set_detect_anomaly(False):
            assert not sg.autograd.is_anomaly_enabled()
        assert sg.autograd.is_anomaly_enabled()
        seen = []
        thread = threading.Thread(target=lambda: seen.append(sg.autograd.is_anomaly_enabled()))
        thread.start()
        thread.join()
        assert seen == [True]   # process-wide, as PyTorch's (grad mode is per thread)
    finally:
        sg.autograd.set_detect_anomaly(False)
    assert not sg.autograd.is_anomaly_enabled() and sg.autograd.is_anomaly_check_nan_enabled()


def test_anomaly_mode_off_leaves_the_engine_loop_alone(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the hooked path ran")

    monkeypatch.setattr(api, "_run_capture", refuse)
    x = _x(0.5, 2.0)
    (x * x).sum().backward()
    assert x.grad.tolist() == [1.0, 4.0]
    with pytest.raises(AssertionError, match="hooked path"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with sg.autograd.detect_anomaly():
            (x * x).sum().backward()

