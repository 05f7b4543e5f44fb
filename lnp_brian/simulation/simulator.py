"""Simulate a Network on Brian2 runtime, C++ standalone or CUDA standalone — compiled once.

:class:`Simulator` builds the Brian2 objects for one network *topology* (size, synapse
list, inputs, duration, monitors) once; :meth:`Simulator.run` then simulates it with new
*values* as often as needed: weights, synapse masks, ``active`` flags, per-neuron and
per-synapse parameters, initial state, bias currents, stimulus arrays and the noise seed.

- ``runtime``: Brian2 runtime objects (Cython, else NumPy) restored to t = 0 before each run.
- ``cpp_standalone``: a C++ project compiled once; every run starts the binary with Brian2's
  ``run_args`` mechanism (values passed as files), so a re-run costs the simulation only.
- ``cuda_standalone``: the same through brian2cuda. Without a GPU the CUDA project is generated
  but not compiled, and :class:`GPUUnavailable` says so.

After building, the standalone backends need no Brian2 state: the binary, the names of its
settable variables and its result files are recorded in ``lnp_build.json`` in the build
directory. With ``reuse=True`` a later Simulator (in this or another process) whose structure
hashes to the same key re-uses the compiled binary: no compilation at all.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import brian2 as b2
from brian2.units.fundamentalunits import Quantity

from ..brian.inputs import OUNoise, check_clock_steps, split_inputs
from ..brian.precompiled import compiler_version
from ..brian.objects import (INPUT_RATES, INPUT_SYN, NEURONS, NOISE, SEED, STIM, create_objects,
                             uses_mask)
from ..brian.state import (MAKE_LOG, brian_device, build_lock, codegen_target, cpp_prefs,
                           running_network, stop_if_requested, stop_requested)
from ..core.devices import DEVICES
from ..core.files import file_lock, read_json, write_json
from ..core.units import parse_quantity, seconds, unit_string
from ..network.network import Network
from .results import SimResult

__all__ = ["Simulator", "simulate", "DEVICES", "BackendError", "GPUUnavailable", "SimulationInterrupted",
           "TopologyMismatch", "Extension", "SimulatorOwner", "compile_count", "versions"]

BUILD_FORMAT = "lnp_brian.build/1"
_compilations = 0


class SimulationInterrupted(KeyboardInterrupt):
    """A simulation stopped before its duration (Ctrl-C or a signal): its results are partial."""


class BackendError(RuntimeError):
    """A build or a run of a standalone project failed; the message names the log file."""


class GPUUnavailable(BackendError):
    """cuda_standalone code was generated, but compiling or running it needs a GPU / nvcc."""


class TopologyMismatch(ValueError):
    """A network given to :meth:`Simulator.run` does not fit the compiled topology."""


def compile_count() -> int:
    """Standalone compilations done in this process so far (all simulators).

    Returns
    -------
    int
        Number of C++/CUDA projects compiled; re-used builds and the runtime device add none.
    """
    return _compilations


def versions() -> dict:
    """Versions of Python and the simulation stack (saved with every run).

    Returns
    -------
    dict
        Version strings by name: ``lnp_brian``, ``python``, ``brian2``, ``brian2cuda``,
        ``numpy``, ``scipy``, ``networkx``, ``platform`` and ``g++`` (the compiler's first
        ``--version`` line, or ``"unavailable"``).
    """
    import platform

    import brian2cuda
    import scipy
    import networkx

    from ..core.version import __version__

    out = {"lnp_brian": __version__, "python": platform.python_version(), "brian2": b2.__version__,
           "brian2cuda": brian2cuda.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
           "networkx": networkx.__version__, "platform": platform.platform()}
    found = compiler_version("g++")
    out["g++"] = found[1].decode(errors="replace").splitlines()[0] if found and found[1] else "unavailable"
    return out


def simulation_dt(dt, spec) -> float:
    """The integration step (s) a Simulator uses: ``dt``, else the model file's, else 0.1 ms."""
    value = dt if dt is not None else (getattr(spec, "dt", None) or "0.1 ms")
    return float(parse_quantity(value, "second", where="dt"))


def _check_record(record: dict, network: Network) -> None:
    """Recorded variables must exist and indices lie in [0, n)."""
    known = set(network.model.state_variables) | set(network.params)
    for var, idx in record.items():
        if var not in known:
            raise ValueError(f"record: {var!r} is not a variable of the model; expected one of "
                             f"{', '.join(sorted(known))}")
        if idx is True:
            continue
        arr = np.atleast_1d(np.asarray(idx))
        if arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 0 or arr.max() >= network.n:
            raise ValueError(f"record: indices of {var!r} must be integers in [0, {network.n - 1}], "
                             f"got {arr.tolist()[:10]}")


def _check_completed(results: Path, device: str) -> None:
    """Brian2's standalone binary stops early on SIGINT and still exits 0; it records the
    completed fraction of the run in last_run_info.txt."""
    info = results / "last_run_info.txt"
    if not info.exists():
        return
    try:
        fraction = float(info.read_text().split()[1])
    except (IndexError, ValueError):
        return
    if fraction < 1.0 - 1e-9:
        raise SimulationInterrupted(f"the {device} run stopped after {fraction:.1%} of its duration")


