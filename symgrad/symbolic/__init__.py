"""The symbolic side: SymPy mirrors of recorded graphs and their exact derivatives.

``symbols`` makes symbolic tensors, ``mirror`` replays a numeric graph with op mirrors,
``gradient`` / ``jacobian`` / ``hessian`` / ``directional`` differentiate with
``sympy.diff``, and ``evaluate`` gives their exact values at a point. Nothing here reads
a VJP rule.

Results are symbolic tensors (entries SymPy expressions, numbers exact rationals):
``sympy.Matrix(H)``, ``sympy.sympify(g)``, ``sympy.latex`` and ``sympy.lambdify`` take
them as they are.
"""

from symgrad.symbolic.derive import (directional, evaluate, gradient, hessian, jacobian)
from symgrad.symbolic.mirror import MirrorInfo, info, mirror
from symgrad.symbolic.symbols import symbols

__all__ = ["symbols", "mirror", "gradient", "jacobian", "hessian", "directional", "evaluate",
           "info", "MirrorInfo"]
