"""The tensors ops save for backward: hooks on them, and their version counters.

``saved_tensors_hooks(pack, unpack)``: while it is on (in this thread, the innermost pair
only, as PyTorch), every op that records a node calls ``pack`` on each tensor its rules
will read (the inputs a rule needs, its output if a rule reads that), and its backward
calls ``unpack`` on what ``pack`` returned and computes with the result. A custom
Function's ``ctx.save_for_backward`` tensors go through the same pair, and one saved
tensor can get a pair of its own (``grad_fn._raw_saved_self.register_hooks``).

The engine still keeps the forward values it saved in ``node._args`` / ``node._ans``: the
verifier and the symbolic mirror replay the graph from them, whatever the hooks did. So
here the hooks decide what backward computes with, not what memory is held (hence
``save_on_cpu`` is a plain no-op pair). When no hook is on, an op that records pays one
list-entry test (``_switches``).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from symgrad.autograd._switches import switch
from symgrad.autograd.grad_mode import _state as _grad_state

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "increment_version", "allow_mutation_on_saved_tensors", "SavedTensor", "Packed",
           "RAW", "pack_all", "pack_node", "edge_alias", "history_alias", "check_unchanged"]


class _Hooks(threading.local):
    pair: tuple[Callable, Callable] | None = None   # the innermost (pack, unpack), if any
    disabled: str | None = None                      # disable_saved_tensors_hooks' message


_hooks = _Hooks()


class saved_tensors_hooks:
    """Call ``pack_hook(tensor)`` on each tensor an op saves for backward while this is
    on, and ``unpack_hook(packed)`` when backward needs it; backward uses what unpack
    returns (a Tensor). Nested pairs do not compose: the innermost one applies."""

    def __init__(self, pack_hook: Callable[[Any], Any],
                 unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _hooks.disabled is not None:
            raise RuntimeError(_hooks.disabled)
        self._prev = _hooks.pair
        _hooks.pair = (self.pack_hook, self.unpack_hook)
        switch(1)   # (ops read the cheap switch before the thread-local)
        return self

    def __exit__(self, *exc: Any) -> None:
        _hooks.pair = self._prev
        switch(-1)


class save_on_cpu(saved_tensors_hooks):
    """PyTorch's offload of saved tensors to CPU memory. symgrad lives in CPU memory, so
    it packs a tensor as itself (``pin_memory`` and ``device_type`` change nothing)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_same, _same)


def _same(t: Any) -> Any:
    return t


class disable_saved_tensors_hooks(contextlib.ContextDecorator):
    """Make ``saved_tensors_hooks`` raise ``RuntimeError(error_message)`` inside this block
    (for code that cannot have its saved tensors packed); entering it while hooks are on
    raises too."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if _hooks.pair is not None:
            raise RuntimeError(self.error_message)
        self._prev = _hooks.disabled
        _hooks.disabled = self.error_message

    def __exit__(self, *exc: Any) -> None:
        _hooks.disabled = self._prev


# --------------------------------------------------------------------------- packing
#: A ``Packed`` entry that no hook packed: backward reads the value the node saved.
RAW = object()


class Packed:
    """What the saved-tensor hooks made of one node's saved tensors: per entry of its
    ``_saved`` (an op node's ``(counter, version, index)`` entries, or a Function's saved
    values), the packed value (``RAW`` if none) and the unpack hook to give it to."""

    __slots__ = ("values", "unpacks")

    def __init__(self, values: list, unpacks: list) -> None:
        self.values, self.unpacks = values, unpacks

    def unpacked(self, k: int) -> Any:
        """Entry ``k`` through its unpack hook, which must give a Tensor."""
        from symgrad.tensor import Tensor

        u = self.unpacks[k](self.values[k])
        if not isinstance(u, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(u).__name__}")
        return u


def pack_all(tensors: Iterable[Any]) -> Packed:
    """Run the pack hook in force on each tensor (None stays None), with recording off as
    PyTorch does: the hook's own ops then save nothing and cannot recurse."""
    pack, unpack = _hooks.pair  # type: ignore[misc]
    values = _packed_quietly(pack, tensors)
    return Packed(values, [unpack] * len(values))


def _packed_quietly(pack: Callable, tensors: Iterable[Any]) -> list:
    prev = _grad_state.enabled
    _grad_state.enabled = False
    try:
        return [None if t is None else pack(t) for t in tensors]
    finally:
        _grad_state.enabled = prev


def pack_node(node: Any, args: tuple, out: Any) -> None:
    """Pack what an op node saved (its ``_saved`` entries: argument ``i``, or the output
    for -1); its backward then unpacks them (see ``OpNode._apply_unpacked``)."""
    node._freed = pack_all([out if i < 0 else args[i] for _, _, i in node._saved])


