"""Check a model's equations with Brian2 itself, before anything is simulated.

Brian2 checks units and names only when it generates code. :func:`check_with_brian2` does
that on a 4-neuron copy of the model (NumPy target, zero duration, no compilation), one part
at a time, so an error names the part of the model file at fault: ``neuron.equations``,
``neuron.threshold``, ``neuron.reset``, ``synapse.*`` or ``plasticity.*``.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import logging
from contextlib import contextmanager

import numpy as np
import brian2 as b2
from brian2.units.fundamentalunits import DIMENSIONLESS

from .brianobjects import create_objects
from .model import ModelError, ModelSpec
from .units import unit_string

__all__ = ["check_with_brian2"]

_validated: set[str] = set()  # model texts already accepted in this process


def _message(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    # Brian2 wraps the real cause; keep the most specific line
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip() and str(cause).strip() not in text:
        text = f"{text} ({str(cause).strip()})"
    return " ".join(text.split())


def _bare_numbers(spec: ModelSpec) -> list[str]:
    """Keys given as plain numbers: the usual suspects of a unit error."""
    out = [f"neuron.constants.{k}" for k, q in spec.neuron.constants.items() if q.dim is DIMENSIONLESS]
    out += [f"neuron.parameters.{k}" for k, d in spec.neuron.parameters.items() if d.dim is DIMENSIONLESS]
    return out


def check_with_brian2(spec: ModelSpec) -> None:
    """Raise :class:`~lnp_brian.model.ModelError` if Brian2 rejects any part of the model."""
    from .backends import _build_lock, _device

    digest = hashlib.sha256(spec.text.encode()).hexdigest()
    if digest in _validated:
        return
    try:
        b2.Equations(spec.neuron.equations)
    except Exception as exc:
        raise ModelError(spec.source, "neuron.equations", f"Brian2 cannot parse the equations: {_message(exc)}") from None
    _check_declarations(spec)

    n = 4
    exc_labels = np.array([True, True, False, False])
    pre, post = np.nonzero(~np.eye(n, dtype=bool))
    plastic = np.zeros(len(pre), bool)
    if spec.plasticity is not None:
        codes = {"EE": (True, True), "EI": (True, False), "IE": (False, True), "II": (False, False)}
        for pw in spec.plasticity.pathways:
            e_pre, e_post = codes[pw]
            plastic |= (exc_labels[pre] == e_pre) & (exc_labels[post] == e_post)
    neuron = spec.neuron
    steps = [("neuron.equations", dataclasses.replace(
        spec, neuron=dataclasses.replace(neuron, threshold=None, reset=None, refractory=None),
        synapse=None, plasticity=None))]
    if neuron.threshold:
        steps.append(("neuron.threshold", dataclasses.replace(
            spec, neuron=dataclasses.replace(neuron, reset=None), synapse=None, plasticity=None)))
    if neuron.reset:
        steps.append(("neuron.reset", dataclasses.replace(spec, synapse=None, plasticity=None)))
    if spec.synapse is not None:
        steps.append(("synapse", dataclasses.replace(spec, plasticity=None)))
    if spec.plasticity is not None:
        steps.append(("plasticity", spec))

    # One zero-length run of the whole model; only if Brian2 objects do the parts are run one
    # at a time to find which one it rejects (Brian2's gc.collect makes each run ~0.2 s).
    with _build_lock, _device("runtime"), _quiet_numpy_brian():
        if _zero_run(spec, n, pre, post, plastic) is None:
            _validated.add(digest)
            return
        for key, sub in steps:
            error = _zero_run(sub, n, pre, post, plastic)
            if error is not None:
                raise ModelError(spec.source, key, _explain(spec, key, error))
        raise ModelError(spec.source, "", f"Brian2 rejected the model: {_zero_run(spec, n, pre, post, plastic)}")


@contextmanager
def _quiet_numpy_brian():
    """NumPy target (no compilation), no log noise from the throw-away objects."""
    log = logging.getLogger("brian2")
    saved = (log.level, b2.prefs.codegen.target, b2.prefs.logging.warn_for_unused_objects)
    log.setLevel(logging.ERROR)
    b2.prefs.codegen.target = "numpy"
    b2.prefs.logging.warn_for_unused_objects = False
    try:
        yield
    finally:
        gc.collect()
        log.setLevel(saved[0])
        b2.prefs.codegen.target = saved[1]
        b2.prefs.logging.warn_for_unused_objects = saved[2]


def _zero_run(sub: ModelSpec, n, pre, post, plastic) -> str | None:
    """Brian2's objection to the model ``sub`` (None when it accepts it)."""
    has_syn = sub.synapse is not None
    sel = plastic if sub.plasticity is not None else np.zeros(len(pre), bool)
    error = None
    try:
        objs = create_objects(sub, n, pre if has_syn else [], post if has_syn else [],
                              sel if has_syn else [], delays=_delay(sub), record_spikes=False,
                              unique_names=True)
        _set_means(sub, objs)
        b2.Network(objs.all).run(0 * b2.ms, namespace={})
    except Exception as exc:  # Brian2 raises many types; all mean "rejected"
        error = _message(exc)
    objs = None
    gc.collect()  # delete the objects now, while unused-object warnings are off
    return error


