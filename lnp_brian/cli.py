"""The ``lnp-brian`` command line.

``lnp-brian simulate``  build a network from a model file, simulate it, write a run directory
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
            return cmd_simulate(args, argv)
        if args.command == "models":
            return cmd_models(args)
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


def cmd_simulate(args, argv) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from brian2 import Equations

    from . import plots
    from .backends import Simulator, versions
    from .inputs import default_input
    from .model import load_model
    from .network import build_network
    from .runs import RunDir
    from .seeding import derive_seed

    run = RunDir(args.out, overwrite=args.overwrite, command="simulate", argv=argv)
    say = (lambda msg: run.log(msg, echo=False)) if args.quiet else run.log
    try:
        with run.timed("load_model"):
            spec = load_model(args.model)
        n = args.neurons or spec.network.n_neurons
        seeds = {"network": args.seed,
                 "init": args.init_seed if args.init_seed is not None else derive_seed(args.seed, "init"),
                 "noise": args.noise_seed if args.noise_seed is not None else derive_seed(args.seed, "noise")}
        say(f"building {spec.name} network: {n} neurons, seed {args.seed}")
        with run.timed("build_network"):
            net = build_network(spec, n, seed=seeds["network"], init_seed=seeds["init"])
        say(f"  {net.summary()}")
        net.save(run.file("network.npz"))
        (run.file("model.toml")).write_text(spec.text, encoding="utf-8")
        inputs = None if args.no_input else default_input(spec)
        names = sorted(Equations(spec.neuron.equations).diff_eq_names)
        var = args.record or ("v" if "v" in names else None)
        record_vars = [var] if var else names
        idx = [k for k in args.record_neurons if 0 <= k < n] or [0]
        record = {v: idx for v in record_vars}
        dt = args.dt if args.dt is not None else spec.dt
        build_dir = args.build_dir or run.file("build")
        config = {"model": spec.name, "model_source": spec.source, "neurons": n,
                  "duration": str(args.duration), "dt": str(dt) if dt is not None else "0.1 ms",
                  "device": args.device, "threads": args.threads,
                  "input": None if inputs is None else inputs.describe(),
                  "record": {k: v for k, v in record.items()}, "build_dir": str(build_dir)}
        run.update(config=config, seeds=seeds, device=args.device, versions=versions())
        say(f"building the {args.device} simulation (a first C++ build compiles for ~20 s)")
        with run.timed("build_simulator"):
            sim = Simulator(net, args.device, duration=args.duration, dt=dt, inputs=inputs, record=record,
                            build_dir=build_dir, reuse=True, threads=args.threads,
                            progress=float(args.duration) >= 10 and not args.quiet)
        say(f"  compilations: {sim.compilations}"
            + (" (re-used the compiled project)" if sim.compilations == 0 and args.device != "runtime" else ""))
        say(f"simulating {args.duration}")
        with run.timed("simulate"):
            result = sim.run(seed=seeds["noise"])
        say(f"  {result.summary()}")
        result.save(run.file("spikes.npz"))
        with run.timed("plots"):
            title = f"{spec.name}, N = {n}, {args.device}, seed {args.seed}"
            fig = plots.raster_figure(result, net, title=title)
            fig.savefig(run.file("raster.png"), dpi=130)
            plt.close(fig)
            fig = plots.dynamics_figure(result, net, var=var or record_vars[0], title=title)
            fig.savefig(run.file("dynamics.png"), dpi=110)
            plt.close(fig)
        rates = result.rates()
        run.update(compilations=sim.compilations,
                   timings={"compile_seconds": sim.timings.get("compile"),
                            "binary_run_seconds": sim.timings.get("last_run_binary"),
                            "run_seconds": sim.timings.get("last_run")},
                   results={"n_spikes": int(len(result.spike_t)), "mean_rate_hz": float(rates.mean()),
                            "silent_fraction": float((rates == 0).mean()),
                            "median_isi_cv": _nanmedian(result.isi_cv())},
                   files=["run.json", "network.npz", "model.toml", "spikes.npz", "raster.png",
                          "dynamics.png", "run.log"])
        run.write()
        say(f"wrote {run.path}")
        if args.quiet:
            print(run.path)
        else:
            print(f"results in {run.path}: raster.png, dynamics.png, spikes.npz, network.npz, run.json")
        return 0
    except BaseException:
        run.write(status="failed")
        raise
    finally:
        run.close()


def _nanmedian(x):
    import numpy as np

    x = np.asarray(x)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else None


if __name__ == "__main__":
    sys.exit(main())
