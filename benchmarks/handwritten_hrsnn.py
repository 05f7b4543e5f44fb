"""A plain, hand-written Brian2 script of the HRSNN model (what a user would write without
lnp_brian), simulated on cpp_standalone. Used by bench_simulate.py as the reference.

It reads the network's arrays (neuron parameters, synapse list, weights, STDP parameters)
from a network.npz written by lnp_brian, so both sides simulate the identical network. After
compiling it prints one JSON line with the compile time, then runs the simulation once per
line "run" on stdin and prints one JSON line per run (so runs can alternate with lnp_brian's).

usage: python handwritten_hrsnn.py NETWORK.npz BUILD_DIR [--no-stdp]
"""

import json
import sys
import time

import numpy as np
from brian2 import (NeuronGroup, PoissonInput, SpikeMonitor, Synapses, defaultclock, device, ms,
                    mV, Mohm, pA, Hz, prefs, run, second, set_device)

path, build_dir = sys.argv[1], sys.argv[2]
stdp = "--no-stdp" not in sys.argv
z = np.load(path, allow_pickle=False)
n = len(z["exc"])
pre, post, weights = z["pre"], z["post"], z["w"]
exc = z["exc"]
plastic = exc[pre] & exc[post] if stdp else np.zeros(len(pre), bool)

set_device("cpp_standalone", directory=build_dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms

eqs = """
dv/dt = (v_rest - v + R_m * (I_syn + I_noise)) / tau_m : volt (unless refractory)
dI_syn/dt = -I_syn / tau_syn : amp
dI_noise/dt = -I_noise / (5 * ms) : amp
tau_m : second (constant)
tau_syn : second (constant)
"""
G = NeuronGroup(n, eqs, threshold="v > -50*mV", reset="v = -65*mV", refractory=2 * ms,
                method="exact", namespace={"v_rest": -65 * mV, "R_m": 100 * Mohm})
G.tau_m = z["param/tau_m"] * second
G.tau_syn = z["param/tau_syn"] * second
G.v = z["init/v"] * 1e3 * mV
noise = PoissonInput(G, "I_noise", 200, 10 * Hz, weight=15 * pA)

static = Synapses(G, G, "w : amp (constant)", on_pre="I_syn_post += w", delay=1 * ms)
static.connect(i=pre[~plastic], j=post[~plastic])
static.w = weights[~plastic] * 1e12 * pA
objs = [G, noise, static]
if plastic.any():
    stdp_syn = Synapses(G, G, """
        w : amp
        taupre : second (constant)
        taupost : second (constant)
        A_plus : amp (constant)
        A_minus : amp (constant)
        dapre/dt = -apre / taupre : amp (event-driven)
        dapost/dt = -apost / taupost : amp (event-driven)
        """, on_pre="""
        I_syn_post += w
        apre += A_plus
        w = clip(w + apost, 0 * pA, 150 * pA)
        """, on_post="""
        apost -= A_minus
        w = clip(w + apre, 0 * pA, 150 * pA)
        """, delay=1 * ms)
    stdp_syn.connect(i=pre[plastic], j=post[plastic])
    stdp_syn.w = weights[plastic] * 1e12 * pA
    for name in ("taupre", "taupost"):
        setattr(stdp_syn, name, z[f"syn/{name}"][plastic] * second)
    for name in ("A_plus", "A_minus"):
        setattr(stdp_syn, name, z[f"syn/{name}"][plastic] * 1e12 * pA)
spikes = SpikeMonitor(G)
run(1 * second)
t0 = time.perf_counter()
device.build(directory=build_dir, compile=True, run=False)
print(json.dumps({"compile_seconds": time.perf_counter() - t0}), flush=True)
for line in sys.stdin:
    if line.strip() != "run":
        break
    t0 = time.perf_counter()
    device.run(directory=build_dir, with_output=False)
    n_spikes = len(spikes.i)  # reads the results, as a script would
    print(json.dumps({"run_seconds": time.perf_counter() - t0,
                      "binary_seconds": device.timers["run_binary"], "n_spikes": int(n_spikes)}), flush=True)
