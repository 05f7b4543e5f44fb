"""`lnp-brian prune`: LNP / AP / random pruning with checkpoints, trajectory and figures."""

from __future__ import annotations

import argparse
import csv

import numpy as np

from .options import add_pruning_options, network_options, output_options, run_options

__all__ = ["add_parser", "cmd_prune", "config_from_args", "steps_from_args", "write_trajectory"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian prune`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``prune`` parser.
    """
    p = sub.add_parser(
        "prune", help="prune a network: Lyapunov Noise Pruning (LNP), activity-based (AP) or random",
        description="Prune a network built from a model file with LNP (this project's documented "
                    "reconstruction of Chakraborty et al., ICLR 2024: noise probe, per-neuron Lyapunov "
                    "exponents, Lyapunov-weighted spectral sparsification, betweenness neuron pruning, "
                    "delocalisation, timescale optimisation), or with the AP / random baselines, on a "
                    "geometric schedule to the targets. Every iteration is a re-run of binaries compiled "
                    "once. Writes DIR/trajectory.csv, network_final.npz (compact), network_final_masked.npz, "
                    "run.json, checkpoints/ and figures.",
        parents=[network_options(),
                 run_options(seed_help="seed of the network and of every random choice (default %(default)s)"),
                 output_options(resume_help="continue an interrupted run in DIR from its last complete "
                                             "iteration")],
        populate=add_pruning_options)
    return p


def steps_from_args(args) -> dict:
    """``PruneConfig.steps`` from the ``--no-STEP`` / ``--random-STEP`` flags.

    Step names are as in experiment files (:data:`lnp_brian.pruning.config.STEP_BY_NAME`).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``lnp-brian prune`` options (``no_<step>`` and ``random_<step>`` attributes).

    Returns
    -------
    dict
        Every step -> ``"on"``, ``"off"`` or ``"random"``.

    Raises
    ------
    ValueError
        ``--no-STEP`` and ``--random-STEP`` of the same step.

    Examples
    --------
    >>> from lnp_brian.cli.main import build_parser
    >>> args = build_parser().parse_args(["prune", "--model", "hrsnn", "--out", "runs/prune",
    ...                                   "--no-node-pruning", "--random-timescale-opt"])
    >>> steps_from_args(args)
    {'lyapunov': 'on', 'sparsify': 'on', 'node_pruning': 'off', 'delocalize': 'on', 'timescale': 'random'}
    """
    from ..pruning.config import STEP_BY_NAME

    steps = {}
    for name, step in STEP_BY_NAME.items():
        flag = name.replace("-", "_")
        off, rand = getattr(args, f"no_{flag}"), getattr(args, f"random_{flag}")
        if off and rand:
            raise ValueError(f"--no-{name} and --random-{name} exclude each other")
        steps[step] = "off" if off else "random" if rand else "on"
    return steps


def config_from_args(args):
    """The :class:`~lnp_brian.pruning.config.PruneConfig` of the ``lnp-brian prune`` options.

    Every field with an option (:func:`lnp_brian.cli.options.pruning_option_names`), the steps from
    :func:`steps_from_args`, and the seed and device of ``--seed`` and ``--device``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``lnp-brian prune`` options.

    Returns
    -------
    PruneConfig
        The checked settings.

    Raises
    ------
    ValueError
        A value PruneConfig refuses, naming the option as typed.

    Examples
    --------
    >>> from lnp_brian.cli.main import build_parser
    >>> args = build_parser().parse_args(["prune", "--model", "hrsnn", "--out", "runs/prune",
    ...                                   "--iterations", "3", "--duration", "500 ms"])
    >>> config = config_from_args(args)
    >>> config.iterations, config.duration, config.seed
    (3, '0.5 s', 1)
    """
    import dataclasses

    from ..pruning.config import PruneConfig, PruneConfigError
    from .options import pruning_option_names

    options = pruning_option_names()
    fields = {f.name: f for f in dataclasses.fields(PruneConfig)}
    values = {}
    for name in options:
        if "steps" in fields[name].metadata:
            values[name] = steps_from_args(args)
        elif "unit" in fields[name].metadata:
            values[name] = str(getattr(args, name))  # a quantity, as text with its unit
        else:
            values[name] = getattr(args, name)
    try:
        return PruneConfig(**values, seed=args.seed, device=args.device)
    except PruneConfigError as exc:
        field = exc.field.split(".")[0]
        option = options.get(field, f"--{field.replace('_', '-')}")
        raise ValueError(f"{option} {exc.value}: expected {exc.expected}") from None


def write_trajectory(path, rows) -> None:
    """Write a pruning trajectory as CSV: one row per iteration, the union of all keys as columns.

    The columns start with iteration, neurons, synapses, lambda_max, lambda_max_stderr and
    mean_ipr, then the other keys in alphabetical order; missing values are empty. The file
    is replaced atomically.

    Parameters
    ----------
    path : path
        The CSV file to write.
    rows : list of dict
        Trajectory rows (:attr:`lnp_brian.pruning.pruner.PruneResult.rows`).
    """
    from ..core.files import atomic_write

    keys = ["iteration", "neurons", "synapses", "lambda_max", "lambda_max_stderr", "mean_ipr"]
    keys += sorted({k for r in rows for k in r} - set(keys))

    def write(fh):
        import io

        text = io.StringIO()
        w = csv.DictWriter(text, fieldnames=keys, restval="")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        fh.write(text.getvalue().encode())

    atomic_write(path, write)


def cmd_prune(args, argv) -> int:
    """Run ``lnp-brian prune``: prune a network with LNP, AP or random pruning and write its trajectory.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command (:func:`lnp_brian.cli.main.build_parser`).
    argv : list of str or None
        The command line, recorded in ``run.json`` (None: ``sys.argv``).

    Returns
    -------
    int
        0 when done (``--out``/trajectory.csv, the final network and figures written).

    Raises
    ------
    ValueError
        A bad option or input file, raised before the output directory is touched (the
        command line prints it as one line).
    lnp_brian.pruning.pruner.CheckpointError
        ``--resume`` found a checkpoint changed after it was written (a ValueError).
    """

    from ..core.files import write_json
    from ..core.runs import RunDir
    from ..network.network import build_network
    from ..pruning.pruner import Pruner
    from ..report import plots
    from ..simulation.simulator import versions
    from .common import checked_network_args, file_pyplot

    # everything is checked before the run directory is touched
    spec, n, conn = checked_network_args(args)
    plt = file_pyplot()
    config = config_from_args(args)
    resolved = {"model": spec.name, "model_source": spec.source, "model_text_sha": _sha(spec.text),
                "neurons": n, "connection_probability": args.connection_probability, **config.to_dict()}

    with RunDir(args.out, overwrite=args.overwrite, resume=args.resume, command="prune", argv=argv) as run:
        say = (lambda msg: run.log(msg, echo=False)) if args.quiet else run.log
        if args.resume and "config" in run.info and run.info["config"] != resolved:
            diff = sorted(k for k in resolved if run.info["config"].get(k) != resolved[k])
            raise ValueError(f"{run.path} holds a run with a different configuration ({', '.join(diff)}); "
                             "resume with the same options")
        run.update(config=resolved, seeds={"network": args.seed, "pruning": args.seed}, device=args.device,
                   versions=versions())
        run.write("running")
        dense = build_network(spec, n, seed=args.seed, connectivity=conn)
        dense.save(run.file("network_dense.npz"))
        say(f"{args.method}: {dense.summary()}; targets -{args.target_neurons:.0%} neurons, "
            f"-{args.target_synapses:.0%} synapses in {args.iterations} iterations")
        say("building the simulation once for the whole loop (a first C++ build compiles for ~20 s)")
        with run.timed("build"):
            pruner = Pruner(dense, config, build_root=run.file("build"), log=say)
        with run.timed("loop"):
            result = pruner.run(checkpoint_dir=run.file("checkpoints"), resume=args.resume)
        write_trajectory(run.file("trajectory.csv"), result.rows)
        final = result.network
        final.save(run.file("network_final_masked.npz"))
        final.compact().save(run.file("network_final.npz"))
        say("comparing dense, pruned and randomly pruned networks (equal counts)")
        with run.timed("compare"):
            cmp = pruner.compare(final)
        write_json(run.file("spectra.json"), {
            "unit": "1/s", "lyapunov_spectra": {k: v.tolist() for k, v in cmp["spectra"].items()},
            "lambda_max": {k: list(v) for k, v in cmp["lambda_max"].items()},
            "eigenvalues": {k: {"re": np.real(v).tolist(), "im": np.imag(v).tolist()}
                            for k, v in cmp["eigenvalues"].items()}})
        _figures(run, result, cmp, plots, plt, args.method)
        run.update(compilations=pruner.compilations, timings=result.info["timings"],
                   results={"final_neurons": final.n_active, "final_synapses": final.n_synapses,
                            "dense_neurons": dense.n_active, "dense_synapses": dense.n_synapses,
                            "lambda_max_final": result.rows[-1]["lambda_max"]},
                   files=["trajectory.csv", "network_final.npz", "network_final_masked.npz", "network_dense.npz",
                          "spectra.json", "counts.png", "eigenvalues.png", "lyapunov_spectra.png", "diagnostics.png",
                          "checkpoints/"])
        run.write("complete")
        say(f"{final.summary()}; compilations: {pruner.compilations}")
    print(run.path if args.quiet else f"results in {run.path}: trajectory.csv, network_final.npz, figures")
    return 0


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _figures(run, result, cmp, plots, plt, method):
    it = result.column("iteration")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    plots.plot_pruning_counts({method.upper(): (it, result.column("neurons"), result.column("synapses"))}, axes)
    fig.savefig(run.file("counts.png"), dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    plots.plot_eigenvalues({k: cmp["eigenvalues"][k] for k in ("dense", "pruned")}, ax)
    ax.set_title("effective connectivity M (linearised rate model, leak removed)", fontsize="small")
    fig.savefig(run.file("eigenvalues.png"), dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    for label, lam in cmp["spectra"].items():
        plots.plot_lyapunov_spectrum(lam, ax, label=label)
    ax.set_title("Lyapunov spectra of the linearised dynamics", fontsize="small")
    fig.savefig(run.file("lyapunov_spectra.png"), dpi=120)
    plt.close(fig)
    fig = plots.diagnostics_figure(result.rows, title=f"{method.upper()}: what each step did")
    fig.savefig(run.file("diagnostics.png"), dpi=110)
    plt.close(fig)
