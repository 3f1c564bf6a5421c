"""Small programs over the ``torch.autograd`` / ``torch.autograd.graph`` API, each written
once against a module ``m`` (``torch`` or ``symgrad``) and run in both: the results (values,
hook call logs, exception types and chosen messages) must agree.

``PROGRAMS`` maps a name to ``fn(m)``; ``outcome(m, fn)`` runs one and turns its result into
plain data (tensors as rounded nested lists, an exception as ``("raises", type name)``).
Used by tests/test_autograd_api_diff.py and scripts/diff_autograd_api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PROGRAMS: dict[str, Callable[[Any], Any]] = {}


def program(fn: Callable) -> Callable:
    PROGRAMS[fn.__name__] = fn
    return fn


def outcome(m: Any, fn: Callable) -> Any:
    try:
        return plain(fn(m))
    except Exception as e:  # noqa: BLE001 - the exception type is the outcome compared
        return ("raises", type(e).__name__)


def plain(v: Any) -> Any:
    """Tensors, nodes and containers as comparable data."""
    if hasattr(v, "detach") and hasattr(v, "requires_grad"):
        a = np.asarray(v.detach().numpy(), dtype=np.float64)
        return ("tensor", tuple(a.shape), np.round(a, 9).tolist(), bool(v.requires_grad))
    if hasattr(v, "next_functions") and hasattr(v, "name"):
        return ("node", v.name())
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def _name(node: Any) -> str:
    """A node's name without a C++ namespace ("torch::autograd::AccumulateGrad" in both)."""
    return node.name().rpartition("::")[2]


def _leaves(m: Any, *rows: list) -> list:
    return [m.tensor(r, requires_grad=True) for r in rows]


A, B = [1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.5, 3.5]

# --------------------------------------------------------------------------- packs per op
#: ops whose saved tensors are the same in both (what a pack hook receives, how often
#: unpack runs in backward); listed by name with a program of two length-4 leaves.
SAVING_OPS: dict[str, Callable] = {
    "exp": lambda m, a, b: a.exp(), "log": lambda m, a, b: a.log(),
    "sin": lambda m, a, b: a.sin(), "cos": lambda m, a, b: a.cos(),
    "tan": lambda m, a, b: a.tan(), "tanh": lambda m, a, b: a.tanh(),
    "sigmoid": lambda m, a, b: a.sigmoid(), "relu": lambda m, a, b: a.relu(),
    "sqrt": lambda m, a, b: a.sqrt(), "rsqrt": lambda m, a, b: a.rsqrt(),
    "abs": lambda m, a, b: a.abs(), "neg": lambda m, a, b: -a,
    "reciprocal": lambda m, a, b: a.reciprocal(), "expm1": lambda m, a, b: a.expm1(),
    "log1p": lambda m, a, b: a.log1p(), "log2": lambda m, a, b: a.log2(),
    "log10": lambda m, a, b: a.log10(), "sinh": lambda m, a, b: a.sinh(),
    "cosh": lambda m, a, b: a.cosh(), "asin": lambda m, a, b: (a / 10).asin(),
    "atan": lambda m, a, b: a.atan(), "erf": lambda m, a, b: a.erf(),
    "square": lambda m, a, b: a.square(), "pow2": lambda m, a, b: a ** 2,
    "pow_t": lambda m, a, b: a ** b, "rpow": lambda m, a, b: 2 ** a,
    "mul": lambda m, a, b: a * b, "mul_s": lambda m, a, b: a * 3,
    "div": lambda m, a, b: a / b, "div_s": lambda m, a, b: a / 3,
    "rdiv": lambda m, a, b: 3 / a, "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b, "add_s": lambda m, a, b: a + 1,
    "rsub": lambda m, a, b: 1 - a,
    "matmul": lambda m, a, b: a.reshape(2, 2) @ b.reshape(2, 2),
    "mv": lambda m, a, b: a.reshape(2, 2) @ b[:2], "dot": lambda m, a, b: a.dot(b),
    "sum": lambda m, a, b: a.sum(), "sum_dim": lambda m, a, b: a.reshape(2, 2).sum(0),
    "prod": lambda m, a, b: a.prod(), "softmax": lambda m, a, b: a.softmax(0),
    "log_softmax": lambda m, a, b: a.log_softmax(0),
    "clamp": lambda m, a, b: a.clamp(0.5, 2.5), "clamp_min": lambda m, a, b: a.clamp(min=1.5),
    "max": lambda m, a, b: a.max(), "amax": lambda m, a, b: a.amax(),
    "maximum": lambda m, a, b: m.maximum(a, b), "minimum": lambda m, a, b: m.minimum(a, b),
    "where": lambda m, a, b: m.where(a > 2, a, b), "reshape": lambda m, a, b: a.reshape(2, 2),
    "t": lambda m, a, b: a.reshape(2, 2).t(), "slice": lambda m, a, b: a[1:3],
    "cat": lambda m, a, b: m.cat([a, b]), "stack": lambda m, a, b: m.stack([a, b]),
    "cumsum": lambda m, a, b: a.cumsum(0), "cumprod": lambda m, a, b: a.cumprod(0),
    "var": lambda m, a, b: a.var(), "std": lambda m, a, b: a.std(),
    "norm": lambda m, a, b: a.norm(),
    "mse": lambda m, a, b: m.nn.functional.mse_loss(a, b),
    "bce_logits": lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b / 10),
    "softplus": lambda m, a, b: m.nn.functional.softplus(a),
    "gelu": lambda m, a, b: m.nn.functional.gelu(a),
    "silu": lambda m, a, b: m.nn.functional.silu(a),
    "elu": lambda m, a, b: m.nn.functional.elu(a),
    "leaky_relu": lambda m, a, b: m.nn.functional.leaky_relu(a),
    "hardtanh": lambda m, a, b: m.nn.functional.hardtanh(a),
    "linear": lambda m, a, b: m.nn.functional.linear(a.reshape(1, 4), b.reshape(1, 4)),
    "logsumexp": lambda m, a, b: a.logsumexp(0), "atan2": lambda m, a, b: m.atan2(a, b),
    "sign": lambda m, a, b: a.sign(), "floor": lambda m, a, b: a.floor(),
    "outer": lambda m, a, b: m.outer(a, b), "x_times_x": lambda m, a, b: a * a,
    "mul_by_constant": lambda m, a, b: a * b.detach(),
    "constant_times": lambda m, a, b: a.detach() * b,
    "hypot": lambda m, a, b: m.hypot(a, b), "lerp": lambda m, a, b: m.lerp(a, b, 0.3),
    "addcmul": lambda m, a, b: m.addcmul(a, a, b),
    "mm": lambda m, a, b: a.reshape(2, 2).mm(b.reshape(2, 2)),
    "min_dim": lambda m, a, b: a.reshape(2, 2).min(1)[0], "flip": lambda m, a, b: a.flip(0),
    "expand": lambda m, a, b: a[:1].expand(3),
    "squeeze": lambda m, a, b: a.unsqueeze(0).squeeze(0),
    "permute": lambda m, a, b: a.reshape(2, 2).permute(1, 0), "clone": lambda m, a, b: a.clone(),
    "diag": lambda m, a, b: m.diag(a), "frac": lambda m, a, b: a.frac(),
    "logit": lambda m, a, b: (a / 10).logit(), "xlogy": lambda m, a, b: m.xlogy(a, b),
    "fmod": lambda m, a, b: m.fmod(a, 1.5), "remainder": lambda m, a, b: m.remainder(a, 1.5),
    "mish": lambda m, a, b: m.nn.functional.mish(a),
    "selu": lambda m, a, b: m.nn.functional.selu(a),
    "softsign": lambda m, a, b: m.nn.functional.softsign(a),
    "smooth_l1": lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b),
    "huber": lambda m, a, b: m.nn.functional.huber_loss(a, b),
    "cosine_similarity": lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim=0),
    "normalize": lambda m, a, b: m.nn.functional.normalize(a, dim=0),
    "inv": lambda m, a, b: m.linalg.inv(a.reshape(2, 2)),
    "chain": lambda m, a, b: ((a * b).exp() + a.sin()).sum() / b.sum(),
}

