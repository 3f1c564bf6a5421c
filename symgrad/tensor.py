"""``Tensor``: a numpy array plus the autograd state PyTorch users expect.

The array lives in ``_data``; ``grad_fn`` is the node that made the tensor (None for
leaves); leaves that require grad reach the graph through an ``AccumulateGrad`` node.
Operations are not defined here: methods delegate to the op functions of ``symgrad.ops``,
so every operation, method or function, goes through the one op table.
"""

from __future__ import annotations

import numbers
import warnings
import weakref
from typing import Any
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from symgrad import _dtype
from symgrad._device import CPU as _CPU, check_device, device
from symgrad._printing import tensor_repr
from symgrad.autograd import grad_mode
from symgrad.autograd.graph import AccumulateGrad, HookHandle as _HookHandle

__all__ = ["Tensor", "Size", "as_tensor", "to_array", "InferenceVersion", "check_in_place"]

_OBJECT = np.dtype(object)
_ndarray = np.ndarray

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. It is not "
    "filled in by backward(); call .retain_grad() on the tensor before backward() if you "
    "want its gradient, or read .grad of the leaf tensor you meant."
)


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``symgrad.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"symgrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


_backward: Callable | None = None


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("_data", "_requires_grad", "grad_fn", "_grad", "_vc", "_acc", "_extra",
                 "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: Any = (), *, dtype=None, requires_grad: bool = False) -> None:
        # ``Tensor(data)`` as in PyTorch gives the default floating dtype.
        arr = np.array(to_array(data), dtype=_dtype.to_np(dtype) or _dtype.get_default_dtype().np)
        self._data = arr
        self._requires_grad = False
        self.grad_fn = None
        self._grad = None
        self._vc = [0, False] if not grad_mode._state.inference else InferenceVersion((0, False))
        self._acc = None
        self._extra = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(data: np.ndarray, grad_fn=None, requires_grad: bool = False) -> Tensor:
        """Make a tensor around ``data`` without copying or checking (internal fast path)."""
        t = _new(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._grad = None
        t._vc = [0, False]
        t._acc = None
        t._extra = None
        return t

    # ------------------------------------------------------------------ autograd state
    @property
    def data(self) -> Tensor:
        """The same storage, detached from the graph (and from its version counter)."""
        t = Tensor._wrap(self._data)
        if type(self._vc) is not list:   # (an inference tensor's data is one too)
            t._vc = InferenceVersion((0, False))
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf record operations (or stop); returns the tensor itself."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables; to use a "
                    "computed tensor without differentiating through it, use .detach()")
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients (this "
                f"one is {self.dtype!r}; symgrad has no complex dtypes): convert it first, e.g. "
                "t.double()")
        if requires_grad and type(self._vc) is not list and not grad_mode._state.inference:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not "
                "allowed. (It was made inside symgrad.inference_mode(); use a .clone() of it.)")
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded operation)."""
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad must be a Tensor or None, got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has shape {tuple(value.shape)}, but the tensor "
                                   f"has shape {tuple(self.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has dtype {value.dtype!r}, but the tensor has "
                                   f"dtype {self.dtype!r}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return bool(self._extra and self._extra.get("retains_grad"))

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None and t.grad_fn is not None:
                t._store_retained(t.grad_fn._output_grads(g)[t.output_nr])
            return None

        self._extra_dict()["retains_grad"] = keep
        self.grad_fn._add_prehook(keep)

    def _move_retain(self, old: Any) -> None:
        """After an in-place op: ``.grad`` is the gradient of the current version, as in
        PyTorch, so the retaining hook leaves the old node for the new one."""
        keep = self._extra.get("retains_grad") if self._extra else None
        if keep is None or old is self.grad_fn:
            return
        hooks = getattr(old, "_hooks", None)
        if hooks is not None and keep in hooks.retain:
            hooks.retain.remove(keep)
        self.grad_fn._add_prehook(keep)

    def _store_retained(self, g) -> None:
        if g is None:
            return
        if isinstance(g, Tensor):
            self._grad = g if self._grad is None else self._grad + g
        elif self._grad is None:
            self._grad = Tensor._wrap(np.array(g, dtype=self._data.dtype, copy=True))
        else:
            self._grad = Tensor._wrap(self._grad._data + g)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it.

        As in PyTorch, the hooks of a tensor run before ``retain_grad`` stores the gradient
        and before its ``grad_fn``'s own pre-hooks."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self.grad_fn
        if node is not None:
            hooks = node._hook_set().tensor
        else:  # a leaf: the hooks stay with the tensor, whichever graph it joins
            hooks = self._extra_dict().setdefault("hooks", [])
            acc = self._acc() if self._acc is not None else None
            if acc is not None:
                acc._hook_set().tensor = hooks
        wrapped = _tensor_hook(hook, node, self.output_nr, self._data.shape)
        hooks.append(wrapped)
        return _HookHandle(hooks, wrapped)

    def _grad_accumulator(self) -> AccumulateGrad:
        """The (shared) AccumulateGrad node of a leaf that requires grad."""
        acc = self._acc() if self._acc is not None else None
        if acc is None:
            acc = AccumulateGrad.of(self)
            if self._extra and "hooks" in self._extra:
                acc._hook_set().tensor = self._extra["hooks"]
            self._acc = weakref.ref(acc)
        return acc

    def _accumulate_grad(self, g, shared: bool, create_graph: bool) -> None:
        """Add an incoming gradient into ``.grad`` (called by the engine for leaves), then
        run the post-accumulate-grad hooks."""
        if (self._grad is None and type(g) is _ndarray and not shared and g.base is None
                and g.dtype == self._data.dtype and g.flags.writeable):
            self._grad = Tensor._wrap(g)  # the common first gradient: kept as it is
        elif isinstance(g, Tensor):
            if g._data.dtype != self._data.dtype:
                g = g.to(self.dtype)
            self._grad = g if self._grad is None else self._grad + g
        else:
            if g.dtype != self._data.dtype:
                g = g.astype(self._data.dtype)
                shared = False
            cur = self._grad
            if cur is None:
                if shared or g.base is not None or not g.flags.writeable:
                    g = g.copy()
                self._grad = Tensor._wrap(g)
            elif cur._requires_grad or not cur._data.flags.writeable:
                with grad_mode.no_grad():
                    self._grad = cur + Tensor._wrap(g)
            else:
                cur._data += g
                cur._vc[0] += 1
        if self._extra is not None and "post_accumulate" in self._extra:
            for hook in list(self._extra["post_accumulate"]):
                hook(self)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]):
        """Call ``hook(tensor)`` after a gradient has been added into this leaf's ``.grad``
        (an optimizer step per parameter, as in PyTorch); returns a removable handle."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        hooks = self._extra_dict().setdefault("post_accumulate", [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0 but for the outputs 1, 2, ...
        of a custom Function returning several tensors)."""
        extra = self._extra
        return extra.get("output_nr", 0) if extra else 0

    def _set_history(self, node: Any, nr: int = 0) -> None:
        """Make this tensor output ``nr`` of ``node`` (its ``grad_fn``)."""
        self.grad_fn = node
        if nr:
            self._extra_dict()["output_nr"] = nr
        elif self._extra:
            self._extra.pop("output_nr", None)

    def _history_alias(self, data: np.ndarray) -> Tensor:
        """A tensor around ``data`` with this tensor's place in the graph (what an in-place
        op computes its new value from)."""
        t = Tensor._wrap(data, self.grad_fn, self._requires_grad)
        extra = self._extra
        if extra:
            nr = extra.get("output_nr", 0)
            if nr:
                t._set_history(self.grad_fn, nr)
            if "tangent" in extra:   # (under a dual level: the new value's tangent from it)
                t._extra_dict()["tangent"] = extra["tangent"]
        return t

    def detach(self) -> Tensor:
        """The same storage without history, sharing the version counter as in PyTorch (a
        change through either shows in the saved-value checks). It has no history to go
        stale, so, unlike a view, it never blocks an in-place op on this tensor."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that does not require grad."""
        self._set_history(None)
        self._requires_grad = False
        return self

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves."""
        global _backward
        if _backward is None:  # autograd.api imports this module: bind it on first use
            from symgrad.autograd.api import backward as _backward
        _backward(self, gradient, retain_graph, create_graph, inputs)

    def _extra_dict(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_axis(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> device:
        """Always ``device(type='cpu')``: symgrad computes with numpy."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_floating_point_(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> Tensor:
        from symgrad.ops.shape import contiguous   # (not a function of the namespace)

        return contiguous(self, memory_format)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("symgrad runs on the CPU only (numpy); there is no CUDA device")

    @property
    def _base(self) -> Tensor | None:
        """The tensor this one is a view of (the root of a chain of views), or None."""
        extra = self._extra
        return extra.get("base") if extra else None

    def _is_view(self) -> bool:
        return self._base is not None

    @property
    def _version(self) -> int:
        if type(self._vc) is not list:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    def is_inference(self) -> bool:
        """True for a tensor made inside ``inference_mode()`` (or a view of one)."""
        return type(self._vc) is not list

    @property
    def is_symbolic(self) -> bool:
        """True when the entries are SymPy expressions."""
        return self._data.dtype is _OBJECT

    # ------------------------------------------------------------------ conversion
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "a Python scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't convert a Tensor that requires grad to a numpy array. "
                               "Use tensor.detach().numpy() instead.")
        a = self._data
        if dtype is not None and a.dtype != np.dtype(dtype):
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # numpy calls this for ``ndarray * tensor`` and ``np.exp(tensor)``: run our op instead.
        fn = _UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if fn is None:
            return NotImplemented
        if (len(inputs) == 2 and ufunc.__name__ in ("add", "multiply")
                and not isinstance(inputs[0], Tensor)):   # 2.0 * t is mul(t, 2.0), as PyTorch
            inputs = inputs[::-1]
        return fn(*inputs)

    def to(self, *args, dtype=None, **kwargs) -> Tensor:
        """Convert to another dtype (devices other than "cpu" are not available)."""
        for a in args:
            if isinstance(a, (str, device)) or (type(a) is int):   # t.to(0): cuda:0
                check_device(a)
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif a is not None:
                dtype = a
        check_device(kwargs.get("device"))
        if dtype is None:
            return self
        return _F.to_dtype(self, dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"symgrad.{self.dtype.name}"
        return self.to(dtype)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if not self._data.size else 'more than one value'}"
                               " is ambiguous")
        v = self._data.reshape(()).item()
        if self._data.dtype is _OBJECT:
            try:
                return bool(v)
            except TypeError:
                raise TypeError(f"cannot branch on the symbolic value {v}: Python control flow "
                                "needs numbers. Verify such code on a numeric tensor (symgrad "
                                "replays the recorded graph run by run).") from None
        return bool(v)

    def __float__(self) -> float:
        self._one_element()
        return float(self.item())

    def _sympy_(self):
        """What ``sympy.sympify`` makes of this tensor (so ``sympy.simplify(g[0, 0])`` and
        ``sympy.diff(e, w[1])`` take symbolic entries as they are): a 0-d tensor is its
        entry, a 2-d one a Matrix, others an N-dim Array. Numbers become SymPy Floats."""
        import sympy

        a = self._data
        if a.dtype != _OBJECT:
            a = a.astype(float) if a.dtype.kind in "fiub" else a
        if a.ndim == 0:
            return sympy.sympify(a[()])
        if a.ndim == 2:
            return sympy.ImmutableMatrix(a.tolist())
        return sympy.ImmutableDenseNDimArray(a.tolist(), a.shape)

    # SymPy's printers call these: sympy.latex(g), sympy.pprint(H) print the entries as
    # ``sympify`` gives them (without, SymPy reads the tensor as an expression and fails)
    def _latex(self, printer) -> str:
        return printer._print(self._sympy_())

    def _pretty(self, printer):
        return printer._print(self._sympy_())

    def _sympystr(self, printer) -> str:
        return printer._print(self._sympy_())

    def __int__(self) -> int:
        self._one_element()
        return int(self.item())

    def _one_element(self) -> None:
        if self._data.size != 1:   # (PyTorch: ValueError here, RuntimeError from item())
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        self._one_element()
        return complex(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_F.unbind(self, 0))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and self._data.dtype is not _OBJECT:
            return self._data.item().__format__(spec)
        if spec:   # as object.__format__ (PyTorch formats only 0-d tensors with a spec)
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol")
        t = Tensor._wrap(self._data.copy(), requires_grad=self._requires_grad)
        if self._grad is not None:
            t._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t

    def __copy__(self):
        return self.__deepcopy__({})

    # ------------------------------------------------------------------ arithmetic
    # (__add__, __sub__, __mul__, __truediv__ and __matmul__ are the op functions
    # themselves, set at the end of the module)
    def __radd__(self, other):   # 1 + t is add(t, 1) in PyTorch: t is the node's first input
        return _F.add(self, other)

    def __rsub__(self, other):
        return _F.rsub(self, other)   # RsubBackward1, as PyTorch (torch.sub(2, t): SubBackward0)

    def __rmul__(self, other):   # (likewise 2 * t is mul(t, 2))
        return _F.mul(self, other)

    def __rtruediv__(self, other):
        # PyTorch's operator: reciprocal times the number (MulBackward0); torch.div(2, t)
        # is DivBackward0
        if isinstance(other, (int, float, bool)):
            return _F.mul(_F.reciprocal(self), other)
        return _F.div(other, self)

    def __floordiv__(self, other):
        return _F.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _F.floor_divide(other, self)

    def __mod__(self, other):
        return _F.remainder(self, other)

    def __rmod__(self, other):
        return _F.remainder(other, self)

    def __pow__(self, other):
        return _F.pow(self, other)

    def __rpow__(self, other):
        return _F.pow(other, self)

    def __rmatmul__(self, other):
        return _F.matmul(other, self)

    def __neg__(self):
        return _F.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _F.abs(self)

    def __eq__(self, other):  # type: ignore[override]
        return _F.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _F.ne(self, other)

    def __lt__(self, other):
        return _F.lt(self, other)

    def __le__(self, other):
        return _F.le(self, other)

    def __gt__(self, other):
        return _F.gt(self, other)

    def __ge__(self, other):
        return _F.ge(self, other)

    # ~ & | ^ are PyTorch's bitwise_not/and/or/xor: bitwise on integers, logical on bools.
    def _bitwise(self, fn: Callable[..., Tensor], other: Any, reflected: bool = False) -> Any:
        """``fn(self, other)`` (``fn(other, self)`` reflected), or NotImplemented when
        ``other`` is neither a tensor nor a number, so that Python raises its TypeError."""
        if not isinstance(other, (Tensor, np.ndarray, numbers.Number, np.bool_)):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    def __invert__(self) -> Tensor:
        if self._data.dtype.kind == "f":
            raise TypeError("~ (operator.invert) is only implemented on integer and "
                            "Boolean-type tensors")
        return _F.bitwise_not(self)

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_and, other)

    def __rand__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_and, other, reflected=True)

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_or, other)

    def __ror__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_or, other, reflected=True)

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_xor, other)

    def __rxor__(self, other: Any) -> Tensor:
        return self._bitwise(_F.bitwise_xor, other, reflected=True)

    def __iand__(self, other: Any) -> Tensor:
        return self._bitwise(Tensor.bitwise_and_, other)

    def __ior__(self, other: Any) -> Tensor:
        return self._bitwise(Tensor.bitwise_or_, other)

    def __ixor__(self, other: Any) -> Tensor:
        return self._bitwise(Tensor.bitwise_xor_, other)

    def bitwise_and_(self, other: Any) -> Tensor:
        return _F.inplace(self, _F.bitwise_and, other)

    def bitwise_or_(self, other: Any) -> Tensor:
        return _F.inplace(self, _F.bitwise_or, other)

    def bitwise_xor_(self, other: Any) -> Tensor:
        return _F.inplace(self, _F.bitwise_xor, other)

    def bitwise_not_(self) -> Tensor:
        return _F.inplace(self, _F.bitwise_not)

    def __getitem__(self, index):
        return _F.index(self, index)

    def __setitem__(self, index, value) -> None:
        _F.index_put_(self, index, value)

    # in place: a new value computed by the op table, written into this tensor's storage
    def __iadd__(self, other):
        return _F.inplace(self, _F.add, other)

    def __isub__(self, other):
        return _F.inplace(self, _F.sub, other)

    def __imul__(self, other):
        return _F.inplace(self, _F.mul, other)

    def __itruediv__(self, other):
        return _F.inplace(self, _F.div, other)

    def __ipow__(self, other):
        return _F.inplace(self, _F.pow, other)

    def __ifloordiv__(self, other):   # without it ``t //= 2`` would rebind t to a new tensor
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __imatmul__(self, other):
        return _F.inplace(self, _F.matmul, other)

    def add_(self, other, *, alpha=1):
        return _F.inplace(self, _F.add, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return _F.inplace(self, _F.sub, other, alpha=alpha)

    def mul_(self, other):
        return _F.inplace(self, _F.mul, other)

    def div_(self, other, *, rounding_mode=None):
        return _F.inplace(self, _F.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent):
        return _F.inplace(self, _F.pow, exponent)

    def neg_(self):
        return _F.inplace(self, _F.neg)

    def exp_(self):
        return _F.inplace(self, _F.exp)

    def log_(self):
        return _F.inplace(self, _F.log)

    def sigmoid_(self):
        return _F.inplace(self, _F.sigmoid)

    def tanh_(self):
        return _F.inplace(self, _F.tanh)

    def relu_(self):
        return _F.inplace(self, _F.relu)

    def abs_(self):
        return _F.inplace(self, _F.abs)

    def sqrt_(self):
        return _F.inplace(self, _F.sqrt)

    def masked_fill_(self, mask, value):
        return _F.inplace(self, _F.masked_fill, mask, value)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _F.inplace(self, _F.index_add, dim, index, source, alpha=alpha)

    def index_put_(self, indices, values, accumulate=False):
        return _F.index_put_tensors_(self, indices, values, accumulate)

    def scatter_add_(self, dim, index, src):
        return _F.inplace(self, _F.scatter_add, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None):
        return _F.inplace(self, _F.scatter, dim, index, src, value=value)

    def clamp_(self, min=None, max=None):
        return _F.inplace(self, _F.clamp, min=min, max=max)

    def clamp_min_(self, min):   # (clamp_min's node names: ClampMinBackward0 / 1)
        return _F.inplace(self, _F.clamp_min, min)

    def clamp_max_(self, max):
        return _F.inplace(self, _F.clamp_max, max)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        return _F.inplace(self, _F.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
        return _F.inplace(self, _F.addcdiv, tensor1, tensor2, value=value)

    def lerp_(self, end: Tensor, weight) -> Tensor:
        return _F.inplace(self, _F.lerp, end, weight)

    # in place, shape only: same entries, the view's shape, and the view op as history
    def squeeze_(self, dim=None) -> Tensor:
        return self._view_in_place(_F.squeeze, dim)

    def unsqueeze_(self, dim: int) -> Tensor:
        return self._view_in_place(_F.unsqueeze, dim)

    def t_(self) -> Tensor:
        return self._view_in_place(_F.t)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return self._view_in_place(_F.transpose, dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def _view_in_place(self, fn: Callable[..., Tensor], *args: Any) -> Tensor:
        """Make this tensor ``fn(self, *args)``, a view op (squeeze_, t_, ...): while
        recording, its ``grad_fn`` becomes the op's in-place node (``TBackward1``, as
        PyTorch names it), so gradients reach the old history reshaped; a leaf that
        requires grad refuses, as in PyTorch. The version counter moves, as there. (After
        retain_grad, ``.grad`` follows the new shape; PyTorch keeps the old one.)"""
        check_in_place(self)
        old = self._history_alias(self._data)
        if grad_mode._state.enabled and self._requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation "
                    f"({fn.__name__}_). Wrap it in `with symgrad.no_grad():` or work on a view "
                    f"(t.{fn.__name__}(...)) instead.")
            node = fn(old, *args).grad_fn
            res = _apply(_in_place_variant(type(node)), old, **(node._params or {}))
            old_fn = self.grad_fn
            self._set_history(res.grad_fn)
            if self._extra:  # .grad: the gradient of the tensor as it is now (its shape)
                self._move_retain(old_fn)
        else:
            with grad_mode.no_grad():
                res = fn(old, *args)
        self._data = res._data
        self._vc[0] += 1
        if grad_mode._state.forward:   # a dual level is open: the tangent is viewed alike
            from symgrad.autograd._dual import set_tangent, tangent_of

            if tangent_of(res) is not None:
                set_tangent(self, tangent_of(res))
        return self

    def zero_(self):
        return _F.zero_(self)

    def fill_(self, value):
        return _F.fill_(self, value)

    def copy_(self, src):
        return _F.copy_(self, src)

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
        from symgrad.factories import _rng

        return _F.copy_(self, Tensor._wrap(_rng(generator).uniform(a, b, self._data.shape)))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
        from symgrad.factories import _rng

        return _F.copy_(self, Tensor._wrap(_rng(generator).normal(mean, std,
                                                                  self._data.shape)))

    # ------------------------------------------------------------------ methods
    def add(self, other, *, alpha=1):
        return _F.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _F.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _F.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _F.div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def neg(self):
        return _F.neg(self)

    negative = neg

    def pow(self, exponent):
        return _F.pow(self, exponent)

    def matmul(self, other):
        return _F.matmul(self, other)

    def clone(self, *, memory_format=None):
        return _F.clone(self)

    @property
    def T(self) -> Tensor:
        return _F.numpy_T(self)

    @property
    def mT(self) -> Tensor:
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")
        return _F.transpose(self, -2, -1)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of a batch of matrices: ``mT`` for real entries."""
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")
        return _F.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix: ``T`` for real entries."""
        if self._data.ndim != 2:
            hint = " For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 \
                else ""
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self._data.ndim}-D tensor.{hint}")
        return _F.transpose(self, 0, 1)

    def where(self, condition, other) -> Tensor:
        return _F.where(condition, self, other)

    # ------------------------------------------------------------------ factories on a tensor
    def new_tensor(self, data, *, dtype=None, requires_grad=False):
        from symgrad.factories import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        from symgrad.factories import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        from symgrad.factories import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
        from symgrad.factories import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    # ------------------------------------------------------------------ notebooks
    def _repr_latex_(self) -> str | None:
        if self._data.dtype is not _OBJECT:
            return None
        from symgrad.symbolic.printing import latex_tensor

        return latex_tensor(self)


_new = object.__new__


def _tensor_hook(hook: Callable, node: Any, nr: int, shape: tuple) -> Callable:
    """``hook`` as the engine calls it: on the raw gradient of the node (``node`` None for
    a leaf's), applied to output ``nr`` of it; a returned tensor must keep the shape."""
    def wrapped(g):
        grads = [g] if node is None else node._output_grads(g)
        old = grads[nr]
        raw = old is not None and not isinstance(old, Tensor)
        r = hook(Tensor._wrap(old) if raw else old)
        if r is None:
            return None
        if not isinstance(r, Tensor):
            raise TypeError(f"a tensor hook must return a Tensor or None, got {type(r).__name__}")
        if old is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        if r._data.shape != shape:
            raise RuntimeError(f"hook returned a gradient of shape {tuple(r.shape)}, expected "
                               f"{tuple(shape)}")
        grads[nr] = r._data if raw else r
        return grads[0] if node is None else node._from_output_grads(grads, g)

    return wrapped


def _rebuild(data, requires_grad):
    return Tensor._wrap(data, requires_grad=requires_grad)


def _axis(dim: int, ndim: int) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
    return dim % max(ndim, 1)


def to_array(data: Any, dtype=None) -> np.ndarray:
    """A numpy array for tensor data: numbers, nested lists, arrays, tensors, SymPy values.

    Python floats take the default dtype, ints int64, bools bool; SymPy expressions give
    a symbolic (object) array.
    """
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        if data.dtype == object:   # a user's object array: plain numbers in it made exact
            from symgrad.ops.namespaces import to_exact

            return to_exact(data)
        return data
    if isinstance(data, (bool, np.bool_)):
        return np.array(data, dtype=np.bool_)
    if isinstance(data, np.number) and data.dtype.kind in "iuf":
        return np.array(data)    # a numpy scalar keeps its dtype (np.float32(1.5): float32)
    if isinstance(data, numbers.Integral):
        return np.array(data, dtype=np.int64)
    if isinstance(data, numbers.Real):
        return np.array(data, dtype=_dtype.get_default_dtype().np)
    if isinstance(data, (list, tuple)):
        flat = _flatten(data)
        if any(isinstance(x, Tensor) for x in flat):
            data = _replace_tensors(data)
            flat = _flatten(data)
        if any(isinstance(x, np.generic) for x in flat) and all(
                isinstance(x, (numbers.Real, np.bool_)) for x in flat):
            return np.array(data, dtype=_promoted_scalar_dtype(flat))
        if flat and all(isinstance(x, (bool, np.bool_)) for x in flat):
            return np.array(data, dtype=np.bool_)
        if flat and all(isinstance(x, (numbers.Integral, np.bool_)) for x in flat):
            return np.array(data, dtype=np.int64)
        if all(isinstance(x, numbers.Real) for x in flat):
            dt = _dtype.get_default_dtype().np
            if all(isinstance(x, np.floating) for x in flat) and flat:
                dt = np.result_type(*flat)
            return np.array(data, dtype=dt)
        if _is_sympy_seq(flat):
            return _object_array(data)
        bad = next(x for x in flat if not isinstance(x, numbers.Real))
        raise TypeError(f"cannot make a tensor from a sequence containing {type(bad).__name__}")
    if _is_sympy_seq([data]):
        return _object_array(data)
    if hasattr(data, "__array__"):
        return np.asarray(data)
    raise TypeError(f"cannot make a tensor from an object of type {type(data).__name__}")


def _promoted_scalar_dtype(flat: list) -> np.dtype:
    """PyTorch's dtype for a sequence mixing numpy scalars with Python numbers: numpy
    scalars bring their own dtype, Python floats the default, ints int64; any floating
    type wins over integers (so ``[np.float32(1), 2]`` is float32, not numpy's float64)."""
    default = _dtype.get_default_dtype().np
    dts = [x.dtype if isinstance(x, np.generic) else
           np.dtype(np.bool_) if isinstance(x, bool) else
           np.dtype(np.int64) if isinstance(x, numbers.Integral) else np.dtype(default)
           for x in flat]
    for kinds in ("f", "iu"):
        some = [d for d in dts if d.kind in kinds]
        if some:
            return np.result_type(*some)
    return np.dtype(np.bool_)


def _flatten(seq) -> list:
    out, stack = [], [seq]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def _replace_tensors(seq):
    if isinstance(seq, (list, tuple)):
        return [_replace_tensors(x) for x in seq]
    if isinstance(seq, Tensor):
        return seq._data.tolist()
    return seq


def _is_sympy_seq(flat) -> bool:
    import sys

    sympy = sys.modules.get("sympy")
    return sympy is not None and bool(flat) and all(
        isinstance(x, (sympy.Basic, numbers.Number)) for x in flat)


def _object_array(data) -> np.ndarray:
    """SymPy values as a symbolic array; Python numbers among them exact (0.5 is 1/2, as
    floats are everywhere on the symbolic side), not SymPy Floats."""
    import sympy

    from symgrad.ops.namespaces import exact_number

    arr = np.array(data, dtype=object)
    return np.vectorize(lambda v: sympy.sympify(exact_number(v)),
                        otypes=[object])(arr) if arr.size else arr


def as_tensor(x: Any, dtype=None) -> Tensor:
    """``x`` itself if it is a Tensor, else a new tensor (no copy of numpy arrays)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    arr = to_array(x)
    if dtype is not None:
        arr = arr.astype(_dtype.to_np(dtype), copy=False)
    return Tensor._wrap(arr)


class InferenceVersion(list):
    """The version counter of an inference tensor (one made inside ``inference_mode``):
    its type is the mark, so views and ``detach()``, which share the counter, are
    inference tensors too, as in PyTorch, and a normal tensor pays nothing for the flag.
    Holds ``[version, storage refs]`` as a plain counter does."""

    __slots__ = ()


INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. This one was made inside "
    "symgrad.inference_mode(): use a .clone() of it (a normal tensor) in computations that "
    "record a graph, or make it under symgrad.no_grad() instead.")


def check_in_place(t: Tensor) -> None:
    """PyTorch's rules: an inference tensor is changed in place only inside inference
    mode; a view made under no_grad of a base that requires grad only under no_grad."""
    if type(t._vc) is not list and not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed. This "
            "tensor was made inside symgrad.inference_mode(): change a .clone() of it instead, "
            "or make the change inside inference_mode().")
    extra = t._extra
    if (extra and extra.get("no_grad_view") and grad_mode._state.enabled
            and extra["base"]._requires_grad):
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled: whether the change is to be recorded is ambiguous. Make both the view "
            "and the in-place change inside the no_grad block (not recorded) or both outside "
            "it (recorded).")


def share_storage(base: Tensor, alias: Tensor, view: bool = True) -> None:
    """Make ``alias`` (a view of ``base``) share ``base``'s version counter, and note both
    as sharing storage: ``vc[1]`` lists weak references to them.

    The view also keeps its root base alive (PyTorch's ``._base``): an in-place op on either
    rewrites the other's history (``ops.inplace``), which needs the root's. A view made
    while no graph is recorded is marked so: PyTorch refuses to change it in place later
    under recording, its relation to the base's history being ambiguous. (``view=False``:
    an alias that is no view op's output, such as a custom Function's output that is its
    input: its history goes through that Function and cannot be rewritten.)"""
    vc = base._vc
    refs = vc[1]
    if not refs:
        refs = vc[1] = [weakref.ref(base)]
    elif len(refs) >= 16 and len(refs).bit_count() == 1:   # now and then, drop the dead
        refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(alias))
    alias._vc = vc
    if not view:
        return
    extra = base._extra
    root = extra.get("base", base) if extra else base
    view = alias._extra_dict()
    view["base"] = root
    if not grad_mode._state.enabled or (extra and "no_grad_view" in extra):
        view["no_grad_view"] = True
    if extra and "multi_view" in extra:   # a view of one of split's outputs is one too
        view["multi_view"] = extra["multi_view"]


def shares_live_storage(t: Tensor) -> bool:
    """Whether another live tensor shares ``t``'s storage (see ``share_storage``)."""
    refs = t._vc[1]
    if not refs:
        return False
    refs[:] = [r for r in refs if r() is not None]
    return any(r() is not t for r in refs)


def view_family(t: Tensor) -> tuple[Tensor, list[Tensor], bool]:
    """The root base of ``t`` (``t`` itself if it is no view), the live views of that root
    (``t`` among them if it is one), and whether another live tensor with a history shares
    the storage without being either (an output of a custom Function aliasing its input):
    its history cannot be rewritten. (A ``detach()``ed alias and its views have none.)"""
    extra = t._extra
    root = extra.get("base", t) if extra else t
    views: list[Tensor] = []
    foreign = False
    refs = t._vc[1]
    if refs:
        refs[:] = [r for r in refs if r() is not None]
        for r in refs:
            o = r()
            if o is None or o is root:
                continue
            if o._extra and o._extra.get("base") is root:
                views.append(o)
            elif o is not t and o._requires_grad:
                foreign = True
    return root, views, foreign


from symgrad import ops as _F  # noqa: E402  (methods delegate to the op functions)

# Every other method is the op function of the same name, called with the tensor first:
# t.exp() is ops.exp(t), t.sum(dim=0) is ops.sum(t, dim=0).
for _name, _fn in _F.TENSOR_METHODS.items():
    if _name not in Tensor.__dict__:
        setattr(Tensor, _name, _fn)
# ``a + b`` is ops.add(a, b) with no method frame in between (one per operation counts).
for _name, _fn in (("__add__", _F.add), ("__sub__", _F.sub), ("__mul__", _F.mul),
                   ("__truediv__", _F.div), ("__matmul__", _F.matmul)):
    setattr(Tensor, _name, _fn)
_UFUNCS: dict[str, Callable] = _F.NUMPY_UFUNCS

#: In-place forms ``t.sin_()``, ``t.fmod_(2)``, ... of op functions: ``_F.inplace`` of the
#: op (the graph records the op's own node, as PyTorch does).
_IN_PLACE_FORMS = (
    "acos", "acosh", "addmm", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "clip", "cos", "cosh",
    "cumprod", "cumsum", "divide", "eq", "erf", "exp2", "expm1", "floor", "floor_divide",
    "fmod", "frac", "ge", "gt", "hypot", "le", "log10", "log1p", "log2", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logit", "lt", "multiply", "nan_to_num", "ne",
    "negative", "reciprocal", "remainder", "round", "rsqrt", "sign", "sin", "sinh", "square",
    "subtract", "tan", "tril", "triu", "true_divide", "trunc",
    # the special functions, products and angle conversions of ops.special / ops.products
    "addbmm", "addmv", "addr", "baddbmm", "deg2rad", "digamma", "erfinv", "heaviside",
    "lgamma", "polygamma", "rad2deg", "sgn", "sinc", "xlogy",
    # ops.numbers and ops.writes
    "erfc", "fix", "gcd", "lcm", "copysign", "ldexp", "nextafter", "index_copy", "index_fill",
    "masked_scatter", "put", "scatter_reduce", "renorm", "mvlgamma", "bitwise_left_shift",
    "index_reduce", "i0", "igamma", "igammac",
    "bitwise_right_shift")


def _in_place_form(fn: Callable) -> Callable:
    def method(self, *args, **kwargs):
        return _F.inplace(self, fn, *args, **kwargs)
    method.__name__ = f"{fn.__name__}_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


for _name in _IN_PLACE_FORMS:
    _fn = getattr(_F, _name, None) or getattr(Tensor, _name, None)
    if f"{_name}_" not in Tensor.__dict__ and _fn is not None:
        setattr(Tensor, f"{_name}_", _in_place_form(_fn))



def _float_power_(self, exponent):
    """In-place ``float_power``: the result is float64, so the tensor must be float64."""
    if self._data.dtype != np.float64:
        from symgrad.ops._util import type_name

        raise RuntimeError(f"the base given to float_power_ has dtype {type_name(self)} but "
                           "the operation's result requires dtype Double")
    return _F.inplace(self, _F.float_power, exponent)


Tensor.float_power_ = _float_power_


def _shift_operator(fn: Callable, reflected: bool = False) -> Callable:
    def method(self: Tensor, other: Any) -> Any:
        return self._bitwise(fn, other, reflected)
    return method


# ``<<`` and ``>>`` (reflected, in place) as ``& | ^``: PyTorch's bitwise shifts
for _name, _fn, _reflected in (
        ("__lshift__", _F.bitwise_left_shift, False), ("__rlshift__", _F.bitwise_left_shift, True),
        ("__rshift__", _F.bitwise_right_shift, False),
        ("__rrshift__", _F.bitwise_right_shift, True),
        ("__ilshift__", Tensor.bitwise_left_shift_, False),
        ("__irshift__", Tensor.bitwise_right_shift_, False)):
    setattr(Tensor, _name, _shift_operator(_fn, _reflected))

from symgrad.ops._apply import apply as _apply  # noqa: E402

# PyTorch's node names for the in-place forms of the view ops (y.t_() records TBackward1)
_IN_PLACE_NAMES = {"SqueezeBackward0": "SqueezeBackward3", "SqueezeBackward1": "SqueezeBackward4",
                   "SqueezeBackward2": "SqueezeBackward5",
                   "UnsqueezeBackward0": "UnsqueezeBackward1", "TBackward0": "TBackward1",
                   "TransposeBackward0": "TransposeBackward1"}
_IN_PLACE_OPS: dict[type, Any] = {}


def _in_place_variant(node_class: type) -> Any:
    """The op of a view node under its in-place name (made once, on first use)."""
    op = _IN_PLACE_OPS.get(node_class)
    if op is None:
        op = _IN_PLACE_OPS[node_class] = node_class.op.variant(_IN_PLACE_NAMES[node_class.__name__])
    return op
