"""``nn.utils.parametrize``: a module's tensor computed from other tensors on every access.

``register_parametrization(module, "weight", P)`` stores the weight's value as
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when
``P.right_inverse`` splits it) and turns ``module.weight`` into ``P(original)``, as PyTorch
does: the module's class becomes a subclass ``Parametrized<Class>`` with a property per
parametrized name, assigning to it goes through the right inverses, and the optimiser
sees the originals. The graph of ``P`` is recorded like any other code, so the verifier
replays it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from symgrad.autograd.grad_mode import no_grad
from symgrad.nn.modules.container import ModuleDict, ModuleList
from symgrad.nn.modules.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.tensor import Tensor

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized",
           "cached", "type_before_parametrizations", "ParametrizationList"]

_cache: dict | None = None   # (module id, name) -> value, while ``cached()`` is active


@contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor once inside the block (not on every access)."""
    global _cache
    outer = _cache
    if outer is None:
        _cache = {}
    try:
        yield
    finally:
        if outer is None:
            _cache = None


def _set_value(dest: Tensor, value: Tensor) -> None:
    """``dest`` takes ``value``'s values and shape, keeping its identity (optimisers hold it)."""
    with no_grad():
        dest._data = value.detach()._data.copy()
        dest._vc[0] += 1


def _register(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _as_original(like: Tensor, value: Tensor) -> Tensor:
    """``value`` as a stored original: a Parameter if ``like`` is one."""
    if isinstance(like, Parameter):
        return Parameter(value.detach(), requires_grad=like.requires_grad)
    return value.detach()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original(s) they start
    from (``original``, or ``original0``, ... when a right inverse returns several)."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        new: Any = original
        with no_grad():
            for m in reversed(self):
                new = _right_inverse(m, new)
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if not unsafe:
                _same_meta(new, original, "right_inverse", "the original")
            if new is not original:
                _set_value(original, new)
            _register(self, "original", original)
        else:
            if not isinstance(new, Sequence) or not all(isinstance(t, Tensor) for t in new):
                raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                                 f"(list, tuple...). Got {type(new).__name__}")
            self.is_tensor, self.ntensors = False, len(new)
            for i, t in enumerate(new):
                _register(self, f"original{i}", _as_original(original, t))
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            _same_meta(z, original, "forward", "the original")

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for m in reversed(self):
                value = _right_inverse(m, value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                _set_value(self.original, value)
            else:
                if not isinstance(value, Sequence) or len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of tensors of "
                                     f"length {self.ntensors}. Got {type(value).__name__}")
                for i, t in enumerate(value):
                    _set_value(getattr(self, f"original{i}"), t)


def _right_inverse(m: Module, value: Any) -> Any:
    inv = getattr(m, "right_inverse", None)
    if inv is None:
        return value
    try:
        return inv(value)
    except NotImplementedError:
        return value


def _same_meta(got: Tensor, like: Tensor, what: str, name: str) -> None:
    if got.dtype != like.dtype:
        raise ValueError(f"When `right_inverse` and `forward` are used, the {what} result may "
                         f"not change the dtype of {name} unless the `unsafe` flag is enabled."
                         f"\n{name} dtype: {like.dtype}\nreturned dtype: {got.dtype}")
    if tuple(got.shape) != tuple(like.shape):
        raise ValueError(f"When `right_inverse` and `forward` are used, the {what} result may "
                         f"not change the shape of {name} unless the `unsafe` flag is enabled."
                         f"\n{name} shape: {like.shape}\nreturned shape: {got.shape}")


def _inject_class(module: Module) -> None:
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"_original_class": cls})


def _inject_property(module: Module, name: str) -> None:
    def get(self: Module) -> Tensor:
        plist = self.parametrizations[name]
        if _cache is None:
            return plist()
        key = (id(plist), name)
        if key not in _cache:
            _cache[key] = plist()
        return _cache[key]

    def put(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(module.__class__, name, property(get, put))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return bool(len(plists)) if tensor_name is None else tensor_name in plists


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` (see the module
    docstring); a second registration on the same name applies after the first."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(x).__name__}.")
            _same_meta(x, y, "forward", f"module.{tensor_name}")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization``: ``module.<tensor_name>`` becomes a plain
    parameter again, holding the parametrized value (or the original, with
    ``leave_parametrized=False``)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            _set_value(original, value)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            value = getattr(module, tensor_name)
        first = plist.original0
        original = _as_original(first, value)
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__._original_class
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization."""
    return module.__class__._original_class if is_parametrized(module) else type(module)
