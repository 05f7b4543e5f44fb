"""lnp_brian: heterogeneous recurrent spiking networks in Brian2, Lyapunov exponents and
Lyapunov Noise Pruning.

Data flows one way: model files -> :class:`ModelSpec` -> :class:`Network` (plain arrays) ->
:class:`Simulator` (runtime, cpp_standalone or cuda_standalone; compiled once, re-run with
new values) -> :class:`SimResult` -> analysis and plots.
"""

__version__ = "0.1.0"

from .model import ModelError, ModelSpec, load_model, shipped_models
from .distributions import Distribution
from .network import Network, NetworkFileError, build_network
from .inputs import OUNoise, PoissonNoise, PoissonStimulus, Stimulus, default_input
from .backends import (DEVICES, BackendError, GPUUnavailable, Simulator, TopologyMismatch,
                       compile_count, simulate, versions)
from .results import SimResult
from .lyapunov import finite_size_exponents, max_exponent, per_neuron_exponents
from .probe import NoiseProbe
from . import datasets, metrics, plots, readout

__all__ = [
    "__version__", "ModelError", "ModelSpec", "load_model", "shipped_models", "Distribution",
    "Network", "NetworkFileError", "build_network", "OUNoise", "PoissonNoise", "PoissonStimulus", "Stimulus",
    "default_input", "DEVICES", "BackendError", "GPUUnavailable", "Simulator", "TopologyMismatch",
    "compile_count", "simulate", "versions", "SimResult", "plots", "max_exponent",
    "per_neuron_exponents", "finite_size_exponents", "NoiseProbe", "datasets", "metrics", "readout",
]
