"""Random programs written twice: with symgrad on symbolic tensors, and directly in SymPy.

Each op below is one row: its symgrad form (run on ``symbolic.symbols`` tensors, so each
op's mirror builds the expression) and a reference written here with SymPy functions on
numpy object arrays (``Abs``, ``Max``, ``Piecewise``, ``exp``, sums by hand). A program
draws a few inputs (some with assumptions, some entries exact constants), chains random
ops, and ends in a scalar (a sum or a loss). ``compare`` then puts
``symbolic.gradient / jacobian / hessian`` beside ``sympy.diff`` /
``Matrix.jacobian`` / ``sympy.hessian`` of the reference, at random rational points where
no kink or tie sits, exactly (rationals) or to 35 digits; ``symbolic.evaluate`` of the
gradient must give the same float64 values as an independent evaluation here.

Used by tests/test_symbolic_parity.py (a few programs) and
scripts/fuzz_symbolic_parity.py (many).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import mpmath
import numpy as np
import sympy

import symgrad as sg
from symgrad import symbolic as S
from symgrad.nn import functional as F

R = sympy.Rational


def _ew(fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """A SymPy scalar function applied entry by entry to an object array."""
    def run(a: np.ndarray) -> np.ndarray:
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(*a.shape):
            out[idx] = fn(a[idx])
        return out
    return run


def _ew2(fn: Callable) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.broadcast_arrays(a, b)
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(*a.shape):
            out[idx] = fn(a[idx], b[idx])
        return out
    return run


def _along(fn: Callable, a: np.ndarray, dim: int, keep: bool = False) -> np.ndarray:
    """``fn`` of each 1-d slice along ``dim`` (a reduction)."""
    moved = np.moveaxis(a, dim, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = fn(list(moved[idx]))
    return np.expand_dims(out, dim) if keep else out


def _slicewise(fn: Callable, a: np.ndarray, dim: int) -> np.ndarray:
    """``fn`` (list -> list) on each 1-d slice along ``dim`` (softmax and kin)."""
    moved = np.moveaxis(a, dim, -1).copy()
    for idx in np.ndindex(*moved.shape[:-1]):
        moved[idx] = np.array(fn(list(moved[idx])), dtype=object)
    return np.moveaxis(moved, -1, dim)


def _softmax(v: list) -> list:
    z = sum(sympy.exp(x) for x in v)
    return [sympy.exp(x) / z for x in v]


def _log_softmax(v: list) -> list:
    z = sympy.log(sum(sympy.exp(x) for x in v))
    return [x - z for x in v]


def _var(v: list) -> Any:
    m = sum(v) / len(v)
    return sum((x - m) ** 2 for x in v) / (len(v) - 1)


def _huber(d: Any) -> Any:
    return sympy.Piecewise((d ** 2 / 2, sympy.Abs(d) < 1), (sympy.Abs(d) - R(1, 2), True))


def _bce_logits(z: Any, y: Any) -> Any:
    s = 1 / (1 + sympy.exp(-z))
    return -(y * sympy.log(s) + (1 - y) * sympy.log(1 - s))


# ------------------------------------------------------------------ the op rows
# unary: name -> (symgrad, reference on object arrays); every op keeps the shape
UNARY: dict[str, tuple[Callable, Callable]] = {
    "abs": (lambda t: t.abs(), _ew(sympy.Abs)),
    "relu": (F.relu, _ew(lambda x: sympy.Max(0, x))),
    "clamp": (lambda t: t.clamp(-0.5, 1.0), _ew(lambda x: sympy.Min(sympy.Max(x, R(-1, 2)), 1))),
    "clamp_min": (lambda t: t.clamp(min=0.25), _ew(lambda x: sympy.Max(x, R(1, 4)))),
    "hardtanh": (F.hardtanh, _ew(lambda x: sympy.Min(sympy.Max(x, -1), 1))),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.25),
                   _ew(lambda x: sympy.Max(x, 0) + R(1, 4) * sympy.Min(x, 0))),
    "elu": (F.elu, _ew(lambda x: sympy.Piecewise((x, x > 0), (sympy.exp(x) - 1, True)))),
    "tanh": (lambda t: t.tanh(), _ew(sympy.tanh)),
    "sigmoid": (lambda t: t.sigmoid(), _ew(lambda x: 1 / (1 + sympy.exp(-x)))),
    "softplus": (F.softplus, _ew(lambda x: sympy.log(1 + sympy.exp(x)))),
    "silu": (F.silu, _ew(lambda x: x / (1 + sympy.exp(-x)))),
    "gelu": (F.gelu, _ew(lambda x: x / 2 * (1 + sympy.erf(x / sympy.sqrt(2))))),
    "sin": (lambda t: t.sin(), _ew(sympy.sin)),
    "cos": (lambda t: t.cos(), _ew(sympy.cos)),
    "atan": (lambda t: t.atan(), _ew(sympy.atan)),
    "erf": (lambda t: t.erf(), _ew(sympy.erf)),
    "exp_tanh": (lambda t: t.tanh().exp(), _ew(lambda x: sympy.exp(sympy.tanh(x)))),
    "log1p_sq": (lambda t: (t * t + 1).log(), _ew(lambda x: sympy.log(x ** 2 + 1))),
    "sqrt_sq": (lambda t: (t * t + 1).sqrt(), _ew(lambda x: sympy.sqrt(x ** 2 + 1))),
    "recip": (lambda t: 1 / (t * t + 2), _ew(lambda x: 1 / (x ** 2 + 2))),
    "cube": (lambda t: t ** 3, _ew(lambda x: x ** 3)),
    "pow_half": (lambda t: (t * t + 1) ** 1.5, _ew(lambda x: (x ** 2 + 1) ** R(3, 2))),
    "affine": (lambda t: 0.5 * t - 3, _ew(lambda x: x / 2 - 3)),
    "rsub_div": (lambda t: (2 - t) / 4, _ew(lambda x: (2 - x) / 4)),
    "sign_mul": (lambda t: t.sign() * t, _ew(lambda x: sympy.sign(x) * x)),
    "square_neg": (lambda t: -(t.square()), _ew(lambda x: -x ** 2)),
    "where_number": (lambda t: sg.where(t > 0, t, 0.5),
                     _ew(lambda x: sympy.Piecewise((x, x > 0), (R(1, 2), True)))),
    "xlogx": (lambda t: F.kl_div(t, t * t + 1, reduction="none"),
              _ew(lambda x: (x ** 2 + 1) * (sympy.log(x ** 2 + 1) - x))),
}

# binary with a second operand of the same shape: (symgrad, reference)
BINARY: dict[str, tuple[Callable, Callable]] = {
    "add": (lambda a, b: a + b, _ew2(lambda x, y: x + y)),
    "sub": (lambda a, b: a - b, _ew2(lambda x, y: x - y)),
    "mul": (lambda a, b: a * b, _ew2(lambda x, y: x * y)),
    "div": (lambda a, b: a / (b * b + 1), _ew2(lambda x, y: x / (y ** 2 + 1))),
    "maximum": (sg.maximum, _ew2(sympy.Max)),
    "minimum": (sg.minimum, _ew2(sympy.Min)),
    "where": (lambda a, b: sg.where(a > b, a * b, a - b),
              _ew2(lambda x, y: sympy.Piecewise((x * y, x > y), (x - y, True)))),
    "pow": (lambda a, b: (a * a + 1) ** (b / 4), _ew2(lambda x, y: (x ** 2 + 1) ** (y / 4))),
    "atan2": (sg.atan2, _ew2(sympy.atan2)),
    "hypot": (sg.hypot, _ew2(lambda x, y: sympy.sqrt(x ** 2 + y ** 2))),
}


def _reductions(ndim: int, shape: tuple) -> dict[str, tuple[Callable, Callable]]:
    if ndim == 0:
        return {}
    d = random.randrange(ndim)
    n = shape[d]
    if n == 0:
        return {}
    keep = random.random() < 0.3
    out = {
        "sum": (lambda t: t.sum(d, keepdim=keep), lambda a: _along(sum, a, d, keep)),
        "mean": (lambda t: t.mean(d, keepdim=keep),
                 lambda a: _along(lambda v: sum(v) / len(v), a, d, keep)),
        "amax": (lambda t: sg.amax(t, d, keepdim=keep),
                 lambda a: _along(lambda v: sympy.Max(*v), a, d, keep)),
        "amin": (lambda t: sg.amin(t, d, keepdim=keep),
                 lambda a: _along(lambda v: sympy.Min(*v), a, d, keep)),
        "logsumexp": (lambda t: t.logsumexp(d, keepdim=keep),
                      lambda a: _along(lambda v: sympy.log(sum(sympy.exp(x) for x in v)),
                                       a, d, keep)),
        "prod": (lambda t: t.prod(d, keepdim=keep), lambda a: _along(sympy.Mul.fromiter,
                                                                     a, d, keep)),
        "norm": (lambda t: t.norm(dim=d, keepdim=keep),
                 lambda a: _along(lambda v: sympy.sqrt(sum(x ** 2 for x in v)), a, d, keep)),
        "softmax": (lambda t: F.softmax(t, d), lambda a: _slicewise(_softmax, a, d)),
        "log_softmax": (lambda t: F.log_softmax(t, d), lambda a: _slicewise(_log_softmax, a, d)),
        "cumsum": (lambda t: t.cumsum(d),
                   lambda a: _slicewise(lambda v: [sum(v[:i + 1]) for i in range(len(v))], a, d)),
    }
    if n > 1:
        out["var"] = (lambda t: t.var(d, keepdim=keep), lambda a: _along(_var, a, d, keep))
    return out


def _shape_ops(ndim: int, shape: tuple) -> dict[str, tuple[Callable, Callable]]:
    out: dict[str, tuple[Callable, Callable]] = {
        "flatten": (lambda t: t.reshape(-1), lambda a: a.reshape(-1)),
        "unsqueeze": (lambda t: t.unsqueeze(0), lambda a: a[None]),
        "cat_self": (lambda t: sg.cat([t.reshape(-1), 2 * t.reshape(-1)]),
                     lambda a: np.concatenate([a.reshape(-1), 2 * a.reshape(-1)])),
        "stack_sum": (lambda t: sg.stack([t, t * t]).sum(0), lambda a: a + a * a),
        "cat_numbers": (lambda t: sg.cat([t.reshape(-1), sg.tensor([0.75, -2.0])]),
                        lambda a: np.concatenate([a.reshape(-1), [R(3, 4), sympy.Integer(-2)]])),
    }
    if ndim >= 1 and shape[0] > 0:
        out["flip"] = (lambda t: t.flip(0), lambda a: a[::-1])
        out["slice"] = (lambda t: t[1:], lambda a: a[1:])
        out["index0"] = (lambda t: t[0], lambda a: np.asarray(a[0], dtype=object))
    if ndim == 2:
        out["transpose"] = (lambda t: t.T, lambda a: a.T)
    return out


@dataclass
class Program:
    """One random program: its inputs, its symgrad output, the reference, and a log."""
    inputs: list[sg.Tensor] = field(default_factory=list)
    t: Any = None             # symgrad value (a symbolic Tensor)
    r: Any = None             # reference value (object array)
    steps: list[str] = field(default_factory=list)
    positive: set = field(default_factory=set)   # symbols that must take positive values


def _new_input(prog: Program, shape: tuple, k: int) -> tuple[sg.Tensor, np.ndarray]:
    """A fresh input: symbols (sometimes positive), sometimes with exact constant entries."""
    kind = random.choice(["real", "real", "positive", "mixed"])
    name = f"x{k}"
    if kind == "positive":
        t = S.symbols(name, shape, positive=True)
        prog.positive.update(t._data.reshape(-1).tolist())
    else:
        t = S.symbols(name, shape)
    if kind == "mixed" and t._data.size > 1:
        a = t._data.copy()
        flat = a.reshape(-1)
        flat[random.randrange(flat.size)] = random.choice([R(1, 3), sympy.Integer(-2), R(5, 4)])
        t = sg.tensor(a)    # a user's own object array: symbols and numbers
    prog.inputs.append(t)
    return t, t._data


def _constant_like(shape: tuple) -> tuple[sg.Tensor, np.ndarray]:
    """A numeric (float or int) tensor and its exact values."""
    if random.random() < 0.5:
        vals = np.array([random.choice([-2, -1, 1, 3]) for _ in range(int(np.prod(shape)))],
                        dtype=np.int64).reshape(shape)
    else:
        vals = np.array([random.choice([-1.5, 0.25, 0.75, 2.0])
                         for _ in range(int(np.prod(shape)))]).reshape(shape)
    ref = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        v = vals[idx]
        ref[idx] = sympy.Rational(float(v)) if vals.dtype.kind == "f" else sympy.Integer(int(v))
    return sg.tensor(vals), ref


SHAPES = [(), (3,), (2, 3), (3, 2), (), (3,), (2, 3), (3, 2), (0, 3)]


def build(seed: int, steps: int = 3) -> Program:
    """A random program of about ``steps`` ops ending in a scalar."""
    random.seed(seed)
    prog = Program()
    shape = random.choice(SHAPES)
    prog.t, prog.r = _new_input(prog, shape, 0)
    for _ in range(steps):
        t, r = prog.t, prog.r
        shape = tuple(t.shape)
        kind = random.choice(["unary", "unary", "binary", "reduce", "shape", "matmul"])
        if kind == "binary":
            name = random.choice(sorted(BINARY))
            f, g = BINARY[name]
            if random.random() < 0.3:
                o, ro = _constant_like(shape)
                name += "(const)"
            else:
                o, ro = _new_input(prog, shape, len(prog.inputs))
            prog.t, prog.r = f(t, o), g(r, ro)
        elif kind == "reduce" and (ops := _reductions(t.ndim, shape)):
            name = random.choice(sorted(ops))
            f, g = ops[name]
            prog.t, prog.r = f(t), g(r)
        elif kind == "shape":
            ops = _shape_ops(t.ndim, shape)
            name = random.choice(sorted(ops))
            f, g = ops[name]
            prog.t, prog.r = f(t), g(r)
        elif kind == "matmul" and t.ndim in (1, 2) and shape[-1] > 0:
            name = "matmul"
            w, rw = _new_input(prog, (shape[-1], 2), len(prog.inputs))
            prog.t, prog.r = t @ w, np.dot(r, rw)
        else:
            name = random.choice(sorted(UNARY))
            f, g = UNARY[name]
            prog.t, prog.r = f(t), g(r)
        prog.r = np.asarray(prog.r, dtype=object)   # numpy gives 0-d results as scalars
        prog.steps.append(name)
    return prog


def losses(prog: Program) -> tuple[sg.Tensor, Any, str]:
    """The program's vector output reduced to a scalar by a random loss (or a sum)."""
    t, r = prog.t, prog.r
    flat_t, flat_r = t.reshape(-1), r.reshape(-1)
    n = flat_r.size
    if n == 0:
        return t.sum(), sympy.Integer(0), "sum"
    name = random.choice(["sum", "mse", "l1", "huber", "bce", "cross_entropy", "nll"])
    target = [random.choice([R(1, 4), R(1, 2), R(3, 4)]) for _ in range(n)]
    tt = sg.tensor([float(v) for v in target])
    if name == "mse":
        ref = sum((x - y) ** 2 for x, y in zip(flat_r, target)) / n
        return F.mse_loss(flat_t, tt), ref, name
    if name == "l1":
        ref = sum(sympy.Abs(x - y) for x, y in zip(flat_r, target)) / n
        return F.l1_loss(flat_t, tt), ref, name
    if name == "huber":
        return (F.huber_loss(flat_t, tt),
                sum(_huber(x - y) for x, y in zip(flat_r, target)) / n, name)
    if name == "bce":
        return (F.binary_cross_entropy_with_logits(flat_t, tt),
                sum(_bce_logits(x, y) for x, y in zip(flat_r, target)) / n, name)
    if name in ("cross_entropy", "nll"):
        c = random.randrange(n)
        logits = flat_t.reshape(1, n)
        ref = -_log_softmax(list(flat_r))[c]
        if name == "nll":
            return F.nll_loss(F.log_softmax(logits, 1), sg.tensor([c])), ref, name
        return F.cross_entropy(logits, sg.tensor([c])), ref, name
    return flat_t.sum(), sum(flat_r), "sum"


