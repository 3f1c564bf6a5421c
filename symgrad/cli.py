"""The ``symgrad`` command: ``verify`` (built-in cases), ``rules`` (the op table's proofs),
``tutorial`` (the autograd tutorial replayed).

Exit status: 0 when everything agrees, 1 when something disagrees, 2 for bad usage (one
line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


class UsageError(Exception):
    """Bad command-line usage: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and exit(2)
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symgrad", description="Cross-check reverse-mode autodiff against exact "
                "SymPy derivatives.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    v = sub.add_parser("verify", help="run the built-in verification cases (tutorial first)")
    v.add_argument("--case", action="append", metavar="NAME",
                   help="run only this case (repeatable); see --list")
    v.add_argument("--list", action="store_true", help="list the cases and exit")
    v.add_argument("--json", action="store_true", help="print the results as JSON")
    v.add_argument("--verbose", "-v", action="store_true",
                   help="print every case's full report, not only the summary")
    v.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop after this long and report the cases finished so far")
    v.add_argument("--graph", metavar="DIR",
                   help="draw each case's recorded graph into DIR (<case>.dot, and .svg when "
                   "Graphviz 'dot' is installed); disagreeing nodes are red")
    r = sub.add_parser("rules", help="prove every op's VJP rule against sympy.diff of its mirror")
    r.add_argument("--op", action="append", metavar="NAME", help="only this op (repeatable)")
    r.add_argument("--json", action="store_true", help="print the results as JSON")
    r.add_argument("--points", type=int, default=20, help="sample points when SymPy cannot "
                   "decide (default 20)")
    r.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop after this long and report the ops finished so far")
    sub.add_parser("tutorial", help="replay the PyTorch autograd tutorial's cells on symgrad")
    return p


def _verify(args: argparse.Namespace) -> int:
    from symgrad.verify import cases

    if args.list:
        if args.json:
            print(json.dumps([{"name": c.name, "title": c.title} for c in cases.CASES.values()],
                             indent=2))
            return 0
        for c in cases.CASES.values():
            print(f"{c.name:<30} {c.title}")
        return 0
    names = args.case or list(cases.CASES)
    unknown = [n for n in names if n not in cases.CASES]
    if unknown:
        raise UsageError(f"unknown case {unknown[0]!r}; `symgrad verify --list` shows the cases")
    graph_dir = _graph_dir(args.graph) if args.graph is not None else None
    results, stopped = _run_bounded(cases.run, names, args.timeout,
                                    progress=None if args.json else "verify")
    if graph_dir is not None:
        _write_graphs(results, graph_dir)
    ok = all(r.ok for r in results) and stopped is None
    if args.json:
        print(_json({"ok": ok, "complete": stopped is None, "stopped": stopped,
                     "cases": [r.to_dict() for r in results]}))
        return _status(ok, stopped)
    if args.verbose or args.case:
        for r in results:
            print(r.details())
            print()
    print(f"{'case':<30} {'result':<10} {'checks':>7} {'worst ulps':>11} {'time':>7}")
    for r in results:
        print(f"{r.name:<30} {'agree' if r.ok else 'DISAGREES':<10} "
              f"{r.n_passed:>3}/{r.n_checks:<3} {r.worst_ulps:>11.1f} {r.seconds:>6.2f}s")
        if not r.ok and not (args.verbose or args.case):
            for line in r.details().splitlines()[1:]:
                if "FAIL" in line or "FOUND" in line or "error" in line or "DISAGREES" in line:
                    print(f"    {line.strip()}")
    n_bad = sum(not r.ok for r in results)
    if stopped is not None:
        print(f"{stopped}: {len(results)} of {len(names)} cases ran "
              f"({len(results) - n_bad} agree); the rest did not run.")
    else:
        print(f"{len(results) - n_bad} of {len(results)} cases agree." if n_bad else
              f"All {len(results)} cases agree with the exact derivatives.")
    return _status(ok, stopped)


