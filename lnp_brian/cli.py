"""The ``lnp-brian`` command line.

``lnp-brian simulate``  build a network from a model file, simulate it, write a run directory
``lnp-brian lyapunov``  Lyapunov exponents of a model
``lnp-brian prune``     LNP / AP / random pruning of a network
``lnp-brian experiment`` a grid of models x methods x seeds x tasks from a TOML file
``lnp-brian models``    list the shipped models (or print one)

Every command writes one directory (``--out``) holding ``run.json`` (resolved config, seeds,
versions, compile count, wall times), its data files, figures and ``run.log``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _quantity(unit):
    def parse(text):
        from .units import UnitError, parse_quantity

        try:
            return parse_quantity(text, unit)
        except UnitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = f"quantity in {unit}"
    return parse


def _floats(text: str):
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _indices(text: str):
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated neuron indices, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    from . import DEVICES, __version__

    parser = argparse.ArgumentParser(
        prog="lnp-brian",
        description="Heterogeneous recurrent spiking networks in Brian2: simulate, Lyapunov "
                    "exponents, Lyapunov Noise Pruning.")
    parser.add_argument("--version", action="version", version=f"lnp_brian {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "simulate", help="build a network from a model file and simulate it",
        description="Build a random network from a model file (shipped name or path), simulate it "
                    "with the model's default input (Poisson background noise) and write DIR/run.json, "
                    "network.npz, spikes.npz, raster.png, dynamics.png and run.log.")
    s.add_argument("--model", required=True, help="shipped model name (see `lnp-brian models`) or path to a .toml file")
    s.add_argument("--neurons", type=int, help="number of neurons (default: the model's network.n_neurons)")
    s.add_argument("--duration", type=_quantity("second"), default="1 s",
                   help="simulated time, with unit (e.g. 1s, 500ms; default 1 s)")
    s.add_argument("--dt", type=_quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    s.add_argument("--device", choices=DEVICES, default="cpp_standalone",
                   help="Brian2 backend (default cpp_standalone)")
    s.add_argument("--seed", type=int, default=1, help="network seed: connectivity, weights, parameters (default 1)")
    s.add_argument("--init-seed", type=int, help="seed of initial values (default: derived from --seed)")
    s.add_argument("--noise-seed", type=int, help="seed of the input noise (default: derived from --seed)")
    s.add_argument("--no-input", action="store_true", help="simulate without the model's default input")
    s.add_argument("--record", default=None,
                   help="state variable to record as traces (default: v if the model has it, else all)")
    s.add_argument("--record-neurons", type=_indices, default=[0, 1, 2, 3, 4],
                   help="comma-separated neuron indices to record (default 0,1,2,3,4)")
    s.add_argument("--threads", type=int, default=0, help="OpenMP threads for cpp_standalone (default 0: none)")
    s.add_argument("--build-dir", type=Path,
                   help="standalone build directory (default DIR/build); a compiled project there with "
                        "the same structure is re-used without recompiling")
    s.add_argument("--out", required=True, type=Path, help="output directory DIR")
    s.add_argument("--overwrite", action="store_true", help="replace a run already in DIR")
    s.add_argument("--quiet", action="store_true", help="print only where the results went")

    ly = sub.add_parser(
        "lyapunov", help="Lyapunov exponents of a model: maximal, per neuron, spectrum, finite size",
        description="Maximal Lyapunov exponent by the two-trajectory method (reference and perturbed "
                    "copies in one build, renormalised every --interval), optionally per-neuron exponents, "
                    "the Lyapunov spectrum and finite-size exponents. Writes DIR/lyapunov.json and plots. "
                    "Exponents are in 1/s; every number carries its perturbation size (spiking networks "
                    "show stable chaos: see the docs).")
    ly.add_argument("--model", required=True, help="shipped model name or path to a .toml file")
    ly.add_argument("--neurons", type=int, help="number of neurons (default: the model's)")
    ly.add_argument("--connection-probability", type=float, metavar="P",
                    help="connection probability of a 'random' model (default: the model's); for large "
                         "networks keep the in-degree, e.g. 0.01 at 10,000 neurons for hrsnn's 0.1 at 1,000")
    ly.add_argument("--duration", type=_quantity("second"), default="2 s",
                    help="simulated time of the lambda_max run (default 2 s)")
    ly.add_argument("--dt", type=_quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    ly.add_argument("--device", choices=DEVICES, default="cpp_standalone", help="Brian2 backend (default cpp_standalone)")
    ly.add_argument("--seed", type=int, default=1, help="network seed (default 1); noise and perturbations derive from it")
    ly.add_argument("--copies", type=int, default=8, help="perturbed copies for lambda_max (default 8)")
    ly.add_argument("--perturbation", type=float, default=1e-3,
                    help="perturbation size d0 in scaled units (mV, pA, nS, ms, 1; default 1e-3)")
    ly.add_argument("--interval", type=_quantity("second"), default="10 ms", help="renormalisation interval (default 10 ms)")
    ly.add_argument("--transient", type=_quantity("second"), default="200 ms",
                    help="time after the perturbation before averaging (default 200 ms)")
    ly.add_argument("--warmup", type=_quantity("second"), default="100 ms",
                    help="time before the perturbation is injected (default 100 ms)")
    ly.add_argument("--no-input", action="store_true", help="no background noise (default: the model's [input] noise)")
    ly.add_argument("--per-neuron", action="store_true",
                    help="also per-neuron exponents: each neuron perturbed in its own copy, batched in one build")
    ly.add_argument("--window", type=_quantity("second"), default="100 ms",
                    help="finite-time window of per-neuron exponents (default 100 ms)")
    ly.add_argument("--per-neuron-perturbation", type=float, default=0.1,
                    help="size of each neuron's kick in scaled units (default 0.1, i.e. 0.1 mV for v)")
    ly.add_argument("--per-neuron-count", type=int,
                    help="perturb only this many neurons (evenly spaced; default all)")
    ly.add_argument("--spectrum", type=int, metavar="K",
                    help="also the first K Lyapunov exponents of the linearised (spiking: noise-probe rate "
                         "model) or smooth (ODE models) dynamics")
    ly.add_argument("--sizes", type=_floats, help="finite-size exponents at these perturbation sizes, e.g. 1e-4,1e-2,1")
    ly.add_argument("--out", required=True, type=Path, help="output directory DIR")
    ly.add_argument("--overwrite", action="store_true", help="replace a run already in DIR")
    ly.add_argument("--quiet", action="store_true", help="print only where the results went")

    pr = sub.add_parser(
        "prune", help="prune a network: Lyapunov Noise Pruning (LNP), activity-based (AP) or random",
        description="Prune a network built from a model file with LNP (this project's documented "
                    "reconstruction of Chakraborty et al., ICLR 2024: noise probe, per-neuron Lyapunov "
                    "exponents, Lyapunov-weighted spectral sparsification, betweenness neuron pruning, "
                    "delocalisation, timescale optimisation), or with the AP / random baselines, on a "
                    "geometric schedule to the targets. Every iteration is a re-run of binaries compiled "
                    "once. Writes DIR/trajectory.csv, network_final.npz (compact), network_final_masked.npz, "
                    "run.json, checkpoints/ and figures.")
    pr.add_argument("--model", required=True, help="shipped model name or path to a .toml file")
    pr.add_argument("--neurons", type=int, help="number of neurons (default: the model's)")
    pr.add_argument("--connection-probability", type=float, metavar="P",
                    help="connection probability of a 'random' model (default: the model's); for large "
                         "networks keep the in-degree, e.g. 0.01 at 10,000 neurons for hrsnn's 0.1 at 1,000")
    pr.add_argument("--method", choices=("lnp", "ap", "random"), default="lnp", help="pruning method (default lnp)")
    pr.add_argument("--target-neurons", type=float, default=0.57,
                    help="fraction of neurons removed by the end (default 0.57)")
    pr.add_argument("--target-synapses", type=float, default=0.5,
                    help="fraction of synapses removed by the end (default 0.5); it cannot exceed what the "
                         "surviving neurons can hold, see the docs")
    pr.add_argument("--iterations", type=int, default=5, help="iterations of the geometric schedule (default 5)")
    for step, what in (("lyapunov", "Lyapunov weighting of the sparsifier (plain spectral sparsification)"),
                       ("sparsify", "spectral sampling (keep the largest |w| instead)"),
                       ("node-pruning", "betweenness neuron pruning (only isolated neurons go)"),
                       ("delocalize", "delocalisation by re-growing synapses"),
                       ("timescale-opt", "timescale optimisation of tau_m")):
        pr.add_argument(f"--no-{step}", action="store_true", help=f"switch off {what}")
        pr.add_argument(f"--random-{step}", action="store_true", help="replace it by its random counterpart")
    pr.add_argument("--exponents", choices=("linear", "spiking"), default="linear",
                    help="per-neuron exponents from the linearised rate model (fast, default) or from "
                         "perturbed spiking copies")
    pr.add_argument("--duration", type=_quantity("second"), default="1 s",
                    help="simulated time of each probe / lambda_max run (default 1 s)")
    pr.add_argument("--trials", type=int, default=8, help="Optuna trials of the timescale optimisation (default 8)")
    pr.add_argument("--pivots", type=int,
                    help="betweenness pivots (sampled sources) of the neuron pruning; 0: exact (default: exact "
                         "up to 2,000 active neurons, else 256 pivots)")
    pr.add_argument("--copies", type=int, default=4, help="perturbed copies for lambda_max (default 4)")
    pr.add_argument("--device", choices=DEVICES, default="cpp_standalone", help="Brian2 backend (default cpp_standalone)")
    pr.add_argument("--seed", type=int, default=1, help="seed of the network and of every random choice (default 1)")
    pr.add_argument("--out", required=True, type=Path, help="output directory DIR")
    pr.add_argument("--resume", action="store_true",
                    help="continue an interrupted run in DIR from its last complete iteration")
    pr.add_argument("--overwrite", action="store_true", help="replace a run already in DIR")
    pr.add_argument("--quiet", action="store_true", help="print only where the results went")

    ex = sub.add_parser(
        "experiment", help="run a grid of models x methods x seeds x tasks from a TOML config",
        description="Run every (model, method, seed, task) of an experiment file (see configs/README.md): "
                    "build the dense network, prune it (dense, lnp, ap, random, lnp-no-STEP, lnp-random-STEP) "
                    "and train and test the task's readout after every iteration. Writes DIR/results.csv "
                    "(one row per model, method, seed, task, iteration), summary.csv (mean and std over "
                    "seeds), summary.txt, figures (Fig. 3 trajectory, Fig. 4 score vs SOPs, Fig. 5 "
                    "ablations), run.json and runs/KEY/ for every run.")
    ex.add_argument("config", type=Path, help="experiment file (TOML), e.g. configs/lorenz63.toml")
    ex.add_argument("--out", required=True, type=Path, help="output directory DIR")
    ex.add_argument("--resume", action="store_true",
                    help="skip complete runs and continue interrupted ones from their last complete iteration")
    ex.add_argument("--overwrite", action="store_true", help="replace an experiment already in DIR")
    ex.add_argument("--scheduler", metavar="ADDRESS",
                    help="dask.distributed scheduler address (e.g. tcp://127.0.0.1:8786): every run of the grid "
                         "is sent there; default: local processes")
    ex.add_argument("--workers", type=int,
                    help="local worker processes (default: the config's experiment.workers; 1 runs in this process)")
    ex.add_argument("--builds", type=Path,
                    help="folder for compiled builds (default DIR/builds); experiments sharing it re-use "
                         "each other's binaries")
    ex.add_argument("--quiet", action="store_true", help="print only where the results went")

    m = sub.add_parser("models", help="list the shipped models, or print one",
                       description="List the shipped models with their descriptions; with a name, print its file.")
    m.add_argument("name", nargs="?", help="a shipped model to print")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .model import ModelError
    from .network import NetworkFileError
    from .runs import RunExistsError
    from .backends import BackendError

    try:
        if args.command == "simulate":
            from .commands.simulate import cmd_simulate

            return cmd_simulate(args, argv)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "lyapunov":
            from .commands.lyapunov import cmd_lyapunov

            return cmd_lyapunov(args, argv)
        if args.command == "experiment":
            from .commands.experiment import cmd_experiment

            return cmd_experiment(args, argv)
        if args.command == "prune":
            from .commands.prune import cmd_prune

            return cmd_prune(args, argv)
    except (CLIError, ModelError, NetworkFileError, RunExistsError, BackendError, ValueError, KeyError) as exc:
        print(f"lnp-brian {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lnp-brian {args.command}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


def cmd_models(args) -> int:
    from importlib import resources

    from .model import load_model, shipped_models

    if args.name:
        if args.name not in shipped_models():
            raise CLIError(f"unknown model {args.name!r}; shipped: {', '.join(shipped_models())}")
        print(resources.files("lnp_brian.models").joinpath(f"{args.name}.toml").read_text(), end="")
        return 0
    for name in shipped_models():
        spec = load_model(name)
        print(f"{name:12s} {spec.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
