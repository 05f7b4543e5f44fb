"""`lnp-brian simulate`: build a network from a model file, simulate it, write a run directory."""

from __future__ import annotations

import argparse

import numpy as np

from .options import SEED, directory, indices, integer, network_options, output_options, quantity, run_options

__all__ = ["add_parser", "cmd_simulate"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian simulate`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``simulate`` parser.
    """
    s = sub.add_parser(
        "simulate", help="build a network from a model file and simulate it",
        description="Build a random network from a model file (shipped name or path), simulate it "
                    "with the model's default input (Poisson background noise) and write DIR/run.json, "
                    "network.npz, spikes.npz, raster.png, dynamics.png and run.log.",
        parents=[network_options(model_help="shipped model name (see `lnp-brian models`) or path to a .toml file",
                                  neurons_help="number of neurons (default: the model's network.n_neurons)"),
                 run_options(seed_help="network seed: connectivity, weights, parameters (default %(default)s)"),
                 output_options()])
    s.add_argument("--duration", type=quantity("second"), default="1 s",
                   help="simulated time, with unit (e.g. 1s, 500ms; default 1 s)")
    s.add_argument("--dt", type=quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    s.add_argument("--init-seed", type=SEED, help="seed of initial values (default: derived from --seed)")
    s.add_argument("--noise-seed", type=SEED, help="seed of the input noise (default: derived from --seed)")
    s.add_argument("--no-input", action="store_true", help="simulate without the model's default input")
    s.add_argument("--record", default=None,
                   help="state variable to record as traces (default: v if the model has it, else all)")
    s.add_argument("--record-neurons", type=indices, default=None,
                   help="comma-separated neuron indices to record (default 0,1,2,3,4, those that exist)")
    s.add_argument("--threads", type=integer(0), default=0, help="OpenMP threads for cpp_standalone (default 0: none)")
    s.add_argument("--build-dir", type=directory,
                   help="standalone build directory (default DIR/build); a compiled project there with "
                        "the same structure is re-used without recompiling")
    return s


def cmd_simulate(args, argv) -> int:
    """Run ``lnp-brian simulate``: build a network, simulate it and write spikes and figures.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command (:func:`lnp_brian.cli.main.build_parser`).
    argv : list of str or None
        The command line, recorded in ``run.json`` (None: ``sys.argv``).

    Returns
    -------
    int
        0 when done (``--out``/run.json has status ``complete``).

    Raises
    ------
    ValueError
        A bad option or input file, raised before the output directory is touched (the
        command line prints it as one line).
    """
    from brian2 import Equations, second

    from ..brian.inputs import default_input
    from ..core.runs import RunDir
    from ..core.seeding import derive_seed
    from ..network.network import build_network
    from ..report import plots
    from ..simulation.simulator import Simulator, versions
    from .common import checked_network_args, file_pyplot, resolve_dt

    # everything is checked before the run directory is touched
    spec, n, conn = checked_network_args(args)
    plt = file_pyplot()
    dt = resolve_dt(spec, args.dt, args.duration)
    names = spec.state_variables
    diff_names = sorted(Equations(spec.neuron.equations).diff_eq_names)
    if args.record is not None and args.record not in names:
        raise ValueError(f"--record {args.record}: not a variable of {spec.name}; expected one of {', '.join(names)}")
    record_neurons = list(range(min(5, n))) if args.record_neurons is None else args.record_neurons
    bad = [k for k in record_neurons if k >= n]
    if bad:
        raise ValueError(f"--record-neurons: {', '.join(map(str, bad))} out of range for {n} neurons "
                         f"(indices 0..{n - 1})")
    var = args.record or ("v" if "v" in diff_names else None)
    record_vars = [var] if var else diff_names
    record = {v: list(record_neurons) for v in record_vars}
    seeds = {"network": args.seed,
             "init": args.init_seed if args.init_seed is not None else derive_seed(args.seed, "init"),
             "noise": args.noise_seed if args.noise_seed is not None else derive_seed(args.seed, "noise")}
    inputs = None if args.no_input else default_input(spec)

    with RunDir(args.out, overwrite=args.overwrite, command="simulate", argv=argv) as run:
        say = (lambda msg: run.log(msg, echo=False)) if args.quiet else run.log
        build_dir = args.build_dir or run.file("build")
        config = {"model": spec.name, "model_source": spec.source, "neurons": n, "connectivity": conn,
                  "duration": str(args.duration), "dt": f"{dt:g} s",
                  "device": args.device, "threads": args.threads,
                  "input": None if inputs is None else inputs.describe(),
                  "record": dict(record), "build_dir": str(build_dir)}
        run.update(config=config, seeds=seeds, device=args.device, versions=versions())
        run.write("running")
        say(f"building {spec.name} network: {n} neurons, seed {args.seed}")
        with run.timed("build_network"):
            net = build_network(spec, n, seed=seeds["network"], init_seed=seeds["init"], connectivity=conn)
        say(f"  {net.summary()}")
        net.save(run.file("network.npz"))
        run.file("model.toml").write_text(spec.text, encoding="utf-8")
        say(f"building the {args.device} simulation (a first C++ build compiles for ~20 s)")
        with run.timed("build_simulator"):
            sim = Simulator(net, args.device, duration=args.duration, dt=dt * second, inputs=inputs, record=record,
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
        run.write("complete")
        say(f"wrote {run.path}")
    if args.quiet:
        print(run.path)
    else:
        print(f"results in {run.path}: raster.png, dynamics.png, spikes.npz, network.npz, run.json")
    return 0


def _nanmedian(x):
    x = np.asarray(x)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else None