class SimulatorOwner:
    """Mixin for an object built around one :class:`Simulator` held as ``self.sim`` (a
    Lyapunov engine, the gain replay, a task runner): its compilation count, its simulated
    time, and closing it, also as a context manager."""

    @property
    def compilations(self) -> int:
        """Compilations of this build (1 on a standalone device, 0 when reused or runtime)."""
        return self.sim.compilations

    @property
    def duration(self) -> float:
        """Simulated time of every run (s)."""
        return self.sim.duration

    def close(self):
        """Delete the simulator's build directory (if the simulator created it)."""
        self.sim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Extension:
    """Adds variables and objects to a Simulator's build, and values to its runs.

    The hooks are called in this order: ``key`` (into the build's hash), ``equations`` /
    ``reset`` / ``namespace`` (added to the neurons before the group is created),
    ``add_objects`` (create further Brian2 objects, append them to ``objs.extra``),
    ``settable_groups`` (groups whose variables runs may set); per run ``values`` (what to
    set), then ``read_results`` (standalone: from the result files) or ``read_runtime``.
    Standalone builds also call ``result_files`` once, to record which files to read.

    Every hook has a default that adds nothing, so a subclass overrides only what it needs.
    """

    def key(self) -> str:
        """Identify what this extension adds to the build (hashed into the build key).

        Returns
        -------
        str
            Must change whenever the added equations or objects change; the default is the
            class name.
        """
        return type(self).__name__

    def equations(self, sim) -> str:
        """Equations added to the neurons' model.

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        str
            Brian2 equation lines (default: none).
        """
        return ""

    def reset(self, sim) -> str:
        """Statements added to the neurons' reset (spiking models only).

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        str
            Brian2 code lines (default: none).
        """
        return ""

    def namespace(self, sim) -> dict:
        """Constants the added equations and reset refer to.

        Parameters
        ----------
        sim : Simulator
            The simulator being built.

        Returns
        -------
        dict
            Name -> value (Brian2 quantities where they have units; default empty).
        """
        return {}

    def add_objects(self, objs, sim) -> None:
        """Create further Brian2 objects after the neurons and synapses exist.

        Parameters
        ----------
        objs : lnp_brian.brian.objects.BrianObjects
            The build's Brian2 objects; append new ones to ``objs.extra`` so they are
            simulated.
        sim : Simulator
            The simulator being built.
        """
        pass

    def settable_groups(self, objs) -> list:
        """Groups (added by :meth:`add_objects`) whose variables runs may set.

        Parameters
        ----------
        objs : lnp_brian.brian.objects.BrianObjects
            The build's Brian2 objects.

        Returns
        -------
        list
            Brian2 groups (default: none).
        """
        return []

    def group(self, objs, name):
        """The settable group called ``name``, if this extension has one.

        Parameters
        ----------
        objs : lnp_brian.brian.objects.BrianObjects
            The build's Brian2 objects.
        name : str
            Brian2 name of the group, as used in the keys of :meth:`values`.

        Returns
        -------
        brian2.Group or None
            The group among :meth:`settable_groups`, or None.
        """
        for g in self.settable_groups(objs):
            if g.name == name:
                return g
        return None

    def values(self, sim) -> dict:
        """Values to set before each run, in addition to :meth:`Simulator.values_for`.

        Parameters
        ----------
        sim : Simulator
            The simulator about to run.

        Returns
        -------
        dict
            ``(group name, variable) -> array`` in SI units (default empty).
        """
        return {}

    def result_files(self, objs, device) -> dict:
        """Files a standalone run writes that :meth:`read_results` reads.

        Parameters
        ----------
        objs : lnp_brian.brian.objects.BrianObjects
            The build's Brian2 objects.
        device : brian2.devices.Device
            The standalone device (``device.get_array_filename(variable)`` names a file).

        Returns
        -------
        dict
            Key -> JSON-serialisable description (e.g. ``{"file": ..., "dtype": "<f8"}``),
            recorded with the build (default empty).
        """
        return {}

    def read_results(self, result, files: dict, results_dir) -> None:
        """Read this extension's output of a standalone run into ``result``.

        Parameters
        ----------
        result : SimResult
            The run's result; add to it (e.g. to ``result.info``).
        files : dict
            Every recorded result file of the build, including those of
            :meth:`result_files`.
        results_dir : Path
            Directory holding the run's result files.
        """
        pass

    def read_runtime(self, objs, result) -> None:
        """Read this extension's output of a runtime run into ``result``.

        Parameters
        ----------
        objs : lnp_brian.brian.objects.BrianObjects
            The build's Brian2 objects (after the run).
        result : SimResult
            The run's result; add to it (e.g. to ``result.info``).
        """
        pass


