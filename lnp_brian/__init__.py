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

from .core.version import __version__

#: public name -> module that defines it
_EXPORTS = {
    **dict.fromkeys(["ModelError", "ModelSpec", "load_model", "shipped_models"], "model.spec"),
    "Distribution": "model.distributions",
    **dict.fromkeys(["Network", "NetworkFileError", "build_network"], "network.network"),
    **dict.fromkeys(["OUNoise", "PoissonNoise", "PoissonStimulus", "Stimulus", "default_input"], "brian.inputs"),
    "DEVICES": "core.devices",
    **dict.fromkeys(["BackendError", "GPUUnavailable", "Simulator", "TopologyMismatch", "compile_count", "simulate",
                     "versions"], "simulation.simulator"),
    "SimResult": "simulation.results",
    **dict.fromkeys(["finite_size_exponents", "max_exponent", "per_neuron_exponents"], "lyapunov.finite_size"),
    "NoiseProbe": "lyapunov.probe", "ReplayGains": "lyapunov.gains",
    "PruneConfig": "pruning.config", "Pruner": "pruning.pruner", "PruneResult": "pruning.pruner",
    "SeriesTaskRunner": "tasks.runners", "ImageTaskRunner": "tasks.runners",
    **dict.fromkeys(["reservoir_quality", "memory_capacity", "kernel_rank", "generalization_rank"], "tasks.quality"),
}
_MODULES = {"datasets": "tasks.datasets", "metrics": "tasks.metrics", "plots": "report.plots",
            "readout": "tasks.readout"}

__all__ = ["__version__", *_EXPORTS, *_MODULES]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _MODULES:
        value = import_module(f".{_MODULES[name]}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