# ------------------------------------------------------------------ comparing
def symbols_of(prog: Program) -> list:
    """Every symbol of the program's inputs, in order."""
    out: list = []
    for t in prog.inputs:
        for x in t._data.reshape(-1):
            if isinstance(x, sympy.Symbol) and x not in out:
                out.append(x)
    return out


def random_point(syms: list, positive: set, rng: random.Random) -> dict:
    """Distinct nonzero rationals away from every kink used above (0, +-1/2, 1/4, +-1)."""
    used: set = set()
    point = {}
    for s in syms:
        while True:
            v = R(rng.randint(1, 40), rng.choice([3, 7, 11, 13]))
            if s not in positive and rng.random() < 0.5:
                v = -v
            if v not in used and v.q != 1 and abs(v) < 2:
                break
        used.add(v)
        point[s] = v
    return point


_MP_FUNCS = {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sin": mpmath.sin,
             "cos": mpmath.cos, "atan": mpmath.atan, "erf": mpmath.erf, "Abs": abs,
             "sign": mpmath.sign, "atan2": mpmath.atan2, "cosh": mpmath.cosh,
             "sinh": mpmath.sinh, "erfc": mpmath.erfc,
             "Heaviside": lambda x, *h: mpmath.mpf(1) if x > 0 else mpmath.mpf(0)
             if x < 0 else mpmath.mpf("nan"),
             # off its point (the points avoid every kink), the delta is 0
             "DiracDelta": lambda x, *k: mpmath.mpf(0) if x else mpmath.mpf("nan")}


