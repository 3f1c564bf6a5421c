"""``grad_fn._saved_<name>``: the values a node saved, read as PyTorch's autograd notes
read them."""

import pytest

import symgrad as sg


def _scenario(m):
    x = m.tensor([0.5, -1.5, 2.0], requires_grad=True)
    y = x.pow(2)
    z = x.exp()
    s = (x * 2).sin()
    out = [y.grad_fn._saved_self is x, y.grad_fn._saved_exponent,
           z.grad_fn._saved_result.tolist(), z.grad_fn._saved_result is z,
           s.grad_fn._saved_self.tolist(), s.grad_fn._saved_self.requires_grad,
           type(s.grad_fn._saved_self.grad_fn).__name__ if m is not sg
           else s.grad_fn._saved_self.grad_fn.name()]
    try:
        _ = (x + 1).grad_fn._saved_self
    except AttributeError:
        out.append("AttributeError")
    y.sum().backward()
    try:
        _ = y.grad_fn._saved_self
    except RuntimeError as e:
        out.append(str(e).split(" ")[0])
    out.append(y.grad_fn._saved_exponent)   # a number stays readable after backward
    return out


def test_saved_values_by_name():
    got = _scenario(sg)
    assert got[0] is True and got[1] == 2 and got[3] is False
    assert got[-3:] == ["AttributeError", "Trying", 2]


def test_saved_values_match_torch(torch64):
    want = _scenario(torch64)
    assert _scenario(sg) == want


def test_saved_matmul_operands_and_unknown_names():
    a = sg.randn(2, 3, requires_grad=True)
    b = sg.randn(3, 2)
    node = (a @ b).grad_fn
    assert node._saved_self is a and node._saved_other.shape == (3, 2)
    with pytest.raises(AttributeError, match="_saved_nothing"):
        _ = node._saved_nothing
    with pytest.raises(AttributeError):
        _ = node.no_such_attribute


def test_a_value_only_an_unneeded_rule_reads_is_not_saved():
    """x * 2: the rule for 2 (which needs no gradient) would read x, so x is not saved
    (None, as PyTorch); the rule for x reads the 2."""
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    node = (2 * x).grad_fn
    assert node._saved_self is None and node._saved_other == 2
