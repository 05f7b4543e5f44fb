"""Implementations of the `lnp-brian` subcommands (the parser lives in lnp_brian.cli.main).

Each command checks every option and file before it creates or touches its output directory,
so a bad input ends in one line and changes nothing.
"""

from __future__ import annotations


def pruning_options() -> dict:
    """``{field: option}`` for every :class:`lnp_brian.pruning.config.PruneConfig` field that
    ``lnp-brian prune`` exposes (metadata "option"), in field order: the parser's options are
    made from these fields (lnp_brian.cli.main), and errors about a field name its option. The
    ``steps`` field stands for the --no-STEP / --random-STEP flags, one pair per step of
    ``lnp_brian.pruning.config.STEP_BY_NAME``. Imports only lnp_brian.pruning.config (no Brian2)."""
    import dataclasses

    from ..pruning.config import PruneConfig

    return {f.name: f.metadata["option"] for f in dataclasses.fields(PruneConfig) if "option" in f.metadata}

def checked_size(spec, n: int, connection_probability: float | None):
    """The connectivity table for ``n`` neurons (``--connection-probability`` applied), after
    checking that such a network fits in memory. Errors name the options."""
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
    """The integration step in seconds (``--dt``, else the model's, else 0.1 ms), which must be
    shorter than the simulated time."""
    from ..simulation.simulator import simulation_dt

    step = simulation_dt(dt, spec)
    if step >= float(duration):
        source = "--dt" if dt is not None else f"the model's dt ({spec.source})"
        raise ValueError(f"{option} {duration}: must be longer than the integration step, "
                         f"{source} = {step:g} s")
    return step