#: Ops whose rules read other values than PyTorch's formulas do, so a pack hook sees other
#: tensors (the gradients agree): symgrad's rule reads the input for its shape (mean, trace),
#: PyTorch saves an index or mask tensor that symgrad keeps as a parameter (masked_fill,
#: gather, index_select, nll_loss, cross_entropy, sort, topk), or the two formulas differ
#: (exp2, sinc, l1_loss, logsigmoid, det, einsum).
OTHER_SAVES = ("mean", "trace", "masked_fill", "gather", "index_select", "nll_loss",
               "cross_entropy", "sort", "topk", "exp2", "sinc", "l1_loss", "logsigmoid", "det",
               "einsum")


def _packs_of(f: Callable) -> Callable:
    def run(m):
        a, b = _leaves(m, A, B)
        packed, unpacks = [], []

        def pack(t):
            packed.append(t)
            return t

        def unpack(t):
            unpacks.append(1)
            return t

        with m.autograd.graph.saved_tensors_hooks(pack, unpack):
            r = f(m, a, b)
        labels = sorted("a" if t is a else "b" if t is b else "out" if t is r else "other"
                        for t in packed)
        grads = m.autograd.grad(r.sum(), [a, b], allow_unused=True)
        return labels, len(unpacks), grads
    return run


for _name, _f in SAVING_OPS.items():
    PROGRAMS[f"packs_{_name}"] = _packs_of(_f)


# --------------------------------------------------------------------------- saved hooks
def _hooks(m, pack, unpack):
    return m.autograd.graph.saved_tensors_hooks(pack, unpack)


@program
def packs_in_the_order_pytorch_saves(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append("a" if t is a else "b") or t, lambda t: t):
        a * b
        a / b
        a.reshape(2, 2) @ b.reshape(2, 2)
    return seen


@program
def unpack_result_is_what_backward_uses(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 10):
        y = a * b
    y.sum().backward()
    return a.grad, b.grad


@program
def pack_may_return_anything(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: ("box", t.detach().clone()), lambda p: p[1]):
        y = (a * b).exp()
    y.sum().backward()
    return a.grad, b.grad


@program
def pack_runs_with_grad_off(m):
    a, b = _leaves(m, A, B)
    modes = []

    def pack(t):
        modes.append((m.is_grad_enabled(), (t * 2).requires_grad))
        return t
    with _hooks(m, pack, lambda t: t):
        a * b
    return modes


@program
def unpack_runs_once_per_saved_tensor_per_backward(m):
    a, b = _leaves(m, A, B)
    calls = []
    with _hooks(m, lambda t: t, lambda t: calls.append(1) or t):
        y = (a * b).sum()
    y.backward(retain_graph=True)
    first = len(calls)
    y.backward()
    return first, len(calls), a.grad


@program
def backward_twice_through_packed_graph_raises(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t):
        y = (a * b).sum()
    y.backward()
    y.backward()


@program
def unpack_must_return_a_tensor(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: 3, lambda t: t):
        y = a * b
    y.sum().backward()


@program
def unpack_returning_none_raises(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: None, lambda t: t):
        y = a * b
    y.sum().backward()


@program
def pack_exception_propagates(m):
    a, b = _leaves(m, A, B)

    def pack(t):
        raise ValueError("boom")
    with _hooks(m, pack, lambda t: t):
        a * b


@program
def nothing_packed_under_no_grad(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append(1) or t, lambda t: t):
        with m.no_grad():
            a * b
            a.exp()
    return len(seen)


@program
def nothing_packed_without_requires_grad(m):
    a, b = m.tensor(A), m.tensor(B)
    seen = []
    with _hooks(m, lambda t: seen.append(1) or t, lambda t: t):
        (a * b).exp()
    return len(seen)


@program
def inner_hooks_win_when_nested(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append("outer") or t, lambda t: t):
        with _hooks(m, lambda t: seen.append("inner") or t, lambda t: t):
            a * b
        a.exp()
    return seen


@program
def hooks_off_after_the_block(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append(1) or t, lambda t: t):
        pass
    a * b
    return len(seen)


@program
def hooks_stay_with_the_graph_they_packed(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 2):
        y = a * b
    z = a * b
    (y + z).sum().backward()
    return a.grad, b.grad


@program
def saved_self_goes_through_unpack(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 10):
        y = a * b
    return y.grad_fn._saved_self, y.grad_fn._saved_other


@program
def saved_result_goes_through_unpack(m):
    a, = _leaves(m, A)
    with _hooks(m, lambda t: t, lambda t: t + 1):
        y = a.exp()
    return y.grad_fn._saved_result


@program
def saved_value_after_free_raises(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t):
        y = a * b
    y.sum().backward()
    return y.grad_fn._saved_self


@program
def packed_output_is_the_output(m):
    a, = _leaves(m, A)
    seen = []
    with _hooks(m, lambda t: seen.append(t) or t, lambda t: t):
        y = a.exp()
    return [t is y for t in seen]


@program
def packed_nonleaf_input_is_that_tensor(m):
    a, = _leaves(m, A)
    c = a * 1
    seen = []
    with _hooks(m, lambda t: seen.append(t) or t, lambda t: t):
        c * c
    return [t is c for t in seen]


@program
def clone_in_pack_allows_in_place_change(m):
    a, = _leaves(m, A)
    with _hooks(m, lambda t: t.clone(), lambda t: t):
        c = a * 1
        y = c * c
    with m.no_grad():
        c.add_(1)
    y.sum().backward()
    return a.grad


@program
def create_graph_through_unpacked_values(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t):
        y = (a * a * b).sum()
    g, = m.autograd.grad(y, a, create_graph=True)
    g.sum().backward()
    return g, a.grad, b.grad


@program
def create_graph_through_a_changed_unpack(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 2):
        y = (a * b).sum()
    g, = m.autograd.grad(y, a, create_graph=True)
    return g, m.autograd.grad(g.sum(), b)


@program
def create_graph_through_a_changed_leaf_unpack(m):
    a, = _leaves(m, A)
    with _hooks(m, lambda t: t, lambda t: t * 3):
        y = (a * a).sum()
    g, = m.autograd.grad(y, a, create_graph=True)
    g.sum().backward()
    return g, a.grad


@program
def create_graph_through_a_changed_output_unpack(m):
    a, = _leaves(m, A)
    with _hooks(m, lambda t: t, lambda t: t + 1):
        y = a.exp().sum()
    g, = m.autograd.grad(y, a, create_graph=True)
    return g, m.autograd.grad(g.sum(), a)


