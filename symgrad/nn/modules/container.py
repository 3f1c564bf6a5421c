"""Containers: ``Sequential`` (a pipeline), ``ModuleList``, ``ModuleDict``, ``ParameterList``.

Their members are registered under their index or key, so ``parameters()`` and
``state_dict()`` name them "0.weight", "blocks.1.bias", ... as PyTorch does.
"""

from __future__ import annotations

import itertools
import operator
from collections import OrderedDict
from typing import Any
from collections.abc import Iterable, Iterator, Mapping

from symgrad.nn.modules.module import Module, add_indent
from symgrad.nn.parameter import Parameter
from symgrad.tensor import Tensor

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _index(idx: Any, n: int, what: str) -> int:
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range" if what == "Sequential"
                         else f"{what} index out of range")
    return i % n


class _Indexed(Module):
    """Members registered under "0", "1", ...: what Sequential and ModuleList share."""

    def _items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return self._from_items(self._items()[idx])
        return self._items()[_index(idx, len(self), type(self).__name__)][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = self._items()[_index(idx, len(self), type(self).__name__)][0]
        self.add_module(key, module)

    def __delitem__(self, idx: int | slice) -> None:
        items = self._items()
        if isinstance(idx, slice):
            drop = {k for k, _ in items[idx]}
        else:
            drop = {items[_index(idx, len(self), type(self).__name__)][0]}
        kept = [m for k, m in items if k not in drop]
        self._modules.clear()
        for i, m in enumerate(kept):   # renumbered, as PyTorch keeps the names 0..n-1
            self._modules[str(i)] = m

    def append(self, module: Module) -> _Indexed:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index % (n + 1) if index < 0 else index
        members = list(self._modules.values())
        members.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(members):
            self.add_module(str(i), m)

    def pop(self, key: int = -1) -> Module:
        m = self[key]
        del self[key]
        return m

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_Indexed):
    """Modules applied one after another: ``Sequential(Linear(3, 1), Flatten(0, 1))``, or
    from an OrderedDict of named modules."""

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def _from_items(self, items: list[tuple[str, Module]]) -> Sequential:
        return type(self)(OrderedDict(items))

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)


class ModuleList(_Indexed):
    """A list of modules whose parameters the owner sees (a Python list would hide them)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from_items(self, items: list[tuple[str, Module]]) -> ModuleList:
        return type(self)(m for _, m in items)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(itertools.chain(self, other))

    def __repr__(self) -> str:
        # runs of equal members print once: "(0-2): 3 x Linear(...)", as PyTorch prints
        if not len(self):
            return self._get_name() + "()"
        lines, i = [], 0
        for text, group in itertools.groupby(repr(m) for m in self):
            n = len(list(group))
            label = f"({i}): " if n == 1 else f"({i}-{i + n - 1}): {n} x "
            lines.append(add_indent(label + text, 2))
            i += n
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered under their keys (insertion order kept)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for j, pair in enumerate(pairs):
            if isinstance(pair, (list, tuple)) and len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters registered under "0", "1", ... (tensors become Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        for v in values or ():
            self.append(v)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def __getitem__(self, idx: int) -> Parameter:
        return list(self._parameters.values())[_index(idx, len(self), "ParameterList")]

    def __setitem__(self, idx: int, value: Any) -> None:
        self.register_parameter(str(_index(idx, len(self), "ParameterList")), _as_param(value))

    def append(self, value: Any) -> ParameterList:
        self.register_parameter(str(len(self)), _as_param(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        lines = []
        for k, p in self._parameters.items():
            size = "x".join(str(s) for s in p.shape)
            lines.append(f"  ({k}): Parameter containing: [{p.dtype!r} of size {size}]")
        return "\n".join(lines)


def _as_param(value: Any) -> Any:
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterDict(Module):
    """Parameters by name, in insertion order (tensors become Parameters), as a dict."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_param(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        return self._parameters.pop(key)

    def clear(self) -> None:
        self._parameters.clear()

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a mapping or from (name, value) pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in pairs:
            self[k] = v

    def extra_repr(self) -> str:
        from symgrad.ops._util import type_name

        lines = []
        for k, p in self._parameters.items():
            size = "x".join(str(s) for s in p.shape)
            lines.append(f"  ({k}): Parameter containing: [symgrad.{type_name(p)}Tensor of "
                         f"size {size}]")
        return "\n".join(lines)