def _mp(e: sympy.Basic, point: dict, memo: dict) -> Any:
    """``e`` at ``point`` in mpmath, walking the expression DAG once (a plain recursive
    walk: SymPy re-evaluates every node of a substituted closed form, seconds per Hessian
    entry). Raises ValueError on anything it does not know."""
    got = memo.get(e)
    if got is not None:
        return got
    if e.is_Rational:
        v = mpmath.mpf(e.p) / e.q
    elif e.is_Symbol:
        v = mpmath.mpf(point[e].p) / point[e].q
    elif e is sympy.pi:
        v = mpmath.pi
    elif e is sympy.E:
        v = mpmath.e
    elif e.is_Float:
        v = mpmath.mpf(e)
    elif e.is_Add:
        v = mpmath.fsum(_mp(a, point, memo) for a in e.args)
    elif e.is_Mul:
        v = mpmath.fprod(_mp(a, point, memo) for a in e.args)
    elif e.is_Pow:
        v = mpmath.power(_mp(e.base, point, memo), _mp(e.exp, point, memo))
    elif isinstance(e, sympy.Max):
        v = max(_mp(a, point, memo) for a in e.args)
    elif isinstance(e, sympy.Min):
        v = min(_mp(a, point, memo) for a in e.args)
    elif isinstance(e, sympy.Piecewise):
        for val, cond in e.args:
            if _truth(cond, point, memo):
                v = _mp(val, point, memo)
                break
        else:
            raise ValueError(f"no branch of {e} holds")
    elif isinstance(e, sympy.Function) and type(e).__name__ in _MP_FUNCS:
        v = _MP_FUNCS[type(e).__name__](*(_mp(a, point, memo) for a in e.args))
    else:
        raise ValueError(f"cannot evaluate {type(e).__name__}")
    memo[e] = v
    return v


