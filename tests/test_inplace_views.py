"""In-place ops next to views: the other tensor's history is rewritten (see
test_inplace_view_rebase.py), and saved values are checked only against the values the
rules that run will read."""


import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F


def test_a_dead_view_does_not_block_in_place_ops():
    x = sg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    y[0, 0].item()                        # a temporary view, gone at once
    F.relu(y, inplace=True)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), [[2, 0], [2, 2]])


def test_setting_part_of_a_tensor_from_another_part():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = y[1] * 5                       # PyTorch: x.grad = [0, 6, 1]
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), [0, 6, 1])


def test_a_change_through_a_live_view_or_its_base_rewrites_the_other_and_a_detached_alias_is_left():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    y.mul_(2)                             # v is read again from y's new value
    assert v.grad_fn.name() == "AsStridedBackward0" and v._base is y
    v.add_(1)                             # and y gets the change: CopySlices
    assert type(y.grad_fn).__name__ == "CopySlices" and y.tolist() == [5, 9, 12]
    d = y.detach()                        # no history of its own: PyTorch allows this
    y.add_(1)
    assert d.tolist() == y.tolist() and d._version == y._version
    (y.sum() + (v * v).sum()).backward()  # y = 4x + (2, 2, 1), v = y[:2]
    assert np.array_equal(x.grad.numpy(), [4 + 2 * 6 * 4, 4 + 2 * 10 * 4, 4])


def test_in_place_change_of_a_value_no_running_rule_reads():
    # h * 0.5 needs no value of h for h's gradient (only 0.5): changing h afterwards is
    # fine, as in PyTorch; h * w needs h for w's gradient, so there it is refused.
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    out = h * 0.5
    h.add_(1)
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), [0.5, 0.5])
    w = sg.tensor([1.0, 1.0], requires_grad=True)
    h = x * 1
    out = h * w
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_views_of_a_long_lived_tensor_do_not_pile_up():
    w = sg.ones(4, requires_grad=True)
    for _ in range(1000):
        w[1:].sum()
    assert len(w._vc[1]) < 40