class Simulator:
    """One compiled simulation of a network topology, re-run with new values.

    Parameters
    ----------
    network : Network
        Defines the topology and the default values of every run.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device (see the module notes).
    duration : Quantity or str
        Simulated time of every run, e.g. ``1*second`` or ``"1 s"`` (a plain number is
        refused: it has no unit).
    dt : Quantity or str, optional
        Integration step (default: the model file's, else 0.1 ms).
    inputs : PoissonNoise, OUNoise, Stimulus or a list of them, optional
        What drives the network (see :mod:`lnp_brian.brian.inputs`).
    copies : int
        Number of copies of the network simulated side by side in one build (Lyapunov
        perturbations, batches); values can differ per copy, the topology cannot.
    record : dict, optional
        Variable name -> neuron indices (or True for all) to record as traces.
    record_dt : Quantity or str, optional
        Sampling interval of traces (default dt).
    record_spikes : bool
        Record spikes (default True).
    build_dir : path, optional
        Where the standalone project goes (default: a new temporary directory).
    reuse : bool
        Re-use a compiled project in ``build_dir`` built for the same structure.
    threads : int
        OpenMP threads for cpp_standalone (0: no OpenMP; measured faster here than 2).
    progress : bool
        Print simulation progress (long runs).
    runtime_target : {"cython", "numpy"}, optional
        Code generation target of the runtime device (default: Brian2's preference, which
        uses Cython when it can compile and NumPy otherwise).
    extensions : sequence of Extension
        Add variables/objects to the build (e.g. the Lyapunov divergence monitor).

    Raises
    ------
    ValueError
        For an unknown device, ``copies < 1``, a non-positive or non-finite duration or dt,
        dt longer than the duration, or a recorded variable or index the network lacks.
    BackendError
        If a standalone build fails (:class:`GPUUnavailable` is raised later, by
        :meth:`run`).
    """

    def __init__(self, network: Network, device: str = "runtime", *, duration="1 s", dt=None,
                 inputs=None, copies: int = 1, record: dict | None = None, record_dt=None,
                 record_spikes: bool = True, build_dir=None, reuse: bool = False, threads: int = 0,
                 progress: bool = False, runtime_target: str | None = None, extensions=()):
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
        if copies < 1:
            raise ValueError("copies must be >= 1")
        self.network = network
        self.device = device
        self.duration = seconds(duration, "duration")
        self.dt = seconds(dt if dt is not None else getattr(network.model, "dt", None) or "0.1 ms", "dt")
        if not (np.isfinite(self.duration) and np.isfinite(self.dt) and self.duration > 0 and self.dt > 0):
            raise ValueError(f"duration and dt must be finite and positive, got duration {self.duration:g} s, "
                             f"dt {self.dt:g} s")
        if self.dt > self.duration:
            raise ValueError(f"dt ({self.dt:g} s) is longer than the duration ({self.duration:g} s)")
        self.noise, self.stimulus, self.spike_input = split_inputs(inputs, network.model)
        if self.stimulus is not None:
            check_clock_steps(float(self.stimulus.dt), self.dt, "Stimulus.dt")
        self.copies = int(copies)
        self.record = dict(record or {})
        _check_record(self.record, network)
        self.record_dt = None if record_dt is None else seconds(record_dt, "record_dt")
        self.record_spikes = record_spikes
        self.threads = int(threads)
        self.progress = progress
        self.runtime_target = runtime_target
        self.extensions = tuple(extensions)
        self.compilations = 0
        self.timings: dict[str, float] = {}
        self._topology = network.topology_key()
        self._plastic = network.plastic
        self._delays = self._delay_mode(network)
        self._owned_dir = build_dir is None
        self.build_dir = Path(build_dir or tempfile.mkdtemp(prefix=f"lnp_brian_{device}_")).resolve()
        t0 = time.perf_counter()
        if device == "runtime":
            self._build_runtime()
        else:
            self._build_standalone(reuse)
        self.timings["build"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ structure
    @staticmethod
    def _delay_mode(net: Network):
        if "delay" not in net.syn_params:
            return None
        d = net.syn_params["delay"]
        return float(d[0]) if len(d) and np.all(d == d[0]) else "heterogeneous"

    def structure(self) -> dict:
        """Everything the compiled code depends on (hashed into the build key).

        Returns
        -------
        dict
            JSON-serialisable description: device, topology key, duration and dt (s),
            copies, inputs, recording, threads, delays, extension keys and versions.
        """
        net = self.network
        return {
            "format": BUILD_FORMAT, "device": self.device, "topology": self._topology,
            "duration": self.duration, "dt": self.dt, "copies": self.copies,
            "noise": None if self.noise is None else self.noise.describe(),
            "stimulus": None if self.stimulus is None else self.stimulus.describe(),
            "spike_input": None if self.spike_input is None else
            {**self.spike_input.describe(), "pattern": hashlib.sha256(
                np.packbits(self.spike_input.weights != 0).tobytes()).hexdigest()[:16]},
            "record": {k: (True if v is True else np.atleast_1d(v).tolist()) for k, v in sorted(self.record.items())},
            "record_dt": self.record_dt, "record_spikes": self.record_spikes, "threads": self.threads,
            "delays": self._delays, "n": net.n, "progress": self.progress,
            "initial": sorted(net.initial), "extensions": [e.key() for e in self.extensions],
            "versions": {k: v for k, v in versions().items() if k != "platform"},
        }

    def _create(self, unique_names: bool):
        net = self.network
        delays = self._delays if isinstance(self._delays, float) else None
        namespace = {}
        for ext in self.extensions:
            namespace.update(ext.namespace(self))
        objs = create_objects(
            net.model, net.n, net.pre, net.post, self._plastic, delays=delays, noise=self.noise,
            stim=self.stimulus, spikes=self.spike_input, copies=self.copies, record=self.record,
            record_dt=None if self.record_dt is None else self.record_dt * b2.second,
            record_spikes=self.record_spikes, unique_names=unique_names,
            extra_equations="\n".join(ext.equations(self) for ext in self.extensions),
            extra_reset="\n".join(ext.reset(self) for ext in self.extensions),
            extra_namespace=namespace)
        for ext in self.extensions:
            ext.add_objects(objs, self)
        return objs

    def _run_kwargs(self):
        if not self.progress:
            return {}
        return {"report": "stderr" if self.device == "runtime" else "text", "report_period": 10 * b2.second}

    # ------------------------------------------------------------------ runtime
    def _build_runtime(self):
        with build_lock, brian_device("runtime"):
            b2.defaultclock.dt = self.dt * b2.second
            self._objs = self._create(unique_names=True)
            # the check stops the loop at its next step once request_stop was called, even when
            # the request came before run() started (which clears brian2's own stop flag)
            stop_check = b2.NetworkOperation(stop_if_requested, when="end")
            self._net = b2.Network(self._objs.all, stop_check)
            self._net.store("lnp_initial")

    def _run_runtime(self, values: dict, seed: int) -> SimResult:
        objs = self._objs
        with build_lock, brian_device("runtime"), codegen_target(self.runtime_target):
            b2.defaultclock.dt = self.dt * b2.second
            self._net.restore("lnp_initial")
            for (group, var), arr in values.items():
                if group in (STIM, INPUT_RATES):
                    ta = objs.stim if group == STIM else objs.input_rates
                    ta.values[:] = arr.reshape(ta.values.shape)
                    continue
                obj = self._group(group)
                obj.variables[var].set_value(arr)
            b2.seed(seed)
            with running_network():  # Ctrl-C stops it at the next step and it raises below
                self._net.run(self.duration * b2.second, namespace={}, **self._run_kwargs())
            # a run stopped in its first step leaves t_ as Brian2's view of the clock's time
            reached = float(np.ravel(np.asarray(self._net.t_))[0])
            if reached < self.duration - 0.5 * self.dt or stop_requested():
                raise SimulationInterrupted(f"the simulation stopped at {reached:g} s of {self.duration:g} s")
            spike_t = spike_i = None
            if objs.spike_monitor is not None:
                spike_t = np.asarray(objs.spike_monitor.t_, float)
                spike_i = np.asarray(objs.spike_monitor.i, np.int32)
            inputs = None
            if objs.input_monitor is not None:
                inputs = (np.asarray(objs.input_monitor.t_, float), np.asarray(objs.input_monitor.i, np.int32))
            traces, trace_t = {}, np.zeros(0)
            if objs.state_monitor is not None:
                trace_t = np.asarray(objs.state_monitor.t_, float)
                for var in self.record:
                    traces[var] = np.array(getattr(objs.state_monitor, var + "_"), dtype=float)
            final = {var: np.asarray(objs.neurons.variables[var].get_value()).copy()
                     for var in self.final_variables()}
            final["w"] = self._final_weights(
                lambda name: np.asarray(objs.synapses[name].variables["w"].get_value()))
            result = self._result(spike_t, spike_i, trace_t, traces, final, inputs)
            for ext in self.extensions:
                ext.read_runtime(objs, result)
        return result

    def _final_weights(self, get) -> np.ndarray:
        """Weights at the end of a run (changed by plasticity), in the network's synapse
        order, shape (copies * m,); ``get(name)`` reads one Synapses object's w."""
        from ..brian.objects import SYN, SYN_PLASTIC

        m = len(self.network.pre)
        out = np.zeros((self.copies, m))
        for name in (SYN, SYN_PLASTIC):
            idx = self._syn_index(name)
            if idx is not None:
                out[:, idx] = get(name).reshape(self.copies, len(idx))
        return out.ravel()

    def _group(self, name):
        objs = self._objs
        if name == NEURONS:
            return objs.neurons
        if name == NOISE:
            return objs.noise_group
        if name == SEED:
            return objs.seedholder
        if name in objs.synapses:
            return objs.synapses[name]
        if name == INPUT_SYN:
            return objs.input_synapses
        for ext in self.extensions:
            obj = ext.group(objs, name)
            if obj is not None:
                return obj
        raise KeyError(name)

    # ------------------------------------------------------------------ standalone
    def _build_standalone(self, reuse: bool):
        key = hashlib.sha256(json.dumps(self.structure(), sort_keys=True, default=str).encode()).hexdigest()[:20]
        self.build_dir.mkdir(parents=True, exist_ok=True)
        record_file = self.build_dir / "lnp_build.json"
        with file_lock(self.build_dir / ".lnp_build.lock"):
            if reuse and record_file.exists():
                rec = read_json(record_file)
                if rec.get("key") == key and (self.build_dir / "main").exists():
                    self._load_record(rec)
                    return
            with build_lock:
                rec = self._generate_and_compile(key)
            write_json(record_file, rec)
        self._load_record(rec)

    def _generate_and_compile(self, key: str) -> dict:
        global _compilations
        directory = str(self.build_dir)
        with brian_device(self.device, directory=directory), cpp_prefs(self.device, self.threads):
            b2.device.reinit()
            b2.device.activate(build_on_run=False, directory=directory)
            b2.defaultclock.dt = self.dt * b2.second
            objs = self._create(unique_names=False)
            b2.device.apply_run_args()
            seed_array = b2.device.get_array_name(objs.seedholder.variables["noise_seed"])
            b2.device.insert_code("main", _reseed_code(self.device, seed_array))
            net = b2.Network(objs.all)
            net.run(self.duration * b2.second, namespace={}, **self._run_kwargs())
            rec = {"format": BUILD_FORMAT, "key": key, "device": self.device,
                   "structure": self.structure(), "vars": {}, "results": {}}
            compile_ok = True
            if self.device == "cuda_standalone":
                from ..brian.cuda import can_compile

                compile_ok, why = can_compile()
                rec["cuda_note"] = why
            log = self.build_dir / MAKE_LOG
            log.unlink(missing_ok=True)  # a log left by an earlier build is not this one's
            rec["precompiled_header"] = next((flag[len("-include"):] for flag in
                                              b2.prefs["codegen.cpp.extra_compile_args_gcc"]
                                              if flag.startswith("-include")), None)
            t0 = time.perf_counter()
            try:
                b2.device.build(directory=directory, compile=compile_ok, run=False, with_output=False)
            except Exception as exc:  # compiler errors: point at the project and its log
                raise BackendError(_build_failure(self.device, exc, log, directory)) from exc
            finally:
                rec["compile_seconds"] = time.perf_counter() - t0
            if compile_ok:
                self.compilations += 1
                _compilations += 1
            rec["compiled"] = compile_ok
            rec["vars"] = self._settable(objs)
            rec["results"] = self._result_files(objs)
            b2.device.reinit()
            del objs, net
        gc.collect()
        return rec

    def _settable(self, objs) -> dict:
        out = {}
        dev = b2.get_device()
        groups = [objs.neurons, *objs.synapses.values(), objs.seedholder]
        groups += [g for g in (objs.noise_group, objs.input_synapses) if g is not None]
        groups += [o for ext in self.extensions for o in ext.settable_groups(objs)]
        for g in groups:
            for name, var in g.variables.items():
                if name.startswith("_") or not hasattr(var, "owner") or var.owner is None:
                    continue
                if getattr(var, "read_only", False) or not hasattr(var, "dtype") or var.owner.name != g.name:
                    continue
                if type(var).__name__ not in ("ArrayVariable", "DynamicArrayVariable"):
                    continue
                out[f"{g.name}.{name}"] = {"cli": f"{g.name}.{name}", "dtype": np.dtype(var.dtype).str,
                                           "file": dev.get_array_filename(var)}
        for key, ta in ((STIM, objs.stim), (INPUT_RATES, objs.input_rates)):
            if ta is not None:
                out[f"{key}.values"] = {"cli": f"{ta.name}.values", "dtype": np.dtype(ta.values.dtype).str,
                                        "file": None}
        return out

    def _result_files(self, objs) -> dict:
        dev = b2.get_device()
        files = {}
        for key, mon in (("spikes", objs.spike_monitor), ("input_spikes", objs.input_monitor)):
            if mon is not None:
                for v in ("t", "i"):
                    var = mon.variables[v]
                    files[f"{key}.{v}"] = {"file": dev.get_array_filename(var), "dtype": np.dtype(var.dtype).str}
        if objs.state_monitor is not None:
            var = objs.state_monitor.variables["t"]
            files["states.t"] = {"file": dev.get_array_filename(var), "dtype": np.dtype(var.dtype).str}
            for name in self.record:
                var = objs.state_monitor.variables[name]
                files[f"states.{name}"] = {"file": dev.get_array_filename(var), "dtype": np.dtype(var.dtype).str,
                                           "k": int(len(objs.record_indices))}
            files["record_indices"] = objs.record_indices.tolist()
        for name in self.final_variables():
            var = objs.neurons.variables[name]
            files[f"final.{name}"] = {"file": dev.get_array_filename(var), "dtype": np.dtype(var.dtype).str}
        for ext in self.extensions:
            files.update(ext.result_files(objs, dev))
        return files

    def _load_record(self, rec: dict):
        self._record = rec
        self.compiled = bool(rec.get("compiled", True))
        self.timings["compile"] = rec.get("compile_seconds", 0.0)

    def _run_standalone(self, values: dict, seed: int) -> SimResult:
        if self.device == "cuda_standalone" and not self.compiled:
            raise GPUUnavailable(
                f"cuda_standalone cannot run here: "
                f"{self._record.get('cuda_note', 'it needs nvcc and an NVIDIA GPU')}. "
                f"The CUDA project was generated, not compiled, in {self.build_dir}")
        if self.device == "cuda_standalone":
            from ..brian.cuda import NO_GPU, gpu_info

            if gpu_info() is None:  # compiled without one (LNP_BRIAN_CUDA_COMPILE=1)
                raise GPUUnavailable(f"cuda_standalone cannot run here: {NO_GPU}. "
                                     f"The CUDA project was compiled in {self.build_dir}")
        rec = self._record
        on_disk = read_json(self.build_dir / "lnp_build.json").get("key")
        if on_disk != rec.get("key"):  # another Simulator re-compiled this folder for its own structure
            raise BackendError(f"the build in {self.build_dir} was replaced by a build of another structure; "
                               "give each structure its own build_dir (or build folder) and run again")
        run_dir = Path(tempfile.mkdtemp(prefix="run_", dir=self.build_dir))
        try:
            args = ["--results_dir", str(run_dir / "results") + os.sep]
            (run_dir / "results").mkdir()
            for (group, var), arr in values.items():
                info = rec["vars"].get(f"{group}.{var}")
                if info is None:
                    raise KeyError(f"{group}.{var} is not settable in this build")
                data = np.ascontiguousarray(arr, dtype=np.dtype(info["dtype"]))
                if data.size == 1 and group == SEED:
                    args.append(f"{info['cli']}={data.item()!r}")
                    continue
                fname = run_dir / f"{group}.{var}.dat"
                data.tofile(fname)
                args.append(f"{info['cli']}={fname}")
            env = dict(os.environ, LD_BIND_NOW="1")
            if self.threads:
                env["OMP_NUM_THREADS"] = str(self.threads)
            log = run_dir / "stdout.txt"
            t0 = time.perf_counter()
            with open(log, "w") as out:
                proc = subprocess.run([str(self.build_dir / "main"), *args], cwd=self.build_dir,
                                      stdout=None if self.progress else out, stderr=subprocess.STDOUT if not self.progress else None)
            self.timings["last_run_binary"] = time.perf_counter() - t0
            if proc.returncode in (-signal.SIGINT, -signal.SIGTERM):
                raise SimulationInterrupted(f"the {self.device} binary was stopped by a signal")
            _check_completed(run_dir / "results", self.device)
            if proc.returncode != 0:
                keep = self.build_dir / "failed_run_stdout.txt"
                shutil.copy(log, keep)
                raise BackendError(f"{self.device} run failed (exit {proc.returncode}); "
                                   f"output in {keep}, project in {self.build_dir}")
            return self._read_results(run_dir / "results")
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def _read_results(self, results: Path) -> SimResult:
        files = self._record["results"]

        def load(key):
            info = files[key]
            return np.fromfile(results / info["file"], dtype=np.dtype(info["dtype"]))

        spike_t = spike_i = inputs = None
        if "spikes.t" in files:
            spike_t, spike_i = load("spikes.t").astype(float), load("spikes.i").astype(np.int32)
        if "input_spikes.t" in files:
            inputs = (load("input_spikes.t").astype(float), load("input_spikes.i").astype(np.int32))
        traces, trace_t = {}, np.zeros(0)
        if "states.t" in files:
            trace_t = load("states.t")
            for name in self.record:
                k = files[f"states.{name}"]["k"]
                traces[name] = load(f"states.{name}").reshape(len(trace_t), k).T.astype(float)
        final = {name: load(f"final.{name}") for name in self.final_variables()}
        syn_vars = self._record["vars"]
        final["w"] = self._final_weights(lambda name: np.fromfile(
            results / syn_vars[f"{name}.w"]["file"], dtype=np.dtype(syn_vars[f"{name}.w"]["dtype"])))
        result = self._result(spike_t, spike_i, trace_t, traces, final, inputs)
        for ext in self.extensions:
            ext.read_results(result, files, results)
        return result

    # ------------------------------------------------------------------ values & results
    def final_variables(self) -> list[str]:
        """Neuron state variables whose values at the end of a run are returned.

        Returns
        -------
        list of str
            Sorted names of the model's differential-equation variables (the keys of
            ``SimResult.final_state`` besides ``"w"``).
        """
        from brian2 import Equations

        return sorted(Equations(self.network.model.neuron.equations).diff_eq_names)

    def _tile(self, arr, per_copy_len, what):
        arr = np.asarray(arr)
        if arr.shape == (per_copy_len,):
            return np.tile(arr, self.copies)
        if arr.shape == (per_copy_len * self.copies,):
            return arr
        raise ValueError(f"{what}: expected shape ({per_copy_len},) or ({per_copy_len * self.copies},), got {arr.shape}")

    def values_for(self, network: Network | None = None, *, weights=None, syn_mask=None, active=None,
                   params=None, syn_params=None, initial=None, bias=None, noise_gain=None,
                   stimulus=None, stimulus_weights=None, input_rates=None, input_weights=None) -> dict:
        """Every settable value of a run, keyed by (group, variable), in SI units.

        Values come from ``network`` (default: the simulator's) and the keyword overrides;
        arrays may be given for one copy (tiled) or for all copies. Overrides may be Brian2
        quantities or plain floats in SI units.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (e.g. a masked/pruned or re-parametrised copy).
        weights : array (m,) or (copies * m,), optional
            Signed synaptic weights (the model's weight unit), instead of ``network.w``.
        syn_mask : bool array (m,) or (copies * m,), optional
            Live synapses, instead of ``network.live_synapses()``; masked ones get weight 0.
        active : bool array (n,) or (copies * n,), optional
            Active neurons (spiking models), instead of ``network.active``.
        params : dict, optional
            Neuron parameter name -> values (n,) or (copies * n,), replacing the network's.
        syn_params : dict, optional
            Synapse parameter name -> values (m,) or (copies * m,), replacing the network's.
        initial : dict, optional
            State variable name -> initial values, replacing the network's.
        bias : float or array (n,) or (copies * n,), optional
            Constant bias input ``I_bias`` in the model's input unit (default 0).
        noise_gain : float or array (n,) or (copies * n,), optional
            Factor on the noise input of each neuron (default 1).
        stimulus : array (T,) or (T, channels), optional
            Stimulus values replacing those compiled in (same shape).
        stimulus_weights : array (channels, n), optional
            Per-neuron weight of each stimulus channel.
        input_rates : array, optional
            Rates (Hz) of the Poisson input neurons of a PoissonStimulus (same shape as
            compiled).
        input_weights : array, optional
            Input synapse weights, with the compiled shape and non-zero pattern.

        Returns
        -------
        dict
            ``(group name, variable) -> array`` in SI units, every array for all copies.

        Raises
        ------
        TopologyMismatch
            If ``network`` has another topology, or ``input_weights`` another pattern.
        KeyError
            For an unknown neuron parameter or an initial value of a non-state variable.
        ValueError
            If an array has the wrong shape.
        """
        net = self.network if network is None else network
        if net is not self.network and net.topology_key() != self._topology:
            raise TopologyMismatch(
                "this network's topology (size, synapse list, E/I labels or model) differs from the "
                "compiled one; prune by masks (Network.prune) to keep it, or build a new Simulator")
        spec, n = net.model, net.n
        vals: dict = {}
        neuron_params = dict(net.params)
        for name, arr in (params or {}).items():
            if name not in spec.neuron.parameters:
                raise KeyError(f"unknown neuron parameter {name!r}")
            neuron_params[name] = _si(arr)
        for name, arr in neuron_params.items():
            vals[(NEURONS, name)] = self._tile(arr, n, f"params[{name!r}]")
        if spec.neuron.spiking:
            vals[(NEURONS, "active")] = self._tile(net.active if active is None else active, n, "active")
        init = dict(net.initial)
        init.update({k: _si(v) for k, v in (initial or {}).items()})
        state_vars = set(spec.state_variables)
        for name, arr in init.items():
            if name not in state_vars:
                raise KeyError(f"initial value for {name!r}, which is not a state variable of the model")
            vals[(NEURONS, name)] = self._tile(arr, n, f"initial[{name!r}]")
        if spec.neuron.input is not None:
            vals[(NEURONS, "I_bias")] = self._tile(np.zeros(n) if bias is None else np.broadcast_to(_si(bias), (n,)) if np.ndim(_si(bias)) == 0 else _si(bias), n, "bias")
        if self.noise is not None:
            gain = np.ones(n) if noise_gain is None else np.broadcast_to(np.asarray(noise_gain, float), (n,)) if np.ndim(noise_gain) == 0 else np.asarray(noise_gain, float)
            linked = isinstance(self.noise, OUNoise) or (self.noise.shared and self.copies > 1)
            if linked:
                size = n if (self.noise.shared or self.copies == 1) else n * self.copies
                vals[(NOISE, "noise_gain")] = gain if size == n and gain.shape == (n,) else self._tile(gain, n, "noise_gain")
            else:
                vals[(NEURONS, "noise_gain")] = self._tile(gain, n, "noise_gain")
        if self.stimulus is not None:
            sv = self.stimulus.values if stimulus is None else np.asarray(_si(stimulus), float)
            if sv.ndim == 1:
                sv = sv[:, None]
            if sv.shape != self.stimulus.values.shape:
                raise ValueError(f"stimulus shape {sv.shape} differs from the compiled {self.stimulus.values.shape}")
            vals[(STIM, "values")] = sv
            sw = self.stimulus.weights if stimulus_weights is None else np.asarray(stimulus_weights, float)
            if self.stimulus.weights is not None:
                for k in range(sw.shape[0]):
                    vals[(NEURONS, f"stim_w{k}")] = self._tile(sw[k], n, "stimulus_weights")
        if self.spike_input is not None:
            vals.update(self._spike_input_values(spec, input_rates, input_weights))
        w = net.w if weights is None else _si(weights)
        mask = net.live_synapses() if syn_mask is None else np.asarray(syn_mask, bool)
        sp = dict(net.syn_params)
        sp.update({k: _si(v) for k, v in (syn_params or {}).items()})
        from ..brian.objects import SYN, SYN_PLASTIC

        m_all = len(net.pre)
        for name in (SYN, SYN_PLASTIC):
            idx = self._syn_index(name)
            if idx is None:
                continue
            plastic = name == SYN_PLASTIC

            def part(arr, what):  # this group's synapses, for one copy (tiled) or all copies
                arr = np.asarray(arr)
                if arr.shape == (m_all,):
                    return np.tile(arr[idx], self.copies)
                if arr.shape == (m_all * self.copies,):
                    return arr.reshape(self.copies, m_all)[:, idx].ravel()
                raise ValueError(f"{what}: expected shape ({m_all},) or ({m_all * self.copies},), got {arr.shape}")

            keep = part(mask, "syn_mask")
            vals[(name, "w")] = np.where(keep, part(w, "weights"), 0.0)
            if uses_mask(spec, plastic):
                vals[(name, "mask")] = keep.astype(float)
            declared = set(spec.synapse.parameters)
            if plastic:
                declared |= set(spec.plasticity.parameters)
            if self._delays == "heterogeneous":
                declared.add("delay")
            for pname in sorted(declared & set(sp)):
                vals[(name, pname)] = part(sp[pname], f"syn_params[{pname!r}]")
        return vals

    def _spike_input_values(self, spec, rates, weights) -> dict:
        si = self.spike_input
        rates = si.rates if rates is None else np.asarray(rates, float)
        if rates.shape != si.rates.shape:
            raise ValueError(f"input_rates shape {rates.shape} differs from the compiled {si.rates.shape}")
        k, j, w = si.synapses()
        if weights is not None:
            weights = np.asarray(weights, float)
            if weights.shape != si.weights.shape or np.any((weights != 0) & (si.weights == 0)):
                raise TopologyMismatch("input_weights must keep the compiled shape and non-zero pattern")
            w = weights[k, j]
        vals = {(INPUT_RATES, "values"): rates, (INPUT_SYN, "w"): np.tile(w, self.copies)}
        if uses_mask(spec, False):
            vals[(INPUT_SYN, "mask")] = np.ones(len(w) * self.copies)
        return vals

    def _syn_index(self, name):
        from ..brian.objects import SYN_PLASTIC

        plastic = self._plastic if name == SYN_PLASTIC else ~self._plastic
        if self.network.model.synapse is None or not plastic.any():
            return None
        return np.flatnonzero(plastic)

    def run(self, network: Network | None = None, *, seed: int = 0, **overrides) -> SimResult:
        """Simulate once with the values of ``network`` (default: the one built) and overrides.

        Parameters
        ----------
        network : Network, optional
            Same topology as the built one (e.g. a masked/pruned or re-parametrised copy).
        seed : int
            Seed of the noise (the same seed gives the same spikes on the same backend).
        **overrides
            Keyword overrides of :meth:`values_for`: ``weights``, ``syn_mask``, ``active``,
            ``params``, ``syn_params``, ``initial``, ``bias``, ``noise_gain``, ``stimulus``,
            ``stimulus_weights``, ``input_rates``, ``input_weights``. Arrays of one copy are
            tiled to all copies.

        Returns
        -------
        SimResult
            Spikes, traces and final state of every copy; ``info`` records device, seed,
            compilations and wall times (s).

        Raises
        ------
        SimulationInterrupted
            If the run was stopped (Ctrl-C or a signal) before its duration.
        GPUUnavailable
            For ``cuda_standalone`` without a usable GPU.
        BackendError
            If the standalone binary fails.
        """
        values = self.values_for(network, **overrides)
        for ext in self.extensions:
            values.update(ext.values(self))
        values[(SEED, "noise_seed")] = np.array([int(seed) % (2**31 - 1)])
        if stop_requested():
            raise SimulationInterrupted("a stop was requested (Ctrl-C or a signal) before the run started")
        t0 = time.perf_counter()
        if self.device == "runtime":
            res = self._run_runtime(values, int(seed))
        else:
            res = self._run_standalone(values, int(seed))
        wall = time.perf_counter() - t0
        self.timings["last_run"] = wall
        res.info.update(device=self.device, seed=int(seed), compilations=self.compilations,
                        run_seconds=wall, build_seconds=self.timings.get("build"),
                        compile_seconds=self.timings.get("compile"), build_dir=str(self.build_dir))
        return res

    def _result(self, spike_t, spike_i, trace_t, traces, final, inputs=None) -> SimResult:
        spec = self.network.model
        units = {}
        for var in traces:
            units[var] = self._trace_unit(var)
        if spike_t is not None:
            order = np.argsort(spike_t, kind="stable")
            spike_t, spike_i = spike_t[order], spike_i[order]
        k = len(traces[next(iter(traces))]) // self.copies if traces else 0
        traces = {var: arr.reshape(self.copies, k, -1) for var, arr in traces.items()}
        rec_idx = np.array(self._record_base(), dtype=np.int64)
        return SimResult(n=self.network.n, copies=self.copies, duration=self.duration, dt=self.dt,
                         spike_t=np.zeros(0) if spike_t is None else spike_t,
                         spike_i=np.zeros(0, np.int32) if spike_i is None else spike_i,
                         trace_t=trace_t, traces=traces, trace_units=units, record_indices=rec_idx,
                         final_state=final, info={"model": spec.name},
                         input_spike_t=np.zeros(0) if inputs is None else inputs[0],
                         input_spike_i=np.zeros(0, np.int32) if inputs is None else inputs[1])

    def _record_base(self):
        wanted = set()
        for idx in self.record.values():
            wanted.update(range(self.network.n) if idx is True else np.atleast_1d(idx).tolist())
        return sorted(wanted)

    def _trace_unit(self, var: str) -> str:
        from brian2 import Equations

        spec = self.network.model
        eqs = Equations(spec.neuron.equations)
        if var in eqs:
            return unit_string(eqs[var].dim)
        if var in spec.neuron.parameters:
            return unit_string(spec.neuron.parameters[var].dim)
        if var in (spec.neuron.input, "I_bias", "I_noise", "I_stim"):
            return unit_string(spec.neuron.input_dim)
        return "1"

    def close(self):
        """Delete the build directory if the simulator created it."""
        if self._owned_dir:
            shutil.rmtree(self.build_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _si(value):
    """Quantities and arrays of quantities to float SI arrays."""
    if isinstance(value, Quantity):
        return np.asarray(value, dtype=float)
    return np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) or value.dtype != bool else value


def _build_failure(device: str, exc: Exception, log: Path, directory: str, lines: int = 12) -> str:
    """One message for a failed standalone build: which step, the log file and its end."""
    if not log.exists():
        return f"{device} code generation failed: {exc}; project: {directory}"
    try:
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-lines:]
    except OSError:
        tail = []
    code = re.search(r"error code: (\d+)", str(exc))  # Brian2 reports os.system's wait status
    status = f" (make exit status {int(code.group(1)) >> 8})" if code else ""
    return (f"{device} compilation failed{status}; compiler output: {log}; project: {directory}"
            + ("\nlast lines of the compiler output:\n" + "\n".join("  " + t[:400] for t in tail)
               if tail else ""))


