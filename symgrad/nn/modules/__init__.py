"""The layer classes of ``symgrad.nn``, one module per kind (as PyTorch's ``nn.modules``)."""

from symgrad.nn.modules.module import Module
from symgrad.nn.modules.container import (ModuleDict, ModuleList, ParameterDict,
                                          ParameterList, Sequential)
from symgrad.nn.modules.linear import Bilinear, Identity, Linear
from symgrad.nn.modules.flatten import Flatten, Unflatten
from symgrad.nn.modules.dropout import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d,
                                        FeatureAlphaDropout)
from symgrad.nn.modules.activation import *
from symgrad.nn.modules.activation import __all__ as _activations
from symgrad.nn.modules.loss import *
from symgrad.nn.modules.loss import __all__ as _losses
from symgrad.nn.modules.normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, Embedding,
                                              EmbeddingBag, GroupNorm, InstanceNorm1d,
                                              InstanceNorm2d,
                                              InstanceNorm3d, LayerNorm, RMSNorm)
from symgrad.nn.modules.distance import CosineSimilarity, PairwiseDistance
from symgrad.nn.modules.fold import Fold, Unfold
from symgrad.nn.modules.padding import *
from symgrad.nn.modules.padding import __all__ as _pads
from symgrad.nn.modules.conv import *
from symgrad.nn.modules.conv import __all__ as _convs
from symgrad.nn.modules.pooling import *
from symgrad.nn.modules.pooling import __all__ as _pools
from symgrad.nn.modules.transformer import *
from symgrad.nn.modules.transformer import __all__ as _transformers
from symgrad.nn.modules.rnn import *
from symgrad.nn.modules.rnn import __all__ as _rnns
from symgrad.nn.modules.lazy import *
from symgrad.nn.modules.lazy import __all__ as _lazies

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Identity",
           "Linear", "Bilinear", "Flatten", "Unflatten", "Dropout", "Dropout1d", "Dropout2d",
           "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "LayerNorm", "Embedding",
           "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "EmbeddingBag", "CosineSimilarity",
           "PairwiseDistance",
           "Fold", "Unfold", *_pads,
           *_activations, *_losses, *_convs, *_pools,
           *_transformers, *_rnns, *_lazies]
