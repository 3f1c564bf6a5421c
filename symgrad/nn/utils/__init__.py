"""``symgrad.nn.utils``: gradient clipping, parameter/vector conversion, padding of
variable-length sequences (``nn.utils.rnn.pad_sequence``)."""

from symgrad.nn.utils import rnn
from symgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from symgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "rnn"]
