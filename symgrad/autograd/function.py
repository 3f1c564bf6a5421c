"""Custom ops in PyTorch's style, plus a SymPy mirror so symgrad can verify them.

>>> import numpy as np, sympy, symgrad as sg
>>> class Cube(sg.autograd.Function):
...     elementwise = True
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return 3 * g * x * x
...     @staticmethod
...     def mirror(x):
...         return x ** 3
>>> t = sg.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(t).sum().backward()
>>> t.grad
tensor([ 3., 12.])

``forward`` receives the input tensors themselves, as in PyTorch (other arguments as
given), with recording off, and returns Tensors or arrays; ``backward`` receives and
returns Tensors (None for an input that gets no gradient), so running it with
``create_graph=True`` records a graph.
As in PyTorch, an integer or boolean output keeps its dtype and never requires grad, and a
saved input or output changed in place before ``backward`` reads it is an error.

``forward`` may return a tuple: its arrays become output tensors sharing one node
(``out0.grad_fn is out1.grad_fn``, ``output_nr`` 0, 1, ...) and ``backward`` runs once with
one gradient per returned value (zeros for a tensor output that got none, None for a value
that is not an array, or None throughout after ``ctx.set_materialize_grads(False)``).
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np

from symgrad.autograd.graph import Node, OutputGrads
from symgrad.autograd.grad_mode import _state, no_grad
from symgrad.autograd._switches import active as _extras
from symgrad.autograd.record_extras import note_traceback
from symgrad.autograd.saved_tensors import (Packed, _hooks, check_unchanged, history_alias,
                                            pack_all)
from symgrad.tensor import (INFERENCE_SAVED_MESSAGE, InferenceVersion, Tensor, share_storage,
                            check_in_place, shares_live_storage)

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved values and which inputs need grads."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self._saved_ids: tuple = ()
        self._versions: tuple = ()
        self._non_diff: tuple = ()
        self._dirty: tuple = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True
        self._node: FunctionNode | None = None
        self._inputs: tuple = ()
        self._outputs: tuple = ()   # per value forward returned: its Tensor (None if no array)
        self._freed = False
        self._forward_saved: tuple | None = None   # save_for_forward's, read while jvp runs
        self._packed: Packed | None = None   # what saved_tensors_hooks made of _saved

    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors or arrays for backward (inputs and the output stay in the graph).

        Only arrays are accepted, as PyTorch accepts only tensors: other values belong on
        ``ctx`` as attributes, where no version check or graph link is expected of them."""
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, (Tensor, np.ndarray, np.generic)):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(v).__name__}")
        self._saved = tuple(values)

    def save_for_forward(self, *values: Any) -> None:
        """Keep tensors for ``jvp`` (forward-mode AD), where ``saved_tensors`` returns them."""
        if not all(v is None or isinstance(v, (Tensor, np.ndarray)) for v in values):
            raise AssertionError("save_for_forward expects all arguments to be tensors; you "
                                 "should save non-tensors as attributes on ctx.")
        self._forward_saved = tuple(values)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values as Tensors; saved inputs and outputs are the original tensors, so
        a backward run with ``create_graph=True`` differentiates through them."""
        if self._forward_saved is not None and getattr(self, "_in_jvp", False):
            return self._forward_saved
        if self._freed:
            from symgrad.autograd.graph import FREED_MESSAGE

            raise RuntimeError(FREED_MESSAGE)
        if self._packed is not None:
            return self._unpacked_tensors()
        for vc, version, ident in self._versions:
            if vc[0] != version:
                self._version_error(vc[0], version, ident)
        ids = self._saved_ids or (None,) * len(self._saved)
        return tuple(self._as_tensor(v, ident) for v, ident in zip(self._saved, ids))

    def _unpacked_tensors(self) -> tuple:
        """``saved_tensors`` when saved_tensors_hooks packed them: each through the unpack
        hook (at every access, as PyTorch), an input's or output's with that tensor's
        place in the graph."""
        result = []
        ids = self._saved_ids or (None,) * len(self._saved)
        for k, (v, ident) in enumerate(zip(self._saved, ids)):
            if v is None:
                result.append(None)
                continue
            u = self._packed.unpacked(k)
            for vc, version, who in self._versions:
                check_unchanged(u, vc, version,
                                lambda e=(vc[0], version, who): self._version_error(*e))
            orig = self._as_tensor(v, ident)
            result.append(u if ident is None or u is orig else history_alias(orig, u._data))
        return tuple(result)

    def _version_error(self, now: int, version: int, ident: Any) -> None:
        """Reading a value that changed since forward would give a silently wrong gradient."""
        node = self._node  # set whenever versions were taken
        fn = node.fn.__name__
        if ident is None:
            what = f"a tensor saved by {fn}.forward"
        elif ident[0] == "out":
            nr = f" {ident[1]}" if len(node._out_meta) > 1 else ""
            what = f"the value of its output{nr} of {fn}"
        else:
            what = f"the value of its argument '{node.arg_name(ident[1])}' of {fn}"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {node.name()} needs {what} as it was when {fn} ran, but that "
            f"tensor has since been modified by an in-place operation (it is at version {now}; "
            f"expected version {version} instead). Use an out-of-place operation (x = x + 1 "
            "rather than x += 1) or .clone() the tensor before changing it.")

    def _as_tensor(self, v: Any, ident: Any = None) -> Any:
        if ident is not None:
            t = self._outputs[ident[1]] if ident[0] == "out" else self._inputs[ident[1]]
            if isinstance(t, Tensor):
                return t
        if v is None or isinstance(v, Tensor):
            return v
        if isinstance(v, np.generic):
            v = np.asarray(v)
        if isinstance(v, np.ndarray):
            for t in self._inputs + self._outputs:
                if isinstance(t, Tensor) and t._data is v:
                    return t
            return Tensor._wrap(v)
        return v

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def mark_non_differentiable(self, *args: Any) -> None:
        """Make the output given here (an array or Tensor ``forward`` returns) not require
        grad, as PyTorch does for outputs such as indices or masks; other values are ignored."""
        self._non_diff += args

    def mark_dirty(self, *args: Any) -> None:
        """Declare inputs that ``forward`` changed in place (the arrays it received, or the
        Tensors); each must also be returned, and ``apply`` then returns the input tensor
        itself, its version moved on and, when recording, this call as its ``grad_fn``."""
        self._dirty += args


class FunctionNode(Node):
    """The graph node of one ``Function.apply`` call."""

    __slots__ = ("fn", "ctx", "_args", "_shapes", "_dtypes", "_shape", "_dtype", "_params",
                 "_ans", "_out_meta")

    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    def __repr__(self) -> str:   # PyTorch's: the class lives in its autograd.function module
        return f"<{_MODULE}.{type(self).__name__} object at {id(self):#x}>"

    # ------------------------------------------------------------------ outputs
    def _output_grads(self, g: Any) -> list:
        n = len(self._out_meta)
        if type(g) is OutputGrads:
            return list(g) + [None] * (n - len(g))
        return [g] + [None] * (n - 1)

    def _from_output_grads(self, grads: list, g: Any) -> Any:
        if len(self._out_meta) == 1:
            return super()._from_output_grads(grads, g)
        return OutputGrads(grads)

    def _output_meta(self, nr: int) -> tuple[tuple, Any]:
        return self._out_meta[nr]

    def _backward_grads(self, g: Any) -> list:
        """One gradient per value ``forward`` returned, as ``backward`` receives them: zeros
        for a tensor output that got none (None with ``ctx.set_materialize_grads(False)``),
        None for a value that is not a tensor."""
        materialize = self.ctx.materialize_grads
        grads = []
        for r, meta in zip(self._output_grads(g), self._out_meta):
            if r is None:
                if meta is None or not materialize:
                    grads.append(None)
                    continue
                r = np.zeros(meta[0], meta[1])
            grads.append(r if isinstance(r, Tensor) else Tensor._wrap(r))
        return grads

    # ------------------------------------------------------------------ numeric backward
    def apply(self, g: Any, create_graph: bool) -> list:
        if len(self._out_meta) == 1:
            grads = [g if isinstance(g, Tensor) else Tensor._wrap(g)]
        else:
            grads = self._backward_grads(g)
        backward, ctx = self.fn._user_backward(), self.ctx
        if create_graph:
            outs = backward(ctx, *grads)
        else:
            with no_grad():
                outs = backward(ctx, *grads)
        return self._check(outs, create_graph)

    def _check(self, outs: Any, create_graph: bool) -> list:
        from symgrad.ops.namespaces import NUMPY, unbroadcast

        if not isinstance(outs, tuple):
            outs = (outs,)
        n = len(self.next_functions)
        if len(outs) > n and all(r is None for r in outs[n:]):
            outs = outs[:n]   # trailing Nones (for defaulted arguments) are allowed, as in PyTorch
        if len(outs) != n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(outs)})")
        result: list = []
        inputs = self.ctx._inputs
        for i, (r, (parent, _)) in enumerate(zip(outs, self.next_functions)):
            if parent is None or r is None:
                if r is not None and not isinstance(inputs[i], Tensor):
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        "tensor")
                result.append(None)
                continue
            shape, dtype = self._shapes[i], self._dtypes[i]
            if create_graph:
                r = r if isinstance(r, Tensor) else Tensor._wrap(np.asarray(r, dtype=dtype))
                if tuple(r.shape) != shape:
                    r = self._fit(r, shape, i, unbroadcast, _tensor_xp())
                result.append(r)
                continue
            a = r._data if isinstance(r, Tensor) else np.asarray(r)
            if a.dtype == object:
                result.append(a)
                continue
            if a.shape != shape:
                a = self._fit(a, shape, i, unbroadcast, NUMPY)
            result.append(a.astype(dtype, copy=False))
        return result

    def _fit(self, r, shape, i, unbroadcast, xp):
        """A user's gradient of another shape than its input: summed down when the input's
        shape expands to it (as PyTorch's ``sum_to``), else PyTorch's error. (A smaller
        gradient is not broadcast up: that would hide a wrong backward.)"""
        try:
            if np.broadcast_shapes(tuple(shape), tuple(np.shape(r))) != tuple(np.shape(r)):
                raise ValueError
            return unbroadcast(xp, r, shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"function {self.name()} returned an invalid gradient at index {i} "
                f"(argument '{self.arg_name(i)}') - got shape {list(np.shape(r))} but expected "
                f"shape compatible with {list(shape)}") from None

    def arg_name(self, i: int) -> str:
        import inspect

        try:
            names = list(inspect.signature(self.fn.forward).parameters)[1:]
            return names[i]
        except (TypeError, ValueError, IndexError):
            return str(i)

    def release(self) -> None:
        self.ctx._freed = True
        self.ctx._saved = ()
        self.ctx._packed = None

    # ------------------------------------------------------------------ symbolic side
    def replay(self, args: list) -> np.ndarray | tuple:
        """The function's SymPy mirror on symbolic arguments (never its backward); a mirror
        of a function with several outputs returns a tuple, one entry per output."""
        fn = self.fn
        mirror = getattr(fn, "mirror", None)
        if mirror is None:
            raise TypeError(f"{fn.__name__} has no mirror: add a static mirror(*args) written "
                            "in SymPy so symgrad can verify it")
        if getattr(fn, "elementwise", False):
            out = np.frompyfunc(mirror, len(args), 1)(*args)
        else:
            out = mirror(*args)
        if isinstance(out, tuple):
            return tuple(_obj(o) for o in out)
        return _obj(out)

    def _one_output(self, what: str) -> None:
        """The verifier's high-precision passes run functions with one output only."""
        if len(self._out_meta) != 1:
            raise NotImplementedError(
                f"{self.fn.__name__} returns several outputs: symgrad can replay its mirror, "
                f"but not {what} (verify a function of one of its outputs with finite "
                "differences, e.g. gradcheck, instead)")

    def forward_with(self, xp: Any, args: Any) -> Any:
        """At high precision the mirror stands in for the numpy-only forward."""
        from symgrad.symbolic.mpeval import mp_eval

        self._one_output("run it at high precision")
        out = self.replay([_to_sympy(a) for a in args])
        vals = mp_eval(list(out.reshape(-1)), {})
        return np.array(vals, dtype=object).reshape(out.shape)

    def vjp_with(self, xp: Any, g: Any, args: Any, ans: Any) -> list:
        """Run the user's backward on exact values (symgrad ops on object arrays evaluate
        their mirrors), so a wrong formula is told apart from rounding."""
        from symgrad.symbolic.mpeval import mp_eval

        self._one_output("run its backward on exact values")
        inputs = tuple(Tensor._wrap(_obj(_to_sympy(a))) if isinstance(a, np.ndarray)
                       else a for a in args)
        ctx = self._exact_ctx(inputs)
        if ctx is None:
            ctx = self._rounded_ctx(inputs, ans)
        gt = Tensor._wrap(_obj(_to_sympy(g)))
        with no_grad():
            try:
                outs = self.fn._user_backward()(ctx, gt)
            except Exception as e:  # noqa: BLE001 - explained to the user below
                raise TypeError(f"{self.fn.__name__}.backward could not run on exact values "
                                f"({type(e).__name__}: {e}); write it with symgrad "
                                "operations so that symgrad can evaluate it exactly") from None
        outs = self._check(outs, False)
        res = []
        for r in outs:
            if r is None:
                res.append(None)
                continue
            a = np.asarray(r, dtype=object)
            vals = mp_eval(list(a.reshape(-1)), {})
            res.append(np.array(vals, dtype=object).reshape(a.shape))
        return res

    def _fresh_ctx(self) -> FunctionCtx:
        """A context for an exact re-run, with what the user set on the recorded one
        (``ctx.k = k`` in forward)."""
        ctx = FunctionCtx()
        for k, v in vars(self.ctx).items():
            if not k.startswith("_"):
                setattr(ctx, k, v)
        return ctx

    def _exact_ctx(self, inputs: tuple) -> FunctionCtx | None:
        """``forward`` re-run on the exact inputs, so what it saves (``exp(-x)``, an
        intermediate) is exact too, not its float64 rounding, which a correct backward
        would then be blamed for. None if forward cannot run on symbolic values."""
        ctx = self._fresh_ctx()
        ctx._saved = ()
        try:
            with no_grad():
                self.fn._run_forward(ctx, inputs)
        except Exception:  # noqa: BLE001 - numpy-only forward code: fall back
            return None
        if len(ctx._saved) != len(self.ctx._saved) or not all(
                not isinstance(v, Tensor) or v._data.dtype == object for v in ctx._saved):
            return None
        ctx._saved_ids = ()
        ctx._versions = ()
        return ctx

    def _rounded_ctx(self, inputs: tuple, ans: Any) -> FunctionCtx:
        """The recorded saved values as exact numbers (intermediates as their float64
        values), for a forward that cannot run on symbolic values."""
        ctx = self._fresh_ctx()
        ctx._inputs = inputs
        ctx._outputs = (Tensor._wrap(_obj(_to_sympy(ans))),)
        saved = []
        for v, ident in zip(self.ctx._saved, self.ctx._saved_ids):
            if ident is not None and ident[0] == "in":
                saved.append(ctx._inputs[ident[1]]._data)
            elif ident is not None and ident[0] == "out":
                saved.append(ctx._outputs[0]._data)
            elif isinstance(v, (Tensor, np.ndarray, np.generic)):
                v = np.asarray(v._data if isinstance(v, Tensor) else v)
                saved.append(_obj(_to_sympy(v.astype(np.float64) if v.dtype.kind == "f"
                                            else v)))
            else:
                saved.append(v)
        ctx._saved = tuple(saved)
        return ctx


def _obj(a: Any) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a if a.dtype == object else a.astype(object)
    out = np.empty((), dtype=object)
    out[()] = a
    return out


def _to_sympy(a: Any) -> Any:
    """Numbers (float, mpmath) as exact-enough SymPy numbers, entry by entry."""
    import mpmath
    import sympy

    from symgrad.ops.namespaces import to_exact

    if isinstance(a, np.ndarray) and a.dtype != object:
        return to_exact(a)
    if isinstance(a, np.ndarray):
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(*a.shape):
            v = a[idx]
            out[idx] = sympy.Float(v, mpmath.mp.dps) if isinstance(v, mpmath.mpf) else v
        return out
    if isinstance(a, mpmath.mpf):
        return sympy.Float(a, mpmath.mp.dps)
    return a


def _tensor_xp():
    from symgrad.ops.namespaces import tensor_namespace

    return tensor_namespace()


class _FunctionMeta(type):
    def __repr__(cls) -> str:
        return f"<symgrad.autograd.Function {cls.__name__}>"


class Function(metaclass=_FunctionMeta):
    """Base class of custom ops: static ``forward(ctx, *args)``, ``backward(ctx, *grads)``
    and (for verification) ``mirror(*args)``; call with ``Fn.apply(*args)``."""

    #: Set True when ``mirror`` is written for one entry and applies entry by entry.
    elementwise: bool = False

    @staticmethod
    def forward(*args: Any) -> Any:
        """``forward(ctx, *args)``, or ``forward(*args)`` with a ``setup_context``."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function (a static forward(ctx, ...)).")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """PyTorch's other style: ``forward(*args)`` takes no ctx, and this saves what
        backward needs from the inputs and the output (called right after forward)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    #: PyTorch's other name for ``backward``: a subclass defines one of the two.
    vjp = backward

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward mode, which symgrad does not have (nor, without this, a Function)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def _user_backward(cls) -> Any:
        """The subclass's ``backward``, or its ``vjp`` (defining both is an error)."""
        backward, vjp = cls.backward, cls.vjp
        if vjp is Function.vjp:
            return backward
        if backward is not Function.backward:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function "
                               "is not allowed. You should only implement one of them.")
        return vjp

    @classmethod
    def _run_forward(cls, ctx: FunctionCtx, args: tuple) -> Any:
        """``forward`` in the style the subclass uses (recording is off)."""
        if cls.setup_context is Function.setup_context:
            return cls.forward(ctx, *args)
        out = cls.forward(*args)
        cls.setup_context(ctx, args, out)
        return out

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on the inputs, without recording, and record one node for
        ``backward``.

        ``forward`` may return a tuple: each array (or Tensor) in it becomes an output
        tensor, all with this one node as ``grad_fn`` (``output_nr`` 0, 1, ...), and other
        values are returned as they are; ``backward`` then gets one gradient per value."""
        ctx = FunctionCtx()
        if _state.forward:   # a dual level is open: the outputs' tangents from ``jvp``
            from symgrad.autograd._function_fwd import forward_function_apply

            return forward_function_apply(cls, ctx, args)
        return cls._apply_with(ctx, args)

    @classmethod
    def _apply_with(cls, ctx: FunctionCtx, args: tuple) -> Any:
        tensors = [a if isinstance(a, Tensor) else None for a in args]
        if any(t is not None and t._data.dtype == object for t in tensors):
            return cls._apply_symbolic(args)
        raw = [a._data if isinstance(a, Tensor) else a for a in args]
        # PyTorch sets these before forward (needs_input_grad ignores the grad mode there too)
        needs = tuple(bool(t is not None and t._requires_grad) for t in tensors)
        ctx.needs_input_grad = needs
        ctx._inputs = tuple(args)
        with no_grad():
            out = cls._run_forward(ctx, args)
        several = isinstance(out, tuple)
        returned = out if several else (out,)
        dirty = _dirty_inputs(ctx, args, raw)
        results = _wrap_outputs(returned, several, dirty, args)
        differentiable = [isinstance(r, Tensor) and r._data.dtype.kind in "fcO"
                          and not _marked(ctx._non_diff, o, r._data)
                          for o, r in zip(returned, results)]
        record = _state.enabled and any(needs) and any(differentiable)
        if dirty:
            _changed_in_place(cls, dirty.values(), results, record)
        if not record and _state.inference:
            _mark_inference(results, dirty)
        if record:
            old = {id(t): t.grad_fn for t in dirty.values()}
            cls._record(ctx, tensors, raw, returned, results, differentiable)
            for t in dirty.values():
                if t._extra:   # .grad of a retaining tensor: the gradient of its new version
                    t._move_retain(old[id(t)])
        return tuple(results) if several else results[0]

    @classmethod
    def _record(cls, ctx: FunctionCtx, tensors: list, raw: list, returned: tuple,
                results: list, differentiable: list) -> None:
        """Make the node of this call the ``grad_fn`` of its differentiable outputs."""
        node = _node_class(cls)()
        node.fn = cls
        node.ctx = ctx
        node.next_functions = tuple(
            ((t.grad_fn if t.grad_fn is not None else t._grad_accumulator()), t.output_nr)
            if t is not None and t._requires_grad else (None, 0) for t in tensors)
        node._args = tuple(raw)
        node._shapes = tuple(np.shape(a) for a in raw)
        node._dtypes = tuple(getattr(a, "dtype", np.dtype(np.float64)) for a in raw)
        node._out_meta = tuple((r._data.shape, r._data.dtype) if isinstance(r, Tensor) else None
                               for r in results)
        node._shape, node._dtype = node._out_meta[0] or ((), np.dtype(np.float64))
        node._params = None
        node._ans = results[0]._data if isinstance(results[0], Tensor) else None
        node._hooks = None
        for nr, (r, diff) in enumerate(zip(results, differentiable)):
            if diff:
                r._set_history(node, nr)
                r._requires_grad = True
        ctx._outputs = tuple(r if isinstance(r, Tensor) else None for r in results)
        ctx._node = node
        ctx._saved_ids = tuple(_identify(v, tensors, raw, returned, ctx._outputs)
                               for v in ctx._saved)
        if ctx._forward_saved:   # jvp reads its inputs and outputs in the graph, as PyTorch's
            ctx._forward_saved = tuple(
                ctx._as_tensor(v, _identify(v, tensors, raw, returned, ctx._outputs))
                for v in ctx._forward_saved)
        ctx._versions = _snapshot(ctx)
        if _extras[0]:   # saved-tensor hooks or anomaly mode are on somewhere
            if _hooks.pair is not None:
                ctx._packed = pack_all([None if v is None else ctx._as_tensor(v, ident)
                                        for v, ident in zip(ctx._saved, ctx._saved_ids)])
            note_traceback(node)

    @classmethod
    def _apply_symbolic(cls, args: tuple) -> Any:
        node = FunctionNode()
        node.fn = cls
        from symgrad.ops.namespaces import to_exact

        vals = [a._data if isinstance(a, Tensor) else a for a in args]
        vals = [to_exact(v) if isinstance(v, np.ndarray) and v.dtype != object else v
                for v in vals]
        out = node.replay(vals)
        if isinstance(out, tuple):
            return tuple(Tensor._wrap(o) for o in out)
        return Tensor._wrap(out)


_NODE_CLASSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MODULE = __name__   # "symgrad.autograd.function", where PyTorch's node classes live too


def _node_class(fn: type) -> type:
    """The node class of a Function, named as PyTorch names it (``MySigmoidBackward``)."""
    klass = _NODE_CLASSES.get(fn)
    if klass is None:
        klass = _NODE_CLASSES[fn] = type(f"{fn.__name__}Backward", (FunctionNode,),
                                         {"__slots__": (), "__module__": _MODULE})
    return klass


def _dirty_inputs(ctx: FunctionCtx, args: tuple, raw: list) -> dict[int, Tensor]:
    """The input tensors given to ``ctx.mark_dirty``, by the id of their array (PyTorch
    warns about, and otherwise ignores, a value that is not an input)."""
    dirty: dict[int, Tensor] = {}
    for m in ctx._dirty:
        for a, r in zip(args, raw):
            if isinstance(a, Tensor) and (m is a or m is r):
                dirty[id(r)] = a
                break
        else:
            warnings.warn("ctx.mark_dirty() received a tensor that was not an input. Only "
                          "input Tensors that have been mutated should be passed to "
                          "ctx.mark_dirty().", UserWarning, stacklevel=4)
    return dirty


def _changed_in_place(fn: type, dirty: Any, results: list, record: bool) -> None:
    """Account for the inputs ``forward`` changed: each must be returned, and its version
    moves on (a node that saved it now refuses to run). While recording, PyTorch's rules
    for in-place ops apply (forward has already run, as in PyTorch)."""
    returned = {id(r) for r in results}
    for t in dirty:
        check_in_place(t)
        if id(t) not in returned:
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the "
                f"Function ({fn.__name__}.forward must return the arrays it changed in place).")
        t._vc[0] += 1
        if not record:
            continue
        if t.grad_fn is None and t._requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation. "
                f"({fn.__name__} marked it dirty; run it under symgrad.no_grad() or on a clone.)")
        if shares_live_storage(t):
            raise RuntimeError(
                f"{fn.__name__} changed in place a tensor that shares storage with another live "
                "tensor (a view, or a tensor it is a view of) while gradients are recorded: "
                "symgrad would have to rewrite the other tensor's history (forward has run: "
                "the values are changed). Pass a .clone(), or drop the other tensor first.")


def _mark_inference(results: list, dirty: dict[int, Tensor]) -> None:
    """Outputs made inside inference mode are inference tensors (not the inputs changed
    in place: they stay what they were)."""
    kept = {id(t) for t in dirty.values()}
    for r in results:
        if isinstance(r, Tensor) and id(r) not in kept and type(r._vc) is list:
            r._vc = InferenceVersion((0, False))


def _wrap_outputs(returned: tuple, several: bool, dirty: dict[int, Tensor],
                  inputs: tuple) -> list:
    """What ``apply`` returns for the values ``forward`` returned: a Tensor per array (one
    Tensor for an array returned twice, as PyTorch returns one tensor; the input tensor
    itself for an input marked dirty), other values of a tuple as they are."""
    tensors: dict[int, Tensor] = dict(dirty)
    results = []
    for o in returned:
        if isinstance(o, Tensor):
            data = o._data
        elif isinstance(o, (np.ndarray, np.generic)) or not several:
            data = np.asarray(o)
        else:
            results.append(o)
            continue
        t = tensors.get(id(data))
        if t is None:
            t = tensors[id(data)] = Tensor._wrap(data)
            _alias_input(t, o, data, inputs)
        results.append(t)
    return results


def _alias_input(t: Tensor, o: Any, data: np.ndarray, inputs: tuple) -> None:
    """An output that is an input, or a view of one, shares that input's version counter
    (as a view op's output does): an in-place change of either is then seen by the nodes
    that saved the other."""
    for a in inputs:
        if isinstance(a, Tensor) and (
                (isinstance(o, Tensor) and o._vc is a._vc)
                or (not isinstance(o, Tensor) and np.may_share_memory(data, a._data))):
            share_storage(a, t, view=False)
            return


def _marked(marks: tuple, value: Any, data: np.ndarray) -> bool:
    """Whether ``mark_non_differentiable`` was given this returned value."""
    return any(m is value or m is data or (isinstance(m, Tensor) and m._data is data)
               for m in marks)


def _identify(v: Any, args: tuple, raw: list, returned: tuple, outputs: tuple):
    """("in", i) for a saved input, ("out", k) for a saved output, else None. A Tensor is
    an input or output only as that very object (``x.detach()`` shares x's array but not
    its history); an array, by identity with the input's or output's array."""
    if isinstance(v, Tensor):
        for i, a in enumerate(args):
            if v is a:
                return ("in", i)
        for k, (o, t) in enumerate(zip(returned, outputs)):
            if t is not None and (v is o or v is t):
                return ("out", k)
        return None
    for i, a in enumerate(raw):
        if isinstance(a, np.ndarray) and a is v:
            return ("in", i)
    for k, (o, t) in enumerate(zip(returned, outputs)):
        if t is not None and (v is o or v is t._data):
            return ("out", k)
    return None


def _snapshot(ctx: FunctionCtx) -> tuple:
    """Versions of the saved tensors now, so ``saved_tensors`` can tell they were changed
    in place (the check built-in ops make); entries are ``(counter, version, identity)``."""
    snap = []
    for v, ident in zip(ctx._saved, ctx._saved_ids):
        if ident is None:
            t = v if isinstance(v, Tensor) else None
        else:
            t = ctx._outputs[ident[1]] if ident[0] == "out" else ctx._inputs[ident[1]]
        if isinstance(t, Tensor):
            if type(t._vc) is not list:
                raise RuntimeError(INFERENCE_SAVED_MESSAGE)
            snap.append((t._vc, t._vc[0], ident))
    return tuple(snap)


def once_differentiable(fn):
    """Decorator accepted for compatibility: marks a backward that is not itself
    differentiable (symgrad then runs it without recording, as with create_graph=False)."""
    def wrapper(ctx, *grads):
        with no_grad():
            return fn(ctx, *grads)
    wrapper.__name__ = getattr(fn, "__name__", "backward")
    wrapper.__doc__ = fn.__doc__
    return wrapper

