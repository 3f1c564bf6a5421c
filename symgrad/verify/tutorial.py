"""``symgrad tutorial``: the PyTorch autograd tutorial's code cells, run on symgrad.

Each cell is printed as in the notebook (``In [n]:``, the code, then what it prints), with
the closed-form derivative and the exact check printed beside each gradient.
"""

from __future__ import annotations

import ast
import contextlib
import io
from typing import TextIO

import numpy as np

__all__ = ["CELLS", "replay"]

#: The code cells of the tutorial notebook, as written for PyTorch (only the import differs:
#: ``torch`` is symgrad here).
CELLS: list[str] = [
    """x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output

w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)""",
    """print('Gradient function for z =',z.grad_fn)
print('Gradient function for loss =', loss.grad_fn)""",
    """loss.backward()
print(w.grad)
print(b.grad)""",
    """z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)""",
    """z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)""",
    """inp = torch.eye(5, requires_grad=True)
out = (inp+1).pow(2)""",
    """out""",
    """out.backward(torch.ones_like(inp), retain_graph=True)
print("First call\\n", inp.grad)
out.backward(torch.ones_like(inp), retain_graph=True)
print("\\nSecond call\\n", inp.grad)
inp.grad.zero_()
out.backward(torch.ones_like(inp), retain_graph=True)
print("\\nCall after zeroing gradients\\n", inp.grad)""",
]


def _run_cell(code: str, ns: dict) -> str:
    """Execute a cell like a notebook: output of prints, then the last expression's repr."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(body, "<tutorial>", "exec"), ns)  # noqa: S102 - our own fixed cells
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<tutorial>", "eval"), ns)  # noqa: S307
            if value is not None:
                print(repr(value))
    return buf.getvalue()


def _beside_gradients(n: int, ns: dict) -> list[str]:
    """Closed forms and exact checks for the gradients a cell printed."""
    from symgrad.verify import check
    from symgrad.verify.cases import _textbook_bce_gradient
    from symgrad.verify.compare import compare

    torch = ns["torch"]
    if n == 3:
        gw, gb, form = _textbook_bce_gradient(ns)
        cw = compare(ns["w"].grad._data, gw, 32)
        cb = compare(ns["b"].grad._data, gb, 32)
        return [f"closed form: {form}",
                f"exact check: w.grad {cw.max_ulps:.1f} ulp, b.grad {cb.max_ulps:.1f} ulp from "
                f"the exact values -> {'agree' if cw.within and cb.within else 'DISAGREE'}"]
    if n == 8:
        rep = check(lambda inp: (inp + 1).pow(2), torch.eye(5), mode="jacobian")
        jac = rep.row("inp").exact.reshape(25, 25)
        first = (np.ones(25) @ jac).reshape(5, 5)
        return ["closed form: d out[i,j]/d inp[k,l] = 2*(inp[i,j] + 1) if (i,j) == (k,l) else "
                "0, so each call adds v^T J = 2*(inp + 1) with v = ones",
                f"exact check: full 25x25 Jacobian {rep.rows[1].verdict}; first call == v^T J: "
                f"{bool(np.array_equal(first, 2 * (np.eye(5) + 1)))}"]
    return []


def replay(out: TextIO) -> bool:
    """Print the tutorial's cells and their outputs; True when every check agrees."""
    import symgrad

    symgrad.manual_seed(0)
    ns: dict = {"torch": symgrad}
    ok = True
    print("import symgrad as torch   # the tutorial's only change\n", file=out)
    for n, code in enumerate(CELLS, start=1):
        print(f"In [{n}]:", file=out)
        print(code, file=out)
        print(file=out)
        printed = _run_cell(code, ns)
        if printed:
            print(printed, file=out)
        extra = _beside_gradients(n, ns)
        for line in extra:
            print(f"    # {line}", file=out)
            ok = ok and "DISAGREE" not in line and "disagree" not in line
        if extra:
            print(file=out)
    return ok
