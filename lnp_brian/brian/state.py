"""Brian2's process-global state, in one place: the lock that serialises builds (devices and
preferences are global), the device and code-generation contexts, compiler preferences, and
the stop request that Ctrl-C sets."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import brian2 as b2

from .precompiled import standard_header

__all__ = ["MAKE_LOG", "build_lock", "brian_device", "codegen_target", "cpp_prefs", "request_stop",
           "clear_stop_request", "stop_requested", "stop_if_requested", "running_network", "network_running"]

MAKE_LOG = "lnp_make.log"  # the compiler's output, in every standalone project directory
build_lock = threading.Lock()  # Brian2's device and preferences are process-global

# Brian2 turns Ctrl-C during a run into a quiet early stop, and the shortened run would look
# complete. Here Ctrl-C raises KeyboardInterrupt as everywhere else in Python; the checks in
# Simulator.run catch a run that still ended early (e.g. a binary compiled with the handler).
b2.prefs.core.stop_on_keyboard_interrupt = False
# Set by request_stop (the CLI's signal handlers). A KeyboardInterrupt alone can be lost: Python
# drops exceptions raised inside finalisers and weakref callbacks, which Brian2 runs often.
_stop_requested = threading.Event()
_network_running = threading.Event()


def request_stop() -> None:
    """Stop simulating in this process: the runtime run in progress ends at its next time step
    (and raises :class:`~lnp_brian.simulation.simulator.SimulationInterrupted`), and every later
    :meth:`~lnp_brian.simulation.simulator.Simulator.run` raises it
    before it starts. Safe to call from a signal handler."""
    _stop_requested.set()
    b2.Network._globally_stopped = True  # what brian2.stop() sets; run() checks it every step


def stop_if_requested() -> None:
    """End the running Brian2 loop if a stop was requested (the body of a NetworkOperation)."""
    if _stop_requested.is_set():
        b2.stop()


@contextmanager
def running_network():
    """Mark the block as a runtime network run: a signal handler then only requests a stop
    (:func:`request_stop`), which the run honours at its next step, instead of raising
    KeyboardInterrupt inside Brian2's code, where a finaliser can swallow it."""
    _network_running.set()
    try:
        yield
    finally:
        _network_running.clear()


def network_running() -> bool:
    """Whether a runtime network run (:func:`running_network`) is in progress.

    Returns
    -------
    bool
        True inside :func:`running_network`.
    """
    return _network_running.is_set()


def stop_requested() -> bool:
    """Whether :func:`request_stop` was called (and not cleared since).

    Returns
    -------
    bool
        True while a stop is requested.
    """
    return _stop_requested.is_set()


def clear_stop_request() -> None:
    """Allow simulations again after :func:`request_stop` (a new command in the same process)."""
    _stop_requested.clear()


@contextmanager
def brian_device(name: str, **kwargs):
    """Make ``name`` Brian2's active device for the duration of the block.

    The device is set with ``build_on_run=False``; the previous device is restored
    afterwards. Brian2's device is process-global: hold ``build_lock`` around it.

    Parameters
    ----------
    name : str
        ``"runtime"``, ``"cpp_standalone"`` or ``"cuda_standalone"`` (imports brian2cuda
        and quiets its INFO-level listing of preferences).
    **kwargs
        Passed on to ``brian2.set_device`` (e.g. ``directory`` for a standalone project).
    """
    from brian2.devices.device import get_device, reset_device, set_device
    from brian2.utils.logger import BrianLogger

    previous = get_device()
    console = BrianLogger.console_handler
    level = console.level if console is not None else None
    if name == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)

        if console is not None:  # brian2cuda lists all its preferences at INFO level
            console.setLevel(max(level, 30))
    set_device(name, build_on_run=False, **kwargs)
    try:
        yield
    finally:
        reset_device(previous)
        if console is not None:
            console.setLevel(level)


@contextmanager
def codegen_target(target: str | None):
    """Use ``target`` as Brian2's runtime code generation target for the block.

    Parameters
    ----------
    target : str or None
        ``"cython"`` or ``"numpy"``; None leaves the current target.
    """
    if target is None:
        yield
        return
    saved = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = saved


@contextmanager
def cpp_prefs(device: str, threads: int):
    """Set compiler/OpenMP preferences for one build and restore them afterwards.

    The compiler's output goes to ``MAKE_LOG`` in the project directory.
    ``cpp_standalone`` builds include the precompiled standard headers of
    :func:`~lnp_brian.brian.precompiled.standard_header`; for ``cuda_standalone`` the
    preferences of
    :func:`~lnp_brian.brian.cuda.cuda_preferences` are set as well.

    Parameters
    ----------
    device : str
        ``"cpp_standalone"`` or ``"cuda_standalone"``.
    threads : int
        OpenMP threads for ``cpp_standalone`` (ignored for other devices, which get 0).
    """
    from brian2 import prefs

    saved = {}

    def setp(key, value):
        saved.setdefault(key, prefs[key])
        prefs[key] = value

    setp("devices.cpp_standalone.openmp_threads", threads if device == "cpp_standalone" else 0)
    # compiler output into a log file of the project, named in build errors
    setp("devices.cpp_standalone.extra_make_args_unix", [f"-j{os.cpu_count() or 1}", f">{MAKE_LOG}", "2>&1"])
    if device == "cpp_standalone":  # parse the standard headers once, not in every translation unit
        from brian2.codegen.cpp_prefs import get_compiler_and_args

        header = standard_header(list(get_compiler_and_args()[1]))
        if header is not None:
            # one word: Brian2 drops every flag that fails to compile on its own, as "-include" would
            setp("codegen.cpp.extra_compile_args_gcc", [*prefs["codegen.cpp.extra_compile_args_gcc"],
                                                         f"-include{header}"])
    if device == "cuda_standalone":
        from .cuda import cuda_preferences, set_brian2cuda_detection

        cuda_prefs = cuda_preferences()
        for key, value in cuda_prefs.items():
            setp(key, value)
        set_brian2cuda_detection(cuda_prefs)
    try:
        yield
    finally:
        for key, value in saved.items():
            prefs[key] = value
