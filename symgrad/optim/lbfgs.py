"""``LBFGS``: limited-memory BFGS over all parameters as one flat vector, with an optional
strong-Wolfe line search; each ``step(closure)`` runs up to ``max_iter`` iterations."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterable

import numpy as np

from symgrad.autograd.grad_mode import enable_grad, no_grad
from symgrad.optim.optimizer import Optimizer, write_
from symgrad.optim.wolfe import axpy, dot, strong_wolfe
from symgrad.tensor import Tensor

__all__ = ["LBFGS"]

#: The per-step state kept between calls of ``step`` (besides the counters).
_CARRIED = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")


class LBFGS(Optimizer):
    """PyTorch's L-BFGS (after minFunc): the two-loop recursion over the last
    ``history_size`` curvature pairs, a first step of ``min(1, 1 / |g|_1) lr``, and stopping
    when ``|g|_inf <= tolerance_grad`` or the step or loss change is below
    ``tolerance_change``. One parameter group only; the closure is required."""

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ------------------------------------------------------------ the flat vector
    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad._data.reshape(-1) for p in self._params])

    def _add(self, t: float, d: np.ndarray) -> None:
        """``params += t d`` (``d`` flat)."""
        offset = 0
        for p in self._params:
            n = p._data.size
            write_(p, axpy(p._data, t, d[offset:offset + n].reshape(p._data.shape)))
            offset += n

    def _evaluate_at(self, closure: Callable[[], Any], x: list[np.ndarray], t: float,
                     d: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and flat gradient at ``x + t d``; the parameters are put back to ``x``."""
        self._add(t, d)
        with enable_grad():
            loss = float(closure())
        g = self._flat_grad()
        for p, value in zip(self._params, x):
            write_(p, value)
        return loss, g

    def _direction(self, state: dict[str, Any], g: np.ndarray, al: list) -> np.ndarray:
        """Record the last curvature pair (if ``y.s > 1e-10``) and return ``-H g`` by the
        two-loop recursion."""
        y = g - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = dot(y, s)
        dirs, stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        if ys > 1e-10:
            if len(dirs) == self.param_groups[0]["history_size"]:
                del dirs[0], stps[0], ro[0]
            dirs.append(y)
            stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / dot(y, y)
        q = -g
        for i in range(len(dirs) - 1, -1, -1):
            al[i] = dot(stps[i], q) * ro[i]
            q = axpy(q, -al[i], dirs[i])
        r = q * state["H_diag"]
        for i in range(len(dirs)):
            be = dot(dirs[i], r) * ro[i]
            r = axpy(r, al[i] - be, stps[i])
        return r

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; ``closure`` (zero the gradients, compute
        the loss, backward, return the loss) is called for each evaluation."""
        if closure is None:
            raise TypeError("LBFGS.step() missing 1 required positional argument: 'closure'")
        with no_grad():
            return self._run(closure)

    def _run(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss
        carried = {k: _unwrap(state.get(k)) for k in _CARRIED}
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                carried.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                d = self._direction(carried, g,
                                    state.setdefault("al", [None] * group["history_size"]))
            carried["prev_flat_grad"] = g.copy()
            carried["prev_loss"] = loss
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            carried["d"], carried["t"] = d, t
            gtd = dot(g, d)
            if gtd > -tol_change:
                break
            done = 0
            if group["line_search_fn"] is not None:
                if group["line_search_fn"] != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x0 = [p._data.copy() for p in self._params]
                loss, g, t, done = strong_wolfe(
                    lambda x, t_, d_: self._evaluate_at(closure, x, t_, d_), x0, t, d, loss,
                    g, gtd, max_ls=max_eval - evals)
                self._add(t, d)
                at_optimum = np.abs(g).max() <= tol_grad
            else:
                self._add(t, d)
                at_optimum = False
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    g = self._flat_grad()
                    at_optimum = np.abs(g).max() <= tol_grad
                    done = 1
            carried["d"], carried["t"] = d, t
            evals += done
            state["func_evals"] += done
            if (n_iter == max_iter or evals >= max_eval or at_optimum
                    or np.abs(d * t).max() <= tol_change
                    or abs(loss - carried["prev_loss"]) < tol_change):
                break
        for k in _CARRIED:
            state[k] = _wrap(carried[k])
        return orig_loss


def _unwrap(value: Any) -> Any:
    """State as numpy (vectors) and floats, from what ``_wrap`` stored."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _wrap(value: Any) -> Any:
    """Vectors kept in the state as tensors (as PyTorch keeps them)."""
    if isinstance(value, np.ndarray) and value.ndim:
        return Tensor._wrap(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return float(value) if isinstance(value, np.floating) else value
