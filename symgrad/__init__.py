"""symgrad: reverse-mode autodiff with PyTorch's API, cross-checked against SymPy.

Every differentiable op is written three times (a numpy forward, a hand-written VJP rule
and a textbook SymPy mirror); ``symgrad.verify`` proves that they agree.

>>> import symgrad as sg
>>> w = sg.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> w.grad
tensor([2., 4.])
"""

from __future__ import annotations

import importlib
from typing import Any

from symgrad._dtype import (bool_ as bool, dtype, float16, float32, float64, get_default_dtype,  # noqa: A004
                            int8, int16, int32, int64, set_default_dtype, uint8, uint16,
                            uint32, uint64)
from symgrad._device import device
from symgrad._layout import *  # noqa: F401,F403
from symgrad._printing import get_printoptions, set_printoptions
from symgrad.autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from symgrad.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from symgrad.tensor import Size, Tensor
from symgrad import ops
from symgrad.ops import *  # noqa: F401,F403
from symgrad.ops import TENSOR_METHODS as _METHODS
from symgrad.factories import *  # noqa: F401,F403
from symgrad.grids import *  # noqa: F401,F403
from symgrad.sampling import *  # noqa: F401,F403
from symgrad._typeinfo import *  # noqa: F401,F403
from symgrad.ops.reduction import return_types  # noqa: F401
from symgrad import autograd, linalg, nn, special  # noqa: F401
from symgrad.serialization import load, save  # noqa: F401
from symgrad import _tensor_extras  # noqa: F401  (Tensor.stride, .random_, ...)
from symgrad.runtime import *  # noqa: F401,F403
from symgrad.functional_forms import *  # noqa: F401,F403
from symgrad._out import OUT_FUNCTIONS as _OUT_FUNCTIONS, with_out as _with_out
from symgrad._storage_options import (STORAGE_FACTORIES as _STORAGE_FACTORIES,
                                      with_storage_options as _with_storage_options)
from symgrad.ops._util import not_tensor as _not_tensor

__version__ = "0.1.0"

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

_LAZY_MODULES = ("symbolic", "verify", "testing", "viz", "cli", "func", "optim", "utils",
                 "cuda", "backends", "accelerator", "distributions", "jit")


def __getattr__(name: str) -> Any:
    # The symbolic side and the verifier import SymPy; func, optim and utils are not needed
    # by `symgrad verify`: load them only when used.
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"symgrad.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'symgrad' has no attribute {name!r}")


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same values, cut from the graph (PyTorch's ``torch.detach``)."""
    return input.detach()


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-entry tensor (RuntimeError for more or fewer entries)."""
    return input.is_nonzero()


def is_signed(input: Tensor) -> bool:
    return input.is_signed()


def get_device(input: Tensor) -> int:
    """-1: every tensor is on the CPU."""
    return input.get_device()


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product (PyTorch's deprecated name for ``outer``)."""
    return outer(input, vec2)  # noqa: F405


def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The sum of the singular values (by value: an input that requires grad is refused)."""
    return linalg._nuclear_norm(input, dim, keepdim)


def fill(input: Tensor, value) -> Tensor:
    """A new tensor shaped like ``input`` holding ``value`` (a number or a 0-d tensor, which
    gets the gradient)."""
    from symgrad.ops.inplace import fill as _fill

    return _fill(input, value)


def is_inference(input: Tensor) -> bool:
    """True for a tensor made inside ``inference_mode()`` (PyTorch's ``torch.is_inference``)."""
    return input.is_inference()


globals().update({k: v for k, v in _METHODS.items()
                  if k not in globals() and k not in ops.NOT_FUNCTIONS})
# Tensor methods of the functions outside the op table (t.bernoulli(), t.is_complex())
for _name in ("bernoulli", "multinomial", "is_complex", "hardshrink", "prelu", "ger"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
globals().update({k: v for k, v in ops.FUNCTIONS_ONLY.items() if k not in globals()})


def _inplace_function(name: str):
    """``symgrad.sin_(t)``: the method ``t.sin_()``, with PyTorch's TypeError for a number."""
    method = getattr(Tensor, name)

    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise _not_tensor(name, input)
        return method(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = method.__doc__
    return fn


# PyTorch's module-level in-place functions: symgrad.sin_(t) is t.sin_()
globals().update({k: _inplace_function(k) for k in (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "detach_", "erf_", "exp_", "expm1_", "fill_",
    "floor_", "frac_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinh_",
    "sqrt_", "square_", "tan_", "tanh_", "trunc_", "zero_", "addmv_", "deg2rad_", "exp2_",
    "rad2deg_", "sinc_", "xlogy_", "erfc_", "fix_", "gcd_", "lcm_", "ldexp_",
    "index_put_", "i0_", "resize_as_")
    if k not in globals() and hasattr(Tensor, k)})
for _name in _OUT_FUNCTIONS:   # torch.matmul(a, b, out=y) ... (Tensor methods stay as they are)
    if _name in globals():
        globals()[_name] = _with_out(globals()[_name])
for _name in _STORAGE_FACTORIES:   # torch.zeros(3, layout=torch.strided, pin_memory=False) ...
    if _name in globals():
        globals()[_name] = _with_storage_options(globals()[_name])


def _bind_gradcheck() -> None:
    """``symgrad.autograd.gradcheck`` names the function, as ``torch.autograd.gradcheck``
    does, while ``from symgrad.autograd.gradcheck import GradcheckError`` reads the module:
    the module is loaded now (it needs Tensor, so not by autograd itself) and the package
    name rebound to the function; a later import finds the module loaded and rebinds
    nothing."""
    import importlib

    module = importlib.import_module("symgrad.autograd.gradcheck")
    autograd.gradcheck = module.gradcheck
    autograd.gradgradcheck = module.gradgradcheck


_bind_gradcheck()