def _truth(c: Any, point: dict, memo: dict) -> bool:
    if c is sympy.true or c is True:
        return True
    if c is sympy.false or c is False:
        return False
    if isinstance(c, sympy.And):
        return all(_truth(a, point, memo) for a in c.args)
    if isinstance(c, sympy.Or):
        return any(_truth(a, point, memo) for a in c.args)
    if isinstance(c, sympy.Not):
        return not _truth(c.args[0], point, memo)
    if isinstance(c, sympy.ITE):
        c1, c2, c3 = c.args
        return _truth(c2 if _truth(c1, point, memo) else c3, point, memo)
    if not isinstance(c, sympy.core.relational.Relational):
        raise ValueError(f"cannot decide {type(c).__name__}")
    a, b = _mp(c.lhs, point, memo), _mp(c.rhs, point, memo)
    ops = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}
    return ops[c.rel_op]


def _value(e: Any, point: dict, dps: int = 45) -> Any:
    """``e`` at ``point``: a SymPy Rational when ``e`` is a rational function there, else an
    mpmath number computed with ``dps`` digits."""
    e = sympy.sympify(e)
    if not e.atoms(sympy.Function) and all(p.exp.is_Integer for p in e.atoms(sympy.Pow)) \
            and not e.has(sympy.Piecewise):
        return e.xreplace(point)
    with mpmath.workdps(dps):
        try:
            return _mp(e, point, {})
        except ValueError:   # a function the walk does not know: SymPy's own evalf
            return mpmath.mpmathify(str(sympy.N(e.xreplace(point), dps)).replace("*I", "j"))


