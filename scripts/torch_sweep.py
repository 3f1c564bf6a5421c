"""Parity sweep: every public name symgrad shares with PyTorch, called both ways on one grid.

    PYTHONPATH=. python scripts/torch_sweep.py [--names a,b] [--out diffs.jsonl] [--summary]

For each ``symgrad.X`` / ``Tensor.X`` that torch also has (and the Python operators), the
sweep runs a grid of argument patterns (unary, binary with tensors / Python scalars / 0-d
tensors and broadcasting, reductions with ``dim`` / ``keepdim`` / ``dtype=``, ternary,
matrix products) over the dtypes float64, float32, int64, int32 and bool, in both
libraries on the same numpy data. Where torch succeeds it compares values, dtype, shape,
``repr``, view-ness, ``requires_grad``, the ``grad_fn`` name and the gradients for a random
upstream gradient; where torch raises it compares the exception type. Each difference is
one JSON line; ``--summary`` prints the counts by name and kind. torch is needed here only.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import operator
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import symgrad as sg  # noqa: E402

DTYPES = ("float64", "float32", "int64", "int32", "bool")
RANDOM = {"rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
          "poisson", "rand_like", "randn_like", "randint_like", "dropout", "alpha_dropout",
          "feature_alpha_dropout", "empty", "empty_like", "empty_strided", "uniform_",
          "normal_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
          "bernoulli_", "manual_seed", "seed", "initial_seed", "set_rng_state",
          "get_rng_state", "rrelu", "rrelu_", "new_empty", "new_empty_strided",
          "set_default_dtype", "set_default_tensor_type", "set_grad_enabled", "set_printoptions",
          "use_deterministic_algorithms", "set_num_threads", "compile", "save", "load",
          "register_hook", "backward", "set_flush_denormal", "share_memory_", "pin_memory",
          "storage", "untyped_storage", "data_ptr", "apply_", "map_", "cuda", "to_sparse",
          "set_", "resize_", "resize_as_", "record_stream", "numpy", "__reduce_ex__",
          "__deepcopy__", "__setstate__", "__getstate__", "__init__", "__new__",
          "__init_subclass__", "__subclasshook__", "__class__", "__dir__", "__sizeof__",
          "__format__", "__hash__", "__array__", "__array_wrap__", "__array_ufunc__",
          "__array_function__", "__torch_function__", "__torch_dispatch__", "__getattribute__",
          "__setattr__", "__delattr__", "__reduce__", "__iter__", "__len__", "__repr__",
          "__str__", "__setitem__", "__getitem__", "__contains__", "__bool__", "__index__",
          "__int__", "__float__", "__complex__", "__copy__", "__dlpack__", "__dlpack_device__",
          "__release_buffer__", "__buffer__", "is_pinned", "get_device",
          "register_post_accumulate_grad_hook", "pdist",
          "retain_grad", "requires_grad_", "detach_", "zero_", "fill_", "copy_", "tolist",
          "item", "type", "is_set_to", "dim_order", "module_load", "nonzero_static"}


def _data(dtype: str, shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    a = rng.integers(-5, 6, shape).astype(dtype)
    return a


class T:
    """A tensor slot in a pattern: the same numpy data becomes a leaf in each library."""

    def __init__(self, dtype: str, shape: tuple, seed: int = 0) -> None:
        self.dtype, self.shape, self.seed = dtype, shape, seed

    def __repr__(self) -> str:
        return f"T({self.dtype},{self.shape})"

    def make(self, m):
        a = _data(self.dtype, self.shape, self.seed)
        return m.tensor(a, dtype=getattr(m, self.dtype),
                        requires_grad=self.dtype.startswith("float"))


def _patterns():
    """(kind, args, kwargs) argument patterns; T slots become tensors."""
    out = []
    shapes1 = [(), (3,), (2, 3), (0,), (0, 3)]
    for d in DTYPES:
        for s in shapes1:
            out.append(("unary", (T(d, s),), {}))
    for c in (2.0, 3, True):
        out.append(("number", (c,), {}))
        out.append(("number", (c, 2), {}))
        out.append(("number", (c, T("float64", (3,)), T("float64", (3,), 1)), {}))
    pairs = [((3,), (3,)), ((2, 3), (3,)), ((), (2, 3)), ((0,), (0,)), ((2, 1), (1, 3))]
    for d1, d2 in itertools.product(DTYPES, DTYPES):
        for s1, s2 in pairs[:2] if d1 != d2 else pairs:
            out.append(("binary", (T(d1, s1), T(d2, s2, 1)), {}))
    for d in DTYPES:
        for c in (2, -1.5, True, 0, 0.0):
            out.append(("scalar", (T(d, (2, 3)), c), {}))
            out.append(("rscalar", (c, T(d, (2, 3))), {}))
        out.append(("zerod", (T(d, (2, 3)), T("float64", (), 2)), {}))
        out.append(("zerod", (T(d, (2, 3)), T("int64", (), 2)), {}))
        out.append(("zerod", (T("float32", (2, 3)), T(d, (), 2)), {}))
    for d in DTYPES:
        x = T(d, (2, 3))
        for kw in ({"dim": 0}, {"dim": -1}, {"dim": (0, 1)}, {"dim": 1, "keepdim": True},
                   {"dim": (-1,), "keepdim": True}, {"dtype": "float32"}, {"dtype": "int64"},
                   {"dim": 0, "dtype": "float64"}):
            out.append(("reduce", (x,), kw))
        out.append(("reduce", (T(d, (0, 3)),), {"dim": 0}))
        out.append(("reduce", (T(d, (0, 3)),), {"dim": 1}))
        out.append(("intarg", (x, 1), {}))
        out.append(("intarg", (x, -1), {}))
        out.append(("intarg", (x, 0, 1), {}))
    for d in DTYPES:
        out.append(("ternary", (T(d, (2, 3)), T(d, (2, 3), 1), T(d, (3,), 2)), {}))
        out.append(("ternary", (T(d, (2, 3)), T(d, (2, 3), 1), 0.5), {}))
        out.append(("ternary", (T("bool", (2, 3)), T(d, (2, 3), 1), T(d, (3,), 2)), {}))
        out.append(("matrix", (T(d, (2, 3)), T(d, (3, 4), 1)), {}))
        out.append(("matrix", (T(d, (3,)), T(d, (3,), 1)), {}))
        out.append(("matrix", (T(d, (3, 3)), T(d, (3, 3), 1), T(d, (3, 3), 2)), {}))
    out.append(("matrix", (T("float64", (3, 3)),), {}))
    out.append(("matrix", (T("float64", (2, 3, 3)),), {}))
    return out


OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<": operator.lt,
    "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt,
    ">=": operator.ge, "~": operator.invert, "neg": operator.neg, "abs()": abs,
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


def names(torch) -> tuple[list[str], list[str]]:
    fs = sorted(n for n in dir(sg) if not n.startswith("_") and hasattr(torch, n)
                and callable(getattr(sg, n)) and not isinstance(getattr(torch, n), type)
                and not isinstance(getattr(sg, n), type(sg)) and n not in RANDOM)
    ms = sorted(n for n in dir(sg.Tensor) if hasattr(torch.Tensor, n)
                and callable(getattr(sg.Tensor, n, None)) and n not in RANDOM
                and (not n.startswith("_") or n.startswith("__"))
                and n.strip("_") not in {"eq", "ne", "lt", "le", "gt", "ge", "and", "or",
                                         "xor", "add", "sub", "mul", "truediv", "floordiv",
                                         "mod", "pow", "matmul", "neg", "abs", "invert",
                                         "radd", "rsub", "rmul", "rtruediv", "rfloordiv",
                                         "rmod", "rpow", "rmatmul", "rand", "ror", "rxor",
                                         "iadd", "isub", "imul", "itruediv", "ifloordiv",
                                         "imod", "ipow", "iand", "ior", "ixor", "imatmul",
                                         "pos", "div", "lshift", "rshift", "rlshift",
                                         "rrshift", "ilshift", "irshift", "rdiv", "idiv",
                                         "init", "class", "dir", "new", "reversed"})
    return fs, ms


def _build(m, args, kwargs, inplace: bool):
    leaves = []
    real = []
    for i, a in enumerate(args):
        if isinstance(a, T):
            t = a.make(m)
            leaves.append(t)
            if inplace and i == 0 and t.requires_grad:
                t = t.clone()
            real.append(t)
        else:
            real.append(a)
    kw = {k: (getattr(m, v) if k == "dtype" else v) for k, v in kwargs.items()}
    return leaves, real, kw


def _call(m, kind: str, name: str, args, kwargs):
    inplace = name.endswith("_") and not name.endswith("__") or (
        kind == "op" and name.endswith("=") and name not in ("<=", ">=", "==", "!="))
    leaves, real, kw = _build(m, args, kwargs, inplace)
    if kind == "fn":
        r = getattr(m, name)(*real, **kw)
    elif kind == "method":
        if not real or not isinstance(real[0], m.Tensor):
            raise _Skip
        r = getattr(real[0], name)(*real[1:], **kw)
    else:
        r = OPERATORS[name](*real)
    return leaves, real, r


class _Skip(Exception):
    pass


def _np(t):
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def _outs(r):
    if isinstance(r, (tuple, list)):
        return list(r)
    return [r]


def _describe(m, leaves, real, r):
    """Everything compared about one result, as plain Python values."""
    outs = _outs(r)
    d = {"n": len(outs), "outs": []}
    for o in outs:
        if not isinstance(o, m.Tensor):
            d["outs"].append({"py": repr(o) if not isinstance(o, float) or o == o else "nan"})
            continue
        base = o._base
        view = [i for i, x in enumerate(real) if isinstance(x, m.Tensor)
                and base is not None and (base is x or base is x._base)]
        gf = o.grad_fn
        d["outs"].append({
            "dtype": str(o.dtype).split(".")[-1], "shape": list(o.shape),
            "value": _np(o), "requires_grad": o.requires_grad,
            "grad_fn": None if gf is None else type(gf).__name__ if m.__name__ == "torch"
            else gf.name(),
            "view": view, "is_self": [i for i, x in enumerate(real) if o is x],
            "repr": repr(o),
        })
    first = outs[0] if outs else None
    if isinstance(first, m.Tensor) and first.requires_grad and first.dtype.is_floating_point:
        ct = np.random.default_rng(7).standard_normal(tuple(first.shape))
        try:
            gs = m.autograd.grad(first, leaves, m.tensor(ct, dtype=first.dtype),
                                 allow_unused=True)
            d["grads"] = [None if g is None else _np(g) for g in gs]
        except Exception as e:  # noqa: BLE001
            d["grads"] = f"error {type(e).__name__}: {str(e)[:80]}"
    return d


def _close(a, b, dtype: str) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        tol = 1e-5 if "32" in dtype or "16" in dtype else 1e-10
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol,
                                atol=tol, equal_nan=True))
    return bool(np.array_equal(a, b))


def compare(ds: dict, dt: dict) -> list[tuple[str, str]]:
    diffs = []
    if ds["n"] != dt["n"]:
        return [("n_outputs", f"{ds['n']} vs {dt['n']}")]
    for k, (a, b) in enumerate(zip(ds["outs"], dt["outs"])):
        if ("py" in a) != ("py" in b):
            diffs.append(("type", f"out{k}: {a.get('py', 'Tensor')} vs {b.get('py', 'Tensor')}"))
            continue
        if "py" in a:
            if a["py"] != b["py"]:
                diffs.append(("pyvalue", f"{a['py']} vs {b['py']}"))
            continue
        for key in ("dtype", "shape", "requires_grad", "grad_fn", "view", "is_self"):
            if a[key] != b[key]:
                diffs.append((key, f"out{k}: {a[key]} vs {b[key]}"))
        if a["shape"] == b["shape"] and not _close(a["value"], b["value"], b["dtype"]):
            diffs.append(("value", f"out{k}: {a['value'].ravel()[:4]} vs "
                          f"{b['value'].ravel()[:4]}"))
        if a["repr"] != b["repr"] and a["dtype"] == b["dtype"] and a["grad_fn"] == b["grad_fn"]:
            ra = " ".join(a["repr"].replace("symgrad.", "torch.").split())
            if ra != " ".join(b["repr"].split()) and _close(a["value"], b["value"], b["dtype"]):
                diffs.append(("repr", f"{a['repr'][:120]!r} vs {b['repr'][:120]!r}"))
    ga, gb = ds.get("grads"), dt.get("grads")
    if (ga is None) != (gb is None) or isinstance(ga, str) != isinstance(gb, str):
        diffs.append(("grads", f"{str(ga)[:100]} vs {str(gb)[:100]}"))
    elif isinstance(ga, list):
        for i, (x, y) in enumerate(zip(ga, gb)):
            if (x is None) != (y is None):
                diffs.append(("grad_none", f"leaf{i}: {x is None} vs {y is None}"))
            elif x is not None and not _close(x, y, "float32"):
                diffs.append(("grad", f"leaf{i}: {x.ravel()[:4]} vs {y.ravel()[:4]}"))
    return diffs


def _attempt(m, kind, name, args, kwargs):
    """(description, None) of one call in library ``m``, or (None, the error it raised);
    _Skip propagates."""
    try:
        leaves, real, r = _call(m, kind, name, args, kwargs)
        return _describe(m, leaves, real, r), None
    except _Skip:
        raise
    except Exception as e:  # noqa: BLE001 - the outcome is the error
        return None, e


def run_case(torch, kind, name, args, kwargs):
    """One case: (status, diffs); status 'ok', 'both_raise', 'torch_raises', 'sg_raises',
    'skip'."""
    try:
        dt, terr = _attempt(torch, kind, name, args, kwargs)
        ds, serr = _attempt(sg, kind, name, args, kwargs)
    except _Skip:
        return "skip", []
    if terr is not None and serr is not None:
        if type(terr) is not type(serr) and not (
                isinstance(serr, type(terr)) or isinstance(terr, type(serr))):
            return "both_raise", [("error_type", f"{type(serr).__name__}: {str(serr)[:90]} vs "
                                   f"{type(terr).__name__}: {str(terr)[:90]}")]
        return "both_raise", []
    if terr is not None:
        return "torch_raises", [("accepts", f"torch {type(terr).__name__}: {str(terr)[:120]}")]
    if serr is not None:
        return "sg_raises", [("rejects", f"{type(serr).__name__}: {str(serr)[:120]}")]
    return "ok", compare(ds, dt)


def _sweep_name(torch, kind, name, pats, path) -> dict:
    counts = collections.Counter()
    with open(path, "a") as f:
        for pk, args, kwargs in pats:
            if kind == "op" and (kwargs or pk in ("reduce", "intarg", "ternary", "number")):
                continue
            if kind == "op" and (name in ("~", "neg", "abs()")) != (pk == "unary"):
                continue
            status, diffs = run_case(torch, kind, name, args, kwargs)
            counts[status] += 1
            for what, detail in diffs:
                counts["diff:" + what] += 1
                f.write(json.dumps({"kind": kind, "name": name, "pattern": pk,
                                    "args": repr(args), "kwargs": kwargs, "what": what,
                                    "detail": detail}) + "\n")
    return dict(counts)


def main(argv=None) -> int:
    import torch

    torch.set_default_dtype(torch.float64)
    warnings.simplefilter("ignore")
    p = argparse.ArgumentParser()
    p.add_argument("--names", default="")
    p.add_argument("--out", default="/tmp/torch_sweep.jsonl")
    p.add_argument("--summary", action="store_true")
    a = p.parse_args(argv)
    fs, ms = names(torch)
    jobs = [("fn", n) for n in fs] + [("method", n) for n in ms] + [("op", n) for n in OPERATORS]
    if a.names:
        want = set(a.names.split(","))
        jobs = [j for j in jobs if j[1] in want]
    pats = _patterns()
    counts = collections.Counter()
    per = collections.defaultdict(collections.Counter)
    open(a.out, "w").close()
    for kind, name in jobs:   # one child process per name: a crash in torch stays there
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            c = _sweep_name(torch, kind, name, pats, a.out)
            os.write(wfd, json.dumps(c).encode())
            os._exit(0)
        os.close(wfd)
        with os.fdopen(rfd) as r:
            got = r.read()
        _, status = os.waitpid(pid, 0)
        if not got:
            counts["crashed"] += 1
            per[(kind, name)]["crashed"] += 1
            continue
        for k, v in json.loads(got).items():
            if k.startswith("diff:"):
                per[(kind, name)][k[5:]] += v
            else:
                counts[k] += v
    print(f"names: {len(fs)} functions, {len(ms)} methods, {len(OPERATORS)} operators; "
          f"cases: {dict(counts)}")
    if a.summary:
        for (kind, name), c in sorted(per.items()):
            print(f"{kind:6} {name:28} {dict(c)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
