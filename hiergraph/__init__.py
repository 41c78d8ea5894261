"""hiergraph: BUGS-language hierarchical models, compiled from a graph into a Gibbs sampler.

The flow, one module per step: text -> AST (:mod:`parser`) -> model graph (:mod:`binder`,
:mod:`model_graph`) -> checks; the public entry point is :func:`compile_model`.
"""

from .api import CheckReport, Model, compile_model
from .errors import HiergraphError

__version__ = "0.1.0"
__all__ = ["compile_model", "Model", "CheckReport", "HiergraphError", "__version__"]
