"""Custom Functions that change an input in place (``ctx.mark_dirty``), as PyTorch runs
them: the input tensor itself is returned, its version moves on, and it takes the call's
node as its history."""

import warnings

import numpy as np
import pytest

import symgrad as sg


class AddOne_(sg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x += 1
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


class ScaleInto_(sg.autograd.Function):
    """t *= w in place; saves w and (optionally) the changed t itself."""

    @staticmethod
    def forward(ctx, t, w):
        t *= w
        ctx.mark_dirty(t)
        ctx.save_for_backward(t, w)
        return t

    @staticmethod
    def backward(ctx, g):
        t, w = ctx.saved_tensors
        return g * w, g * t / w


def test_the_input_itself_is_returned_with_the_new_history():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    old, version = h.grad_fn, h._version
    y = AddOne_.apply(h)
    assert y is h and h.tolist() == [3.0, 5.0] and h._version == version + 2
    assert h.grad_fn.name() == "AddOne_Backward" and h.grad_fn.next_functions == ((old, 0),)
    (h * h).sum().backward()
    assert x.grad.tolist() == [12.0, 20.0]      # d/dx (2x + 1)^2


def test_a_leaf_that_requires_grad_is_refused_as_pytorch_refuses_it():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in "
                                           "an in-place operation"):
        AddOne_.apply(x)
    with sg.no_grad():                          # as an optimizer step would
        assert AddOne_.apply(x) is x
    assert x.grad_fn is None and x.requires_grad


def test_a_tensor_without_grad_is_changed_and_may_join_the_graph():
    z = sg.tensor([1.0, 2.0])
    assert AddOne_.apply(z) is z and z.tolist() == [2.0, 3.0] and z._version == 2
    assert z.grad_fn is None and not z.requires_grad
    w = sg.tensor([3.0, 4.0], requires_grad=True)
    assert ScaleInto_.apply(z, w) is z
    assert z.requires_grad and not z.is_leaf and z.grad_fn.name() == "ScaleInto_Backward"
    z.sum().backward()
    assert w.grad.tolist() == [2.0, 3.0]        # the saved t is the changed one: 2w / w


def test_nodes_that_saved_the_old_value_refuse_to_run():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    square = h * h                              # saves h
    AddOne_.apply(h)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        square.sum().backward()


def test_a_dirty_input_must_be_returned():
    class Bad(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x += 1
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                           "method were not returned as output"):
        Bad.apply(sg.tensor([1.0], requires_grad=True) * 1)


def test_marking_a_value_that_is_no_input_warns():
    class NotInput(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.mark_dirty(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.warns(UserWarning, match="received a tensor that was not an input"):
        y = NotInput.apply(sg.tensor([1.0], requires_grad=True))
    assert y.grad_fn.name() == "NotInputBackward"


def test_retained_grad_is_that_of_the_new_version():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    AddOne_.apply(h)
    (h * 3).sum().backward()
    assert h.grad.tolist() == [3.0, 3.0] and x.grad.tolist() == [6.0, 6.0]


def test_a_dirty_input_among_several_outputs():
    class Both(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x *= 2
            ctx.mark_dirty(x)
            return x * 5, x

        @staticmethod
        def backward(ctx, ga, gx):
            return ga * 10 + gx * 2

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    a, b = Both.apply(h)
    assert b is h and (a.output_nr, b.output_nr) == (0, 1)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [12.0, 12.0]


def test_an_integer_input_changed_in_place_keeps_no_history():
    class Count(sg.autograd.Function):
        @staticmethod
        def forward(ctx, i, x):
            i += 1
            ctx.mark_dirty(i)
            return i, x * 2

        @staticmethod
        def backward(ctx, gi, gx):
            return None, gx * 2

    i = sg.tensor([1, 2])
    r, y = Count.apply(i, sg.tensor([1.0], requires_grad=True))
    assert r is i and i.tolist() == [2, 3] and not i.requires_grad and y.requires_grad


def test_a_view_is_refused_while_recording():
    base = sg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    view = base[:2]
    with pytest.raises(RuntimeError, match="shares storage with another live tensor"):
        AddOne_.apply(view)   # (forward has run, so the values have changed, as in PyTorch)
    np.testing.assert_array_equal(base.detach().numpy(), [2.0, 3.0, 3.0])
    with sg.no_grad():
        AddOne_.apply(base[1:])
    np.testing.assert_array_equal(base.detach().numpy(), [2.0, 4.0, 4.0])


def _scenario(m, inc):
    """What PyTorch or symgrad ``m`` does with an in-place Function, step by step."""
    class Inc_(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inc(x)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    log = []
    x = m.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = Inc_.apply(h)
    log.append((y is h, h.is_leaf, h.grad_fn.name(), h.tolist()))
    (h * h).sum().backward()
    log.append(x.grad.tolist())
    z = m.tensor([1.0, 2.0])
    log.append((Inc_.apply(z) is z, z.tolist(), z.requires_grad))
    try:
        Inc_.apply(x)
    except RuntimeError as e:
        log.append(str(e)[:70])
    return log


def test_in_place_functions_match_pytorch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _scenario(torch, lambda x: x.add_(1))

    def inc(x):
        x += 1

    assert _scenario(sg, inc) == theirs
