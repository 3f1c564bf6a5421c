"""In-place ops next to views: refused only while another tensor on the storage lives,
and checked only against the values the rules that run will read."""

import gc

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


def test_a_live_view_still_blocks_in_place_ops_but_a_detached_alias_does_not():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    with pytest.raises(RuntimeError, match="shares storage with another live tensor"):
        y.mul_(2)
    with pytest.raises(RuntimeError, match="shares storage"):
        v.add_(1)                         # its base y is alive
    del v
    gc.collect()
    y.mul_(2)
    d = y.detach()                        # no history of its own: PyTorch allows this
    y.add_(1)
    assert d.tolist() == y.tolist() and d._version == y._version
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), [4, 4, 4])


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
