"""Brian2's exact integrator, with its result kept on disk across processes.

Brian2's ``"exact"`` method solves linear equations symbolically: it forms dX/dt = M X + B
with sympy and takes the matrix exponential exp(M dt). For the HRSNN neuron that costs about
0.6 s of CPU. Brian2 caches the result only inside one process, under a key that holds the
values and sizes of the group's variables, so every new network size, every constant and
every new process computes it again: about 65 s of CPU in one run of the test suite.

:data:`exact` is Brian2's integrator unchanged, with one addition: it stores the abstract
code it returns in ``<cache>/exact`` (:func:`~lnp_brian.core.files.cache_root`), under a key of
everything that the code depends on:

- the equations (each equation's text, unit, flags and value type, in Brian2's order);
- the method options;
- the time step;
- for every function that the equations call: whether it is stateless and whether it is
  constant over one time step (e.g. a ``TimedArray`` whose dt is a multiple of the clock's);
- the Brian2 and sympy versions.

The sympy form of an expression does not depend on anything else (Brian2 says so where it
caches its own string-to-sympy step): the variables enter only through the checks that make
Brian2 refuse equations (stateful or time-dependent functions), and those checks are part of
the key. Equations that Brian2 refuses are never stored, so they raise the same error every
time.
"""

from __future__ import annotations

import hashlib
import json
import re

import brian2
import sympy
from brian2.core.functions import Function
from brian2.stateupdaters.exact import LinearStateUpdater

from ..core.files import atomic_write, cache_root

__all__ = ["CachedLinearStateUpdater", "exact", "exact_key"]


def exact_key(equations, variables=None, method_options=None) -> str | None:
    """The cache key of the exact integrator's result for these equations.

    Parameters
    ----------
    equations : brian2.Equations
        The equations to integrate.
    variables : dict, optional
        Brian2's variables of the group (name to ``Variable`` or ``Function``).
    method_options : dict, optional
        The integrator's options (``simplify``).

    Returns
    -------
    str or None
        A hexadecimal SHA-256 digest, or None when the time step cannot be read (the result is
        then not cached).

    Examples
    --------
    >>> from brian2 import Equations
    >>> a = exact_key(Equations("dv/dt = -v / tau : volt"))
    >>> a == exact_key(Equations("dv/dt = -v / tau : volt"))
    True
    >>> a == exact_key(Equations("dv/dt = -v / tau : amp"))
    False
    """
    variables = variables or {}
    try:
        dt = float(variables["dt"].get_value()[0]) if "dt" in variables else None
    except Exception:  # a device that cannot read values yet: do not cache
        return None
    words = set(re.findall(r"\w+", str(equations)))
    functions = []
    for name in sorted(words & set(variables)):
        var = variables[name]
        if isinstance(var, Function):
            functions.append([name, type(var).__name__, bool(var.stateless),
                              None if dt is None else bool(var.is_locally_constant(dt))])
    options = sorted((str(k), repr(v)) for k, v in (method_options or {}).items())
    text = json.dumps([brian2.__version__, sympy.__version__,
                       [[str(eq), eq.var_type] for eq in equations.ordered], options, dt, functions])
    return hashlib.sha256(text.encode()).hexdigest()


class CachedLinearStateUpdater(LinearStateUpdater):
    """Brian2's ``"exact"`` integrator whose results are kept in ``<cache>/exact``.

    Pass it as a group's ``method`` (``NeuronGroup(..., method=exact)``); its results are
    those of ``method="exact"``. A miss costs one small file write; a cache that cannot be
    written is ignored.
    """

    def __call__(self, equations, variables=None, method_options=None):
        key = exact_key(equations, variables, method_options)
        path = None if key is None else cache_root() / "exact" / f"{key}.txt"
        if path is not None:
            try:
                return path.read_text()
            except OSError:
                pass
        code = super().__call__(equations, variables, method_options)
        if path is not None:
            try:
                atomic_write(path, lambda fh: fh.write(code.encode()))
            except OSError:
                pass
        return code

    def __repr__(self):
        return "exact"


#: the integrator that the model files' ``method = "exact"`` builds with
exact = CachedLinearStateUpdater()