@program
def create_graph_function_with_changed_unpack(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 2):
        y = _square_fn(m).apply(a, b).sum()
    g, = m.autograd.grad(y, a, create_graph=True)
    return g, m.autograd.grad(g.sum(), [a, b])


def _function(m: Any, name: str = "F", **methods: Callable) -> type:
    """A Function subclass named ``name`` with the given static methods (forward,
    backward, vjp, setup_context ...)."""
    return type(name, (m.autograd.Function,),
                {k: staticmethod(f) for k, f in methods.items()})


def _double(ctx, x):
    return x * 2


def _same_grad(ctx, g):
    return g


def _square_fn(m):
    class Sq(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return 2 * g * x * w, g * x * x
    return Sq


@program
def function_saved_tensors_are_packed_after_forward(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append("a" if t is a else "b" if t is b else "?") or t,
                lambda t: seen.append("unpack") or t):
        y = _square_fn(m).apply(a, b)
    seen.append("backward")
    y.sum().backward()
    return seen, a.grad, b.grad


@program
def function_unpack_changes_what_backward_reads(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t + 1):
        y = _square_fn(m).apply(a, b)
    y.sum().backward()
    return a.grad, b.grad


@program
def function_saved_output_and_intermediate_are_packed(m):
    a, = _leaves(m, A)

    class G(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out, x * 2, None)
            return out

        @staticmethod
        def backward(ctx, g):
            out, _, none = ctx.saved_tensors
            return g * out * (none is None)
    seen = []
    with _hooks(m, lambda t: seen.append((t.requires_grad, t.grad_fn is not None)) or t,
                lambda t: t):
        y = G.apply(a)
    y.sum().backward()
    return seen, a.grad


@program
def function_nothing_packed_under_no_grad(m):
    a, b = _leaves(m, A, B)
    seen = []
    with _hooks(m, lambda t: seen.append(1) or t, lambda t: t):
        with m.no_grad():
            _square_fn(m).apply(a, b)
    return len(seen)


@program
def function_unpack_must_return_tensor(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: [t]):
        y = _square_fn(m).apply(a, b)
    y.sum().backward()


@program
def disable_raises_its_message_on_enter_of_hooks(m):
    with m.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        try:
            with _hooks(m, lambda t: t, lambda t: t):
                pass
        except RuntimeError as e:
            return str(e)


@program
def disable_inside_hooks_raises(m):
    with _hooks(m, lambda t: t, lambda t: t):
        with m.autograd.graph.disable_saved_tensors_hooks("nope"):
            pass


@program
def disable_lets_ops_run(m):
    a, b = _leaves(m, A, B)
    with m.autograd.graph.disable_saved_tensors_hooks("nope"):
        y = (a * b).sum()
    y.backward()
    return a.grad


@program
def disable_nested_restores_outer_message(m):
    g = m.autograd.graph
    out = []
    with g.disable_saved_tensors_hooks("outer"):
        with g.disable_saved_tensors_hooks("inner"):
            try:
                with _hooks(m, lambda t: t, lambda t: t):
                    pass
            except RuntimeError as e:
                out.append(str(e))
        try:
            with _hooks(m, lambda t: t, lambda t: t):
                pass
        except RuntimeError as e:
            out.append(str(e))
    with _hooks(m, lambda t: t, lambda t: t):
        out.append("ok")
    return out


@program
def disable_as_decorator(m):
    @m.autograd.graph.disable_saved_tensors_hooks("decorated")
    def f():
        with _hooks(m, lambda t: t, lambda t: t):
            pass
    try:
        f()
    except RuntimeError as e:
        return str(e)


@program
def save_on_cpu_gives_the_same_gradients(m):
    a, b = _leaves(m, A, B)
    with m.autograd.graph.save_on_cpu():
        y = ((a * b).exp() / b).sum()
    y.backward()
    return a.grad, b.grad


@program
def save_on_cpu_is_a_saved_tensors_hooks(m):
    g = m.autograd.graph
    return issubclass(g.save_on_cpu, g.saved_tensors_hooks)


@program
def save_on_cpu_pin_memory_argument(m):
    a, b = _leaves(m, A, B)
    with m.autograd.graph.save_on_cpu(pin_memory=False):
        y = (a * b).sum()
    y.backward()
    return a.grad


@program
def allow_mutation_uses_values_as_saved(m):
    a, = _leaves(m, A)
    with m.autograd.graph.allow_mutation_on_saved_tensors():
        c = a * 1
        y = c * c
        c.add_(1)
        y.sum().backward()
    return a.grad, c


@program
def allow_mutation_backward_outside_raises(m):
    a, = _leaves(m, A)
    with m.autograd.graph.allow_mutation_on_saved_tensors():
        c = a * 1
        y = c * c
    y.sum().backward()


@program
def in_place_change_of_saved_tensor_without_hooks_raises(m):
    a, = _leaves(m, A)
    c = a * 1
    y = c * c
    c.add_(1)
    y.sum().backward()


@program
def raw_saved_hooks_pack_now_unpack_in_backward(m):
    a, b = _leaves(m, A, B)
    y = a * b
    log = []
    y.grad_fn._raw_saved_self.register_hooks(lambda t: log.append("pack") or t,
                                             lambda t: log.append("unpack") or t * 10)
    log.append("registered")
    y.sum().backward()
    return log, a.grad, b.grad


@program
def raw_saved_hooks_twice_raises(m):
    a, b = _leaves(m, A, B)
    raw = (a * b).grad_fn._raw_saved_other
    raw.register_hooks(lambda t: t, lambda t: t)
    raw.register_hooks(lambda t: t, lambda t: t)


@program
def raw_saved_hooks_after_free_raises(m):
    a, b = _leaves(m, A, B)
    y = a * b
    y.sum().backward()
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


@program
def raw_saved_hooks_on_result(m):
    a, = _leaves(m, A)
    y = a.exp()
    y.grad_fn._raw_saved_result.register_hooks(lambda t: t, lambda t: t * 0 + 1)
    y.sum().backward()
    return a.grad


@program
def raw_saved_hooks_after_saved_tensors_hooks_raise(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t):
        y = a * b
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


@program
def raw_saved_hooks_unpack_must_give_tensor(m):
    a, b = _leaves(m, A, B)
    y = a * b
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: "no")
    y.sum().backward()


@program
def raw_saved_hooks_need_callables(m):
    a, b = _leaves(m, A, B)
    (a * b).grad_fn._raw_saved_self.register_hooks(1, 2)


@program
def raw_saved_hooks_other_entry_still_checked(m):
    a, = _leaves(m, A)
    c, d = a * 1, a * 2
    y = c * d
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t.clone(), lambda t: t)
    with m.no_grad():
        c.add_(1)
    y.sum().backward()
    return a.grad


@program
def raw_saved_hooks_other_entry_changed_raises(m):
    a, = _leaves(m, A)
    c, d = a * 1, a * 2
    y = c * d
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t.clone(), lambda t: t)
    with m.no_grad():
        d.add_(1)
    y.sum().backward()


@program
def saved_result_equals_but_is_not_the_output(m):
    a, = _leaves(m, A)
    y = a.exp()
    r = y.grad_fn._saved_result
    return r.equal(y), r is y


