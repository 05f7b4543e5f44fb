"""`lnp-brian lyapunov`: maximal, per-neuron, finite-size exponents and the spectrum of a model.

Every stage writes its numbers into DIR/lyapunov.json as soon as it finishes (and the
per-neuron stage after every batch), so Ctrl+C loses only the stage in progress.
"""

from __future__ import annotations

import argparse

import numpy as np

from .options import floats, integer, network_options, number, output_options, quantity, run_options

__all__ = ["add_parser", "cmd_lyapunov"]


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``lnp-brian lyapunov`` and its options to the sub-command parsers ``sub``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of the ``lnp-brian`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``lyapunov`` parser.
    """
    ly = sub.add_parser(
        "lyapunov", help="Lyapunov exponents of a model: maximal, per neuron, spectrum, finite size",
        description="Maximal Lyapunov exponent by the two-trajectory method (reference and perturbed "
                    "copies in one build, renormalised every --interval), optionally per-neuron exponents, "
                    "the Lyapunov spectrum and finite-size exponents. Writes DIR/lyapunov.json and plots. "
                    "Exponents are in 1/s; every number carries its perturbation size (spiking networks "
                    "show stable chaos: see the docs).",
        parents=[network_options(),
                 run_options(seed_help="network seed (default %(default)s); noise and perturbations derive "
                                        "from it"),
                 output_options()])
    ly.add_argument("--duration", type=quantity("second"), default="2 s",
                    help="simulated time of the lambda_max run (default 2 s)")
    ly.add_argument("--dt", type=quantity("second"), help="integration step (default: the model's, else 0.1 ms)")
    ly.add_argument("--copies", type=integer(1), default=8, help="perturbed copies for lambda_max (default 8)")
    ly.add_argument("--perturbation", type=number(0, low_open=True), default=1e-3,
                    help="perturbation size d0 in scaled units (mV, pA, nS, ms, 1; default 1e-3)")
    ly.add_argument("--interval", type=quantity("second"), default="10 ms",
                    help="renormalisation interval (default 10 ms)")
    ly.add_argument("--transient", type=quantity("second", allow_zero=True), default="200 ms",
                    help="time after the perturbation before averaging (default 200 ms)")
    ly.add_argument("--warmup", type=quantity("second", allow_zero=True), default="100 ms",
                    help="time before the perturbation is injected (default 100 ms)")
    ly.add_argument("--no-input", action="store_true", help="no background noise (default: the model's [input] noise)")
    ly.add_argument("--per-neuron", action="store_true",
                    help="also per-neuron exponents: each neuron perturbed in its own copy, batched in one build")
    ly.add_argument("--window", type=quantity("second"), default="100 ms",
                    help="finite-time window of per-neuron exponents (default 100 ms)")
    ly.add_argument("--per-neuron-perturbation", type=number(0, low_open=True), default=0.1,
                    help="size of each neuron's kick in scaled units (default 0.1, i.e. 0.1 mV for v)")
    ly.add_argument("--per-neuron-count", type=integer(1),
                    help="perturb only this many neurons (evenly spaced; default all)")
    ly.add_argument("--spectrum", type=integer(1), metavar="K",
                    help="also the first K Lyapunov exponents of the linearised (spiking: noise-probe rate "
                         "model) or smooth (ODE models) dynamics")
    ly.add_argument("--spectrum-method", choices=("build", "python"), default="build",
                    help="ODE models: integrate the variational equations in the compiled build (default; "
                         "hundreds of times faster per run) or step the Python QR reference")
    ly.add_argument("--sizes", type=floats, help="finite-size exponents at these perturbation sizes, e.g. 1e-4,1e-2,1")
    return ly


def check_lyapunov_args(args, spec, n: int) -> float:
    """Timing options must fit inside the simulated time; returns dt in seconds."""
    from .common import resolve_dt

    dt = resolve_dt(spec, args.dt, args.duration)
    duration, warm, trans = float(args.duration), float(args.warmup), float(args.transient)
    if warm + trans >= duration:
        raise ValueError(f"--duration {args.duration}: must be longer than --warmup {args.warmup} plus "
                         f"--transient {args.transient}, so that growth can be averaged after them")
    if float(args.interval) > duration - warm - trans:
        raise ValueError(f"--interval {args.interval}: longer than the averaged part of the run "
                         f"(--duration - --warmup - --transient = {duration - warm - trans:g} s)")
    if float(args.interval) < dt:
        raise ValueError(f"--interval {args.interval}: shorter than the integration step ({dt:g} s)")
    if args.per_neuron and float(args.window) < dt:
        raise ValueError(f"--window {args.window}: shorter than the integration step ({dt:g} s)")
    if args.per_neuron_count is not None and args.per_neuron_count > n:
        raise ValueError(f"--per-neuron-count {args.per_neuron_count}: the network has only {n} neurons")
    return dt


def cmd_lyapunov(args, argv) -> int:
    """Run ``lnp-brian lyapunov``: λ_max and, as asked, finite-size, per-neuron exponents and spectrum.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command (:func:`lnp_brian.cli.main.build_parser`).
    argv : list of str or None
        The command line, recorded in ``run.json`` (None: ``sys.argv``).

    Returns
    -------
    int
        0 when done (``--out``/lyapunov.json then has status ``complete``).

    Raises
    ------
    ValueError
        A bad option or input file, raised before the output directory is touched (the
        command line prints it as one line).
    """
    from brian2 import second

    from ..brian.inputs import default_input
    from ..core.files import write_json
    from ..core.runs import RunDir
    from ..core.seeding import derive_seed
    from ..lyapunov import finite_size as ly
    from ..network.network import build_network
    from ..report import plots
    from ..simulation.simulator import compile_count, versions
    from .common import checked_network_args, file_pyplot

    # everything is checked before the run directory is touched
    spec, n, conn = checked_network_args(args)
    plt = file_pyplot()
    dt = check_lyapunov_args(args, spec, n)
    inputs = None if args.no_input else default_input(spec)
    seeds = {"network": args.seed, "init": derive_seed(args.seed, "init"),
             "noise": derive_seed(args.seed, "noise"), "perturbation": derive_seed(args.seed, "perturbation")}
    config = {"model": spec.name, "model_source": spec.source, "neurons": n,
              "connection_probability": args.connection_probability, "device": args.device,
              "duration": str(args.duration), "dt": f"{dt:g} s",
              "copies": args.copies, "perturbation": args.perturbation, "interval": str(args.interval),
              "transient": str(args.transient), "warmup": str(args.warmup),
              "input": None if inputs is None else inputs.describe(), "per_neuron": args.per_neuron,
              "window": str(args.window), "spectrum": args.spectrum, "sizes": args.sizes}
    out: dict = {"unit": "1/s"}

    with RunDir(args.out, overwrite=args.overwrite, command="lyapunov", argv=argv) as run:
        say = (lambda msg: run.log(msg, echo=False)) if args.quiet else run.log
        compiles_before = compile_count()

        def save(status="running"):
            run.update(results=out, compilations=compile_count() - compiles_before)
            write_json(run.file("lyapunov.json"), {**out, "seeds": seeds, "config": config,
                                                   "compilations": compile_count() - compiles_before,
                                                   "versions": run.info.get("versions"), "status": status})
            run.write(status)

        def figure(name, draw):
            fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
            draw(ax)
            fig.savefig(run.file(name), dpi=120)
            plt.close(fig)

        run.update(config=config, seeds=seeds, device=args.device, versions=versions())
        try:
            with run.timed("build_network"):
                net = build_network(spec, n, seed=seeds["network"], init_seed=seeds["init"], connectivity=conn)
            net.save(run.file("network.npz"))
            say(f"{net.summary()}")
            build = {"dt": dt * second, "inputs": inputs}

            say(f"lambda_max: {args.copies} perturbed copies of size {args.perturbation:g}, {args.duration} "
                f"(one build; a first C++ build compiles for ~20 s)")
            with run.timed("lambda_max"):
                res = ly.max_exponent(net, args.device, duration=args.duration, perturbation=args.perturbation,
                                      copies=args.copies, interval=args.interval, transient=args.transient,
                                      warmup=args.warmup, seed=seeds["perturbation"], build_dir=run.file("build_max"),
                                      reuse=True, progress=not args.quiet and float(args.duration) >= 10, **build)
            out["lambda_max"], out["lambda_max_stderr"] = res.lambda_max, res.lambda_max_stderr
            out["max_exponent"] = res.to_dict()
            say(f"  lambda_max = {res.lambda_max:.4g} +- {res.lambda_max_stderr:.2g} 1/s "
                f"(d0 = {args.perturbation:g}; collapsed intervals: {res.collapsed})")
            figure("divergence.png", lambda ax: plots.plot_divergence(res, ax))
            save()

            if args.sizes:
                say(f"finite-size exponents at d0 = {', '.join(f'{x:g}' for x in args.sizes)}")
                with run.timed("finite_size"):
                    fs = ly.finite_size_exponents(net, args.sizes, device=args.device, duration=args.duration,
                                                  interval=args.interval, transient=args.transient,
                                                  warmup=args.warmup, seed=seeds["perturbation"],
                                                  build_dir=run.file("build_sizes"), reuse=True, **build)
                out["finite_size"] = fs.to_dict()
                figure("finite_size.png", lambda ax: plots.plot_finite_size(fs, ax))
                save()

            # per-neuron exponents (spiking and linear) of these neurons, evenly spaced
            count = args.per_neuron_count or net.n
            neurons = np.unique(np.linspace(0, net.n - 1, min(count, net.n)).astype(int))
            linear = None
            if args.spectrum or args.per_neuron:
                linear = _linear_side(net, args, run, say, out, seeds, build,
                                      neurons if args.per_neuron and args.per_neuron_count else None)
                save()

            if args.per_neuron:
                say(f"per-neuron exponents: {len(neurons)} neurons, window {args.window}, batched copies in one build")

                def progress(done, total):
                    say(f"  {done}/{total} neurons")
                    out["per_neuron_progress"] = {"done": done, "total": total}
                    save()

                with run.timed("per_neuron"):
                    per = ly.per_neuron_exponents(net, args.device, window=args.window, warmup=args.warmup,
                                                  perturbation=args.per_neuron_perturbation, neurons=neurons,
                                                  interval=args.interval,
                                                  seed=seeds["perturbation"], progress=progress,
                                                  build_dir=run.file("build_per_neuron"), reuse=True, **build)
                out["per_neuron"] = per.to_dict()
                out.pop("per_neuron_progress", None)
                say(f"  {per.batches} batches of {per.copies_per_batch} copies, {per.compilations} compilation(s), "
                    f"{per.seconds_per_copy * 1e3:.1f} ms per perturbed copy")
                tau_name = "tau_m" if "tau_m" in net.params else next(iter(net.params), None)
                if tau_name is not None:
                    lin = None if linear is None else linear[neurons]
                    figure("per_neuron.png", lambda ax: plots.plot_per_neuron_exponents(
                        net.params[tau_name][neurons], per.lambdas, ax, linear=lin, exc=net.exc[neurons]))
                save()
        except BaseException as exc:
            try:  # lyapunov.json says how far it got; run.json is written by RunDir
                save("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
            raise
        save("complete")
        say(f"wrote {run.path}")
    print(run.path if args.quiet else
          f"lambda_max = {res.lambda_max:.4g} +- {res.lambda_max_stderr:.2g} 1/s; results in {run.path}")
    return 0


def _linear_side(net, args, run, say, out, seeds, build, neurons=None):
    """Spectrum (and per-neuron linear estimates, of ``neurons`` or all) of the linearised or
    smooth dynamics. Returns per-neuron linear exponents (or None)."""
    import matplotlib.pyplot as plt

    from ..lyapunov import finite_size as ly
    from ..lyapunov.probe import NoiseProbe
    from ..lyapunov.spectrum import per_neuron_exponents_linear, qr_spectrum_linear, qr_spectrum_ode
    from ..report import plots

    spec = net.model
    k = args.spectrum
    if not spec.neuron.spiking:
        if not k:
            return None
        dt = float(build["dt"]) if build["dt"] is not None else 1e-4
        T = max(float(args.duration), 100 * dt)  # measured time, after --transient
        if getattr(args, "spectrum_method", "build") == "python":
            # reference: the Python step-by-step QR integration (slow: ~0.5 ms per rk4 step)
            names, f, jac, x0 = ly.ode_system(net)
            say(f"spectrum of the smooth dynamics ({', '.join(names)}), QR method in Python")
            with run.timed("spectrum"):
                s = qr_spectrum_ode(f, jac, x0, dt=dt, T=T, k=min(k, len(names)),
                                    transient=float(args.transient), seed=seeds["perturbation"])
            out["spectrum"] = {"exponents": s.exponents.tolist(), "method": "QR on the model's ODE (SymPy Jacobian)"}
            _spectrum_figure(run, plots, plt, s.exponents, "ODE")
            return None
        # default: the variational equations integrated in a compiled build (lnp_brian.lyapunov.tangent),
        # with the Python path's settings: same dt, interval 10 dt, start frame, measured time
        from brian2 import second

        from ..lyapunov.tangent import spectrum_in_build, variational_system

        names = variational_system(spec).names
        interval = 10 * dt
        transient = round(float(args.transient) / interval) * interval
        say(f"spectrum of the smooth dynamics ({', '.join(names)}): variational equations in the "
            f"{args.device} build, Gram-Schmidt every {interval:g} s")
        with run.timed("spectrum"):
            exps, info = spectrum_in_build(
                net, min(k, len(names)), duration=(T + transient) * second, transient=transient * second,
                interval=interval * second, dt=dt * second, device=args.device, seed=seeds["perturbation"],
                inputs=build["inputs"], build_dir=run.file("build_spectrum"), reuse=True,
                progress=not args.quiet and T >= 1000)
        out["spectrum"] = {"exponents": exps.tolist(), "stderr": info["stderr"].tolist(),
                           "method": "QR (modified Gram-Schmidt) on the model's variational equations "
                                     f"(SymPy Jacobian) integrated in the {args.device} build"}
        _spectrum_figure(run, plots, plt, exps, "ODE")
        return None
    if build["inputs"] is None:
        say("  (no noise input: the noise probe needs one; skipping the linearised model)")
        return None
    say("noise probe: rates and gains for the linearised rate model A")
    with run.timed("noise_probe"):
        pr = NoiseProbe(net, args.device, duration=args.duration, noise=build["inputs"], dt=build["dt"],
                        build_dir=run.file("build_probe"), reuse=True).run(seed=seeds["noise"], covariance=False)
    out["noise_probe"] = {"mean_rate_hz": float(pr.rates.mean()), "mean_gain_hz_per_input_unit": float(pr.gains.mean())}
    T = float(args.window)
    # with --per-neuron-count only those neurons: all N cost one column of exp(A T) each
    with run.timed("linear_per_neuron"):
        lam_lin = np.full(net.n, np.nan)
        lam_lin[slice(None) if neurons is None else neurons] = per_neuron_exponents_linear(pr.A, T, neurons=neurons)
    out["per_neuron_linear"] = {"lambdas": [None if np.isnan(x) else x for x in lam_lin.tolist()], "T_s": T, "method": "(1/T) log ||exp(A T) e_i||",
                                "neurons": "all" if neurons is None else neurons.tolist()}
    if k:
        say(f"spectrum of the linearised rate model: first {k} exponents (QR)")
        with run.timed("spectrum"):
            s = qr_spectrum_linear(pr.A, k=min(k, net.n), seed=seeds["perturbation"])
        out["spectrum"] = {"exponents": s.exponents.tolist(),
                           "method": "QR on the linearised rate model A of the noise probe"}
        _spectrum_figure(run, plots, plt, s.exponents, "linearised rate model")
    return lam_lin


def _spectrum_figure(run, plots, plt, exponents, label):
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    plots.plot_lyapunov_spectrum(exponents, ax, label=label)
    fig.savefig(run.file("spectrum.png"), dpi=120)
    plt.close(fig)
