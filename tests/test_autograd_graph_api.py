"""symgrad's side of torch.autograd.graph: saved-tensor hooks (which must leave the
verifier's forward values alone and cost nothing when off), multi-grad hooks, gradient
edges, increment_version, and the Function / grad extras. The comparisons with PyTorch
are in test_autograd_api_diff.py; these tests need no PyTorch."""

import threading

import numpy as np
import pytest

import symgrad as sg
from symgrad.autograd import graph
from symgrad.autograd.multi_grad_hook import live
from symgrad.autograd.saved_tensors import _hooks
from symgrad.ops._record import OPS


def leaves(*rows):
    return [sg.tensor(r, requires_grad=True) for r in rows]


def counting():
    seen = []
    return seen, graph.saved_tensors_hooks(lambda t: seen.append(t) or t, lambda t: t)


# --------------------------------------------------------------------------- saved hooks
def test_no_hooks_means_nothing_packed_and_a_plain_node():
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    assert _hooks.pair is None
    y = a * b
    assert y.grad_fn._freed is False
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert _hooks.pair is not None
        z = a * b
    assert _hooks.pair is None
    assert z.grad_fn._freed not in (True, False)   # it holds the packed values


def test_hooks_leave_the_forward_values_to_the_verifier():
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
        y = a * b
    node = y.grad_fn
    assert np.array_equal(node.saved_values["x"], [1.0, 2.0])
    assert np.array_equal(node.saved_values["y"], [3.0, 4.0])
    y.sum().backward(retain_graph=True)
    assert np.array_equal(a.grad.numpy(), [30.0, 40.0])   # backward used the unpacked
    assert np.array_equal(node.saved_values["x"], [1.0, 2.0])
    assert str(sg.symbolic.mirror(y)) == "tensor([a[0]*b[0], a[1]*b[1]], dtype=symbolic)"


def test_verifier_agrees_under_identity_hooks_and_flags_changing_ones():
    x = sg.tensor([0.3, 0.7], requires_grad=True)
    f = lambda t: (t.exp() * t).sum()   # noqa: E731
    seen, hooks = counting()
    with hooks:
        assert sg.verify.check(f, x).ok
    assert seen
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
        assert not sg.verify.check(f, x).ok


@pytest.mark.parametrize("expr, n", [
    (lambda a, b: a * b, 2), (lambda a, b: a * a, 2), (lambda a, b: a * 2.0, 0),
    (lambda a, b: a * b.detach(), 1), (lambda a, b: a + b, 0), (lambda a, b: a.exp(), 1),
    (lambda a, b: a.sin(), 1), (lambda a, b: a ** b, 3), (lambda a, b: a.sum(), 0),
])
def test_pack_count_is_what_the_op_records_read(expr, n):
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    seen, hooks = counting()
    with hooks:
        y = expr(a, b)
    assert len(seen) == n
    assert len(seen) == len(y.grad_fn._saved or ())


def test_saved_order_puts_what_the_first_rule_reads_first():
    assert OPS["mul"].saved_idx == (1, 0)
    assert OPS["div"].saved_idx == (1, 0)
    assert OPS["exp"].saved_idx == ()


@pytest.mark.parametrize("pack, refused", [(lambda t: t, True), (lambda t: t.clone(), False)])
def test_an_in_place_change_of_a_packed_tensor(pack, refused):
    # Unpacked as the saved tensor itself, the changed value would be used silently (as
    # PyTorch, which skips its version check under hooks, does): symgrad refuses. A copy
    # made by the pack hook is the value as saved: fine.
    (a,) = leaves([1.0, 2.0])
    with graph.saved_tensors_hooks(pack, lambda t: t):
        c = a * 1
        y = c * c
    c.add_(1)
    if refused:
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.sum().backward()
    else:
        y.sum().backward()
        assert np.array_equal(a.grad.numpy(), [2.0, 4.0])


def test_function_in_place_change_under_identity_hooks_is_refused():
    class Sq(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    (a,) = leaves([1.0, 2.0])
    c = a * 1
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = Sq.apply(c)
    c.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_create_graph_through_a_changed_leaf_unpack_reaches_the_leaf():
    (a,) = leaves([1.0, 2.0])
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t * 3):
        y = (a * a).sum()
    (g,) = sg.autograd.grad(y, a, create_graph=True)   # g = 3a + 3a
    assert np.array_equal(g.detach().numpy(), [6.0, 12.0])
    g.sum().backward()
    # each unpacked 3a stands where a stood: d/da through it is 1, as in PyTorch
    assert np.array_equal(a.grad.numpy(), [2.0, 2.0])


def test_hooks_are_per_thread():
    seen, hooks = counting()
    other = []

    def work():
        a, b = leaves([1.0], [2.0])
        a * b
        other.append(_hooks.pair)

    with hooks:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert other == [None] and not seen


def test_pack_hook_may_not_record():
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    grads = []
    with graph.saved_tensors_hooks(lambda t: grads.append((t * 2).requires_grad) or t,
                                   lambda t: t):
        a * b
    assert grads == [False, False]


def test_save_on_cpu_accepts_pytorchs_arguments():
    (a,) = leaves([1.0, 2.0])
    with graph.save_on_cpu(pin_memory=True, device_type="cuda"):
        y = (a.exp() * a).sum()
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp([1.0, 2.0]) * [2.0, 3.0])