@program
def saved_self_of_a_leaf_is_the_leaf(m):
    a, = _leaves(m, A)
    return a.pow(2).grad_fn._saved_self is a


def _logged_hooks(m, log):
    return _hooks(m, lambda t: log.append(("pack", tuple(t.shape))) or t,
                  lambda t: log.append(("unpack", tuple(t.shape))) or t)


@program
def hooks_with_in_place_op(m):
    a, = _leaves(m, A)
    log = []
    with _logged_hooks(m, log):
        c = a * 1
        c.mul_(a)
        c.exp_()
    c.sum().backward()
    return sorted(log), a.grad


@program
def hooks_with_views(m):
    a, = _leaves(m, A)
    log = []
    with _logged_hooks(m, log):
        v = a.reshape(2, 2).t()
        y = (v * v).sum(0)
    y.sum().backward()
    return sorted(log), a.grad


@program
def hooks_with_variadic_cat(m):
    a, b = _leaves(m, A, B)
    log = []
    with _logged_hooks(m, log):
        y = m.cat([a.exp(), b * a]).prod()
    y.backward()
    return sorted(log), a.grad, b.grad


@program
def hooks_with_two_output_function(m):
    a, = _leaves(m, A)

    def forward(ctx, x):
        p, q = x * 2, x.exp()
        ctx.save_for_backward(q)
        return p, q

    def backward(ctx, gp, gq):
        (q,) = ctx.saved_tensors
        return gp * 2 + gq * q
    F = _function(m, forward=forward, backward=backward)
    log = []
    with _logged_hooks(m, log):
        p, q = F.apply(a)
    (p * q).sum().backward()
    return log, a.grad


@program
def hooks_with_retain_grad_and_tensor_hooks(m):
    a, b = _leaves(m, A, B)
    with _hooks(m, lambda t: t, lambda t: t * 2):
        c = a * b
        c.retain_grad()
        c.register_hook(lambda g: g + 1)
        y = (c * c).sum()
    y.backward()
    return c.grad, a.grad, b.grad


@program
def hooks_with_nn_functional(m):
    a, b = _leaves(m, A, B)
    F = m.nn.functional
    log = []
    with _logged_hooks(m, log):
        y = F.mse_loss(F.softplus(F.linear(a.reshape(2, 2), b.reshape(2, 2))), m.ones(2, 2))
    y.backward()
    return sorted(log), a.grad, b.grad


@program
def hooks_counted_per_backward_with_retain_graph(m):
    a, b = _leaves(m, A, B)
    log = []
    with _logged_hooks(m, log):
        y = ((a * b).sin() / b).sum()
    packs = len(log)
    y.backward(retain_graph=True)
    y.backward()
    return packs, len(log), a.grad


# --------------------------------------------------------------------------- versions
@program
def increment_version_counts(m):
    a, = _leaves(m, A)
    v0 = a._version
    m.autograd.graph.increment_version(a)
    m.autograd.graph.increment_version([a, a])
    return v0, a._version


@program
def increment_version_makes_backward_refuse(m):
    a, = _leaves(m, A)
    c = a * 1
    y = c * c
    m.autograd.graph.increment_version(c)
    y.sum().backward()


@program
def increment_version_of_unsaved_tensor_is_harmless(m):
    a, = _leaves(m, A)
    c = a * 1
    y = c + c
    m.autograd.graph.increment_version(c)
    y.sum().backward()
    return a.grad


@program
def increment_version_rejects_a_number(m):
    m.autograd.graph.increment_version(3)


# --------------------------------------------------------------------------- multi hooks
def _grads_log(log):
    return lambda gs: log.append([None if g is None else g.tolist() for g in gs])


@program
def multi_hook_all_gets_every_gradient_once(m):
    a, b, c = _leaves(m, A, B, A)
    log = []
    m.autograd.graph.register_multi_grad_hook((a, b, c), _grads_log(log))
    (a * b).sum().backward()
    return log


@program
def multi_hook_all_none_for_tensors_not_reached(m):
    a, b, c = _leaves(m, A, B, A)
    log = []
    m.autograd.graph.register_multi_grad_hook((a, b, c), _grads_log(log))
    (a * 2).sum().backward()
    (b * c).sum().backward()
    return log


@program
def multi_hook_removed(m):
    a, b = _leaves(m, A, B)
    log = []
    h = m.autograd.graph.register_multi_grad_hook((a, b), _grads_log(log))
    h.remove()
    (a * b).sum().backward()
    return log


@program
def multi_hook_any_called_once(m):
    a, b = _leaves(m, A, B)
    log = []
    m.autograd.graph.register_multi_grad_hook((a, b), lambda g: log.append(len(g)), mode="any")
    (a * b).sum().backward()
    (a * b).sum().backward()
    return log


@program
def multi_hook_on_nonleaves(m):
    a, b = _leaves(m, A, B)
    c, d = a * 1, b * 1
    log = []
    m.autograd.graph.register_multi_grad_hook((c, d), _grads_log(log))
    (c * d * 3).sum().backward()
    return log, a.grad


@program
def multi_hook_nonleaf_with_grad(m):
    a, b = _leaves(m, A, B)
    c, d = a * 1, b * 1
    log = []
    m.autograd.graph.register_multi_grad_hook((c, d), _grads_log(log))
    g = m.autograd.grad((c * d).sum(), [c])
    return log, g


@program
def multi_hook_undefined_gradient(m):
    a, b = _leaves(m, A, B)
    a2, b2 = a * 1, b * 1
    F = _function(m, forward=lambda ctx, x, y: x * 1, backward=lambda ctx, g: (g, None))
    log = []
    m.autograd.graph.register_multi_grad_hook((a2, b2), _grads_log(log))
    F.apply(a2, b2).sum().backward()
    return log


@program
def multi_hook_bad_mode(m):
    a, = _leaves(m, A)
    m.autograd.graph.register_multi_grad_hook((a,), lambda g: None, mode="some")


@program
def multi_hook_tensor_without_grad(m):
    a, = _leaves(m, A)
    m.autograd.graph.register_multi_grad_hook((a, m.tensor(B)), lambda g: None)


@program
def multi_hook_each_backward_separately(m):
    a, b = _leaves(m, A, B)
    log = []
    m.autograd.graph.register_multi_grad_hook((a, b), _grads_log(log))
    y = (a * b).sum()
    y.backward(retain_graph=True)
    y.backward()
    return log


# --------------------------------------------------------------------------- edges
@program
def gradient_edge_of_leaf(m):
    a, = _leaves(m, A)
    e = m.autograd.graph.get_gradient_edge(a)
    return _name(e.node), e.output_nr, e == m.autograd.graph.get_gradient_edge(a)


@program
def gradient_edge_of_nonleaf(m):
    a, = _leaves(m, A)
    c = a * 2
    e = m.autograd.graph.get_gradient_edge(c)
    return e.node is c.grad_fn, e.output_nr, len(e)


@program
def gradient_edge_requires_grad(m):
    m.autograd.graph.get_gradient_edge(m.tensor(A))


@program
def grad_wrt_edges(m):
    a, = _leaves(m, A)
    c = a * 1
    y = (c * c).sum()
    ge = m.autograd.graph.get_gradient_edge
    return m.autograd.grad(y, [ge(c), ge(a)])


