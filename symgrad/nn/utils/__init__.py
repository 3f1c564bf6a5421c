"""``symgrad.nn.utils``: gradient clipping, parameter/vector conversion, padding of
variable-length sequences (``nn.utils.rnn.pad_sequence``), parametrizations (``parametrize``,
``parametrizations.weight_norm`` / ``spectral_norm``)."""

from symgrad.nn.utils import parametrizations, parametrize, rnn
from symgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from symgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from symgrad.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "rnn", "parametrize", "parametrizations", "weight_norm",
           "remove_weight_norm"]