def same_value(a: Any, b: Any, point: dict) -> bool:
    """``a`` and ``b`` equal at ``point``: exactly when both are rational there, else to 35
    digits (textbook forms cancel, ``log(1 - sigmoid(z))`` at large z: the working
    precision rises until both values are finite)."""
    for dps in (45, 300, 2000):
        va, vb = _value(a, point, dps), _value(b, point, dps)
        if isinstance(va, sympy.Basic) and isinstance(vb, sympy.Basic):
            return va == vb
        with mpmath.workdps(dps):
            va = mpmath.mpf(va.p) / va.q if isinstance(va, sympy.Basic) else va
            vb = mpmath.mpf(vb.p) / vb.q if isinstance(vb, sympy.Basic) else vb
            if mpmath.isnan(va) and mpmath.isnan(vb):
                return True   # both undefined: a tie the point could not avoid (clamped
                # entries meeting in amin), where Heaviside(0) and DiracDelta(0) stand
            if mpmath.isfinite(va) and mpmath.isfinite(vb):
                return abs(va - vb) <= mpmath.mpf(10) ** -35 * (1 + abs(vb))
    return va == vb   # the same infinity even at 2000 digits: equal as far as can be seen


def floats_in(t: sg.Tensor) -> list:
    """SymPy Floats inside a symbolic result: exactness lost somewhere."""
    return [x for e in t._data.reshape(-1) for x in sympy.sympify(e).atoms(sympy.Float)]


