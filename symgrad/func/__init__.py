"""``symgrad.func``: PyTorch's ``torch.func`` function transforms.

>>> import symgrad as sg
>>> from symgrad.func import grad, vmap
>>> x = sg.tensor([0.0, 1.0])
>>> grad(lambda x: x.sin().sum())(x)
tensor([1.0000, 0.5403])
>>> vmap(grad(lambda w, x: (w * x).sum()), in_dims=(None, 0))(x, sg.eye(2))
tensor([[1., 0.],
        [0., 1.]])

Everything runs on the reverse-mode graph (``jvp`` and ``jacfwd`` by the double-vjp trick)
and ``vmap`` is a loop over the batch, not a vectorisation; see the modules for why.
"""

from symgrad.func._transforms import (grad, grad_and_value, hessian, jacfwd, jacrev, jvp,
                                      linearize, vjp)
from symgrad.func._functional_call import functional_call, stack_module_state
from symgrad.func._vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "linearize", "vmap", "functional_call", "stack_module_state"]