@program
def grad_wrt_one_edge_with_grad_output(m):
    a, = _leaves(m, A)
    c = a * 1
    y = (c * c).sum()
    return m.autograd.grad(y, m.autograd.graph.get_gradient_edge(c), m.tensor(2.0))


@program
def grad_wrt_edge_and_tensor(m):
    a, b = _leaves(m, A, B)
    y = (a * b).sum()
    return m.autograd.grad(y, [m.autograd.graph.get_gradient_edge(a), b])


@program
def grad_wrt_unused_edge(m):
    a, b = _leaves(m, A, B)
    y = (a * 2).sum()
    return m.autograd.grad(y, [m.autograd.graph.get_gradient_edge(b)], allow_unused=True)


@program
def grad_wrt_unused_edge_raises(m):
    a, b = _leaves(m, A, B)
    m.autograd.grad((a * 2).sum(), [m.autograd.graph.get_gradient_edge(b)])


@program
def grad_wrt_edge_materialize_raises(m):
    a, b = _leaves(m, A, B)
    m.autograd.grad((a * 2).sum(), [m.autograd.graph.get_gradient_edge(b)],
                    materialize_grads=True)


@program
def edge_outlives_tensor(m):
    a, = _leaves(m, A)
    c = a * 3
    e = m.autograd.graph.get_gradient_edge(c)
    y = (c * c).sum()
    del c
    return m.autograd.grad(y, e)


@program
def backward_inputs_edge_fills_nothing(m):
    a, = _leaves(m, A)
    c = a * 1
    (c * c).sum().backward(inputs=[m.autograd.graph.get_gradient_edge(c)])
    return a.grad


@program
def grad_of_an_edge_output(m):
    a, = _leaves(m, A)
    c = a * 3
    return m.autograd.grad(m.autograd.graph.get_gradient_edge(c), a, m.ones(4))


@program
def grad_of_an_edge_output_needs_grad_outputs(m):
    a, = _leaves(m, A)
    m.autograd.grad(m.autograd.graph.get_gradient_edge(a * 3), a)


@program
def backward_from_an_edge(m):
    a, = _leaves(m, A)
    c = a.exp()
    m.autograd.backward(m.autograd.graph.get_gradient_edge(c), m.ones(4))
    return a.grad


@program
def backward_from_edges_and_tensors(m):
    a, b = _leaves(m, A, B)
    ge = m.autograd.graph.get_gradient_edge
    m.autograd.backward([ge(a * b), (a * a).sum()], [m.ones(4), None])
    return a.grad, b.grad


@program
def grad_of_a_leaf_edge_output(m):
    a, = _leaves(m, A)
    return m.autograd.grad(m.autograd.graph.get_gradient_edge(a), a, m.full((4,), 2.0))


@program
def grad_wrt_named_inputs(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad((a * b).sum(), {"a": a, "b": b})


@program
def grad_wrt_no_inputs_raises(m):
    a, = _leaves(m, A)
    m.autograd.grad((a * 2).sum(), [])


@program
def backward_inputs_named(m):
    a, b = _leaves(m, A, B)
    (a * b).sum().backward(inputs={"a": a})
    return a.grad, b.grad


# --------------------------------------------------------------------------- grad options
def _y(m):
    a, b = _leaves(m, A, B)
    return a, b, (a * a * b).sum()


@program
def grad_allow_unused(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)


@program
def grad_unused_raises(m):
    a, b = _leaves(m, A, B)
    m.autograd.grad((a * 2).sum(), [a, b])


@program
def grad_materialize(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)


@program
def grad_materialize_with_allow_unused_false(m):
    a, b = _leaves(m, A, B)
    m.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True, allow_unused=False)


@program
def grad_materialize_with_allow_unused_true(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True, allow_unused=True)


@program
def grad_batched_identity(m):
    a, = _leaves(m, A)
    return m.autograd.grad(a * 2, a, m.eye(4), is_grads_batched=True)


@program
def grad_batched_scalar_output(m):
    a, = _leaves(m, A)
    return m.autograd.grad((a * a).sum(), a, m.tensor([1.0, 2.0, 3.0]), is_grads_batched=True)