@dataclass
class Outcome:
    seed: int
    steps: list[str]
    compared: int = 0
    problems: list[str] = field(default_factory=list)


def _wrt(t: sg.Tensor) -> np.ndarray:
    """The symbols of an input, in order (a mixed input's constant entries left out)."""
    return np.array([x for x in t._data.reshape(-1) if isinstance(x, sympy.Symbol)]
                    + [], dtype=object)


def compare(seed: int, steps: int = 3, hessian: bool = True, points: int = 2) -> Outcome:
    """Build program ``seed`` and compare its gradient, Jacobian and (optionally) Hessian."""
    prog = build(seed, steps)
    loss_t, loss_r, loss_name = losses(prog)
    out = Outcome(seed, prog.steps + [loss_name])
    syms = symbols_of(prog)
    rng = random.Random(seed)
    # a wholly symbolic input is passed as the tensor itself, a mixed one as its symbols
    wrts = [t if all(isinstance(x, sympy.Symbol) for x in t._data.reshape(-1)) else _wrt(t)
            for t in prog.inputs]
    x0 = np.asarray(wrts[0]._data if isinstance(wrts[0], sg.Tensor) else wrts[0])
    try:
        grads = S.gradient(loss_t, wrts)
        jac = S.jacobian(prog.t, wrts[0])
        hess = S.hessian(loss_t, wrts[0]) if hessian else None
    except Exception as e:  # noqa: BLE001 - reported as a finding
        out.problems.append(f"raised {type(e).__name__}: {e}")
        return out
    if not same_value(loss_t._data[()], loss_r, random_point(syms, prog.positive, rng)):
        out.problems.append("forward values differ")
    for g, w in zip(grads, wrts):
        if tuple(g.shape) != np.shape(w):
            out.problems.append(f"gradient shape {tuple(g.shape)} for wrt {np.shape(w)}")
        if floats_in(g):
            out.problems.append(f"gradient holds Floats {floats_in(g)[:3]}")
    if tuple(jac.shape) != prog.r.shape + x0.shape:
        out.problems.append(f"jacobian shape {tuple(jac.shape)}")
    if hess is not None and tuple(hess.shape) != x0.shape * 2:
        out.problems.append(f"hessian shape {tuple(hess.shape)}")
    if out.problems:
        return out
    loss_r = sympy.sympify(loss_r)
    ref_rows = [sympy.sympify(x) for x in prog.r.reshape(-1)]
    x0_flat = x0.reshape(-1).tolist()
    for _ in range(points):
        point = random_point(syms, prog.positive, rng)
        for g, w in zip(grads, wrts):
            w = np.asarray(w._data if isinstance(w, sg.Tensor) else w)
            for idx in np.ndindex(*w.shape):
                expect = sympy.diff(loss_r, w[idx])
                out.compared += 1
                if not same_value(g._data[idx], expect, point):
                    out.problems.append(f"d/d{w[idx]}: {_short(g._data[idx])} vs "
                                        f"{_short(expect)}")
            _evaluate_parity(out, g, expect_at=lambda e: _value(e, point), point=point)
        # the Jacobian of the program's vector output by the first input, and the Hessian
        n, m = len(ref_rows), len(x0_flat)
        jref = sympy.Matrix(n, 1, ref_rows).jacobian(x0_flat) if m else sympy.zeros(n, 0)
        _matrix_parity(out, "J", jac._data.reshape(n, m), jref, point)
        if hess is not None:
            href = sympy.hessian(loss_r, x0_flat) if m else sympy.zeros(0, 0)
            _matrix_parity(out, "H", hess._data.reshape(m, m), href, point)
        if out.problems:
            break
    return out