def test_allow_mutation_then_outside_backward():
    (a,) = leaves([1.0, 2.0])
    with graph.allow_mutation_on_saved_tensors() as ctx:
        c = a * 1
        y = (c * c).sum()
        c.mul_(5)
        y.backward(retain_graph=True)
    assert isinstance(ctx, graph.allow_mutation_on_saved_tensors)
    assert np.array_equal(a.grad.numpy(), [2.0, 4.0])
    with pytest.raises(AssertionError, match="outside of the 'allow_mutation"):
        y.backward()


# --------------------------------------------------------------------------- versions
def test_increment_version_of_an_inference_tensor_is_a_no_op():
    with sg.inference_mode():
        t = sg.ones(2)
    graph.increment_version(t)
    with pytest.raises(RuntimeError, match="Iterable"):
        graph.increment_version([t, 3])


# --------------------------------------------------------------------------- multi hooks
def test_multi_hook_costs_nothing_once_removed():
    a, b = leaves([1.0], [2.0])
    before = live[0]
    h = graph.register_multi_grad_hook((a, b), lambda gs: None)
    assert live[0] == before + 1
    h.remove()
    h.remove()
    assert live[0] == before


def test_multi_hook_all_fires_before_the_rest_of_backward_finishes():
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    c, d = a * 1, b * 1
    log = []
    graph.register_multi_grad_hook((c, d), lambda gs: log.append("all"))
    a.register_hook(lambda g: log.append("a"))
    (c * d).sum().backward()
    assert log == ["all", "a"]


def test_multi_hook_handle_is_a_context_manager():
    a, b = leaves([1.0], [2.0])
    log = []
    with graph.register_multi_grad_hook((a, b), lambda gs: log.append(1)):
        (a * b).sum().backward()
    (a * b).sum().backward()
    assert log == [1]


def test_multi_hook_with_leaves_under_grad():
    # (PyTorch refuses this; symgrad knows which leaves grad() reaches)
    a, b = leaves([1.0], [2.0])
    log = []
    graph.register_multi_grad_hook((a, b), lambda gs: log.append([g is None for g in gs]))
    sg.autograd.grad((a * b).sum(), [a])
    assert log == [[False, True]]


# --------------------------------------------------------------------------- edges
def test_gradient_edge_of_a_second_output():
    class Two(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    (a,) = leaves([1.0, 2.0])
    p, q = Two.apply(a)
    e = graph.get_gradient_edge(q)
    assert e.node is q.grad_fn and e.output_nr == 1
    (g,) = sg.autograd.grad((p * q).sum(), e)
    assert np.array_equal(g.numpy(), p.detach().numpy())


def test_grad_batched_is_the_jacobian():
    (a,) = leaves([1.0, 2.0, 3.0])
    (j,) = sg.autograd.grad(a.sin() * a, a, sg.eye(3), is_grads_batched=True)
    expected = sg.autograd.functional.jacobian(lambda t: t.sin() * t, a)
    np.testing.assert_allclose(j.numpy(), expected.numpy())


# --------------------------------------------------------------------------- Function
def test_setup_context_function_is_verified_by_its_mirror():
    import sympy

    class Cube(sg.autograd.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def vjp(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

        @staticmethod
        def mirror(x):
            return x ** 3 + 0 * sympy.Integer(0)

    x = sg.tensor([0.5, -1.5], requires_grad=True)
    assert sg.verify.check(lambda t: Cube.apply(t).sum(), x).ok


def test_variable_is_the_tensor_type_for_isinstance():
    v = sg.autograd.Variable(sg.tensor([1.0]), requires_grad=True)
    assert type(v) is sg.Tensor and isinstance(v, sg.autograd.Variable)
    assert not isinstance(3, sg.autograd.Variable)


def test_nonleaf_grad_filled_by_backward_inputs_does_not_warn(recwarn):
    (a,) = leaves([1.0, 2.0])
    c = a * 2
    (c * c).sum().backward(inputs=[c])
    assert np.array_equal(c.grad.numpy(), [4.0, 8.0])
    assert not [w for w in recwarn if "not a leaf" in str(w.message)]


# --------------------------------------------------------------------------- anomaly mode
def test_switch_is_off_again_after_hooks_and_anomaly_mode():
    from symgrad.autograd._switches import active

    before = active[0]
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with sg.autograd.set_detect_anomaly(True):
            assert active[0] == before + 2
            sg.autograd.set_detect_anomaly(True)   # (already on: counted once)
            assert active[0] == before + 2
    assert active[0] == before


def test_anomaly_traceback_names_the_users_line_and_warns_on_error():
    (a,) = leaves([1.0, 2.0])
    with pytest.warns(UserWarning, match="anomaly"):
        mode = sg.autograd.detect_anomaly(check_nan=False)
    with mode:
        y = a.exp() * 0    # the line the traceback must show
    tb = "".join(y.grad_fn.metadata["traceback_"])
    assert "the line the traceback must show" in tb and "symgrad/ops" not in tb
    y.sum().backward()
    with mode, pytest.warns(UserWarning, match="Error detected in MulBackward0"):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()
