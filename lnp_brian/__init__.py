"""lnp_brian: heterogeneous recurrent spiking networks in Brian2, Lyapunov exponents and
Lyapunov Noise Pruning.

Data flows one way: model files -> :class:`ModelSpec` -> :class:`Network` (plain arrays) ->
:class:`Simulator` (runtime, cpp_standalone or cuda_standalone; compiled once, re-run with
new values) -> :class:`SimResult` -> analysis (Lyapunov exponents, reservoir quality, tasks)
-> :class:`Pruner` -> :class:`Network`.

Names are imported on first use (``lnp_brian.Pruner`` loads the pruning module then), so
``import lnp_brian`` and ``lnp-brian --help`` do not load Brian2 or scikit-learn.
"""

from importlib import import_module

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "ModelError": "model", "ModelSpec": "model", "load_model": "model", "shipped_models": "model",
    "Distribution": "distributions",
    "Network": "network", "NetworkFileError": "network", "build_network": "network",
    "OUNoise": "inputs", "PoissonNoise": "inputs", "PoissonStimulus": "inputs", "Stimulus": "inputs",
    "default_input": "inputs",
    "DEVICES": "backends", "BackendError": "backends", "GPUUnavailable": "backends", "Simulator": "backends",
    "TopologyMismatch": "backends", "compile_count": "backends", "simulate": "backends", "versions": "backends",
    "SimResult": "results",
    "finite_size_exponents": "lyapunov", "max_exponent": "lyapunov", "per_neuron_exponents": "lyapunov",
    "NoiseProbe": "probe", "ReplayGains": "gains",
    "Pruner": "pruning", "PruneConfig": "pruning", "PruneResult": "pruning",
    "SeriesTaskRunner": "tasks", "ImageTaskRunner": "tasks",
    "reservoir_quality": "quality", "memory_capacity": "quality", "kernel_rank": "quality",
    "generalization_rank": "quality",
}
_MODULES = ("datasets", "metrics", "plots", "readout")

__all__ = ["__version__", *_EXPORTS, *_MODULES]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _MODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
