"""`lnp-brian quality`: memory capacity, kernel rank and generalisation rank of a network."""

from __future__ import annotations

import argparse

from .options import integer, network_options, output_options, quantity, run_options

__all__ = ["add_parser", "cmd_quality"]

#: library option -> command-line flag, for error messages
FLAGS = {"n_samples": "--samples", "sample_time": "--sample-time", "input_gain": "--input-gain",
         "max_delay": "--max-delay", "streams": "--streams"}


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian quality`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``quality`` parser.
    """
    q = sub.add_parser(
        "quality", help="task-agnostic reservoir quality: memory capacity, kernel and generalisation rank",
        description="Build a network from a model file and measure, on one compiled build re-run with new "
                    "input currents: the memory capacity (Jaeger 2001; i.i.d. uniform input, one ridge readout "
                    "per delay, r^2 on held-out samples), the kernel rank (states after --streams different "
                    "input streams) and the generalisation rank (states after --streams noisy copies of one "
                    "stream; Legenstein & Maass 2007). Features: spike trains filtered at 5, 20 and 50 ms. "
                    "Writes DIR/quality.json, quality.png (r^2 against delay, singular value spectra), "
                    "network.npz, run.json and run.log.",
        parents=[network_options(model_help="shipped spiking model name or path to a .toml file",
                                  connection_probability=False),
                 run_options(seed_help="network seed (default %(default)s); encoder, inputs and noise derive "
                                        "from it"),
                 output_options()])
    q.add_argument("--samples", type=integer(10), default=2000,
                   help="i.i.d. input samples of the memory-capacity run, also the length of every run "
                        "(default 2000; half train the readouts, half score them)")
    q.add_argument("--sample-time", type=quantity("second"), default="50 ms",
                   help="presentation time of one input value, a multiple of dt (default 50 ms, as the "
                        "forecasting tasks)")
    q.add_argument("--input-gain", type=quantity("amp"), default="3200 pA",
                   help="input current per unit of the input u in [-1, 1] (default 3200 pA, as the "
                        "forecasting tasks)")
    q.add_argument("--max-delay", type=integer(1), default=40,
                   help="largest delay of the memory-capacity readouts, in samples (default 40)")
    q.add_argument("--streams", type=integer(2), default=200,
                   help="m: input streams (kernel rank) and noisy copies (generalisation rank); ranks are at "
                        "most min(m, features) (default 200)")
    return q


def check_quality_args(args, spec) -> dict:
    """Check every option against the model before anything is written; errors name the
    flag. Returns the options of :func:`lnp_brian.tasks.quality.reservoir_quality`."""
    from ..tasks.quality import QualityOptionError, quality_options
    from .common import resolve_dt

    if not spec.neuron.spiking:
        raise ValueError(f"--model {args.model}: {spec.name} has no spiking neurons; the quality measures "
                         "read spike trains (use hrsnn, mrsnn, chrsnn or a spiking model file)")
    if spec.neuron.input is None:
        raise ValueError(f"--model {args.model}: {spec.name} has no input current (neuron.input) to drive")
    dt = resolve_dt(spec, None, args.sample_time, option="--sample-time")
    options = {"n_samples": args.samples, "sample_time": args.sample_time, "input_gain": args.input_gain,
               "max_delay": args.max_delay, "streams": args.streams}
    try:
        quality_options(**options, input_dim=spec.neuron.input_dim, dt=dt)
    except QualityOptionError as exc:
        flag = FLAGS.get(exc.option, f"--{exc.option.replace('_', '-')}")
        raise ValueError(f"{flag}: {exc}") from None
    return options


def cmd_quality(args, argv) -> int:
    """Run ``lnp-brian quality``: memory capacity, kernel and generalisation rank of a network.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command (:func:`lnp_brian.cli.main.build_parser`).
    argv : list of str or None
        The command line, recorded in ``run.json`` (None: ``sys.argv``).

    Returns
    -------
    int
        0 when done (``--out``/quality.json written).

    Raises
    ------
    ValueError
        A bad option or input file, raised before the output directory is touched (the
        command line prints it as one line).
    """
    import json


    from ..core.files import write_json
    from ..core.runs import RunDir
    from ..core.seeding import derive_seed
    from ..network.network import build_network
    from ..simulation.simulator import versions
    from ..tasks.quality import quality_figure, reservoir_quality
    from .common import checked_network_args, file_pyplot

    # everything is checked before the run directory is touched
    spec, n, conn = checked_network_args(args)
    plt = file_pyplot()
    options = check_quality_args(args, spec)
    seeds = {"network": args.seed, "init": derive_seed(args.seed, "init"),
             "quality": derive_seed(args.seed, "quality")}

    with RunDir(args.out, overwrite=args.overwrite, command="quality", argv=argv) as run:
        say = (lambda msg: run.log(msg, echo=False)) if args.quiet else run.log
        build_dir = run.file("build")
        config = {"model": spec.name, "model_source": spec.source, "neurons": n, "device": args.device,
                  "samples": args.samples, "sample_time": str(args.sample_time),
                  "input_gain": str(args.input_gain), "max_delay": args.max_delay, "streams": args.streams,
                  "build_dir": str(build_dir)}
        run.update(config=config, seeds=seeds, device=args.device, versions=versions())
        run.write("running")
        say(f"building {spec.name} network: {n} neurons, seed {args.seed}")
        with run.timed("build_network"):
            net = build_network(spec, n, seed=seeds["network"], init_seed=seeds["init"], connectivity=conn)
        say(f"  {net.summary()}")
        net.save(run.file("network.npz"))
        say(f"measuring memory capacity ({args.samples} samples), kernel and generalisation rank "
            f"({args.streams} streams) on one {args.device} build"
            + (" (a first C++ build compiles for ~30 s)" if args.device != "runtime" else ""))

        def progress(stage, done, total):
            say(f"  {stage}: run {done}/{total}")

        with run.timed("quality"):
            result = reservoir_quality(net, args.device, seed=seeds["quality"], build_dir=build_dir, reuse=True,
                                       progress=progress, **options)
        say(f"  {result.summary()}")
        data = {**result.to_dict(), "config": config, "seeds": seeds, "versions": run.info.get("versions")}
        write_json(run.file("quality.json"), data)
        with run.timed("plots"):
            fig = quality_figure(result, title=f"{spec.name}, N = {n}, {args.device}, seed {args.seed}")
            fig.savefig(run.file("quality.png"), dpi=120)
            plt.close(fig)
        run.update(compilations=result.compilations,
                   results={"memory_capacity": result.memory_capacity, "kernel_rank": result.kernel_rank,
                            "generalization_rank": result.generalization_rank, "m": result.m,
                            "n_features": result.n_features,
                            "spikes_per_neuron_per_sample": result.spikes_per_neuron_per_sample},
                   files=["run.json", "network.npz", "quality.json", "quality.png", "run.log"])
        run.write("complete")
        say(f"wrote {run.path}")
    if args.quiet:
        print(run.path)
    else:
        print(f"results in {run.path}: quality.json, quality.png, network.npz, run.json")
        print(json.dumps({k: data[k] for k in ("memory_capacity", "kernel_rank", "generalization_rank", "m",
                                                "n_features")}))
    return 0