class SavedTensor:
    """One tensor an op node saved (PyTorch's ``grad_fn._raw_saved_self``), on which
    ``register_hooks(pack_hook, unpack_hook)`` sets hooks for this tensor alone: it is
    packed now and unpacked whenever backward needs it."""

    def __init__(self, node: Any, k: int, read: Callable[[], Any]) -> None:
        self._node, self._k, self._read = node, k, read

    def unpack(self) -> Any:
        return self._read()

    def register_hooks(self, pack_hook: Callable, unpack_hook: Callable) -> None:
        from symgrad.autograd.graph import FREED_MESSAGE

        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("register_hooks(): pack_hook and unpack_hook must be callables")
        node, k = self._node, self._k
        packed = node._freed
        if packed is True:
            raise RuntimeError("Calling register_hooks on a saved tensor after it has been "
                               "freed. " + FREED_MESSAGE)
        if packed is False:
            n = len(node._saved)
            packed = Packed([RAW] * n, [None] * n)
        elif packed.values[k] is not RAW:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set. Hint: only one pair of hooks is allowed at "
                               "a time.")
        (packed.values[k],) = _packed_quietly(pack_hook, [self._read()])
        packed.unpacks[k] = unpack_hook
        node._freed = packed


def edge_alias(parent: Any, nr: int, data: np.ndarray) -> Any:
    """A tensor around ``data`` standing where a tensor reaching the graph through edge
    ``(parent, nr)`` stood, as PyTorch gives an unpacked value the saved tensor's history:
    ``create_graph`` then differentiates through it into the same place (for a leaf, into
    the leaf's ``.grad``)."""
    from symgrad.autograd.graph import AccumulateGrad
    from symgrad.tensor import Tensor

    if parent is None:
        return Tensor._wrap(data)
    if type(parent) is AccumulateGrad:
        if parent.variable._data is data:
            return parent.variable
        t = Tensor._wrap(data, None, True)
        t._acc = weakref.ref(parent)   # its gradient goes to the leaf's accumulator
        return t
    t = Tensor._wrap(data, parent, True)
    if nr:
        t._set_history(parent, nr)
    return t


def history_alias(t: Any, data: np.ndarray) -> Any:
    """``edge_alias`` for the place of tensor ``t`` in the graph."""
    if t.grad_fn is not None:
        return edge_alias(t.grad_fn, t.output_nr, data)
    return edge_alias(t._grad_accumulator() if t._requires_grad else None, 0, data)


def check_unchanged(u: Any, vc: list, version: int, fail: Callable[[], None]) -> None:
    """An unpacked tensor that is the saved tensor itself (same version counter) changed
    in place since it was saved would silently give a wrong gradient: ``fail()`` then.
    (PyTorch skips the check under hooks; a copy made by the pack hook is fine.)"""
    if u._vc is vc and vc[0] != version:
        fail()


# --------------------------------------------------------------------------- versions
def increment_version(tensor: Any) -> None:
    """Count an in-place change made behind autograd's back (e.g. through ``.numpy()``), so
    backward refuses the stale saved values. Takes a tensor or an iterable of tensors."""
    from symgrad.tensor import Tensor

    tensors = [tensor] if isinstance(tensor, Tensor) else tensor
    try:
        tensors = list(tensors)
    except TypeError:
        raise RuntimeError("increment_version expect a Iterable[Tensor] as input") from None
    for t in tensors:
        if not isinstance(t, Tensor):
            raise RuntimeError("increment_version expect a Iterable[Tensor] as input")
        if type(t._vc) is list:   # (an inference tensor has no version counter to move)
            t._vc[0] += 1


class allow_mutation_on_saved_tensors:
    """Let tensors saved for backward be changed in place inside this block: backward
    uses their values as they were saved. symgrad copies each saved tensor when it is
    saved (PyTorch copies lazily, on the first change); backward must run inside the
    block, as in PyTorch."""

    def __enter__(self) -> allow_mutation_on_saved_tensors:
        self._open = True
        self._hooks = saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._hooks.__exit__(*exc)
        self._open = False

    def _pack(self, t: Any) -> Any:
        from symgrad.tensor import Tensor

        return Tensor._wrap(t._data.copy())

    def _unpack(self, t: Any) -> Any:
        if not self._open:
            raise AssertionError("Trying to backward outside of the "
                                 "'allow_mutation_on_saved_tensors' context in which the "
                                 "graph was originally recorded.")
        return t
