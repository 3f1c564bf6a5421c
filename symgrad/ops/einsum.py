"""``einsum``: one op record for any contraction written in Einstein notation.

The wrapper brings every equation to one plain form before the op runs: explicit output,
no ellipsis (its dimensions get letters of their own), no letter twice in one operand (a
repeated letter is a diagonal, taken first with ``diagonal``) and no size-1 dimension
facing a larger one (expanded first). On that form the rule for operand k is itself an
einsum: contract the output gradient with the other operands onto operand k's letters.
"""

from __future__ import annotations

import string

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import register
from symgrad.tensor import Tensor, as_tensor

__all__ = ["einsum"]

_LETTERS = string.ascii_letters


def _einsum_vjp(xp, g, ans, *operands, i, equation):
    ins, out = equation
    sub = ins[i]
    others = [s for j, s in enumerate(ins) if j != i]
    other_ops = [o for j, o in enumerate(operands) if j != i]
    present = set(out).union(*others)
    target = "".join(c for c in sub if c in present)
    r = xp.einsum(f"{','.join([out, *others])}->{target}", g, *other_ops)
    if target == sub:
        return r
    # letters summed away inside operand k alone: d/dx of their sum is 1 along them
    for axis, c in enumerate(sub):
        if c not in present:
            r = xp.expand_dims(r, axis)
    return xp.broadcast_to(r, np.shape(operands[i]))


EINSUM = register(
    "einsum", "EinsumBackward0",
    forward=lambda xp, *operands, equation: xp.einsum(
        f"{','.join(equation[0])}->{equation[1]}", *operands),
    vjp=_einsum_vjp,
    mirror=lambda *operands, equation: np.einsum(
        f"{','.join(equation[0])}->{equation[1]}",
        *[np.asarray(o, dtype=object) for o in operands]),
    kind="linalg", variadic=True,
    examples=((((2, 3), (3, 4)), {"equation": (("ij", "jk"), "ik")}),
              (((2, 3), (2, 3)), {"equation": (("ij", "ij"), "")}),
              (((2, 3), (4,)), {"equation": (("ij", "k"), "jk")})),
)


def _parse(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """Input subscripts (ellipsis expanded to letters) and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise RuntimeError(f"einsum(): {len(ins)} operand subscripts for {len(ndims)} operands")
    for s in ins + [rhs]:
        bad = set(s.replace("...", "")) - set(_LETTERS)
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given: {sorted(bad)[0]!r}")
    used = set(eq) & set(_LETTERS)
    pool = [c for c in _LETTERS if c not in used]
    n_ell = max((nd - len(s.replace("...", "")) for s, nd in zip(ins, ndims) if "..." in s),
                default=0)
    ell = "".join(pool[:n_ell])
    out_ins = []
    for s, nd in zip(ins, ndims):
        if "..." in s:
            k = nd - len(s.replace("...", ""))
            if k < 0:
                raise RuntimeError(f"einsum(): operand has {nd} dimensions, subscripts {s!r}")
            s = s.replace("...", ell[n_ell - k:])
        if len(s) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({nd}) for operand")
        out_ins.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:  # implicit output: ellipsis dimensions, then the letters used once, sorted
        counts = {c: "".join(ins).count(c) for c in set("".join(ins)) - {"."}}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    if len(set(out)) != len(out):
        raise RuntimeError("einsum(): output subscript appears more than once")
    missing = set(out) - set("".join(out_ins))
    if missing:
        raise RuntimeError(f"einsum(): output subscript {sorted(missing)[0]} does not appear "
                           "in the equation for any input operand")
    return out_ins, out


def _undiagonal(t: Tensor, s: str) -> tuple[Tensor, str]:
    """Take diagonals until no letter repeats within ``s`` (as einsum reads 'ii')."""
    from symgrad.ops.compose import diagonal

    while len(set(s)) != len(s):
        c = next(c for c in s if s.count(c) > 1)
        a = s.index(c)
        b = s.index(c, a + 1)
        t = diagonal(t, 0, a, b)  # the shared dimension moves to the end
        s = "".join(x for k, x in enumerate(s) if k not in (a, b)) + c
    return t, s


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products of ``operands`` entries, indexed as ``equation`` says
    (``"ij,jk->ik"`` is a matrix product); PyTorch's and numpy's notation, ellipsis too."""
    from symgrad.ops.shape import expand

    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    ts = [as_tensor(o) for o in operands]
    ins, out = _parse(equation, [t._data.ndim for t in ts])
    pairs = [_undiagonal(t, s) for t, s in zip(ts, ins)]
    sizes: dict[str, int] = {}
    for t, s in pairs:
        for c, n in zip(s, t._data.shape):
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n not in (1, prev):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(subscript {c!r} has sizes {prev} and {n})")
    ts = []
    for t, s in pairs:
        full = tuple(sizes[c] for c in s)
        ts.append(expand(t, full) if t._data.shape != full else t)
    return apply(EINSUM, *ts, equation=(tuple(s for _, s in pairs), out))