@program
def grad_batched_two_inputs(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad(a * b, [a, b], 2 * m.eye(4), is_grads_batched=True)


@program
def grad_batched_unused(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad(a * 2, [a, b], m.eye(4), is_grads_batched=True, allow_unused=True)


@program
def grad_batched_needs_grad_outputs(m):
    a, = _leaves(m, A)
    m.autograd.grad(a * 2, a, is_grads_batched=True)


@program
def grad_batched_wrong_shape(m):
    a, = _leaves(m, A)
    m.autograd.grad(a * 2, a, m.ones(4), is_grads_batched=True)


@program
def grad_batched_batch_sizes_differ(m):
    a, = _leaves(m, A)
    m.autograd.grad([a * 2, a.sum()], a, [m.eye(4), m.ones(3)], is_grads_batched=True)


@program
def grad_batched_frees_graph(m):
    a, = _leaves(m, A)
    y = a * a
    m.autograd.grad(y, a, m.eye(4), is_grads_batched=True)
    m.autograd.grad(y, a, m.eye(4), is_grads_batched=True)


@program
def grad_batched_retain_graph(m):
    a, = _leaves(m, A)
    y = a * a
    m.autograd.grad(y, a, m.eye(4), is_grads_batched=True, retain_graph=True)
    return m.autograd.grad(y, a, m.eye(4), is_grads_batched=True)


@program
def grad_batched_create_graph(m):
    a, = _leaves(m, A)
    g, = m.autograd.grad((a ** 3).sum(), a, m.tensor([1.0, 2.0]), is_grads_batched=True,
                         create_graph=True)
    return g, m.autograd.grad(g.sum(), a)


@program
def grad_of_nonscalar_needs_grad_outputs(m):
    a, = _leaves(m, A)
    m.autograd.grad(a * 2, a)


@program
def grad_outputs_shape_mismatch(m):
    a, = _leaves(m, A)
    m.autograd.grad(a * 2, a, m.ones(3))


@program
def grad_input_not_requiring_grad(m):
    a, = _leaves(m, A)
    m.autograd.grad((a * 2).sum(), m.tensor(B))


@program
def grad_output_not_requiring_grad(m):
    m.autograd.grad(m.tensor(A).sum(), m.tensor(B, requires_grad=True))


@program
def grad_retain_graph_twice(m):
    a, b, y = _y(m)
    g1 = m.autograd.grad(y, a, retain_graph=True)
    return g1, m.autograd.grad(y, b)


@program
def grad_twice_without_retain_raises(m):
    a, b, y = _y(m)
    m.autograd.grad(y, a)
    m.autograd.grad(y, b)


@program
def grad_create_graph_second_order(m):
    a, b, y = _y(m)
    g, = m.autograd.grad(y, a, create_graph=True)
    return g, m.autograd.grad(g.sum(), [a, b])


@program
def grad_does_not_touch_dot_grad(m):
    a, b, y = _y(m)
    m.autograd.grad(y, [a, b])
    return a.grad, b.grad


@program
def grad_multiple_outputs(m):
    a, b = _leaves(m, A, B)
    return m.autograd.grad([(a * b).sum(), (a * a).sum()], [a, b])


@program
def grad_with_same_input_twice(m):
    a, = _leaves(m, A)
    return m.autograd.grad((a * a).sum(), [a, a])


@program
def grad_of_nonleaf_input(m):
    a, = _leaves(m, A)
    c = a.exp()
    return m.autograd.grad((c * c).sum(), c)


# --------------------------------------------------------------------------- backward(inputs)
@program
def backward_inputs_leaf_subset(m):
    a, b, y = _y(m)
    y.backward(inputs=[a])
    return a.grad, b.grad


@program
def backward_inputs_single_tensor(m):
    a, b, y = _y(m)
    y.backward(inputs=b)
    return a.grad, b.grad


@program
def backward_inputs_nonleaf(m):
    a, = _leaves(m, A)
    c = a * 2
    (c * c).sum().backward(inputs=[c])
    return a.grad, c.grad


@program
def backward_inputs_nonleaf_and_leaf(m):
    a, = _leaves(m, A)
    c = a * 2
    (c * c).sum().backward(inputs=[c, a])
    return a.grad, c.grad


@program
def backward_inputs_empty_raises(m):
    a, b, y = _y(m)
    y.backward(inputs=[])


@program
def backward_inputs_accumulate(m):
    a, b, y = _y(m)
    y.backward(inputs=[a], retain_graph=True)
    y.backward(inputs=[a, b])
    return a.grad, b.grad


@program
def backward_inputs_unreached(m):
    a, b = _leaves(m, A, B)
    (a * 2).sum().backward(inputs=[a, b])
    return a.grad, b.grad


@program
def backward_inputs_no_requires_grad(m):
    a, = _leaves(m, A)
    (a * 2).sum().backward(inputs=[m.tensor(B)])


@program
def autograd_backward_function(m):
    a, b = _leaves(m, A, B)
    m.autograd.backward([(a * b).sum(), (a * a).sum()])
    return a.grad, b.grad


@program
def autograd_backward_grad_tensors(m):
    a, b = _leaves(m, A, B)
    m.autograd.backward([a * b], [m.tensor([1.0, 0.0, 2.0, 0.0])], inputs=[b])
    return a.grad, b.grad


@program
def autograd_backward_grad_count_mismatch(m):
    a, b = _leaves(m, A, B)
    m.autograd.backward([a * b, a], [m.ones(4)])


# --------------------------------------------------------------------------- Function
def _setup_style(m, log=None):
    class S(m.autograd.Function):
        @staticmethod
        def forward(x, k):
            if log is not None:
                log.append(("forward", m.is_grad_enabled()))
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            if log is not None:
                log.append(("setup", type(inputs).__name__, len(inputs), output.requires_grad,
                            ctx.needs_input_grad))
            x, k = inputs
            ctx.k = k
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.k * 2 * x / x / 2, None
    return S


@program
def setup_context_style_gradient(m):
    a, = _leaves(m, A)
    y = _setup_style(m).apply(a, 3.0)
    y.sum().backward()
    return y, a.grad


@program
def setup_context_call_order(m):
    a, = _leaves(m, A)
    log = []
    _setup_style(m, log).apply(a, 3.0)
    return log


@program
def setup_context_with_forward_taking_ctx_fails(m):
    S = _function(m, forward=_double, setup_context=lambda ctx, inputs, output: None,
                  backward=_same_grad)
    S.apply(m.tensor(A, requires_grad=True))


@program
def setup_context_several_outputs(m):
    a, b = _leaves(m, A, B)

    class S(m.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y, x + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)
            ctx.n = len(output)

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * y + g2, g1 * x + g2
    p, s = S.apply(a, b)
    (p + 2 * s).sum().backward()
    return a.grad, b.grad


@program
def function_vjp_alias(m):
    a, = _leaves(m, A)
    V = _function(m, forward=_double, vjp=lambda ctx, g: g * 2)
    return m.autograd.grad(V.apply(a).sum(), a)


@program
def function_backward_and_vjp_both_raise(m):
    a, = _leaves(m, A)
    V = _function(m, forward=_double, backward=_same_grad, vjp=_same_grad)
    m.autograd.grad(V.apply(a).sum(), a)


@program
def function_without_backward_raises(m):
    a, = _leaves(m, A)
    m.autograd.grad(_function(m, forward=_double).apply(a).sum(), a)


@program
def function_without_forward_raises(m):
    _function(m).apply(m.tensor(A, requires_grad=True))


@program
def function_jvp_not_implemented(m):
    _function(m, forward=_double).jvp(None, None)


@program
def function_jvp_message(m):
    try:
        _function(m).jvp(None, None)
    except NotImplementedError as e:
        return str(e)


def _needs(m, *args):
    seen = []

    class N(m.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            seen.append(ctx.needs_input_grad)
            return xs[0] * 1

        @staticmethod
        def backward(ctx, g):
            return (g,) + (None,) * (len(args) - 1)
    N.apply(*args)
    return seen


@program
def needs_input_grad_mixed(m):
    return _needs(m, m.tensor(A, requires_grad=True), m.tensor(B), 3.0)


@program
def needs_input_grad_none_require(m):
    return _needs(m, m.tensor(A), m.tensor(B))


@program
def needs_input_grad_under_no_grad(m):
    with m.no_grad():
        return _needs(m, m.tensor(A, requires_grad=True), m.tensor(B, requires_grad=True))


@program
def needs_input_grad_nonleaf(m):
    a, = _leaves(m, A)
    return _needs(m, a * 2, a.detach())


def _two_out(m, materialize):
    seen = []

    class T(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            out = 0
            for g, k in ((g1, 2), (g2, 3)):
                if g is not None:
                    out = out + g * k
            return out
    return T, seen


@program
def materialize_grads_default_zeros(m):
    a, = _leaves(m, A)
    T, seen = _two_out(m, True)
    p, _ = T.apply(a)
    p.sum().backward()
    return seen, a.grad


@program
def materialize_grads_false_gives_none(m):
    a, = _leaves(m, A)
    T, seen = _two_out(m, False)
    _, q = T.apply(a)
    q.sum().backward()
    return seen, a.grad


@program
def mark_non_differentiable_output(m):
    a, = _leaves(m, A)

    class ND(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = x * 0 + 1
            ctx.mark_non_differentiable(idx)
            return x.clone(), idx

        @staticmethod
        def backward(ctx, g, gi):
            return g
    v, i = ND.apply(a)
    v.sum().backward()
    return v.requires_grad, i.requires_grad, i.grad_fn is None, a.grad


@program
def mark_non_differentiable_only_output(m):
    a, = _leaves(m, A)

    def forward(ctx, x):
        out = x * 2
        ctx.mark_non_differentiable(out)
        return out
    y = _function(m, forward=forward, backward=_same_grad).apply(a)
    return y.requires_grad, y.grad_fn is None


def _once(m):
    class OD(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    return OD


@program
def once_differentiable_first_order(m):
    a, = _leaves(m, A)
    return m.autograd.grad(_once(m).apply(a).sum(), a)


@program
def once_differentiable_create_graph_gives_constant(m):
    a, = _leaves(m, A)
    g, = m.autograd.grad(_once(m).apply(a).sum(), a, create_graph=True)
    return g.requires_grad, g.grad_fn is None


@program
def once_differentiable_second_order_raises(m):
    a, = _leaves(m, A)
    g, = m.autograd.grad(_once(m).apply(a).sum(), a, create_graph=True)
    m.autograd.grad(g.sum(), a)


@program
def function_wrong_gradient_count(m):
    a, = _leaves(m, A)
    _function(m, forward=_double, backward=lambda ctx, g: (g, g)).apply(a).sum().backward()


@program
def function_trailing_none_gradients_ok(m):
    a, = _leaves(m, A)
    W = _function(m, forward=_double, backward=lambda ctx, g: (g * 2, None, None))
    W.apply(a).sum().backward()
    return a.grad


@program
def function_wrong_gradient_shape(m):
    a, = _leaves(m, A)
    _function(m, forward=_double, backward=lambda ctx, g: g[:2]).apply(a).sum().backward()


@program
def function_save_for_forward_accepted(m):
    a, = _leaves(m, A)

    def forward(ctx, x):
        ctx.save_for_forward(x)
        return x * 2
    return m.autograd.grad(_function(m, forward=forward, vjp=lambda ctx, g: g * 2).apply(a)
                           .sum(), a)


@program
def function_save_for_forward_rejects_numbers(m):
    def forward(ctx, x):
        ctx.save_for_forward(3)
        return x * 2
    _function(m, forward=forward, backward=_same_grad).apply(m.tensor(A, requires_grad=True))


@program
def function_ctx_attribute(m):
    a, = _leaves(m, A)

    class K(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None
    K.apply(a, 5.0).sum().backward()
    return a.grad


@program
def function_save_non_tensor_raises(m):
    def forward(ctx, x):
        ctx.save_for_backward(3)
        return x * 1
    _function(m, forward=forward, backward=_same_grad).apply(m.tensor(A, requires_grad=True))


@program
def function_saved_tensors_after_free(m):
    a, = _leaves(m, A)
    keep = []

    class K(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            keep.append(ctx)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    K.apply(a).sum().backward()
    return keep[0].saved_tensors


@program
def function_grad_fn_name(m):
    a, = _leaves(m, A)
    return _square_fn(m).apply(a, a).grad_fn.name()


@program
def function_apply_without_grad_has_no_grad_fn(m):
    y = _square_fn(m).apply(m.tensor(A), m.tensor(B))
    return y.requires_grad, y.grad_fn is None


# --------------------------------------------------------------------------- nodes
@program
def node_names_along_a_graph(m):
    a, b = _leaves(m, A, B)
    y = ((a * b).exp() + 1).sum()
    names, fn = [], y.grad_fn
    while fn is not None:
        names.append(_name(fn))
        fn = next((f for f, _ in fn.next_functions if f is not None), None)
    return names


@program
def node_next_functions_shape(m):
    a, b = _leaves(m, A, B)
    y = a * b.detach() + 2 * a
    return [[None if f is None else f.name(), n] for f, n in y.grad_fn.next_functions]


@program
def node_next_functions_of_leaf_edges(m):
    a, = _leaves(m, A)
    y = a * 2
    (acc, nr), = [e for e in y.grad_fn.next_functions if e[0] is not None]
    return _name(acc), nr, acc.variable is a, acc.next_functions


@program
def node_is_a_graph_node(m):
    a, = _leaves(m, A)
    return isinstance((a * 2).grad_fn, m.autograd.graph.Node)


@program
def node_metadata_persists(m):
    a, = _leaves(m, A)
    y = a * 2
    y.grad_fn.metadata["k"] = 1
    return y.grad_fn.metadata, (a * 3).grad_fn.metadata


@program
def node_prehook_scales_gradient(m):
    a, = _leaves(m, A)
    y = a * 2
    y.grad_fn.register_prehook(lambda gs: (gs[0] * 10,))
    y.sum().backward()
    return a.grad


@program
def node_prehook_sees_tuple(m):
    a, = _leaves(m, A)
    y = a * 2
    seen = []
    y.grad_fn.register_prehook(lambda gs: seen.append((type(gs).__name__, len(gs))))
    y.sum().backward()
    return seen


@program
def node_prehook_wrong_length(m):
    a, = _leaves(m, A)
    y = a * 2
    y.grad_fn.register_prehook(lambda gs: (gs[0], gs[0]))
    y.sum().backward()


@program
def node_prehook_removed(m):
    a, = _leaves(m, A)
    y = a * 2
    h = y.grad_fn.register_prehook(lambda gs: (gs[0] * 10,))
    h.remove()
    y.sum().backward()
    return a.grad


@program
def node_post_hook_sees_inputs_and_outputs(m):
    a, b = _leaves(m, A, B)
    y = a * b
    seen = []
    y.grad_fn.register_hook(lambda gi, go: seen.append((len(gi), len(go))))
    y.sum().backward()
    return seen


@program
def node_post_hook_replaces(m):
    a, b = _leaves(m, A, B)
    y = a * b
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))
    y.sum().backward()
    return a.grad, b.grad


@program
def node_hooks_order(m):
    a, = _leaves(m, A)
    y = a * 2
    log = []
    y.grad_fn.register_hook(lambda gi, go: log.append("post"))
    y.grad_fn.register_prehook(lambda go: log.append("pre"))
    y.register_hook(lambda g: log.append("tensor"))
    y.sum().backward()
    return log


@program
def node_call_directly(m):
    a, = _leaves(m, A)
    return (a * 3).grad_fn(m.ones(4))


@program
def accumulate_grad_prehook(m):
    a, = _leaves(m, A)
    y = a * 2
    acc = y.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda gs: (gs[0] + 1,))
    y.sum().backward()
    return a.grad


@program
def tensor_hook_replaces_gradient(m):
    a, = _leaves(m, A)
    a.register_hook(lambda g: g * 3)
    (a * 2).sum().backward()
    return a.grad


@program
def tensor_hook_on_nonleaf(m):
    a, = _leaves(m, A)
    c = a * 2
    c.register_hook(lambda g: g + 1)
    (c * c).sum().backward()
    return a.grad


@program
def retain_grad_nonleaf(m):
    a, = _leaves(m, A)
    c = a * 2
    c.retain_grad()
    (c * c).sum().backward()
    return c.grad, c.retains_grad


@program
def post_accumulate_grad_hook(m):
    a, = _leaves(m, A)
    log = []
    a.register_post_accumulate_grad_hook(lambda t: log.append(t.grad.tolist()))
    (a * 2).sum().backward()
    return log


def _hooked_chain(m, log):
    a, = _leaves(m, A)
    c = a * 2
    c.register_hook(lambda g: log.append("c tensor"))
    c.grad_fn.register_prehook(lambda gs: log.append("c pre"))
    c.grad_fn.register_hook(lambda gi, go: log.append("c post"))
    return a, c, (c * c).sum()


@program
def hooks_when_input_is_the_hooked_tensor(m):
    log = []
    a, c, y = _hooked_chain(m, log)
    g = m.autograd.grad(y, c)
    return log, g


@program
def hooks_when_backward_inputs_is_the_hooked_tensor(m):
    log = []
    a, c, y = _hooked_chain(m, log)
    y.backward(inputs=[c])
    return log, a.grad


@program
def hooks_when_input_is_beyond_the_hooked_tensor(m):
    log = []
    a, c, y = _hooked_chain(m, log)
    m.autograd.grad(y, a)
    return log


@program
def hooks_of_a_branch_not_leading_to_inputs(m):
    a, b = _leaves(m, A, B)
    log = []
    d = b * 3
    d.register_hook(lambda g: log.append("d"))
    m.autograd.grad((a * 2 + d).sum(), a)
    return log


@program
def tensor_hook_then_in_place_change(m):
    a, = _leaves(m, A)
    c = a * 2
    log = []
    c.register_hook(lambda g: log.append(g.tolist()))
    c.mul_(3)
    c.sum().backward()
    return log, a.grad


@program
def tensor_hook_after_in_place_change(m):
    a, = _leaves(m, A)
    c = a * 2
    c.mul_(3)
    log = []
    c.register_hook(lambda g: log.append(g.tolist()) or g * 2)
    c.sum().backward()
    return log, a.grad


@program
def retain_grad_then_in_place_change(m):
    a, = _leaves(m, A)
    c = a * 2
    c.retain_grad()
    c.mul_(3)
    (c * c).sum().backward()
    return c.grad, a.grad


@program
def hook_returning_wrong_shape_raises(m):
    a, = _leaves(m, A)
    a.register_hook(lambda g: g[:2])
    (a * 2).sum().backward()


@program
def hook_on_tensor_without_grad_raises(m):
    m.tensor(A).register_hook(lambda g: g)


@program
def hooks_run_in_registration_order(m):
    a, = _leaves(m, A)
    log = []
    a.register_hook(lambda g: log.append(1) or g * 2)
    a.register_hook(lambda g: log.append(2) or g + 1)
    (a * 1).sum().backward()
    return log, a.grad


@program
def hook_removed_inside_backward_still_runs_once(m):
    a, = _leaves(m, A)
    log = []
    handles = []

    def hook(g):
        log.append(1)
        handles[0].remove()
    handles.append(a.register_hook(hook))
    (a * 1).sum().backward()
    (a * 1).sum().backward()
    return log


# --------------------------------------------------------------------------- anomaly mode
@program
def anomaly_nan_message(m):
    import warnings

    a, = _leaves(m, A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            try:
                m.autograd.grad((a * 0).sqrt().sum(), a)
            except RuntimeError as e:
                return str(e)


@program
def anomaly_check_nan_false(m):
    import warnings

    a, = _leaves(m, A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly(check_nan=False):
            g, = m.autograd.grad((a * 0).sqrt().sum(), a)
            state = (m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled())
    return g.isnan().tolist(), state, m.is_anomaly_enabled()


@program
def anomaly_off_gives_nan(m):
    a, = _leaves(m, A)
    g, = m.autograd.grad((a * 0).sqrt().sum(), a)
    return g.isnan().tolist()


@program
def anomaly_set_detect_as_context(m):
    with m.autograd.set_detect_anomaly(True):
        inside = m.is_anomaly_enabled()
    return inside, m.is_anomaly_enabled()


@program
def anomaly_set_detect_check_nan(m):
    with m.autograd.set_detect_anomaly(True, check_nan=False):
        inside = m.is_anomaly_check_nan_enabled()
    return inside, m.is_anomaly_check_nan_enabled()


@program
def anomaly_set_detect_as_call(m):
    m.autograd.set_detect_anomaly(True)
    on = m.is_anomaly_enabled()
    m.autograd.set_detect_anomaly(False)
    return on, m.is_anomaly_enabled()


@program
def anomaly_nan_in_custom_function(m):
    import warnings

    a, = _leaves(m, A)
    N = _function(m, "N", forward=lambda ctx, x: x * 1,
                  backward=lambda ctx, g: g * float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            try:
                N.apply(a).sum().backward()
            except RuntimeError as e:
                return str(e)


@program
def anomaly_no_nan_no_error(m):
    import warnings

    a, = _leaves(m, A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            return m.autograd.grad((a * a).sum(), a)


def _anomaly_warning(m, make):
    import warnings

    a, = _leaves(m, A)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with m.autograd.detect_anomaly(check_nan=False):
            y = make(m, a)
            try:
                y.sum().backward()
            except Exception as e:  # noqa: BLE001 - its type is part of the outcome
                err = type(e).__name__
    found = [str(w.message).split("\n")[0] for w in caught if "Error detected" in str(w.message)]
    return err, found, "traceback_" in y.grad_fn.metadata


@program
def anomaly_error_in_function_backward_names_the_node(m):
    def backward(ctx, g):
        raise ValueError("bad")
    F = _function(m, forward=lambda ctx, x: x * 1, backward=backward)
    return _anomaly_warning(m, lambda m, a: F.apply(a))


@program
def anomaly_error_in_op_backward_names_the_node(m):
    def make(m, a):
        y = (a * 2).exp()
        y.sum().backward(retain_graph=False)   # the second backward finds it freed
        return y
    return _anomaly_warning(m, make)


@program
def anomaly_keeps_forward_traceback(m):
    import warnings

    a, = _leaves(m, A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            y = a * 2
    z = a * 2
    tb = y.grad_fn.metadata["traceback_"]
    return isinstance(tb, list), "anomaly_keeps_forward_traceback" in "".join(tb), \
        "traceback_" in z.grad_fn.metadata


# --------------------------------------------------------------------------- Variable
@program
def variable_makes_a_tensor(m):
    v = m.autograd.Variable(m.tensor(A), requires_grad=True)
    return v, v.is_leaf, isinstance(m.tensor(A), m.autograd.Variable)


@program
def variable_shares_storage(m):
    t = m.tensor(A)
    v = m.autograd.Variable(t)
    with m.no_grad():
        v.mul_(2)
    return t, v is t


@program
def variable_rejects_lists(m):
    m.autograd.Variable(A)


@program
def variable_empty(m):
    return m.autograd.Variable()


@program
def variable_backward(m):
    v = m.autograd.Variable(m.tensor(A), requires_grad=True)
    (v * v).sum().backward()
    return v.grad


# --------------------------------------------------------------------------- grad mode
@program
def no_grad_inside_enable_grad(m):
    a, = _leaves(m, A)
    with m.no_grad():
        with m.enable_grad():
            y = a * 2
    return y.requires_grad


@program
def set_grad_enabled_false(m):
    a, = _leaves(m, A)
    with m.set_grad_enabled(False):
        y = a * 2
    return y.requires_grad, m.is_grad_enabled()


@program
def inference_mode_tensors(m):
    a, = _leaves(m, A)
    with m.inference_mode():
        y = a * 2
    return y.requires_grad, y.is_inference()


@program
def no_grad_decorator(m):
    a, = _leaves(m, A)

    @m.no_grad()
    def f(x):
        return x * 2
    return f(a).requires_grad


def same(x: Any, y: Any) -> bool:
    """Two outcomes agree (floats to 1e-9 relative)."""
    if isinstance(x, float) and isinstance(y, float):
        return bool(np.isclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    return x == y


def compare_all(torch: Any, sg: Any, names: Any = None) -> dict[str, tuple]:
    """``{name: (torch's outcome, symgrad's)}`` for the programs that disagree."""
    diffs = {}
    for name in names or PROGRAMS:
        fn = PROGRAMS[name]
        t, s = outcome(torch, fn), outcome(sg, fn)
        if not same(t, s):
            diffs[name] = (t, s)
    return diffs