def _rules(args: argparse.Namespace) -> int:
    from symgrad.ops import OPS
    from symgrad.verify.rules import check_rules

    if args.op:
        unknown = [n for n in args.op if n not in OPS]
        if unknown:
            import difflib

            near = difflib.get_close_matches(unknown[0], list(OPS), n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(f"unknown op {unknown[0]!r}; {hint}(`symgrad rules` without "
                             "--op lists every op it checks)")
        idle = [n for n in args.op if not OPS[n].differentiable or OPS[n].mirror is None]
        if idle:
            raise UsageError(f"op {idle[0]!r} is not differentiable: it has no VJP rule to "
                             "compare with a mirror")
    if args.points < 1:
        raise UsageError("--points must be at least 1")
    names = args.op or [n for n, op in OPS.items() if op.differentiable and op.mirror is not None]
    results, stopped = _run_bounded(
        lambda n: check_rules([n], points=args.points)[0], names, args.timeout,
        progress=None if args.json else "rules")
    ok = all(r.ok for r in results) and stopped is None
    if args.json:
        print(_json({"ok": ok, "complete": stopped is None, "stopped": stopped,
                     "ops": [r.to_dict() for r in results]}))
        return _status(ok, stopped)
    print(f"{'op':<36} {'kind':<12} {'verdict':<10} {'time':>7}  detail")
    for r in results:
        print(f"{r.op:<36} {r.kind:<12} {r.verdict:<10} {r.seconds:>6.2f}s  {r.detail}")
    counts = {v: sum(r.verdict == v for r in results) for v in ("proved", "agree", "MISMATCH")}
    print(f"{len(results)} rules: {counts['proved']} proved, {counts['agree']} agree at sampled "
          f"points, {counts['MISMATCH']} mismatch.")
    if stopped is not None:
        print(f"{stopped}: {len(results)} of {len(names)} ops checked; the rest did not run.")
    return _status(ok, stopped)


class _Timeout(BaseException):
    """Raised by the --timeout alarm; a BaseException so no case's error handling eats it."""


def _graph_dir(arg: str) -> Path:
    """The --graph directory, created now so a bad path fails before the cases run."""
    d = Path(arg)
    if d.exists() and not d.is_dir():
        raise UsageError(f"--graph: {arg!r} exists and is not a directory")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--graph: cannot create directory {arg!r} ({e.strerror or e})") \
            from None
    return d


def _write_graphs(results, graph_dir: Path) -> None:
    """DIR/<case>.dot for every case, rendered to .svg when Graphviz is installed."""
    import shutil

    from symgrad import viz
    from symgrad.verify.report import Report

    have_dot = shutil.which("dot") is not None
    for r in results:
        if r.graph is None:
            text = viz._note(f"{r.name}: no graph recorded" + (f" ({r.error})" if r.error
                                                               else ""))
        else:
            found = Report(title=r.name, mode="case",
                           findings=[f for rep in r.reports for f in rep.findings])
            text = viz.to_dot(r.graph, report=found, names=r.graph_names)
        if not have_dot:
            (graph_dir / f"{r.name}.dot").write_text(text, encoding="utf-8")
            continue
        try:
            viz.render(text, graph_dir / r.name, "svg")
        except RuntimeError as e:
            print(f"symgrad: note: {e}", file=sys.stderr)
    if not have_dot:
        print(f"symgrad: note: Graphviz 'dot' not found, so only .dot files were written to "
              f"{graph_dir} (install Graphviz, e.g. the Debian package 'graphviz', for .svg)",
              file=sys.stderr)


def _progress_bar(total: int, label: str | None):
    """A tqdm bar on stderr when it is a terminal and tqdm is installed, else None."""
    if label is None or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label, unit="case" if label == "verify" else "op",
                file=sys.stderr, leave=False, dynamic_ncols=True)


def _run_bounded(run_one, names, timeout, progress: str | None = None):
    """Run ``run_one`` over ``names``; stop on Ctrl-C or after ``timeout`` seconds and
    return what finished, with the reason for stopping (None when complete). With
    ``progress`` (a label) a progress bar is shown on a terminal's stderr."""
    import signal
    import threading
    import time

    results = []
    deadline = None if timeout is None else time.monotonic() + timeout
    use_alarm = timeout is not None and threading.current_thread() is threading.main_thread()
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be positive")

    def on_alarm(*_):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, on_alarm) if use_alarm else None
    bar = _progress_bar(len(names), progress)
    try:
        for name in names:
            if bar is not None:
                bar.set_postfix_str(str(name), refresh=True)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return results, f"timed out after {timeout:g}s"
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, left)
            results.append(run_one(name))
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if bar is not None:
                bar.update(1)
        return results, None
    except _Timeout:
        return results, f"timed out after {timeout:g}s"
    except KeyboardInterrupt:
        return results, "interrupted"
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        if bar is not None:
            bar.close()


def _json(data) -> str:
    """Strict JSON (inf and nan as strings), whichever record a value came from."""
    from symgrad.verify.report import json_safe

    return json.dumps(json_safe(data), indent=2, allow_nan=False, default=str)


def _status(ok: bool, stopped: str | None) -> int:
    if stopped == "interrupted":
        return 130
    return 0 if ok else 1


def _tutorial(args: argparse.Namespace) -> int:
    from symgrad.verify.tutorial import replay

    return 0 if replay(sys.stdout) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.version:
            import symgrad

            print(f"symgrad {symgrad.__version__}")
            return 0
        if args.command is None:
            raise UsageError("missing command: use one of verify, rules, tutorial "
                             "(symgrad --help)")
        return {"verify": _verify, "rules": _rules, "tutorial": _tutorial}[args.command](args)
    except UsageError as e:
        print(f"symgrad: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
