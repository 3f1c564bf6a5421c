"""``Module``: a tree of layers holding parameters, buffers and submodules.

Assigning a ``Parameter``, a ``Module`` or (to a registered name) a buffer to an attribute
registers it, so ``parameters()``, ``state_dict()``, ``zero_grad()``, ``train()`` and
``to()`` reach every layer of a model without being told where they are, as in PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from symgrad import _dtype
from symgrad._device import check_device, device as _device_type
from symgrad.autograd.graph import HookHandle
from symgrad.autograd.grad_mode import no_grad
from symgrad.nn.parameter import Buffer, Parameter
from symgrad.tensor import Tensor

__all__ = ["Module", "add_indent"]

class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns; it prints as PyTorch's when nothing is off."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def add_indent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (a child's repr inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of every layer and model: subclass it, assign parameters and submodules
    in ``__init__`` and compute in ``forward``; call the module, not ``forward``."""

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected argument: "
                            f"{args[0] if args else next(iter(kwargs))!r}")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_pre_hooks", [])
        setattr_(self, "_forward_hooks", [])
        setattr_(self, "_backward_hooks", [])
        setattr_(self, "_backward_pre_hooks", [])

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        if self._backward_hooks or self._backward_pre_hooks:
            from symgrad.nn.modules._backward_hooks import call_with_backward_hooks

            return call_with_backward_hooks(self, self._call_forward_hooked, args, kwargs)
        return self._call_forward_hooked(*args, **kwargs)

    def _call_forward_hooked(self, *args: Any, **kwargs: Any) -> Any:
        for hook in list(self._forward_pre_hooks):
            args, kwargs = hook(self, args, kwargs)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            res = hook(self, args, kwargs, out)
            if res is not None:
                out = res
        return out

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> HookHandle:
        """``hook(module, args)`` runs before ``forward``; a returned value replaces the
        positional arguments (a tuple, or one value). With ``with_kwargs``:
        ``hook(module, args, kwargs)``, returning None or ``(args, kwargs)``."""
        def pre(module: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
            if not with_kwargs:
                res = hook(module, args)
                return (args if res is None else res if isinstance(res, tuple) else (res,),
                        kwargs)
            res = hook(module, args, kwargs)
            if res is None:
                return args, kwargs
            if not (isinstance(res, tuple) and len(res) == 2):
                raise RuntimeError("forward pre-hook must return None or a tuple of "
                                   f"(new_args, new_kwargs), but got {res}.")
            return res

        return _add_hook(self._forward_pre_hooks, pre, prepend)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> HookHandle:
        """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) runs after ``forward``; a returned value replaces the output."""
        def post(module: Module, args: tuple, kwargs: dict, out: Any) -> Any:
            return hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)

        return _add_hook(self._forward_hooks, post, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> HookHandle:
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's tensor inputs are computed (None for an input that needs none); a
        returned tuple replaces ``grad_input``."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> HookHandle:
        """``hook(module, grad_output)`` runs when the gradients with respect to the
        module's outputs are computed; a returned tuple replaces ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _forget(self, name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _forget(self, name)
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            _forget(self, name)
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: the registered names live in three dicts
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            table = d.get(kind)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for kind in ("_parameters", "_buffers", "_modules"):
            table = self.__dict__.get(kind)
            if table is not None and name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _check_name(self, name: Any, what: str, table: dict) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{what} name can't contain \".\"")
        if name == "":
            raise KeyError(f"{what} name can't be empty string \"\"")
        if hasattr(self, name) and name not in table:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name(name, "parameter", self.__dict__.get("_parameters", {}))
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(f"cannot assign '{_typename(param)}' object to parameter "
                                f"'{name}' (torch.nn.Parameter or None required)")
            if param.grad_fn is not None:
                raise ValueError(
                    f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                    f"must be created explicitly. To express '{name}' as a function of another "
                    "Tensor, compute the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as state that is not trained (running statistics, masks);
        persistent buffers are part of ``state_dict()``."""
        self._check_name(name, "buffer", self.__dict__.get("_buffers", {}))
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        if isinstance(tensor, Buffer):
            tensor = tensor.detach()
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (a name that is not an identifier,
        such as Sequential's "0", must be registered this way)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_name(name, "module", self.__dict__.get("_modules", {}))
        self._modules[name] = module

    register_module = add_module

    def _get_path(self, target: str, kind: str) -> Any:
        *path, leaf = target.split(".") if target else [""]
        mod = self.get_submodule(".".join(path))
        table = getattr(mod, kind)
        if leaf not in table:
            what = kind.strip("_")[:-1]
            raise AttributeError(f"`{leaf}` is not a {what}" if hasattr(mod, leaf)
                                 else f"{type(mod).__name__} has no attribute `{leaf}`")
        return table[leaf]

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path ("0.linear"); "" is the module itself."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        return self._get_path(target, "_parameters")

    def get_buffer(self, target: str) -> Tensor:
        return self._get_path(target, "_buffers")

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, each once, depth first, with its path."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if mod in memo:
                    continue
                memo.add(mod)
            yield name, mod
            children = [(name + ("." if name else "") + k, m)
                        for k, m in mod._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and m not in seen:
                seen.add(m)
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, kind: str, prefix: str, recurse: bool, remove_duplicate: bool
                       ) -> Iterator[tuple[str, Tensor]]:
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        seen: set[int] = set()
        for mod_prefix, mod in mods:
            for k, v in getattr(mod, kind).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + k, v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` of every parameter, a shared one once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm updates statistics) on every module."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for m in self.children():   # (through train(): a subclass may override it)
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to None by default, as PyTorch 2 does)."""
        for p in self.parameters():
            zero_grad_of(p, set_to_none)

    # ------------------------------------------------------------------ state
    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name (detached unless
        ``keep_vars``); shared tensors appear under each name, as in PyTorch."""
        out = OrderedDict() if destination is None else destination
        for mod_prefix, mod in self.named_modules(prefix=prefix, remove_duplicate=False):
            dot = mod_prefix + ("." if mod_prefix else "")
            for k, p in mod._parameters.items():
                if p is not None:
                    out[dot + k] = p if keep_vars else p.detach()
            for k, b in mod._buffers.items():
                if b is not None and k not in mod._non_persistent_buffers_set:
                    out[dot + k] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers of the same
        names; with ``strict``, missing or unexpected keys are an error."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        # (a BatchNorm's step count is filled in when a state dict lacks it, as PyTorch
        # does for checkpoints written before it existed)
        missing = [k for k in own if k not in state_dict
                   and k.rpartition(".")[2] != "num_batches_tracked"]
        unexpected = [k for k in state_dict if k not in own]
        errors = [f"size mismatch for {k}: copying a param with shape "
                  f"{_size(state_dict[k])} from checkpoint, the shape in current model is "
                  f"{_size(own[k])}." for k in own
                  if k in state_dict and tuple(_as_tensor(state_dict[k]).shape)
                  != tuple(own[k].shape)]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for name, target in own.items():
                if name not in state_dict:
                    continue
                value = _as_tensor(state_dict[name])
                if assign:
                    _assign(self, name, value, target)
                else:
                    target.copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ dtype and device
    def _apply_to_tensors(self, fn: Callable[[Tensor], Tensor]) -> Module:
        """Replace the data (and gradient) of every parameter and buffer by ``fn`` of it,
        keeping the Parameter objects (an optimizer made before still holds them)."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p._data = fn(p)._data
                if p._grad is not None:
                    p._grad = fn(p._grad)
            for k, b in m._buffers.items():
                if b is not None:
                    m._buffers[k] = fn(b)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers to a dtype (``to(torch.float64)``,
        ``to("cpu", dtype)``, ``to(tensor)``); the only device is the CPU."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None))
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, (str, _device_type)) or type(a) is int:
                check_device(a)
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, bool) or a is None:
                continue
            else:
                raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        return self._float_to(dtype)

    def _float_to(self, dtype: _dtype.dtype) -> Module:
        return self._apply_to_tensors(
            lambda t: t.detach().to(dtype) if t.is_floating_point() else t)

    def double(self) -> Module:
        return self._float_to(_dtype.float64)

    def float(self) -> Module:
        return self._float_to(_dtype.float32)

    def half(self) -> Module:
        return self._float_to(_dtype.float16)

    def type(self, dst_type: Any) -> Module:
        return self._apply_to_tensors(lambda t: t.detach().to(dst_type))

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        raise RuntimeError("symgrad runs on the CPU only (numpy); there is no CUDA device")

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (``in_features=3, ...``)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            lines.append(f"({name}): " + add_indent(repr(m), 2))
        if not lines:
            return self._get_name() + "()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


def zero_grad_of(p: Tensor, set_to_none: bool) -> None:
    """Clear ``p.grad``: to None, or to zeros in place (the gradient leaves the graph)."""
    if p._grad is None:
        return
    if set_to_none:
        p._grad = None
        return
    g = p._grad
    if g.grad_fn is not None:
        g = p._grad = g.detach()
    else:
        g.requires_grad_(False)
    g.zero_()


def _add_hook(hooks: list, hook: Callable, prepend: bool) -> HookHandle:
    if prepend:
        hooks.insert(0, hook)
    else:
        hooks.append(hook)
    return HookHandle(hooks, hook)


def _forget(module: Module, name: str) -> None:
    """Drop ``name`` from every registry before it is registered as something else."""
    d = module.__dict__
    d.pop(name, None)
    for kind in ("_parameters", "_buffers", "_modules"):
        d[kind].pop(name, None)
    d["_non_persistent_buffers_set"].discard(name)


def _typename(obj: Any) -> str:
    return type(obj).__name__


def _as_tensor(v: Any) -> Tensor:
    if isinstance(v, Tensor):
        return v
    return Tensor._wrap(np.asarray(v))


def _size(t: Any) -> str:
    return f"torch.Size({list(_as_tensor(t).shape)})"


def _assign(root: Module, name: str, value: Tensor, target: Tensor) -> None:
    """``load_state_dict(assign=True)``: the loaded tensor itself becomes the entry."""
    *path, leaf = name.split(".")
    mod = root.get_submodule(".".join(path))
    if isinstance(target, Parameter):
        mod._parameters[leaf] = Parameter(value, target.requires_grad)
    else:
        mod._buffers[leaf] = value
