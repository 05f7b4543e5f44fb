"""Task metrics, synaptic operations (SOPs) and network size counts.

- :func:`rmse`, :func:`nrmse` for forecasting, :func:`accuracy` for classification.
- :func:`sops`: synaptic operations per sample, the cost measure that pruning trades
  accuracy against: every spike costs one operation per outgoing live synapse. Reported
  separately for recurrent, input and readout synapses.
- :func:`counts`: neurons and synapses, with and without the (dense) readout.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rmse", "nrmse", "accuracy", "sops", "counts", "input_fan_out"]


def _pair(y_true, y_pred, what):
    a = np.asarray(y_true, dtype=float)
    b = np.asarray(y_pred, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{what}: y_true has shape {a.shape} but y_pred {b.shape}")
    if a.ndim == 1:
        a, b = a[:, None], b[:, None]
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{what}: expected arrays (n_samples,) or (n_samples, n_variables), "
                         f"got {a.shape}")
    return a, b


def _reduce(per_var, multioutput, what):
    if multioutput == "raw_values":
        return per_var
    if multioutput == "uniform_average":
        return float(per_var.mean())
    raise ValueError(f"{what}: multioutput must be 'uniform_average' or 'raw_values', "
                     f"got {multioutput!r}")


def rmse(y_true, y_pred, multioutput: str = "uniform_average"):
    """Root-mean-square error per variable, averaged over variables.

    Parameters
    ----------
    y_true, y_pred : arrays (n_samples,) or (n_samples, n_variables)
        In the same units; the result is in those units.
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"
        Average over variables (as scikit-learn's ``root_mean_squared_error``) or return
        the per-variable array.

    Returns
    -------
    float or ndarray of shape (n_variables,)
        The RMSE in the units of ``y_true``: averaged over variables, or one per variable
        for ``multioutput="raw_values"``.

    Raises
    ------
    ValueError
        If the shapes differ, are not 1-D or 2-D, or ``multioutput`` is unknown.

    Examples
    --------
    >>> from lnp_brian.tasks.metrics import rmse
    >>> round(rmse([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]), 4)
    0.5774
    """
    a, b = _pair(y_true, y_pred, "rmse")
    return _reduce(np.sqrt(np.mean((a - b) ** 2, axis=0)), multioutput, "rmse")


def nrmse(y_true, y_pred, multioutput: str = "uniform_average"):
    """Normalised RMSE: per variable, RMSE / standard deviation of ``y_true``; then averaged.

    Dividing by the target's own (population, ddof=0) standard deviation makes the number
    unit-free and comparable across variables and series: 0 is perfect and 1 is what
    predicting the target's mean gives. It is unchanged by any affine rescaling of a
    variable applied to both arrays, so normalised and original units give the same value.
    For a single variable, R^2 = 1 - NRMSE^2.

    Parameters
    ----------
    y_true, y_pred : arrays (n_samples,) or (n_samples, n_variables)
        Held-out targets and predictions.
    multioutput : {"uniform_average", "raw_values"}, default="uniform_average"
        Average over variables or return the per-variable array.

    Returns
    -------
    float or ndarray of shape (n_variables,)
        The unit-free NRMSE: averaged over variables, or one per variable for
        ``multioutput="raw_values"``.

    Raises
    ------
    ValueError
        If the shapes differ or are not 1-D or 2-D, a target variable is constant (its
        standard deviation is 0), or ``multioutput`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from lnp_brian.tasks.metrics import nrmse
    >>> round(nrmse([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0]), 4)
    0.4472

    Predicting the mean gives 1; with ``raw_values`` each variable is scored on its own:

    >>> y = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 3.0]])
    >>> nrmse(y, np.full_like(y, y.mean(axis=0)), multioutput="raw_values")
    array([1., 1.])
    """
    a, b = _pair(y_true, y_pred, "nrmse")
    std = a.std(axis=0)
    if np.any(std == 0):
        raise ValueError(f"nrmse: target variables {np.flatnonzero(std == 0).tolist()} are "
                         "constant; NRMSE is undefined")
    return _reduce(np.sqrt(np.mean((a - b) ** 2, axis=0)) / std, multioutput, "nrmse")


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted label equals the true one.

    Parameters
    ----------
    y_true, y_pred : arrays (n_samples,)
        True and predicted labels (any comparable type: ints, strings).

    Returns
    -------
    float
        Accuracy in [0, 1].

    Raises
    ------
    ValueError
        If the arrays are empty, not 1-D or of different lengths.

    Examples
    --------
    >>> from lnp_brian.tasks.metrics import accuracy
    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"accuracy: expected two non-empty label arrays (n,) of the same "
                         f"length, got {a.shape} and {b.shape}")
    return float(np.mean(a == b))


# ------------------------------------------------------------------------------------------
def input_fan_out(source, target, n_sources: int, active=None) -> np.ndarray:
    """Number of input synapses leaving each input source onto active network neurons.

    Only synapses onto active neurons count: an input synapse onto a pruned neuron performs
    no work.

    Parameters
    ----------
    source, target : int arrays (m,)
        Input synapse list: input source index, network neuron index.
    n_sources : int
        Number of input sources.
    active : bool array (n,), optional
        ``network.active``; default: every target counts.

    Returns
    -------
    ndarray of int, shape (n_sources,)
        Live input synapses leaving each input source.

    Raises
    ------
    ValueError
        If ``source`` and ``target`` are not 1-D arrays of equal length, or a source index
        lies outside ``[0, n_sources)``.

    Examples
    --------
    >>> from lnp_brian.tasks.metrics import input_fan_out
    >>> input_fan_out([0, 0, 1, 2], [0, 3, 1, 2], n_sources=3)
    array([2, 1, 1])
    >>> input_fan_out([0, 0, 1, 2], [0, 3, 1, 2], n_sources=3, active=[True, False, True, True])
    array([2, 0, 1])
    """
    source = np.asarray(source, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    if source.shape != target.shape or source.ndim != 1:
        raise ValueError("input_fan_out: source and target must be 1-D arrays of equal length")
    if source.size and (source.min() < 0 or source.max() >= n_sources):
        raise ValueError(f"input_fan_out: source indices must lie in [0, {n_sources})")
    keep = np.ones(len(source), bool) if active is None else np.asarray(active, bool)[target]
    return np.bincount(source[keep], minlength=n_sources)


def _input_pair(input_synapses):
    """(spike counts, fan-out) of the input sources, checked."""
    try:
        spikes, fan = (np.asarray(v, dtype=float) for v in input_synapses)
    except (TypeError, ValueError):
        raise ValueError("input_synapses must be a pair (spike counts per input source, "
                         "fan-out per input source)") from None
    if spikes.shape != fan.shape or spikes.ndim != 1:
        raise ValueError(f"input_synapses: spike counts {spikes.shape} and fan-out {fan.shape} "
                         "must be 1-D arrays with one entry per input source")
    if np.any(spikes < 0) or np.any(fan < 0):
        raise ValueError("input_synapses: spike counts and fan-out must be >= 0")
    return spikes, fan


def sops(result, network, *, input_synapses=None, readout_size: int = 0, copy: int = 0,
         per_sample: float = 1) -> dict:
    """Synaptic operations (SOPs) per sample, by synapse kind.

    One synaptic operation is one spike arriving at one synapse, so a spike of neuron i
    costs its out-degree: SOPs = sum over spikes of the spiking neuron's number of live
    outgoing synapses. This is the event-driven cost that sparsity buys down.

    - recurrent: out-degree over ``network.live_synapses()`` (pruned synapses and synapses
      of inactive neurons cost nothing). Spikes of inactive neurons are ignored.
    - input: input source spikes x their fan-out (see :func:`input_fan_out`).
    - readout: the readout is dense, so every spike of an active neuron reaches all
      ``readout_size`` readout units.

    Parameters
    ----------
    result : SimResult
        The run; ``result.n`` must equal ``network.n``.
    network : Network
        The network that produced it (its masks and ``active`` decide what counts).
    input_synapses : (spike_counts, fan_out), optional
        Arrays with one entry per input source: spikes emitted during the run (may be
        expected counts, i.e. rate x duration) and live input synapses leaving it.
    readout_size : int
        Number of readout units (e.g. 10 classes, 3 predicted variables).
    copy : int
        Which network copy of the result.
    per_sample : float
        Samples presented during the run (images, or time steps of a series); every
        number is divided by it.

    Returns
    -------
    dict
        ``recurrent``, ``input``, ``readout``, ``total`` (SOPs per sample) and ``spikes``
        (spikes of active neurons per sample).

    Raises
    ------
    ValueError
        If the result and the network differ in size, ``copy`` is out of range,
        ``readout_size`` is negative, ``per_sample`` is not positive, or ``input_synapses``
        is not a pair of equal-length non-negative 1-D arrays.
    """
    if result.n != network.n:
        raise ValueError(f"sops: the result has {result.n} neurons per copy but the network "
                         f"{network.n}")
    if not 0 <= copy < result.copies:
        raise ValueError(f"sops: copy must lie in [0, {result.copies}), got {copy}")
    if readout_size < 0:
        raise ValueError(f"sops: readout_size must be >= 0, got {readout_size}")
    if not per_sample > 0:
        raise ValueError(f"sops: per_sample must be > 0, got {per_sample!r}")
    spikes = result.spike_counts(copy) * network.active  # inactive neurons do not count
    out_degree = np.bincount(network.pre[network.live_synapses()], minlength=network.n)
    recurrent = float(np.dot(spikes, out_degree))
    n_spikes = float(spikes.sum())
    readout = n_spikes * readout_size
    inp = 0.0
    if input_synapses is not None:
        in_spikes, fan = _input_pair(input_synapses)
        inp = float(np.dot(in_spikes, fan))
    total = recurrent + inp + readout
    return {k: v / per_sample for k, v in (("recurrent", recurrent), ("input", inp),
                                           ("readout", readout), ("total", total),
                                           ("spikes", n_spikes))}


def counts(network, readout_size: int = 0, input_synapses=0) -> dict:
    """Neuron and synapse counts of a network, without and with its dense readout.

    Parameters
    ----------
    network : Network
        Live neurons are ``network.active``; live recurrent synapses
        ``network.live_synapses()``.
    readout_size : int
        Readout units; each is connected to every active neuron (the readout is dense and
        never pruned), giving ``n_active x readout_size`` readout synapses.
    input_synapses : int or (spike_counts, fan_out)
        Number of input synapses, or the pair given to :func:`sops` (then the sum of the
        fan-outs).

    Returns
    -------
    dict
        ``neurons``, ``synapses`` (network alone: active neurons; recurrent + input
        synapses), ``readout_neurons``, ``readout_synapses``, ``neurons_with_readout``,
        ``synapses_with_readout``, and the parts ``recurrent_synapses``, ``input_synapses``.

    Raises
    ------
    ValueError
        If ``readout_size`` or the number of input synapses is negative, or the pair is
        malformed.
    """
    if readout_size < 0:
        raise ValueError(f"counts: readout_size must be >= 0, got {readout_size}")
    if isinstance(input_synapses, (int, np.integer)):
        n_input = int(input_synapses)
        if n_input < 0:
            raise ValueError(f"counts: input_synapses must be >= 0, got {n_input}")
    else:
        n_input = int(_input_pair(input_synapses)[1].sum())
    neurons = network.n_active
    recurrent = network.n_synapses
    readout_syn = neurons * int(readout_size)
    return {"neurons": neurons, "synapses": recurrent + n_input,
            "recurrent_synapses": recurrent, "input_synapses": n_input,
            "readout_neurons": int(readout_size), "readout_synapses": readout_syn,
            "neurons_with_readout": neurons + int(readout_size),
            "synapses_with_readout": recurrent + n_input + readout_syn}
