"""Checks shared by the `lnp-brian` subcommands (their options are in lnp_brian.cli.options).

Each command checks every option and file before it creates or touches its output directory,
so a bad input ends in one line and changes nothing.
"""

from __future__ import annotations


def checked_network_args(args) -> tuple:
    """Check ``--out``, then load ``--model`` and check the network size, before anything is written.

    The first step of every command that builds a network from a model file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options: ``out``, ``model``, ``neurons`` and, where the command has it,
        ``connection_probability``.

    Returns
    -------
    spec : ModelSpec
        The loaded model.
    n : int
        Number of neurons (``--neurons``, else the model's ``network.n_neurons``).
    conn : dict
        The connectivity table (see :func:`checked_size`).

    Raises
    ------
    ValueError
        A bad option or model file, naming it; the output directory is untouched.
    """
    from ..core.runs import check_out_dir
    from ..model.spec import load_model

    check_out_dir(args.out)
    spec = load_model(args.model)
    n = spec.network.n_neurons if args.neurons is None else args.neurons
    return spec, n, checked_size(spec, n, getattr(args, "connection_probability", None))


def file_pyplot():
    """matplotlib.pyplot drawing to files only (the Agg backend), loaded when a command first draws.

    Returns
    -------
    module
        ``matplotlib.pyplot``.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def checked_size(spec, n: int, connection_probability: float | None):
    """The connectivity table for ``n`` neurons, after checking that such a network fits in memory.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    n : int
        Number of neurons (``--neurons``).
    connection_probability : float or None
        ``--connection-probability`` of a 'random' model (None: the model's).

    Returns
    -------
    dict
        The model's connectivity table with the probability applied.

    Raises
    ------
    ValueError
        A probability the model cannot take, or a network too large for memory; the message
        names the option.
    """
    from ..network.network import check_size, connectivity_with_p

    conn = dict(spec.network.connectivity)
    if connection_probability is not None:
        try:
            conn = connectivity_with_p(spec, connection_probability)
        except ValueError as exc:
            raise ValueError(f"--connection-probability {connection_probability}: {exc}") from None
    if spec.synapse is not None:
        check_size(n, conn, what="--neurons")
    return conn


def resolve_dt(spec, dt, duration, *, option: str = "--duration") -> float:
    """The integration step in seconds (``--dt``, else the model's, else 0.1 ms).

    Parameters
    ----------
    spec : ModelSpec
        The model (its ``dt``).
    dt : str, brian2.Quantity or None
        The ``--dt`` value (None: not given).
    duration : str or brian2.Quantity
        The simulated time, which the step must be shorter than.
    option : str
        Option named in the error (default ``"--duration"``).

    Returns
    -------
    float
        The step in s.

    Raises
    ------
    ValueError
        The step is not shorter than ``duration``.
    """
    from ..simulation.simulator import simulation_dt

    step = simulation_dt(dt, spec)
    if step >= float(duration):
        source = "--dt" if dt is not None else f"the model's dt ({spec.source})"
        raise ValueError(f"{option} {duration}: must be longer than the integration step, "
                         f"{source} = {step:g} s")
    return step
