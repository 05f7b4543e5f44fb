"""The Network value: everything about one network as plain NumPy/SciPy data.

A :class:`Network` holds per-neuron parameters, excitatory/inhibitory labels, the synapse
list with signed weights (rows = presynaptic ``i``, columns = postsynaptic ``j``, as in
Brian2), per-synapse plastic parameters, the neuron ``active`` mask and synapse mask, and
the seeds it was built from. It never holds Brian2 objects: backends simulate it, pruning
maps a Network to a new Network. It saves to one ``.npz`` (read without pickle) and
converts to and from a :class:`networkx.DiGraph` without loss.

All physical values are stored as float64 in SI base units; :meth:`Network.param` and
friends return Brian2 quantities.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from brian2.units.fundamentalunits import Quantity

from ..core.files import atomic_savez
from ..core.seeding import derive_seed, rng
from ..core.units import unit_string
from ..model.spec import PATHWAYS, ModelError, ModelSpec, load_model
from .connectivity import connect

__all__ = ["Network", "NetworkFileError", "build_network", "check_size", "expected_synapses", "FORMAT"]

FORMAT = "lnp_brian.network/1"


class NetworkFileError(ValueError):
    """A network file (npz) or graph that cannot be read as a Network."""


@dataclass(eq=False)
class Network:
    """A heterogeneous recurrent network as plain arrays.

    Usually made by :func:`build_network`, edited with :meth:`prune` / :meth:`replace` and
    read back with :meth:`load` or :meth:`from_networkx`. The constructor converts the arrays
    to the dtypes below and checks their shapes, the synapse order and that every neuron
    parameter of the model is given. The fields are attributes of the same names.

    Parameters
    ----------
    model : ModelSpec
        The model the network was built from (its TOML text is saved with the network).
    exc : bool array (n,)
        True for excitatory neurons.
    cluster : int array (n,)
        Cluster label (0 when the model has no clusters).
    params : dict of float arrays (n,)
        Per-neuron parameters (SI units), e.g. ``tau_m`` in seconds.
    initial : dict of float arrays (n,)
        Initial values of state variables (SI units).
    pre, post : int32 arrays (m,)
        Synapse list, sorted by (pre, post).
    w : float array (m,)
        Signed weights in the model's weight unit (SI); Dale's law: sign of the presynaptic type.
    syn_params : dict of float arrays (m,), optional
        Per-synapse parameters (SI); plastic parameters are NaN on non-plastic synapses.
    active : bool array (n,), optional
        False for pruned (silenced) neurons; default all True.
    syn_mask : bool array (m,), optional
        False for pruned synapses (their weight is 0); default all True.
    ids : int array (n,), optional
        Index of each neuron in the network this one descends from (identity when built,
        the default).
    seeds : dict, optional
        Seeds used to build it: ``network`` (connectivity, weights, parameters) and ``init``.

    Raises
    ------
    ValueError
        If an array has the wrong shape, a synapse index lies outside [0, n), the synapses
        are not sorted by (pre, post) without duplicates, or a neuron parameter of the model
        is missing.
    """

    model: ModelSpec
    exc: np.ndarray
    cluster: np.ndarray
    params: dict
    initial: dict
    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    syn_params: dict = field(default_factory=dict)
    active: np.ndarray | None = None
    syn_mask: np.ndarray | None = None
    ids: np.ndarray | None = None
    seeds: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.exc)
        self.exc = np.asarray(self.exc, dtype=bool)
        self.cluster = np.asarray(self.cluster, dtype=np.int32)
        self.pre = np.asarray(self.pre, dtype=np.int32)
        self.post = np.asarray(self.post, dtype=np.int32)
        self.w = np.asarray(self.w, dtype=float)
        self.active = np.ones(n, bool) if self.active is None else np.asarray(self.active, bool)
        self.syn_mask = (np.ones(len(self.pre), bool) if self.syn_mask is None
                         else np.asarray(self.syn_mask, bool))
        self.ids = np.arange(n) if self.ids is None else np.asarray(self.ids, dtype=np.int64)
        self.params = {k: np.asarray(v, float) for k, v in self.params.items()}
        self.initial = {k: np.asarray(v, float) for k, v in self.initial.items()}
        self.syn_params = {k: np.asarray(v, float) for k, v in self.syn_params.items()}
        self._check()

    def _check(self):
        n, m = self.n, len(self.pre)
        sizes = {"cluster": self.cluster, "active": self.active, "ids": self.ids}
        sizes.update({f"params.{k}": v for k, v in self.params.items()})
        sizes.update({f"initial.{k}": v for k, v in self.initial.items()})
        for name, arr in sizes.items():
            if arr.shape != (n,):
                raise ValueError(f"Network: {name} has shape {arr.shape}, expected ({n},)")
        syn = {"post": self.post, "w": self.w, "syn_mask": self.syn_mask}
        syn.update({f"syn_params.{k}": v for k, v in self.syn_params.items()})
        for name, arr in syn.items():
            if arr.shape != (m,):
                raise ValueError(f"Network: {name} has shape {arr.shape}, expected ({m},)")
        if m and (self.pre.min() < 0 or self.post.min() < 0 or max(self.pre.max(), self.post.max()) >= n):
            raise ValueError(f"Network: synapse indices must lie in [0, {n})")
        if m > 1:
            key = self.pre.astype(np.int64) * n + self.post
            if np.any(np.diff(key) <= 0):
                raise ValueError("Network: synapses must be sorted by (pre, post) without duplicates")
        missing = set(self.model.neuron.parameters) - set(self.params)
        if missing:
            raise ValueError(f"Network: missing neuron parameters {sorted(missing)}")

    # ---- basic views --------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of neurons (active or not)."""
        return len(self.exc)

    @property
    def n_active(self) -> int:
        """Number of active (not pruned) neurons."""
        return int(self.active.sum())

    @property
    def n_synapses(self) -> int:
        """Number of live synapses (mask set, both neurons active)."""
        return int(self.live_synapses().sum())

    def live_synapses(self) -> np.ndarray:
        """Which synapses are live: unmasked, with both their neurons active.

        Returns
        -------
        bool array (m,)
            True for live synapses, in the order of ``pre`` / ``post``.
        """
        return self.syn_mask & self.active[self.pre] & self.active[self.post]

    @property
    def pathway(self) -> np.ndarray:
        """Per-synapse pathway index into PATHWAYS ("EE", "EI", "IE", "II")."""
        return (2 * (~self.exc[self.pre]) + (~self.exc[self.post])).astype(np.int8)

    @property
    def plastic(self) -> np.ndarray:
        """Boolean (m,): synapses governed by the model's plasticity rule."""
        pl = self.model.plasticity
        if pl is None:
            return np.zeros(len(self.pre), bool)
        codes = [PATHWAYS.index(p) for p in pl.pathways]
        return np.isin(self.pathway, codes)

    @property
    def W(self) -> sp.csr_matrix:
        """Signed weight matrix (n x n, rows presynaptic), pruned synapses and neurons removed."""
        live = self.live_synapses()
        return sp.csr_matrix((self.w[live], (self.pre[live], self.post[live])), shape=(self.n, self.n))

    def param(self, name: str) -> Quantity:
        """A per-neuron parameter as a Brian2 quantity.

        Parameters
        ----------
        name : str
            Parameter name of the model's neuron, e.g. ``"tau_m"``.

        Returns
        -------
        Quantity (n,)
            The values with the parameter's unit (e.g. seconds for ``tau_m``).

        Raises
        ------
        KeyError
            If the network has no parameter ``name``.
        """
        return Quantity(self.params[name], dim=self.model.neuron.parameters[name].dim)

    def weights(self) -> Quantity:
        """Signed per-synapse weights as a Brian2 quantity.

        Returns
        -------
        Quantity (m,)
            ``w`` with the model's weight unit (dimensionless without a synapse model);
            pruned synapses included (weight 0).
        """
        return Quantity(self.w, dim=self.model.synapse.weight_dim if self.model.synapse else None)

    def topology_key(self) -> str:
        """Hash of what a compiled standalone binary fixes: size, synapse list, E/I, plasticity.

        Pruning by masks (:meth:`prune`) keeps it, so a pruned network re-uses the binary;
        the model text is hashed too.

        Returns
        -------
        str
            16 hexadecimal characters (the start of a SHA-256 digest).
        """
        h = hashlib.sha256()
        for arr in (np.int64(self.n), self.pre, self.post, self.exc, self.plastic):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(self.model.text.encode())
        return h.hexdigest()[:16]

    def content_key(self) -> str:
        """Hash of everything a simulation of this network depends on.

        That is the topology (:meth:`topology_key`) and the values: active neurons, synapse
        masks, weights, neuron and synapse parameters, initial values.

        Returns
        -------
        str
            16 hexadecimal characters (the start of a SHA-256 digest).
        """
        h = hashlib.sha256(self.topology_key().encode())
        arrays = [self.active, self.syn_mask, self.w]
        for table in (self.params, self.syn_params, self.initial):
            for name in sorted(table):
                h.update(name.encode())
                arrays.append(table[name])
        for arr in arrays:
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> str:
        """One line: model name, active neurons (E and I) and live synapses.

        Returns
        -------
        str
            E.g. ``"hrsnn: 18/20 active neurons (14 E, 4 I), 25/31 live synapses"``.
        """
        ne = int((self.exc & self.active).sum())
        return (f"{self.model.name}: {self.n_active}/{self.n} active neurons ({ne} E, "
                f"{self.n_active - ne} I), {self.n_synapses}/{len(self.pre)} live synapses")

    def __repr__(self):
        return f"<Network {self.summary()}>"

    # ---- edits (return new networks) ----------------------------------------------------
    def replace(self, **changes) -> "Network":
        """A copy with some fields replaced (arrays are copied, not shared).

        Parameters
        ----------
        **changes
            New values of constructor fields by name (``model``, ``exc``, ``cluster``,
            ``params``, ``initial``, ``pre``, ``post``, ``w``, ``syn_params``, ``active``,
            ``syn_mask``, ``ids``, ``seeds``); the others are copied from this network.

        Returns
        -------
        Network
            The new network, validated like any constructed one.
        """
        fields = dict(exc=self.exc, cluster=self.cluster, params=self.params, initial=self.initial,
                      pre=self.pre, post=self.post, w=self.w, syn_params=self.syn_params,
                      active=self.active, syn_mask=self.syn_mask, ids=self.ids, seeds=self.seeds)
        fields.update(changes)
        model = fields.pop("model", self.model)
        return Network(model=model, **{k: _copy(v) for k, v in fields.items()})

    def prune(self, synapses=None, neurons=None) -> "Network":
        """Mask synapses and deactivate neurons; weights of pruned synapses become 0.

        The topology is unchanged (same :meth:`topology_key`), so a compiled binary still
        fits. Synapses of a deactivated neuron are masked too.

        Parameters
        ----------
        synapses : bool array (m,) or int array, optional
            Synapses to mask, as a mask or as indices into ``pre`` / ``post``.
        neurons : bool array (n,) or int array, optional
            Neurons to deactivate, as a mask or as indices.

        Returns
        -------
        Network
            A pruned copy; this network is left unchanged.
        """
        mask, active, w = self.syn_mask.copy(), self.active.copy(), self.w.copy()
        if synapses is not None:
            mask[np.asarray(synapses)] = False
        if neurons is not None:
            active[np.asarray(neurons)] = False
            mask &= active[self.pre] & active[self.post]
        w[~mask] = 0.0
        return self.replace(syn_mask=mask, active=active, w=w)

    def compact(self) -> "Network":
        """Only the active neurons and live synapses, renumbered; ``ids`` keeps the origin.

        Unlike :meth:`prune` this changes the topology: a compiled binary no longer fits.

        Returns
        -------
        Network
            A network of ``n_active`` neurons, all active, and its live synapses, all unmasked.
        """
        keep = np.flatnonzero(self.active)
        new_index = -np.ones(self.n, np.int64)
        new_index[keep] = np.arange(len(keep))
        live = self.live_synapses()
        return Network(
            model=self.model, exc=self.exc[keep], cluster=self.cluster[keep],
            params={k: v[keep] for k, v in self.params.items()},
            initial={k: v[keep] for k, v in self.initial.items()},
            pre=new_index[self.pre[live]], post=new_index[self.post[live]], w=self.w[live],
            syn_params={k: v[live] for k, v in self.syn_params.items()},
            ids=self.ids[keep], seeds=dict(self.seeds),
        )

    # ---- comparison ----------------------------------------------------------------------
    def equals(self, other: "Network") -> bool:
        """Exact equality of every array, dict and the model text (NaN equals NaN).

        Parameters
        ----------
        other : Network
            The network to compare with (anything else compares unequal).

        Returns
        -------
        bool
            True if model text, seeds and every array (values, shapes and dtypes) agree.
        """
        if not isinstance(other, Network) or self.model.text != other.model.text:
            return False
        if self.seeds != other.seeds:
            return False
        for a, b in zip(self._arrays(), other._arrays()):
            if a[0] != b[0] or a[1].shape != b[1].shape or a[1].dtype != b[1].dtype:
                return False
            if not np.array_equal(a[1], b[1], equal_nan=a[1].dtype.kind == "f"):
                return False
        return True

    def _arrays(self):
        out = [("exc", self.exc), ("cluster", self.cluster), ("active", self.active),
               ("ids", self.ids), ("pre", self.pre), ("post", self.post), ("w", self.w),
               ("syn_mask", self.syn_mask)]
        out += [(f"param/{k}", v) for k, v in sorted(self.params.items())]
        out += [(f"init/{k}", v) for k, v in sorted(self.initial.items())]
        out += [(f"syn/{k}", v) for k, v in sorted(self.syn_params.items())]
        return out

    # ---- files ---------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the network to one ``.npz`` file (atomically).

        The file holds plain arrays only (the model's TOML text included), so :meth:`load`
        reads it without pickle.

        Parameters
        ----------
        path : str or Path
            The file to write (replaced if it exists).

        Returns
        -------
        Path
            ``path`` as a :class:`~pathlib.Path`.
        """
        path = Path(path)
        data = dict(self._arrays())
        data["format"] = np.array(FORMAT)
        data["model_text"] = np.array(self.model.text)
        data["model_source"] = np.array(self.model.source)
        data["seeds_json"] = np.array(json.dumps(self.seeds, sort_keys=True))
        return atomic_savez(path, data)

    @classmethod
    def load(cls, path) -> "Network":
        """Read a network saved by :meth:`save` (no pickle: a file cannot run code).

        Parameters
        ----------
        path : str or Path
            A ``.npz`` file written by :meth:`save`.

        Returns
        -------
        Network
            The saved network, with its embedded model.

        Raises
        ------
        NetworkFileError
            If the file is missing, not a plain-array ``.npz``, of another format, lacks a
            key, or holds an invalid model or inconsistent arrays.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise NetworkFileError(f"{path}: no such file") from None
        except ValueError as exc:  # object arrays need pickle: refused
            raise NetworkFileError(f"{path}: not a plain-array network file ({exc})") from None
        except Exception as exc:
            raise NetworkFileError(f"{path}: cannot read as .npz ({exc})") from None
        fmt = str(data.get("format", ""))
        if fmt != FORMAT:
            raise NetworkFileError(f"{path}: key 'format' is {fmt!r}, expected {FORMAT!r}")
        for key in ("model_text", "model_source", "seeds_json", "exc", "cluster", "active", "ids",
                    "pre", "post", "w", "syn_mask"):
            if key not in data:
                raise NetworkFileError(f"{path}: missing key {key!r}")
        try:
            model = ModelSpec.from_toml(str(data["model_text"]), f"{path}:model ({data['model_source']})",
                                        validate=False)
        except ModelError as exc:
            raise NetworkFileError(f"{path}: embedded model is invalid: {exc}") from None
        try:
            return cls(
                model=model, exc=data["exc"], cluster=data["cluster"],
                params=_group(data, "param/"), initial=_group(data, "init/"),
                pre=data["pre"], post=data["post"], w=data["w"], syn_params=_group(data, "syn/"),
                active=data["active"], syn_mask=data["syn_mask"], ids=data["ids"],
                seeds=json.loads(str(data["seeds_json"])),
            )
        except ValueError as exc:
            raise NetworkFileError(f"{path}: {exc}") from None

    # ---- NetworkX --------------------------------------------------------------------------
    def to_networkx(self, live_only: bool = False):
        """The network as a :class:`networkx.DiGraph` (synapse pre -> post = edge u -> v).

        Nodes carry ``exc``, ``cluster``, ``active``, ``id``, every neuron parameter and
        ``init:<var>``; edges carry ``weight`` (signed, SI), ``mask`` and every per-synapse
        parameter. Graph attributes hold the model text, seeds and units, so
        :meth:`from_networkx` restores the network exactly.

        Parameters
        ----------
        live_only : bool
            Drop pruned synapses and inactive neurons (the graph of :meth:`compact`, not
            lossless).

        Returns
        -------
        networkx.DiGraph
            Nodes 0..n-1 (0..n_active-1 with ``live_only``), one edge per synapse.
        """
        import networkx as nx

        net = self.compact() if live_only else self
        G = nx.DiGraph()
        G.graph.update(
            format=FORMAT, model_text=net.model.text, model_source=net.model.source,
            seeds=dict(net.seeds),
            units={k: unit_string(d.dim) for k, d in net.model.neuron.parameters.items()}
            | {"weight": unit_string(net.model.synapse.weight_dim) if net.model.synapse else "1"}
            | {k: unit_string(d) for k, d in net.model.synapse_param_dims().items()},
        )
        cols = {"exc": net.exc, "cluster": net.cluster, "active": net.active, "id": net.ids}
        cols.update(net.params)
        cols.update({f"init:{k}": v for k, v in net.initial.items()})
        names = list(cols)
        values = [c.tolist() for c in cols.values()]
        G.add_nodes_from((i, dict(zip(names, row))) for i, row in enumerate(zip(*values)))
        if net.n and not names:
            G.add_nodes_from(range(net.n))
        ecols = {"weight": net.w, "mask": net.syn_mask}
        ecols.update(net.syn_params)
        enames = list(ecols)
        evalues = [c.tolist() for c in ecols.values()]
        G.add_edges_from((int(a), int(b), dict(zip(enames, row)))
                         for a, b, *row in zip(net.pre.tolist(), net.post.tolist(), *evalues))
        return G

    @classmethod
    def from_networkx(cls, G, model: ModelSpec | None = None) -> "Network":
        """Rebuild a Network from a graph made by :meth:`to_networkx`.

        The graph may have been edited: edges removed or reweighted. Nodes need not be
        labelled 0..n-1; they are numbered in sorted order.

        Parameters
        ----------
        G : networkx.DiGraph
            Node and edge attributes as written by :meth:`to_networkx`; missing ones take
            defaults (excitatory, cluster 0, active, unmasked, weight 0, parameters NaN).
        model : ModelSpec, optional
            The model; default: the one in the graph attribute ``model_text``.

        Returns
        -------
        Network
            The network the graph describes.

        Raises
        ------
        NetworkFileError
            If no ``model`` is given and the graph has no ``model_text`` attribute.
        """
        if model is None:
            if "model_text" not in G.graph:
                raise NetworkFileError("graph has no 'model_text' attribute: pass model=")
            model = ModelSpec.from_toml(G.graph["model_text"], G.graph.get("model_source", "<graph>"),
                                        validate=False)
        nodes = sorted(G.nodes)
        index = {v: k for k, v in enumerate(nodes)}
        n = len(nodes)

        def node_col(key, default, dtype):
            return np.array([G.nodes[v].get(key, default) for v in nodes], dtype=dtype)

        params = {k: node_col(k, np.nan, float) for k in model.neuron.parameters}
        init_keys = sorted({k[5:] for v in nodes for k in G.nodes[v] if k.startswith("init:")})
        initial = {k: node_col(f"init:{k}", np.nan, float) for k in init_keys}
        edges = sorted(((index[a], index[b], d) for a, b, d in G.edges(data=True)),
                       key=lambda e: (e[0], e[1]))
        pre = np.array([e[0] for e in edges], np.int32)
        post = np.array([e[1] for e in edges], np.int32)
        syn_keys = sorted({k for *_, d in edges for k in d} - {"weight", "mask"})
        return cls(
            model=model, exc=node_col("exc", True, bool), cluster=node_col("cluster", 0, np.int32),
            params=params, initial=initial, pre=pre, post=post,
            w=np.array([e[2].get("weight", 0.0) for e in edges], float),
            syn_params={k: np.array([e[2].get(k, np.nan) for e in edges], float) for k in syn_keys},
            active=node_col("active", True, bool),
            syn_mask=np.array([e[2].get("mask", True) for e in edges], bool),
            ids=node_col("id", 0, np.int64) if n and "id" in G.nodes[nodes[0]] else np.asarray(nodes, np.int64),
            seeds=dict(G.graph.get("seeds", {})),
        )


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _group(data: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}


# ------------------------------------------------------------------------------------------
def _block_sizes(n: int, fractions) -> np.ndarray:
    """Integer sizes summing to n, proportional to fractions (largest remainder)."""
    raw = np.asarray(fractions, float) * n
    sizes = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - sizes))[: n - sizes.sum()]:
        sizes[k] += 1
    return sizes


