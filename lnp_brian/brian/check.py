"""Check a model's equations with Brian2 itself, before anything is simulated.

Brian2 checks units and names only when it generates code. :func:`check_with_brian2` does
that on a 4-neuron copy of the model (NumPy target, zero duration, no compilation), one part
at a time, so an error names the part of the model file at fault: ``neuron.equations``,
``neuron.threshold``, ``neuron.reset``, ``synapse.*`` or ``plasticity.*``. Before that, a
constant or parameter whose unit does not fit what the equations need is named by its key
(:func:`unit_mismatch`), e.g. ``neuron.constants.v_th: '-50 ms' has unit second, but the
equations use v_th as volt``.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import hashlib
import logging
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import brian2 as b2
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

from ..core.units import unit_string
from .objects import create_objects
from .state import brian_device, build_lock

if TYPE_CHECKING:  # the model layer sits above this one and hands its ModelSpec down
    from ..model.spec import ModelSpec

__all__ = ["ModelCheckError", "check_with_brian2", "unit_mismatch"]


class ModelCheckError(ValueError):
    """Brian2 rejects a part of a model.

    The model layer turns it into a :class:`~lnp_brian.model.spec.ModelError` naming the file.

    Parameters
    ----------
    key : str
        The model file's key at fault, e.g. ``"neuron.threshold"`` or
        ``"neuron.constants.v_th"``; empty when no single part can be named.
    message : str
        What is wrong, without the key.
    """

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}" if key else message)


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
    """Raise :class:`ModelCheckError` if Brian2 rejects any part of the model.

    Checks the declarations (parameters, constants and initial values against the
    equations), then runs a 4-neuron copy of the whole model for zero time on the NumPy
    target (no compilation). Only if Brian2 objects are the parts run one at a time, so that
    the error names the part at fault. A model text accepted once is not checked again in
    the same process. Holds the build lock and the runtime device while it runs.

    Parameters
    ----------
    spec : ModelSpec
        The parsed model (its ``text`` identifies it for the cache of accepted models).

    Raises
    ------
    ModelCheckError
        Brian2 rejects the model; ``key`` names the model file's key (or part) at fault.
    """

    digest = hashlib.sha256(spec.text.encode()).hexdigest()
    if digest in _validated:
        return
    try:
        b2.Equations(spec.neuron.equations)
    except Exception as exc:
        raise ModelCheckError("neuron.equations", f"Brian2 cannot parse the equations: {_message(exc)}") from None
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
    with build_lock, brian_device("runtime"), _quiet_numpy_brian():
        if _zero_run(spec, n, pre, post, plastic) is None:
            _validated.add(digest)
            return
        # Brian2 objects: first look for a constant or parameter in a unit the equations
        # cannot use, so that the error names the model file's key
        mismatch = unit_mismatch(spec)
        if mismatch is not None:
            raise mismatch
        for key, sub in steps:
            error = _zero_run(sub, n, pre, post, plastic)
            if error is not None:
                raise ModelCheckError(key, _explain(spec, key, error))
        raise ModelCheckError("", f"Brian2 rejected the model: {_zero_run(spec, n, pre, post, plastic)}")


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
            raise ModelCheckError(f"neuron.parameters.{name}",
                             f"{name!r} is also defined in neuron.equations; define it in one place")
        if name in spec.neuron.constants:
            raise ModelCheckError(f"neuron.parameters.{name}", f"{name!r} is also a constant")
    for name in spec.neuron.constants:
        if name in declared:
            raise ModelCheckError(f"neuron.constants.{name}",
                             f"{name!r} is also defined in neuron.equations")
    for name in spec.neuron.initial:
        if name not in declared:
            raise ModelCheckError(f"neuron.initial.{name}",
                             f"not a variable of neuron.equations (variables: {', '.join(sorted(declared))})")
        dist = spec.neuron.initial[name]
        want = eqs[name].dim
        if dist.dim is not want:
            raise ModelCheckError(f"neuron.initial.{name}",
                             f"has unit {unit_string(dist.dim)}, the equations declare {name} in {unit_string(want)}")
    if spec.neuron.input is not None and spec.neuron.input in declared:
        raise ModelCheckError("neuron.input",
                         f"{spec.neuron.input!r} is defined in neuron.equations; the package defines the input "
                         "current itself (I_bias + I_noise + I_stim)")
    if spec.neuron.input is not None and spec.neuron.input not in eqs.identifiers:
        raise ModelCheckError("neuron.input",
                         f"{spec.neuron.input!r} is not used in neuron.equations")


# ---- which unit do the equations need for each constant and parameter? ------------------
# When Brian2 rejects a model, a constant or parameter given in the wrong unit is the usual
# cause; Brian2's message then names an expression, not the model file's key. The
# dimensions the code needs for one name are inferred by treating that name as unknown and
# every other name at its declared dimension: each sum, comparison and function argument
# that involves the name gives a linear equation for its dimension (Brian2's own rules:
# operands of + - % and comparisons agree, products add dimensions, exp() and friends take
# dimensionless arguments, derivatives are the variable's unit per second).

_ZERO = np.zeros(7)
_SCALED_RETURN = {"sqrt": 0.5, "abs": 1.0, "ceil": 1.0, "floor": 1.0, "clip": 1.0}
_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)\s*(.+?)\s*$")


def _vec(dim) -> np.ndarray:
    return np.array(get_dimensions(dim)._dims, dtype=float)


class _Infer:
    """Collects the dimensions that the code requires for the names in ``target``.

    A form is ``(vector, c)``: the dimension vector of an expression is ``vector + c * X``
    where X is the unknown dimension of the target; None means "cannot tell".
    """

    def __init__(self, names: dict, target: set):
        self.names, self.target, self.found = names, target, []

    def unify(self, a, b):
        if a is None or b is None:
            return b if a is None else a
        dc = a[1] - b[1]
        if dc != 0:
            self.found.append((b[0] - a[0]) / dc)
            return b if b[1] == 0 else a
        return a if np.allclose(a[0], b[0]) else None  # a mismatch elsewhere: no information

    def require(self, form, dim):
        self.unify(form, (_vec(dim), 0.0))

    def visit(self, node):
        if isinstance(node, ast.Expression):
            return self.visit(node.body)
        if isinstance(node, ast.Name):
            if node.id in self.target:
                return (_ZERO, 1.0)
            if node.id in self.names:
                return (self.names[node.id], 0.0)
            return (_ZERO, 0.0) if node.id in ("True", "False") else None
        if isinstance(node, ast.Constant):
            return (_ZERO, 0.0)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.visit(value)
            return (_ZERO, 0.0)
        if isinstance(node, ast.Compare):
            forms = [self.visit(n) for n in [node.left, *node.comparators]]
            for a, b in zip(forms[:-1], forms[1:]):
                self.unify(a, b)
            return (_ZERO, 0.0)
        if isinstance(node, ast.UnaryOp):
            form = self.visit(node.operand)
            return (_ZERO, 0.0) if isinstance(node.op, ast.Not) else form
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return None

    def binop(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if isinstance(op, (ast.Add, ast.Sub, ast.Mod)):
            return self.unify(left, right)
        if isinstance(op, ast.FloorDiv):
            self.require(left, DIMENSIONLESS)
            self.require(right, DIMENSIONLESS)
            return (_ZERO, 0.0)
        if isinstance(op, ast.Pow):
            exponent = _literal(node.right)
            if left is None or exponent is None:
                return None
            return (left[0] * exponent, left[1] * exponent)
        if left is None or right is None:
            return None
        if isinstance(op, ast.Mult):
            return (left[0] + right[0], left[1] + right[1])
        if isinstance(op, ast.Div):
            return (left[0] - right[0], left[1] - right[1])
        return None

    def call(self, node):
        from brian2.core.functions import DEFAULT_FUNCTIONS
        from brian2.units.fundamentalunits import Unit

        name = node.func.id if isinstance(node.func, ast.Name) else None
        args = [self.visit(a) for a in node.args]
        func = DEFAULT_FUNCTIONS.get(name)
        units = getattr(func, "_arg_units", None)
        if func is None or units is None or len(units) != len(args):
            return None
        for form, unit in zip(args, units):
            if unit is None or unit is bool:
                continue
            if isinstance(unit, str):
                self.unify(form, args[func._arg_names.index(unit)])
            else:
                self.require(form, getattr(unit, "dim", DIMENSIONLESS))
        ret = func._return_unit
        if ret is bool:
            return (_ZERO, 0.0)
        if isinstance(ret, (Unit, int)):
            return (_vec(getattr(ret, "dim", DIMENSIONLESS)), 0.0)
        scale = _SCALED_RETURN.get(name)
        if scale is None or not args or args[0] is None:
            return None
        return (args[0][0] * scale, args[0][1] * scale)

    def expression(self, code: str, dim=None):
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except SyntaxError:
            return
        form = self.visit(tree)
        if dim is not None:
            self.require(form, dim)

    def equations(self, eqs):
        for eq in eqs.ordered:
            if eq.expr is None:
                continue
            dim = eq.dim / b2.second.dim if eq.type == b2.equations.equations.DIFFERENTIAL_EQUATION else eq.dim
            self.expression(eq.expr.code, dim)

    def statements(self, code: str | None):
        for line in (code or "").splitlines():
            m = _STATEMENT.match(line.split("#")[0])
            if not m:
                continue
            var, op, rhs = m.groups()
            if op in ("*=", "/="):
                self.expression(rhs, DIMENSIONLESS)
            elif var in self.names and var not in self.target:
                self.expression(rhs, _dim_of(self.names[var]))
            else:
                self.expression(rhs)


def _dim_of(vec: np.ndarray):
    from brian2.units.fundamentalunits import get_or_create_dimension

    return get_or_create_dimension([float(x) for x in np.round(vec, 9)])


def _literal(node) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    return None


def _contexts(spec: ModelSpec):
    """The model's code, part by part: (names -> (dimension vector, model-file key or None),
    a function feeding the code to an _Infer)."""
    neuron = spec.neuron
    eqs = b2.Equations(neuron.equations)
    time, one = _vec(b2.second), _ZERO
    # neuron group: built-ins, then the model file's names (later entries win)
    nnames = {"t": (time, None), "dt": (time, None), "lastspike": (time, None), "i": (one, None),
              "N": (one, None), "not_refractory": (one, None), "active": (one, None),
              "xi": (_vec(b2.second ** -0.5), None)}
    nnames.update({f"xi_{k}": (_vec(b2.second ** -0.5), None) for k in range(1, 10)})
    if neuron.input is not None:
        for name in ("I_bias", "I_noise", "I_stim", neuron.input):
            nnames[name] = (_vec(neuron.input_dim), "neuron.input_unit")
    constants = {k: (_vec(q), f"neuron.constants.{k}") for k, q in neuron.constants.items()}
    group = {k: (_vec(d.dim), f"neuron.parameters.{k}") for k, d in neuron.parameters.items()}
    group.update({eq.varname: (_vec(eq.dim), None) for eq in eqs.ordered})
    group.update({k: v for k, v in nnames.items() if k not in group})
    names = {**constants, **group}

    def neuron_code(inf):
        inf.equations(eqs)
        if neuron.threshold:
            inf.expression(neuron.threshold)
        inf.statements(neuron.reset)

    yield names, neuron_code
    if spec.synapse is None:
        return
    ss, ps = spec.synapse, spec.plasticity
    neuron_refs = dict(group)  # unsuffixed: the postsynaptic neuron's variable
    for k, v in group.items():
        neuron_refs[f"{k}_pre"] = neuron_refs[f"{k}_post"] = v
    parts = [(False, ss.model, ss.on_pre, ss.on_post)]
    if ps is not None:
        parts.append((True, ps.model, ps.on_pre, ps.on_post))
    for plastic, model, on_pre, on_post in parts:
        names = dict(constants)
        names.update({k: (_vec(q), f"synapse.constants.{k}") for k, q in ss.constants.items()})
        if plastic:
            names.update({k: (_vec(q), f"plasticity.constants.{k}") for k, q in ps.constants.items()})
        names.update(neuron_refs)
        names.update({"t": (time, None), "dt": (time, None), "lastupdate": (time, None),
                      "delay": (time, None), "i": (one, None), "j": (one, None), "N": (one, None),
                      "N_incoming": (one, None), "N_outgoing": (one, None), "mask": (one, None),
                      "w": (_vec(ss.weight_dim), "synapse.weight_unit")})
        names.update({k: (_vec(d.dim), f"synapse.parameters.{k}") for k, d in ss.parameters.items()})
        if plastic:
            names.update({k: (_vec(d.dim), f"plasticity.parameters.{k}") for k, d in ps.parameters.items()})
        try:
            seqs = b2.Equations(model or "")
        except Exception:  # Brian2 reports it
            seqs = b2.Equations("")
        names.update({eq.varname: (_vec(eq.dim), None) for eq in seqs.ordered})

        def synapse_code(inf, seqs=seqs, on_pre=on_pre, on_post=on_post):
            inf.equations(seqs)
            inf.statements(on_pre)
            inf.statements(on_post)

        yield names, synapse_code


def _given_value(raw: dict, key: str) -> str:
    """The value of ``key`` as the model file wrote it (a distribution: its first quantity)."""
    node = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return "the value"
        node = node[part]
    if isinstance(node, dict):
        for k in ("value", "mean", "low", "high", "scale", "std", "min", "max"):
            if k in node:
                return f"{node.get('distribution', 'distribution')} with {k} = {node[k]!r}"
    return repr(node)


def unit_mismatch(spec: ModelSpec) -> ModelCheckError | None:
    """Find the first constant or parameter whose unit does not fit what the equations need.

    Looks at the neuron, synapse and plasticity constants and parameters. The dimension the
    code needs for a name is inferred from the sums, comparisons and function calls it
    appears in (Brian2's own rules). Used when Brian2 rejects a model, before its own
    message, because Brian2 names an expression rather than the model file's key.

    Parameters
    ----------
    spec : ModelSpec
        The parsed model.

    Returns
    -------
    ModelCheckError or None
        An error naming the key, the value as written and the unit the equations need
        (returned, not raised); None if every unit fits, a name is unused, or the
        equations cannot tell.
    """
    try:
        contexts = list(_contexts(spec))
    except Exception:  # unparsable equations are reported by Brian2
        return None
    keys = {}  # constants and parameters (input_unit and weight_unit declare the code's units)
    for names, _ in contexts:
        for name, (vec, key) in names.items():
            if key is not None and key.split(".")[1] in ("constants", "parameters"):
                keys.setdefault(key, vec)
    raw = None
    for key, given in keys.items():
        found = []
        label = None
        for names, code in contexts:
            target = {n for n, (_, k) in names.items() if k == key}
            if not target:
                continue
            label = label or min(target, key=len)  # the name itself, not name_pre / name_post
            others = {n: v for n, (v, k) in names.items() if k != key}
            inf = _Infer(others, target)
            code(inf)
            found += inf.found
        if not found or any(not np.allclose(f, found[0]) for f in found[1:]):
            continue  # unused, or contradictory requirements: Brian2's own message is clearer
        if np.allclose(found[0], given):
            continue
        if raw is None:
            import tomllib

            raw = tomllib.loads(spec.text)
        need, have = _dim_of(found[0]), _dim_of(given)
        have = "has no unit (a plain number)" if have is DIMENSIONLESS else f"has unit {unit_string(have)}"
        need = "dimensionless (unit 1)" if need is DIMENSIONLESS else unit_string(need)
        return ModelCheckError(key, f"{_given_value(raw, key)} {have}, "
                                            f"but the equations use {label} as {need}")
    return None
