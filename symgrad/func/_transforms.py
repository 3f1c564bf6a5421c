"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``linearize``: PyTorch's ``torch.func`` derivatives, on symgrad's reverse-mode graph.

Each transform differentiates with respect to its own stand-ins for the inputs (a view of
an input that requires grad, a fresh leaf on the same data otherwise) and keeps the graph
of what it returns (``create_graph``), so transforms nest: ``jacrev(jacrev(f))``,
``vmap(grad(f))``, ``grad(lambda x: grad(f)(x).sum())``. Forward mode (``jvp``, ``jacfwd``)
is the double-vjp trick: ``J t`` is the gradient in ``u`` of ``<J^T u, t>``. Results keep
a graph only where they depend on tensors outside the transform that require grad, and
only when grad mode is on at the call, as PyTorch's do; ``.grad`` of inputs is never
touched.
"""

from __future__ import annotations

import functools
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from symgrad.autograd.api import grad as _autograd_grad
from symgrad.autograd.grad_mode import enable_grad, is_grad_enabled
from symgrad.autograd.graph import AccumulateGrad
from symgrad.func._pytree import describe, flatten, unflatten
from symgrad.tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"]


# ---------------------------------------------------------------- stand-ins and results
def _stand_in(x: Any, where: str) -> Tensor:
    """What a transform differentiates with respect to, for input ``x``."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{where}: Expected every differentiated input to be a Tensor, got "
                         f"{type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    if x._requires_grad:
        return x.view_as(x)   # (under a dual level, with the view of x's tangent)
    leaf = Tensor._wrap(x._data)
    leaf._vc = x._vc   # (the same storage: an in-place change shows in both)
    _keep_tangent(x, leaf)
    return leaf.requires_grad_(True)


def _keep_tangent(src: Tensor, dst: Tensor, fix: Callable = lambda t: t) -> None:
    """Under a dual level (forward_ad), ``dst`` stands for ``src``: the same tangent (a
    tangent belongs to the value, not to the graph; ``fix`` adjusts it)."""
    extra = src._extra
    if extra and "tangent" in extra:
        from symgrad.autograd._dual import set_tangent

        set_tangent(dst, fix(extra["tangent"]))


def _zeros(like: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros(like._data.shape, like._data.dtype))


class _Scope:
    """One call of a transform: its own leaves, and whether grad mode was on outside."""

    def __init__(self) -> None:
        self.keep_graph = is_grad_enabled()
        self.own: set[int] = set()

    def leaf(self, t: Tensor) -> Tensor:
        if t.grad_fn is None:
            self.own.add(id(t))
        return t

    def finish(self, tree: Any) -> Any:
        """Detach the tensors of ``tree`` whose graph leads to no tensor outside."""
        leaves, spec = flatten(tree)
        return unflatten([self._finish(t) for t in leaves], spec)

    def _finish(self, t: Any) -> Any:
        if not isinstance(t, Tensor) or not t._requires_grad:
            return t
        if self.keep_graph and self._reaches_outside(t):
            return t
        out = t.detach()
        _keep_tangent(t, out, self._finish)
        return out

    def _reaches_outside(self, t: Tensor) -> bool:
        if t.grad_fn is None:
            return id(t) not in self.own
        seen: set[int] = set()
        stack = [t.grad_fn]
        while stack:
            node = stack.pop()
            if type(node) is AccumulateGrad:
                if id(node.variable) not in self.own:
                    return True
                continue
            for child, _ in node.next_functions:
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        return False


def _grads(outputs: Sequence[Tensor], inputs: Sequence[Tensor], cotangents: Sequence[Any],
           ) -> list[Tensor | None]:
    """``sum_k J_k^T ct_k`` per input, recorded (None where no output depends on it)."""
    live = [(o, c) for o, c in zip(outputs, cotangents) if o._requires_grad and c is not None]
    if not live or not inputs:
        return [None] * len(inputs)
    return list(_autograd_grad([o for o, _ in live], list(inputs),
                               grad_outputs=[c for _, c in live], retain_graph=True,
                               create_graph=True, allow_unused=True))


