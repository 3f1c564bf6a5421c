"""The graph node of an op: runs the op's rules on the saved values of one call.

One class per PyTorch node name (``MulBackward0`` ...) is derived from ``OpNode`` by the op
table; the class attribute ``op`` is the record. Broadcasting is undone here, for every
rule, by ``unbroadcast``; dtypes are cast back to each argument's dtype here too.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np

from symgrad.autograd.graph import FREED_MESSAGE, AccumulateGrad, Node
from symgrad.autograd.saved_tensors import RAW, SavedTensor, check_unchanged, edge_alias
from symgrad.ops.namespaces import NUMPY, tensor_namespace, unbroadcast

__all__ = ["OpNode", "parent_meta"]

_EMPTY: dict = {}
_NO_EDGE = (None, 0)
_add_reduce = np.add.reduce
_ndarray = np.ndarray


def _object_scalar(v: Any) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def parent_meta(parent: Node, nr: int = 0) -> tuple[tuple, np.dtype]:
    """Shape and dtype of the tensor a parent node produced as its output ``nr`` (its
    gradient must match)."""
    if type(parent) is AccumulateGrad:
        d = parent.variable._data
        return d.shape, d.dtype
    if nr:
        return parent._output_meta(nr)
    return parent._shape, parent._dtype


class OpNode(Node):
    """A recorded call of an op: its arguments, output and parameters."""

    # (``_tangents``: set only for a call made under a dual level, see ops/_forward.py)
    __slots__ = ("_args", "_ans", "_params", "_shape", "_dtype", "_saved", "_freed", "_const",
                 "_tangents")
    op: Any = None

    def apply(self, g: Any, create_graph: bool) -> list:
        op = self.op
        if self._freed and op.reads:   # released, or packed by saved_tensors_hooks
            return self._apply_unpacked(g, create_graph)
        saved = self._saved
        if saved:
            for vc, version, _ in saved:
                if vc[0] != version:
                    self._check_versions()
        if create_graph:
            args, ans = self._unpack()
            return self.vjp_with(tensor_namespace(), g, args, ans)
        if op.variadic:
            return self.vjp_with(NUMPY, g, self._args, self._ans)
        # vjp_with(NUMPY, ...) for a fixed-arity op, inlined: this is the backward pass's
        # hot loop, and the branches other namespaces need cost more than the tiny rules.
        rules = op.vjp
        args, ans, const, params = self._args, self._ans, self._const, self._params
        outs: list = []
        i = -1
        for parent, nr in self.next_functions:
            i += 1
            if parent is None or (const and i in const):
                outs.append(None)
                continue
            rule = rules[i]
            if rule is None:
                self._no_rule(i)
            # (``**params`` would build a dict per call even when there are none)
            r = rule(NUMPY, g, ans, *args, **params) if params else rule(NUMPY, g, ans, *args)
            if type(r) is not _ndarray:
                r = np.asarray(r)
            if type(parent) is AccumulateGrad:
                d = parent.variable._data
                shape, dtype = d.shape, d.dtype
            elif nr:  # output 1, 2, ... of a node with several outputs
                shape, dtype = parent._output_meta(nr)
            else:
                shape, dtype = parent._shape, parent._dtype
            rs = r.shape
            if rs != shape:
                lead = len(rs) - len(shape)
                if lead > 0 and rs[lead:] == shape:  # broadcasting added leading axes (a bias)
                    # = unbroadcast's r.sum(...)
                    r = _add_reduce(r, axis=0 if lead == 1 else tuple(range(lead)))
                else:
                    r = self._reduce(NUMPY, r, shape, i)
            if r.dtype != dtype:
                r = r.astype(dtype)
            outs.append(r)
        return outs

    def _apply_unpacked(self, g: Any, create_graph: bool) -> list:
        """``apply`` for a node whose saved values were packed by saved-tensor hooks: the
        rules run on what the unpack hook returns (``_args``/``_ans`` keep the forward values
        for the verifier). A released node raises."""
        if self._freed is True:
            raise RuntimeError(FREED_MESSAGE + f" (node {self.name()})")
        args, ans = self._unpacked()
        if not create_graph:
            return self.vjp_with(NUMPY, g, args, ans)
        targs, tans = self._unpack(args, ans)
        return self.vjp_with(tensor_namespace(), g, targs, tans)

    def _unpacked(self, only: int | None = None) -> tuple[list, Any]:
        """The saved arguments and output with the packed entries unpacked (all of them,
        or the one of argument ``only``: -1 for the output)."""
        packed = self._freed
        args, ans = list(self._args), self._ans
        for k, (vc, version, i) in enumerate(self._saved):
            if only is not None and i != only:
                continue
            if packed.values[k] is RAW:   # (no hook on this one: the saved value, checked)
                if vc[0] != version:
                    self._check_versions(((vc, version, i),))
                continue
            u = packed.unpacked(k)
            check_unchanged(u, vc, version, lambda e=(vc, version, i): self._check_versions((e,)))
            if i < 0:
                ans = u._data
            else:
                args[i] = u._data
        return args, ans

    def _no_rule(self, i: int) -> None:
        op = self.op
        raise NotImplementedError(   # PyTorch's type and words, and what to do about it
            f"the derivative for '{op.name}: {self.arg_name(i)}' is not implemented "
            f"({self.name()}); pass that argument as a tensor that does not require grad "
            "(e.g. .detach())")

    def vjp_with(self, xp: Any, g: Any, args: Any, ans: Any) -> list:
        """Run the op's rules in namespace ``xp`` on the given values, one gradient per
        input (None where no gradient is wanted), each brought to its argument's shape."""
        op = self.op
        params = self._params or _EMPTY
        numeric = xp is NUMPY
        variadic = op.variadic
        rules = op.vjp if not variadic else repeat(op.vjp[0])
        if variadic and op.saved_idx is None:
            args = ()  # the rule reads no argument: passing n of them n times is O(n^2)
        outs: list = []
        const = self._const
        for i, ((parent, nr), rule) in enumerate(zip(self.next_functions, rules)):
            if parent is None or (const and i in const):
                outs.append(None)
                continue
            if rule is None:
                self._no_rule(i)
            if variadic:
                r = rule(xp, g, ans, *args, i=i, **params)
            else:
                r = rule(xp, g, ans, *args, **params)
            shape, dtype = parent_meta(parent, nr)
            if numeric:
                if type(r) is not _ndarray:
                    r = np.asarray(r)
                if r.shape != shape:
                    r = self._reduce(xp, r, shape, i)
                if r.dtype != dtype:
                    r = r.astype(dtype)
            else:
                if xp.name != "tensor" and not isinstance(r, _ndarray):
                    r = _object_scalar(r)
                if tuple(np.shape(r)) != shape:
                    r = self._reduce(xp, r, shape, i)
                if xp.name == "tensor" and r._data.dtype != dtype:
                    r = r.to(dtype)
            outs.append(r)
        return outs

    def forward_with(self, xp: Any, args: Any) -> Any:
        """Run the op's forward in namespace ``xp`` (e.g. at high precision)."""
        return self.op.forward(xp, *args, **(self._params or _EMPTY))

    def arg_name(self, i: int) -> str:
        """The name of argument ``i`` in messages (``tensors[2]`` for variadic ops)."""
        names = self.op.arg_names
        return f"{names[0]}[{i}]" if self.op.variadic else names[i]

    def _reduce(self, xp: Any, r: Any, shape: tuple, i: int) -> Any:
        try:
            return unbroadcast(xp, r, shape)
        except RuntimeError:
            raise RuntimeError(
                f"{self.name()} returned a gradient of shape {tuple(np.shape(r))} for argument "
                f"'{self.arg_name(i)}' of {self.op.name}, whose shape is {tuple(shape)}"
            ) from None

    def _check_versions(self, saved: tuple | None = None) -> None:
        for vc, version, i in self._saved if saved is None else saved:
            if vc[0] != version:
                label = "its output" if i < 0 else f"its argument '{self.arg_name(i)}'"
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {self.name()} needs the value of {label} of "
                    f"{self.op.name} as it was when {self.op.name} ran, but that tensor has since "
                    f"been modified by an in-place operation (it is at version {vc[0]}; expected "
                    f"version {version} instead). Use an out-of-place operation (x = x + 1 "
                    "rather than x += 1) or .clone() the tensor before changing it.")

    def _unpack(self, unpacked: list | None = None, ans: Any = None) -> tuple[tuple, Any]:
        """The saved values as Tensors that lead back into the graph (for create_graph):
        ``_args`` and ``_ans``, or the values the saved-tensor hooks unpacked (a leaf's then
        a tensor that feeds the leaf's gradient, as PyTorch's unpacked values do)."""
        from symgrad.tensor import Tensor

        hooked = unpacked is not None
        if not hooked:
            unpacked, ans = self._args, self._ans
        args = []
        const = self._const or ()
        for i, (a, (parent, nr)) in enumerate(zip(unpacked, self.next_functions)):
            if parent is None:
                args.append(Tensor._wrap(a) if type(a) is _ndarray else a)
            elif type(parent) is AccumulateGrad:
                args.append(edge_alias(parent, nr, a) if hooked else parent.variable)
            else:
                t = Tensor._wrap(a, parent, i not in const)
                if nr:
                    t._set_history(parent, nr)
                args.append(t)
        if ans is not None:
            ans = Tensor._wrap(ans, self, True)
        tangents = getattr(self, "_tangents", None)
        if tangents is not None:   # recorded under a dual level: forward over reverse
            from symgrad.ops._forward import restore_tangents

            restore_tangents(args, ans, tangents)
        return tuple(args), ans

    def release(self) -> None:
        """Free the saved arguments and output; constants stay (the mirror replays them)."""
        self._freed = True
        self._ans = None
        edges = self.next_functions
        if _NO_EDGE in edges:
            self._args = tuple([a if e[0] is None else None for a, e in zip(self._args, edges)])
        else:  # every argument leads into the graph: nothing to keep
            self._args = (None,) * len(self._args)

    def __call__(self, *grads):
        """Run this node's rules on an explicit gradient, as PyTorch's ``grad_fn(grad)``."""
        from symgrad.tensor import Tensor, as_tensor

        if len(grads) != 1:
            raise TypeError(f"{self.name()} takes one gradient, got {len(grads)}")
        out = self.apply(as_tensor(grads[0])._data, False)
        res = tuple(None if r is None else Tensor._wrap(r) for r in out)
        return res if len(res) != 1 else res[0]

    def replay(self, args: list) -> np.ndarray:
        """This op's SymPy mirror on symbolic (object-array) arguments."""
        from symgrad.ops._apply import mirror_call

        return mirror_call(self.op, args, self._params or {})

    def __getattr__(self, name: str) -> Any:
        # (only for names the class does not define: PyTorch's ``grad_fn._saved_self`` ...)
        if name.startswith("_saved_"):
            return self._saved_named(name[len("_saved_"):])
        if name.startswith("_raw_saved_"):
            return self._raw_saved(name[len("_raw_saved_"):])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _saved_named(self, key: str) -> Any:
        """PyTorch's ``_saved_<name>``: an argument the rules read (``self`` and ``other``
        are the first two, as PyTorch names them, or symgrad's argument names), ``result``
        (the output, if the rules read it), or a parameter (``exponent``, ``dim`` ...). A
        saved leaf is the leaf tensor itself; other saved tensors lead back into the graph."""
        from symgrad.tensor import Tensor

        op = self.op
        names = op.arg_names
        params = self._params or _EMPTY
        idx = {"self": 0, "other": 1}.get(key, names.index(key) if key in names else None)
        packed = self._freed
        if key == "result" and op.saves_ans:
            if packed is True:
                raise RuntimeError(FREED_MESSAGE)
            return Tensor._wrap(self._unpacked(-1)[1] if packed else self._ans, self, True)
        if (idx is not None and not op.variadic and idx < len(names)
                and op.saved_idx is not None and idx in op.saved_idx):
            from symgrad.ops._apply import _needed

            if not op.uniform_reads and idx not in _needed(op, list(self.next_functions),
                                                           self._const)[0]:
                return None   # only the rules of inputs that need a gradient read values
            parent, nr = self.next_functions[idx]
            if packed is True and parent is not None:
                raise RuntimeError(FREED_MESSAGE)
            a = self._unpacked(idx)[0][idx] if packed else self._args[idx]
            if parent is None:
                return Tensor._wrap(a) if type(a) is _ndarray else a
            if type(parent) is AccumulateGrad:
                return edge_alias(parent, nr, a)
            t = Tensor._wrap(a, parent, True)
            if nr:
                t._set_history(parent, nr)
            return t
        if key in params:
            return params[key]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_{key}'")

    def _raw_saved(self, key: str) -> SavedTensor:
        """PyTorch's ``_raw_saved_<name>``: the saved tensor ``_saved_<name>`` reads, as a
        ``SavedTensor`` that takes hooks of its own."""
        names = self.op.arg_names
        idx = -1 if key == "result" else {"self": 0, "other": 1}.get(
            key, names.index(key) if key in names else None)
        for k, (_, _, i) in enumerate(self._saved or ()):
            if i == idx:
                return SavedTensor(self, k, lambda: self._saved_named(key))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '_raw_saved_{key}'")

    @property
    def saved_values(self) -> dict[str, Any]:
        """What this node saved for backward (argument names and ``result``)."""
        names = self.op.arg_names
        d = {n: a for n, a in zip(names, self._args) if a is not None}
        if self._ans is not None:
            d["result"] = self._ans
        return d
