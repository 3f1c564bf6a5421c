"""Hooks as PyTorch runs them: retain_grad after every other hook on the tensor and for
its current version after an in-place op; node pre-hooks on tuples, with handles."""

import numpy as np
import pytest

import symgrad as sg


def test_retained_grad_is_what_the_tensor_hooks_make_of_it():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    handle = y.register_hook(lambda g: g * 100)   # registered after retain_grad
    y.register_hook(lambda g: g + 1)
    y.sum().backward()
    assert np.array_equal(y.grad.numpy(), [101, 101])
    assert np.array_equal(x.grad.numpy(), [303, 303])
    handle.remove()
    x.grad = y.grad = None
    y = x * 3
    y.retain_grad()
    h = y.register_hook(lambda g: g * 100)
    h.remove()
    y.sum().backward()
    assert np.array_equal(y.grad.numpy(), [1, 1])


def test_retained_grad_follows_an_in_place_change():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    assert np.array_equal(y.grad.numpy(), [1, 1])      # d sum / d (current y)
    assert np.array_equal(x.grad.numpy(), [6, 6])
    x.grad = None
    y = x * 2
    y.retain_grad()
    y[0] = 5.0
    (y * 3).sum().backward()
    assert np.array_equal(y.grad.numpy(), [3, 3])
    assert np.array_equal(x.grad.numpy(), [0, 6])


def test_node_prehook_takes_and_returns_a_tuple_and_gives_a_handle():
    x = sg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 3
    seen = []

    def pre(grad_outputs):
        seen.append(type(grad_outputs))
        return (grad_outputs[0] * 2,)

    handle = y.grad_fn.register_prehook(pre)
    y.sum().backward(retain_graph=True)
    assert seen == [tuple] and np.array_equal(x.grad.numpy(), np.full((2, 2), 6.0))
    handle.remove()
    x.grad = None
    y.sum().backward(retain_graph=True)
    assert np.array_equal(x.grad.numpy(), np.full((2, 2), 3.0))
    y.grad_fn.register_prehook(lambda go: go[0])      # not a tuple
    with pytest.raises(TypeError, match="expected tuple"):   # PyTorch's type
        y.sum().backward()


def test_a_tensor_hook_handle_is_a_context_manager():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with y.register_hook(lambda g: g * 10):
        y.sum().backward(retain_graph=True)
    assert np.array_equal(x.grad.numpy(), [30, 30])
    x.grad = None
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), [3, 3])


def test_post_accumulate_grad_hook_runs_after_each_accumulation():
    x = sg.tensor([1.0, 1.0], requires_grad=True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    sg.autograd.grad((x * 3).sum(), x)           # no .grad accumulation: no call
    assert seen == [[3.0, 3.0], [6.0, 6.0]]
    handle.remove()
    (x * 3).sum().backward()
    assert len(seen) == 2 and x.output_nr == 0 and (x * 2).output_nr == 0
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        sg.ones(2).register_post_accumulate_grad_hook(lambda t: None)