def _reseed_code(device: str, seed_array: str) -> str:
    """C++ inserted after the run_args are applied: seed the RNGs from the noise_seed
    variable, so every run's noise is reproducible and changeable without recompiling."""
    if device == "cuda_standalone":
        return f"random_number_buffer.set_seed((unsigned long long) brian::{seed_array}[0]);"
    return ("for (size_t _k = 0; _k < brian::_random_generators.size(); _k++) "
            f"brian::_random_generators[_k].seed((unsigned long) brian::{seed_array}[0] + _k);")


def simulate(network: Network, device: str = "runtime", *, duration="1 s", seed: int = 0, **kwargs) -> SimResult:
    """Build and run once (convenience); use :class:`Simulator` to re-run without rebuilding.

    The simulator's temporary build directory is deleted afterwards (a ``build_dir`` given
    in ``kwargs`` is kept).

    Parameters
    ----------
    network : Network
        The network to simulate.
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device.
    duration : Quantity or str
        Simulated time, e.g. ``300*ms`` or ``"300 ms"``.
    seed : int
        Seed of the noise.
    **kwargs
        Further :class:`Simulator` options (``dt``, ``inputs``, ``copies``, ``record``, ...).

    Returns
    -------
    SimResult
        The result of the run.
    """
    with Simulator(network, device, duration=duration, **kwargs) as sim:
        return sim.run(seed=seed)