def connectivity_with_p(model, p: float) -> dict:
    """The model's ``network.connectivity`` with connection probability ``p`` (random
    connectivity only): for large networks, keep the in-degree ~ p N of the model's size."""
    spec = load_model(model)
    conn = dict(spec.network.connectivity)
    if conn.get("kind") != "random":
        raise ValueError(f"{spec.source}: network.connectivity: a connection probability applies to "
                         f"kind 'random', the model has {conn.get('kind')!r}")
    if not 0.0 < float(p) <= 1.0:
        raise ValueError(f"connection probability must be in (0, 1], got {p}")
    conn["p"] = float(p)
    return conn


# Bytes per synapse while a network is built and simulated: pre/post indices, weight, mask,
# per-synapse parameters, the sampler's temporaries and Brian2's own arrays (measured order of
# magnitude, deliberately generous), and per neuron.
_BYTES_PER_SYNAPSE = 160
_BYTES_PER_NEURON = 2_000


def expected_synapses(n: int, connectivity: dict) -> float:
    """Expected number of synapses of an ``n``-neuron network with this connectivity table.

    Parameters
    ----------
    n : int
        Number of neurons.
    connectivity : dict
        A connectivity table as :func:`~lnp_brian.network.connectivity.connect` reads it.
        For ``clustered`` the larger of ``p_within`` and ``p_between`` is used (an upper
        bound).

    Returns
    -------
    float
        Expected synapse count (0 for kind ``none``).

    Examples
    --------
    >>> expected_synapses(100, {"kind": "random", "p": 0.1})   # 0.1 * 100 * 99
    990.0
    >>> expected_synapses(100, {"kind": "watts_strogatz", "k": 10, "beta": 0.1})
    1000.0
    """
    kind = connectivity.get("kind", "none")
    pairs = float(n) * (n if connectivity.get("autapses") else n - 1)
    if kind == "all":
        return pairs
    if kind == "random":
        return float(connectivity["p"]) * pairs
    if kind == "clustered":
        return max(float(connectivity["p_within"]), float(connectivity["p_between"])) * pairs
    if kind == "watts_strogatz":
        return float(connectivity["k"]) * n
    return 0.0