def _delay(spec):
    if spec.synapse is None or spec.synapse.delay is None:
        return None
    return spec.synapse.delay.mean


def _set_means(spec: ModelSpec, objs) -> None:
    for name, dist in spec.neuron.parameters.items():
        objs.neurons.variables[name].set_value(np.full(len(objs.neurons), dist.mean))
    for syn_name, S in objs.synapses.items():
        params = dict(spec.synapse.parameters)
        if syn_name == "syn_plastic" or syn_name.startswith("syn_plastic"):
            params.update(spec.plasticity.parameters)
        for name, dist in params.items():
            S.variables[name].set_value(np.full(len(S), dist.mean))


def _explain(spec: ModelSpec, key: str, error: str) -> str:
    msg = f"Brian2 rejected it: {error}"
    if key == "neuron.equations":
        bare = _bare_numbers(spec)
        if bare and ("unit" in msg.lower() or "dimension" in msg.lower()):
            msg += f". Given without a unit: {', '.join(bare)} (a missing unit?)"
    return msg


def _check_declarations(spec: ModelSpec) -> None:
    """Parameters and constants must not clash with each other or the equations."""
    eqs = b2.Equations(spec.neuron.equations)
    declared = set(eqs.names)
    for name in spec.neuron.parameters:
        if name in declared:
            raise ModelError(spec.source, f"neuron.parameters.{name}",
                             f"{name!r} is also defined in neuron.equations; define it in one place")
        if name in spec.neuron.constants:
            raise ModelError(spec.source, f"neuron.parameters.{name}", f"{name!r} is also a constant")
    for name in spec.neuron.constants:
        if name in declared:
            raise ModelError(spec.source, f"neuron.constants.{name}",
                             f"{name!r} is also defined in neuron.equations")
    for name in spec.neuron.initial:
        if name not in declared:
            raise ModelError(spec.source, f"neuron.initial.{name}",
                             f"not a variable of neuron.equations (variables: {', '.join(sorted(declared))})")
        dist = spec.neuron.initial[name]
        want = eqs[name].dim
        if dist.dim is not want:
            raise ModelError(spec.source, f"neuron.initial.{name}",
                             f"has unit {unit_string(dist.dim)}, the equations declare {name} in {unit_string(want)}")
    if spec.neuron.input is not None and spec.neuron.input in declared:
        raise ModelError(spec.source, "neuron.input",
                         f"{spec.neuron.input!r} is defined in neuron.equations; the package defines the input "
                         "current itself (I_bias + I_noise + I_stim)")
    if spec.neuron.input is not None and spec.neuron.input not in eqs.identifiers:
        raise ModelError(spec.source, "neuron.input",
                         f"{spec.neuron.input!r} is not used in neuron.equations")
