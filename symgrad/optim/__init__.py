"""``symgrad.optim``: PyTorch's optimizers with PyTorch's update formulas.

>>> import symgrad as torch
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = torch.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
Parameter containing:
tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from symgrad.optim.optimizer import Optimizer
from symgrad.optim.sgd import SGD
from symgrad.optim.adam import Adam, AdamW
from symgrad.optim.rmsprop import RMSprop
from symgrad.optim.adagrad import Adagrad
from symgrad.optim.adadelta import Adadelta
from symgrad.optim.adamax import Adamax
from symgrad.optim.nadam import NAdam
from symgrad.optim.radam import RAdam
from symgrad.optim.rprop import Rprop
from symgrad.optim.asgd import ASGD
from symgrad.optim.lbfgs import LBFGS
from symgrad.optim import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS", "lr_scheduler", "swa_utils"]