def available_memory() -> int:
    """Physical memory of this machine in bytes (0 where it cannot be read)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def check_size(n: int, connectivity: dict, *, what: str = "n") -> float:
    """Refuse, before anything is allocated, a network that cannot fit in this machine's memory.

    The need is estimated generously per synapse and per neuron (building and simulating);
    where the machine's memory cannot be read, nothing is refused.

    Parameters
    ----------
    n : int
        Number of neurons.
    connectivity : dict
        A connectivity table (see :func:`expected_synapses`).
    what : str
        Name of the size in the error message (e.g. a command-line option).

    Returns
    -------
    float
        The expected number of synapses.

    Raises
    ------
    ValueError
        If the estimated memory exceeds this machine's physical memory.
    """
    m = expected_synapses(n, connectivity)
    need = m * _BYTES_PER_SYNAPSE + float(n) * _BYTES_PER_NEURON
    have = available_memory()
    if have and need > have:
        raise ValueError(f"{what} = {n}: a network of {n:,} neurons with about {m:.3g} synapses needs about "
                         f"{need / 2**30:,.1f} GiB, and this machine has {have / 2**30:.1f} GiB; use fewer "
                         "neurons or a lower connection probability")
    return m


def build_network(model, n: int | None = None, seed: int = 0, *, init_seed: int | None = None,
                  exc_fraction: float | None = None, connectivity: dict | None = None) -> Network:
    """Build a random network from a model file.

    Neurons are laid out cluster by cluster; inside each cluster the excitatory neurons come
    first. With Dale's law (the default) weights are drawn as magnitudes for the synapse's
    pathway and take the sign of the presynaptic neuron. Every random quantity has its own
    stream derived from the seeds, so the same seeds give the same network.

    Parameters
    ----------
    model : str, Path or ModelSpec
        Shipped model name (``"hrsnn"``) or path to a model file.
    n : int, optional
        Number of neurons (default: the model's ``network.n_neurons``).
    seed : int
        Seed of connectivity, weights and parameters.
    init_seed : int, optional
        Seed of initial values (default: derived from ``seed``).
    exc_fraction : float, optional
        Fraction of excitatory neurons in each cluster, in [0, 1] (default: the model's).
    connectivity : dict, optional
        Connectivity table (see :func:`~lnp_brian.network.connectivity.connect`) replacing
        the model's ``network.connectivity``.

    Returns
    -------
    Network
        All neurons active, all synapses unmasked, ``seeds`` recording ``network`` and
        ``init``.

    Raises
    ------
    ValueError
        If ``n < 1``, ``exc_fraction`` lies outside [0, 1], or the network would not fit in
        memory (:func:`check_size`).
    """
    spec = load_model(model)
    nd = spec.network
    n = nd.n_neurons if n is None else int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    exc_fraction = nd.exc_fraction if exc_fraction is None else float(exc_fraction)
    if not 0.0 <= exc_fraction <= 1.0:  # also NaN
        raise ValueError(f"exc_fraction must be in [0, 1], got {exc_fraction}")
    conn = dict(nd.connectivity if connectivity is None else connectivity)
    if spec.synapse is not None:
        check_size(n, conn)
    init_seed = derive_seed(seed, "init") if init_seed is None else int(init_seed)

    fractions = [c.fraction for c in nd.clusters] or [1.0]
    sizes = _block_sizes(n, fractions)
    cluster = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    exc = np.zeros(n, bool)
    start = 0
    for size in sizes:
        exc[start:start + int(round(exc_fraction * size))] = True
        start += size

    params = {}
    for name, dist in spec.neuron.parameters.items():
        values = np.empty(n)
        for k, size in enumerate(sizes):
            d = nd.clusters[k].parameters.get(name, dist) if nd.clusters else dist
            values[cluster == k] = d.sample(int(size), rng(seed, f"neuron.{name}.cluster{k}"))
        params[name] = values
    initial = {name: dist.sample(n, rng(init_seed, f"initial.{name}"))
               for name, dist in spec.neuron.initial.items()}

    if spec.synapse is None or conn.get("kind", "none") == "none":
        pre = post = np.zeros(0, np.int32)
    else:
        pre, post = connect(n, conn, rng(seed, "connectivity"), cluster)
    m = len(pre)
    w = np.zeros(m)
    # the Network is made once, at the end (its checks and copies cost seconds at 10 M synapses)
    pathway = (2 * (~exc[pre]) + (~exc[post])).astype(np.int8)  # as Network.pathway
    for key, dist in nd.weights.items():
        sel = np.ones(m, bool) if key == "all" else pathway == PATHWAYS.index(key)
        w[sel] = dist.sample(int(sel.sum()), rng(seed, f"weights.{key}"))
    if nd.dale:
        w = np.abs(w) * np.where(exc[pre], 1.0, -1.0)
    syn_params = {}
    if spec.synapse is not None:
        for name, dist in spec.synapse.parameters.items():
            syn_params[name] = dist.sample(m, rng(seed, f"synapse.{name}"))
        if spec.synapse.delay is not None:
            syn_params["delay"] = spec.synapse.delay.sample(m, rng(seed, "synapse.delay"))
    if spec.plasticity is not None:
        plastic = np.isin(pathway, [PATHWAYS.index(p) for p in spec.plasticity.pathways])  # as Network.plastic
        for name, dist in spec.plasticity.parameters.items():
            values = np.full(m, np.nan)
            values[plastic] = dist.sample(int(plastic.sum()), rng(seed, f"plasticity.{name}"))
            syn_params[name] = values
    return Network(model=spec, exc=exc, cluster=cluster, params=params, initial=initial, pre=pre, post=post,
                   w=w, syn_params=syn_params, seeds={"network": int(seed), "init": init_seed})