def _argnums(argnums: int | tuple[int, ...], n: int, where: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise RuntimeError(f"{where}: argnums must be int or Tuple[int, ...], got: "
                           f"{type(argnums).__name__}")
    out = []
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
        out.append(a % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{where}: argnums must be unique, got {argnums}")
    return tuple(out)


class _Inputs:
    """The differentiated arguments of a call: stand-ins put in place of their leaves."""

    def __init__(self, scope: _Scope, args: tuple, argnums: int | tuple, where: str) -> None:
        self.single = isinstance(argnums, int)
        self.nums = _argnums(argnums, len(args), where)
        self.args = list(args)
        self.specs = []
        self.flat: list[Tensor] = []       # every stand-in, argnum after argnum
        self.counts = []
        for a in self.nums:
            leaves, spec = flatten(args[a])
            stand = [scope.leaf(_stand_in(x, where)) for x in leaves]
            self.args[a] = unflatten(stand, spec)
            self.specs.append(spec)
            self.flat.extend(stand)
            self.counts.append(len(stand))

    def regroup(self, per_input: list) -> Any:
        """One value per stand-in, nested back as the differentiated arguments are."""
        out, k = [], 0
        for spec, n in zip(self.specs, self.counts):
            out.append(unflatten(per_input[k:k + n], spec))
            k += n
        return out[0] if self.single else tuple(out)


def _call(scope: _Scope, func: Callable, args: tuple, kwargs: dict, argnums: Any,
          has_aux: bool, where: str) -> tuple[_Inputs, Any, Any]:
    """``func`` on stand-ins for the differentiated arguments: (inputs, output, aux). Run
    with grad mode on."""
    ins = _Inputs(scope, args, argnums, where)
    out, aux = _split_aux(func(*ins.args, **kwargs), has_aux, where)
    return ins, out, aux


def _split_aux(out: Any, has_aux: bool, where: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{where}: output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return out


def _tensor_leaves(tree: Any, where: str, what: str = "outputs") -> tuple[list, Any]:
    leaves, spec = flatten(tree)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{where}: Expected f to be a function that has only Tensors as "
                               f"{what}, got {type(x).__name__}")
    return leaves, spec


# ---------------------------------------------------------------- grad
def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:
    """``(gradient, value)`` of a function returning a scalar tensor; with ``has_aux``,
    ``func`` returns ``(value, aux)`` and the result is ``(gradient, (value, aux))``."""
    where = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = _Scope()
        with enable_grad():
            ins, out, aux = _call(scope, func, args, kwargs, argnums, has_aux, where)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{where}: Expected f(*args) to return a Tensor, got "
                                   f"{type(out).__name__}")
            if out.ndim != 0:
                raise RuntimeError(f"{where}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.ndim} dims. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            one = Tensor._wrap(np.ones((), out._data.dtype))
            gs = _grads([out], ins.flat, [one])
        gs = [g if g is not None else _zeros(x) for g, x in zip(gs, ins.flat)]
        result = scope.finish(ins.regroup(gs))
        value = scope.finish(out)
        if has_aux:
            return result, (value, scope.finish(aux))
        return result, value

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a function returning a scalar tensor, as a function (PyTorch's
    ``torch.func.grad``); ``(gradient, aux)`` with ``has_aux``."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# ---------------------------------------------------------------- vjp
def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` returns one ``J^T ct`` per
    primal (a tuple), the cotangents shaped as the output."""
    where = "vjp(f, *primals)"
    scope = _Scope()
    with enable_grad():
        ins = _Inputs(scope, primals, tuple(range(len(primals))), where) if primals else None
        args = ins.args if ins else []
        out, aux = _split_aux(func(*args), has_aux, where)
        outs, out_spec = _tensor_leaves(out, where)

    def vjp_fn(cotangents: Any) -> tuple:
        cts, ct_spec = flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function. cotangents: "
                               f"{describe(ct_spec)}, primal output: {describe(out_spec)}")
        for c, o in zip(cts, outs):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                got = tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {got} and "
                                   f"output has a shape of {tuple(o.shape)}.")
        inner = _Scope()
        inner.own = scope.own
        with enable_grad():
            gs = _grads(outs, ins.flat if ins else [], cts)
        gs = [g if g is not None else _zeros(x) for g, x in zip(gs, ins.flat if ins else [])]
        res = ins.regroup(gs) if ins else ()
        return inner.finish(res if isinstance(res, tuple) else (res,))

    result = scope.finish(out)
    return (result, vjp_fn, scope.finish(aux)) if has_aux else (result, vjp_fn)


# ---------------------------------------------------------------- jvp and linearize
class _Linearized:
    """``f`` at the primals with the graph of ``u -> J^T u`` kept, ``u`` a dummy
    cotangent per output: then ``J t`` for any ``t`` is one more reverse pass."""

    def __init__(self, scope: _Scope, func: Callable, primals: tuple, argnums: Any,
                 has_aux: bool, where: str) -> None:
        self.scope = scope
        with enable_grad():
            self.ins, out, self.aux = _call(scope, func, primals, {}, argnums, has_aux, where)
            self.outs, self.spec = _tensor_leaves(out, where)
            self.out = out
            self.us = [scope.leaf(_zeros(o).requires_grad_(True)) for o in self.outs]
            self.g = _grads(self.outs, self.ins.flat, self.us)

    def columns(self, tangents: Sequence[Tensor | None]) -> list[Tensor]:
        """``J t`` per output (``t`` one entry per stand-in, None for zero)."""
        live = [(g, t) for g, t in zip(self.g, tangents)
                if g is not None and t is not None and g._requires_grad]
        with enable_grad():
            res = [None] * len(self.us)
            if live:
                res = _autograd_grad([g for g, _ in live], self.us,
                                     grad_outputs=[t for _, t in live], retain_graph=True,
                                     create_graph=True, allow_unused=True)
        return [r if r is not None else _zeros(o) for r, o in zip(res, self.outs)]

    def check_tangents(self, tangents: Any, where: str) -> list[Tensor]:
        ts, spec = flatten(tangents)
        primal_spec = flatten(tuple(self.ins.args))[1]
        if spec != primal_spec:
            raise RuntimeError(f"{where}: Expected primals and tangents to have the same python "
                               f"structure. For example, if primals is a tuple of 3 tensors, "
                               f"tangents also must be. Got primals with structure "
                               f"{describe(primal_spec)} and tangents with structure "
                               f"{describe(spec)}")
        for t, x in zip(ts, self.ins.flat):
            if not isinstance(t, Tensor):
                raise RuntimeError(f"{where}: Expected tangents to be a tuple of Tensors, got "
                                   f"{type(t).__name__}")
            if t.shape != x.shape:
                raise RuntimeError("Trying to set a forward gradient that has a different size "
                                   "than that of the original Tensor, this is not supported. "
                                   f"Tensor is of size {list(x.shape)} while the given forward "
                                   f"gradient is of size {list(t.shape)}.")
        return ts


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(func(*primals), J t)``: the Jacobian-vector product along ``tangents``."""
    where = "jvp(f, primals, tangents)"
    for name, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, tuple):
            raise RuntimeError(f"{where}: Expected {name} to be a tuple. E.g. it should be valid "
                               "to call f(*primals).")
    scope = _Scope()
    lin = _Linearized(scope, func, primals, tuple(range(len(primals))), has_aux, where)
    cols = lin.columns(lin.check_tangents(tangents, where))
    res = (scope.finish(lin.out), scope.finish(unflatten(cols, lin.spec)))
    return (*res, scope.finish(lin.aux)) if has_aux else res


def linearize(func: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``J t`` at these primals,
    each call one reverse pass over the graph kept here."""
    where = "linearize(func, *primals)"
    scope = _Scope()
    lin = _Linearized(scope, func, primals, tuple(range(len(primals))), False, where)

    def jvp_fn(*tangents: Any) -> Any:
        cols = lin.columns(lin.check_tangents(tangents, where))
        return scope.finish(unflatten(cols, lin.spec))

    return scope.finish(lin.out), jvp_fn


# ---------------------------------------------------------------- Jacobians
def _jacobian_blocks(rows: list, out: Tensor, x: Tensor, rows_first: bool) -> Tensor:
    """``out.shape + x.shape`` from per-entry gradients (rows, reverse mode) or per-entry
    tangents (columns, forward mode)."""
    from symgrad.ops import stack

    if not rows:   # (an output or input without entries)
        return Tensor._wrap(np.zeros(tuple(out.shape) + tuple(x.shape), out._data.dtype))
    if rows_first:
        return stack(rows, 0).reshape(tuple(out.shape) + tuple(x.shape))
    return stack(rows, -1).reshape(tuple(out.shape) + tuple(x.shape))


def _basis(shape: tuple, dtype: np.dtype):
    for idx in np.ndindex(*shape):
        e = np.zeros(shape, dtype)
        e[idx] = 1
        yield Tensor._wrap(e)


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian by reverse mode, one row per output entry: for each output leaf, a
    tensor of shape ``out.shape + in.shape`` per differentiated input."""
    where = "jacrev(f, argnums)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = _Scope()
        with enable_grad():
            ins, out, aux = _call(scope, func, args, kwargs, argnums, has_aux, where)
            outs, spec = _tensor_leaves(out, where)
            blocks = []
            for o in outs:
                per_input: list[list] = [[] for _ in ins.flat]
                for e in _basis(o._data.shape, o._data.dtype):
                    gs = _grads([o], ins.flat, [e])
                    for k, (g, x) in enumerate(zip(gs, ins.flat)):
                        per_input[k].append(g if g is not None else _zeros(x))
                blocks.append(ins.regroup([_jacobian_blocks(r, o, x, True)
                                           for r, x in zip(per_input, ins.flat)]))
        jac = scope.finish(unflatten(blocks, spec))
        return (jac, scope.finish(aux)) if has_aux else jac

    return wrapper


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian by forward mode (double-vjp), one column per input entry; the same
    layout as ``jacrev``."""
    where = "jacfwd(f, argnums)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = _Scope()
        lin = _Linearized(scope, lambda *a: func(*a, **kwargs), args, argnums, has_aux, where)
        n = len(lin.ins.flat)
        cols: list[list[list]] = []   # per stand-in, per output: the columns
        for k, x in enumerate(lin.ins.flat):
            per_out: list[list] = [[] for _ in lin.outs]
            for e in _basis(x._data.shape, x._data.dtype):
                for j, c in enumerate(lin.columns([e if i == k else None for i in range(n)])):
                    per_out[j].append(c)
            cols.append(per_out)
        blocks = [lin.ins.regroup([_jacobian_blocks(cols[k][j], o, x, False)
                                   for k, x in enumerate(lin.ins.flat)])
                  for j, o in enumerate(lin.outs)]
        jac = scope.finish(unflatten(blocks, lin.spec))
        return (jac, scope.finish(lin.aux)) if has_aux else jac

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """``jacfwd(jacrev(func, argnums), argnums)``, as PyTorch defines it."""
    return jacfwd(jacrev(func, argnums), argnums)