def _evaluate_parity(out: Outcome, g: sg.Tensor, expect_at: Callable, point: dict) -> None:
    """``symbolic.evaluate`` (symgrad's own evaluation of its closed forms) against the
    value of the same closed form found here, as float64: equal to a unit in the last
    place (both are correct roundings of values good to 35 digits or more)."""
    got = S.evaluate(g, at=point)
    for idx in np.ndindex(*g.shape):
        v = expect_at(g._data[idx])
        with mpmath.workdps(45):
            ref = float(v) if isinstance(v, (mpmath.mpf, sympy.Rational)) else None
        if ref is None or not np.isfinite(ref):
            continue
        out.compared += 1
        if abs(got[idx] - ref) > abs(ref) * 2.3e-16:
            out.problems.append(f"evaluate {idx}: {got[idx]!r} vs {ref!r}")


def _matrix_parity(out: Outcome, label: str, got: np.ndarray, ref: sympy.Matrix,
                   point: dict) -> None:
    """Compare a symgrad matrix (object array) entry by entry with SymPy's at ``point``."""
    for i, j in np.ndindex(*got.shape):
        out.compared += 1
        if not same_value(got[i, j], ref[i, j], point):
            out.problems.append(f"{label}[{i},{j}]: {_short(got[i, j])} vs {_short(ref[i, j])}")


def _short(e: Any, n: int = 120) -> str:
    s = str(e)
    return s if len(s) <= n else s[:n - 3] + "..."
