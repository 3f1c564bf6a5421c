"""The op table: every operation as one record (forward, VJP rules, SymPy mirror, domain).

Grouped by kind, one module each: ``elementwise``, ``reduction``, ``shape``, ``linalg``,
``loss``; ``inplace`` writes results of those ops into existing tensors. ``OPS`` maps each
op's name to its record.
"""

from __future__ import annotations

from collections.abc import Callable

from symgrad.ops._record import OPS, Domain, Kink, Op
from symgrad.ops.elementwise import *  # noqa: F401,F403
from symgrad.ops.elementwise import __all__ as _elementwise_all
from symgrad.ops.inplace import copy_, fill_, index_put_, inplace, zero_  # noqa: F401
from symgrad.ops.inplace import index_put_tensors, index_put_tensors_  # noqa: F401
from symgrad.ops.linalg import *  # noqa: F401,F403
from symgrad.ops.linalg import __all__ as _linalg_all
from symgrad.ops.reduction import *  # noqa: F401,F403
from symgrad.ops.scatter import take_along_dim  # noqa: F401
from symgrad.ops.reduction import __all__ as _reduction_all
from symgrad.ops.shape import *  # noqa: F401,F403
from symgrad.ops.shape import __all__ as _shape_all
from symgrad.ops.scan import cumprod, cumsum  # noqa: F401
from symgrad.ops.einsum import einsum  # noqa: F401
from symgrad.ops import activations as _activations  # noqa: F401  (nn.functional's records)
from symgrad.ops import compose as _compose
from symgrad.ops.compose import *  # noqa: F401,F403
# later modules: records (special, cumulative, matrix), compositions (layout, products,
# calculus, order) and functions without gradients (discrete)
from symgrad.ops import (calculus as _calculus, conv as _conv, cumulative as _cumulative,
                         discrete as _discrete, layout as _layout, matrix as _matrix,
                         numbers as _numbers, order as _order, pieces as _pieces,
                         pooling as _pooling, products as _products, resample as _resample,
                         solve as _solve, special as _special,
                         factorizations as _factorizations,
                         statistics as _statistics, writes as _writes)
from symgrad.ops.calculus import *  # noqa: F401,F403
from symgrad.ops.conv import *  # noqa: F401,F403
from symgrad.ops.cumulative import *  # noqa: F401,F403
from symgrad.ops.discrete import *  # noqa: F401,F403
from symgrad.ops.layout import *  # noqa: F401,F403
from symgrad.ops.matrix import *  # noqa: F401,F403
from symgrad.ops.numbers import *  # noqa: F401,F403
from symgrad.ops.pieces import *  # noqa: F401,F403
from symgrad.ops.writes import *  # noqa: F401,F403
from symgrad.ops.statistics import *  # noqa: F401,F403
from symgrad.ops.solve import *  # noqa: F401,F403
from symgrad.ops.factorizations import *  # noqa: F401,F403
from symgrad.ops.order import *  # noqa: F401,F403
from symgrad.ops.pooling import *  # noqa: F401,F403
from symgrad.ops.resample import *  # noqa: F401,F403
from symgrad.ops.products import *  # noqa: F401,F403
from symgrad.ops.special import *  # noqa: F401,F403

from symgrad.ops import elementwise as _ew, linalg as _la, reduction as _red, shape as _sh

#: Functions that are also Tensor methods (called with the tensor as first argument).
TENSOR_METHODS: dict[str, Callable] = {}
for _mod, _names in ((_ew, _elementwise_all), (_red, _reduction_all), (_sh, _shape_all),
                     (_la, _linalg_all)):
    for _n in _names:
        TENSOR_METHODS[_n] = getattr(_mod, _n)
# torch.Tensor has no methods for nn.functional's activations (t.gelu() is an error there).
for _n in ("numpy_T", "index", "to_dtype", "leaky_relu", "elu", "gelu", "softplus", "silu",
           "logsigmoid", "hardtanh", "relu6"):
    TENSOR_METHODS.pop(_n, None)
TENSOR_METHODS["take_along_dim"] = take_along_dim
TENSOR_METHODS["index_put"] = index_put_tensors
TENSOR_METHODS["cumsum"] = cumsum
TENSOR_METHODS["cumprod"] = cumprod
for _n in _compose.__all__:
    if _n not in _compose.NOT_METHODS:
        TENSOR_METHODS[_n] = getattr(_compose, _n)

#: Functions of the ``symgrad`` namespace that are not Tensor methods.
FUNCTIONS_ONLY: dict[str, Callable] = {n: getattr(_compose, n) for n in _compose.NOT_METHODS}
FUNCTIONS_ONLY["einsum"] = einsum
# the later modules: their names are methods unless listed in the module's NOT_METHODS
for _mod in (_calculus, _conv, _cumulative, _discrete, _layout, _matrix, _order, _pooling,
             _products, _resample, _special, _numbers, _pieces, _writes, _statistics, _solve,
             _factorizations):
    for _n in _mod.__all__:
        (FUNCTIONS_ONLY if _n in _mod.NOT_METHODS else TENSOR_METHODS)[_n] = getattr(_mod, _n)
FUNCTIONS_ONLY["adaptive_max_pool1d"] = _pooling.torch_adaptive_max_pool1d

#: Tensor methods that have no function in the ``symgrad`` namespace (t.unfold(...)).
NOT_FUNCTIONS: frozenset = frozenset(_pieces.NOT_FUNCTIONS)

#: numpy ufuncs that run as symgrad ops when a Tensor is involved (``ndarray * tensor``).
NUMPY_UFUNCS: dict[str, Callable] = {
    "add": _ew.add, "subtract": _ew.sub, "multiply": _ew.mul, "true_divide": _ew.div,
    "divide": _ew.div, "power": _ew.pow, "negative": _ew.neg, "exp": _ew.exp, "log": _ew.log,
    "tanh": _ew.tanh, "matmul": _la.matmul, "equal": _ew.eq, "not_equal": _ew.ne,
    "less": _ew.lt, "less_equal": _ew.le, "greater": _ew.gt, "greater_equal": _ew.ge,
    "floor_divide": _ew.floor_divide, "remainder": _ew.remainder,
    "reciprocal": _ew.reciprocal, "sin": _ew.sin, "cos": _ew.cos, "tan": _ew.tan,
    "sqrt": _ew.sqrt, "absolute": _ew.abs, "sign": _ew.sign, "expm1": _ew.expm1,
    "log1p": _ew.log1p, "log2": _ew.log2, "log10": _ew.log10, "square": _ew.square,
    "sinh": _ew.sinh, "cosh": _ew.cosh, "arcsin": _ew.asin, "arccos": _ew.acos,
    "arctan": _ew.atan, "arctan2": _ew.atan2, "maximum": _ew.maximum, "minimum": _ew.minimum,
    "floor": _ew.floor, "ceil": _ew.ceil, "trunc": _ew.trunc, "arcsinh": _ew.asinh,
    "arccosh": _ew.acosh, "arctanh": _ew.atanh, "fmod": _ew.fmod,
}

__all__ = ["OPS", "Op", "Domain", "Kink", "TENSOR_METHODS", "NUMPY_UFUNCS", "FUNCTIONS_ONLY"]
