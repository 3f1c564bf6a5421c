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


# ---------------------------------------------------------------- node post-hooks
def _hook_order_log(m):
    """Which hooks run in which order, and what each sees, for PyTorch or symgrad ``m``."""
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * m.tensor([3.0, 4.0])
    log = []
    y.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].tolist())) or (go[0] * 10,))
    y.register_hook(lambda g: log.append(("tensor", g.tolist())) or g + 1)
    y.retain_grad()
    y.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [None if g is None else g.tolist() for g in gi], [g.tolist() for g in go])))
    y.sum().backward()
    return log, y.grad.tolist(), x.grad.tolist()


def test_hooks_run_in_pytorchs_order_whatever_the_registration_order():
    log, y_grad, x_grad = _hook_order_log(sg)
    # tensor hooks, then retain_grad, then node pre-hooks, the node, its post-hooks
    assert log == [("tensor", [1.0, 1.0]), ("pre", [2.0, 2.0]),
                   ("post", [[60.0, 80.0], None], [[20.0, 20.0]])]
    assert y_grad == [2.0, 2.0] and x_grad == [60.0, 80.0]


def test_hook_order_matches_pytorch():
    torch = pytest.importorskip("torch")
    with_torch = _hook_order_log(torch)
    assert _hook_order_log(sg) == with_torch


def test_node_post_hook_replaces_or_drops_grad_inputs():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    handle = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, None))
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 2.0]
    x.grad = None
    with y.grad_fn.register_hook(lambda gi, go: (None, None)):
        y.sum().backward(retain_graph=True)
    assert x.grad is None                     # None drops the gradient
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]      # the handle's block is over


@pytest.mark.parametrize("hook, error, message", [
    (lambda gi, go: (gi[0],), RuntimeError, "incorrect number of values \\(got 1, but expected 2"),
    (lambda gi, go: gi[0], TypeError, "expected tuple, but hook returned 'Tensor'"),
    (lambda gi, go: [gi[0], None], TypeError, "expected tuple, but hook returned 'list'"),
    (lambda gi, go: (3, None), TypeError, "expected Variable, but hook returned 'int'"),
    (lambda gi, go: (gi[0], sg.ones(2)), RuntimeError, "can't replace a None gradient"),
    (lambda gi, go: (sg.ones(3), None), RuntimeError, "has changed the size of value"),
    (lambda gi, go: (sg.ones(()), None), RuntimeError, "has changed the size of value"),
    (lambda gi, go: (gi[0].float(), None), RuntimeError, "has changed the type of value"),
])
def test_node_post_hook_results_are_checked_as_pytorch_checks_them(hook, error, message):
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2          # MulBackward0: an edge to x and none for the number 2
    y.grad_fn.register_hook(hook)
    with pytest.raises(error, match=message):
        y.sum().backward()


def test_node_pre_hook_may_drop_the_gradient_but_not_change_its_type():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (None,))
    y.sum().backward()
    assert x.grad is None
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0].float(),))
    with pytest.raises(RuntimeError, match="has changed the type of value"):
        y.sum().backward()
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="incorrect number of values \\(got 2, but expected 1"):
        y.sum().backward()


def test_accumulate_grad_hooks_run_when_the_leaf_accumulates():
    a = sg.tensor([1.0], requires_grad=True)
    b = a * 1
    acc = b.grad_fn.next_functions[0][0]
    log = []
    a.register_hook(lambda g: log.append("tensor") or g * 10)
    acc.register_prehook(lambda go: log.append("pre") or (go[0] * 100,))
    acc.register_hook(lambda gi, go: log.append(("post", gi, go[0].tolist())))
    (g,) = sg.autograd.grad(b.sum(), a, retain_graph=True)
    assert g.tolist() == [10.0] and log == ["tensor"]   # grad() runs no AccumulateGrad
    log.clear()
    b.sum().backward()
    assert log == ["tensor", "pre", ("post", (), [1000.0])]
    assert a.grad.tolist() == [1000.0]


def test_grad_captures_after_tensor_hooks_and_before_the_nodes_pre_hooks():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.grad_fn.register_prehook(lambda go: (go[0] * 100,))
    posts = []
    y.grad_fn.register_hook(lambda gi, go: posts.append(1))
    (gy,) = sg.autograd.grad((y * y).sum(), y, retain_graph=True)
    assert gy.tolist() == [40.0, 80.0] and posts == []  # y's node did not run
    (gx,) = sg.autograd.grad((y * y).sum(), x)
    assert gx.tolist() == [8000.0, 16000.0] and posts == [1]


def test_post_hook_sees_tensors_that_record_under_create_graph():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    seen = []
    y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].requires_grad, go[0].requires_grad)))
    (g,) = sg.autograd.grad(y.sum(), x, create_graph=True)
    assert seen == [(True, False)] and g.requires_grad


def test_node_metadata_is_a_dict_that_stays_with_the_node():
    x = sg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["tag"] = "scale"
    assert y.grad_fn.metadata is y.grad_fn.metadata and y.grad_fn.metadata == {"tag": "scale"}
    assert (x * 2).grad_fn.metadata == {}
    assert y.grad_fn.next_functions[0][0].metadata == {}
    with pytest.raises(TypeError, match="callable"):
        y.grad_fn.register_hook(3)


def test_gradients_a_hook_saw_are_never_changed_afterwards():
    # A replacing hook on one path must not let the user's seed gradient be accumulated
    # into in place on another path, nor a gradient a hook kept be changed later.
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    z = sg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    seed = sg.tensor([5.0, 5.0])
    for _ in range(2):
        ((z + 0) + x).backward(seed)
    assert seed.tolist() == [5.0, 5.0] and z.grad.tolist() == [10.0, 10.0]
    kept = []
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(kept.append)
    for _ in range(2):
        (a * 3).sum().backward()
    assert [k.tolist() for k in kept] == [[3.0, 3.0], [3.0, 3.0]]
    assert a.grad.tolist() == [6.0, 6.0]


def test_backward_inputs_stores_a_retained_grad_once():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * 4).sum().backward(inputs=[y])
    assert y.grad.tolist() == [4.0, 4.0] and x.grad is None
