"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and ``state_dict``.

Subclasses implement ``step`` as PyTorch's single-tensor (non-foreach) code path does, on
the numpy arrays of the parameters: each update writes into the parameter's storage and
bumps its version counter, as an in-place op under ``no_grad`` does (a graph that saved
the old value refuses to backpropagate through it).
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from typing import Any
from collections.abc import Callable, Iterable

import numpy as np

from symgrad.autograd.grad_mode import enable_grad, no_grad
from symgrad.tensor import Tensor, check_in_place

__all__ = ["Optimizer", "required", "write_", "grad_of", "scalar_step", "bump_step", "lerp",
           "zeros_like"]


class _Required:
    """The default of a hyperparameter every group must give (``SGD``'s old ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def write_(t: Tensor, value: np.ndarray) -> None:
    """Store ``value`` into ``t``'s storage in place and bump its version counter."""
    check_in_place(t)
    np.copyto(t._data, value, casting="same_kind")
    t._vc[0] += 1


def grad_of(p: Tensor, group: dict[str, Any]) -> np.ndarray:
    """The gradient to descend along: ``p.grad`` (negated to ``maximize``) plus
    ``weight_decay * p``; with ``decoupled_weight_decay`` (AdamW) ``p`` is shrunk by
    ``1 - lr * weight_decay`` instead."""
    g = p._grad._data
    if group["maximize"]:
        g = -g
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay"):
            write_(p, p._data * (1 - group["lr"] * wd))
        else:
            g = g + wd * p._data
    return g


def _typename(obj: Any) -> str:
    return "torch.Tensor" if isinstance(obj, Tensor) else type(obj).__name__


class Optimizer:
    """Base class: ``params`` is an iterable of tensors or of dicts (parameter groups, each
    with its own hyperparameters; ``defaults`` fills the ones a group leaves out)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if defaults.get("differentiable"):
            raise NotImplementedError(
                "differentiable=True (a step recorded in the graph, to differentiate through "
                "the update) is not supported: symgrad's optimizers update under no_grad")
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a layer trained at
        another learning rate)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{_typename(p)}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the ``.grad`` of every parameter (to None by default)."""
        from symgrad.nn.modules.module import zero_grad_of

        for group in self.param_groups:
            for p in group["params"]:
                zero_grad_of(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters from their gradients; ``closure``, if given, recomputes
        the loss and the gradients first (with grad on) and its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict[str, Any]) -> None:
        """One step for the parameters of ``group`` (what a subclass implements)."""
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any]) -> list[Tensor]:
        return [p for p in group["params"] if p._grad is not None]

    def _state_of(self, p: Tensor, *zeros: str, **scalars: float) -> dict[str, Any]:
        """``p``'s state, made at its first step: a step counter, 0-d tensors holding
        ``scalars``, and a zero tensor for each name in ``zeros`` (moving averages), in
        PyTorch's order (which a printed state_dict shows)."""
        state = self.state[p]
        if not state:
            state["step"] = scalar_step()
            for name, value in scalars.items():
                state[name] = scalar_step()
                state[name]._data[...] = value
            for name in zeros:
                state[name] = zeros_like(p)
        return state

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The state and the hyperparameters, parameters named by their position (0, 1,
        ... over all groups), so it loads into an optimizer over another model's copy."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load ``state_dict()`` output (copied): hyperparameters and per-parameter state."""
        state_dict = copy.deepcopy(state_dict)
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        by_index = {i: p for g, s in zip(self.param_groups, saved)
                    for i, p in zip(s["params"], g["params"])}
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            p = by_index[i]
            self.state[p] = {k: _cast_like(v, p, k) for k, v in s.items()}
        self.param_groups = [dict(s, params=g["params"])
                             for g, s in zip(self.param_groups, saved)]

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _cast_like(value: Any, p: Tensor, key: str) -> Any:
    """A loaded state tensor in its parameter's dtype (the step count keeps its own)."""
    if isinstance(value, Tensor) and key != "step" and value._data.dtype.kind == "f":
        return Tensor._wrap(value._data.astype(p._data.dtype, copy=False))
    return value


def scalar_step() -> Tensor:
    """The step counter PyTorch keeps as a 0-d tensor (float64 under a float64 default)."""
    from symgrad._dtype import get_default_dtype

    dt = np.float64 if get_default_dtype().np == np.float64 else np.float32
    return Tensor._wrap(np.zeros((), dtype=dt))


def zeros_like(p: Tensor) -> Tensor:
    """A zero state tensor shaped like ``p`` (a moving average before the first step)."""
    return Tensor._wrap(np.zeros_like(p._data))


def bump_step(state: dict[str, Any]) -> float:
    """Count one more step; returns the new count as a float."""
    step = state["step"]
    np.add(step._data, 1, out=step._data)
    return float(step._data)


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start + weight (end - start)``, computed from the nearer end as PyTorch's lerp."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)
