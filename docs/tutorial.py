# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial: from a model file to a pruned spiking network
#
# This walks through everything `lnp_brian` does, in order, on one small network:
#
# 1. load a model file and build a heterogeneous recurrent spiking network (HRSNN);
# 2. simulate it under its background noise, look at its spikes, and re-run the same
#    simulation with new values;
# 3. measure its maximal Lyapunov exponent, and see why that number only means something
#    together with the perturbation size it was measured at;
# 4. prune it with Lyapunov Noise Pruning (LNP) and read what every step did;
# 5. compare the spectra of the dense, the LNP-pruned, an activity-pruned (AP) and a randomly
#    pruned network with the same neuron and synapse counts.
#
# **Size.** Everything here uses 150 neurons and simulations of a few hundred milliseconds so
# that the whole script runs in well under a minute on a laptop (it is run by the test suite,
# `tests/test_tutorial.py`). Networks this small and runs this short are for *illustration*:
# the numbers below are noisy, and none of them should be read as a result about LNP. The
# README and `docs/method.md` describe the full-size runs.
#
# **Running it.** `python docs/tutorial.py` runs it as a script; `jupytext --to notebook
# docs/tutorial.py` turns it into a notebook. Figures are written as PNG files into the
# folder named by the environment variable `LNP_TUTORIAL_OUT` (a new temporary folder if it is
# not set); the script never opens a window. `LNP_TUTORIAL_DEVICE` picks the Brian2 backend
# (see section 2; default `runtime`).

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files, never open windows
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lnp_brian as lb  # noqa: E402

OUT = Path(os.environ.get("LNP_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="lnp_tutorial_"))
OUT.mkdir(parents=True, exist_ok=True)
DEVICE = os.environ.get("LNP_TUTORIAL_DEVICE", "runtime")
BUILDS = OUT / "builds"  # where standalone projects go (unused by the runtime device)
T_START = time.perf_counter()


def save(fig, name):
    """Write a figure into OUT and close it."""
    path = OUT / name
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"  figure: {path}")


print(f"lnp_brian {lb.__version__}, device {DEVICE}, figures in {OUT}")

# %% [markdown]
# ### Choosing a backend
#
# Brian2 can run a network in three ways, and `lnp_brian` offers all of them behind one
# interface (`device=`):
#
# * `runtime` — Brian2 generates code and runs it from Python. With the NumPy code target
#   there is no compiler step at all, which makes it the quickest choice for a network this
#   small.
# * `cpp_standalone` — Brian2 writes a C++ project and compiles it. Compiling costs about
#   15 s per build on a 2-core machine; after that each run of this network takes a few
#   hundredths of a second instead of about half a second. For networks of thousands of
#   neurons and runs of seconds this is the better choice.
# * `cuda_standalone` — the same on an NVIDIA GPU (brian2cuda).
#
# Measured on the 2-core machine this tutorial was written on (150 neurons, 300 ms): runtime
# with NumPy 2 s for the first run and 0.4 s for each later one; cpp_standalone 14 s to
# compile, then 0.03 s per run. This tutorial makes a few dozen short runs on five builds, so
# runtime wins here: the whole script took about 45 s with runtime and about 130 s with
# cpp_standalone, and printed the same numbers on both (same seeds, same spikes).

# %%
if DEVICE == "runtime":
    import brian2

    # NumPy code: no compilation (Brian2's default, Cython, compiles every code object once)
    brian2.prefs.codegen.target = "numpy"

# %% [markdown]
# ## 1. Model file and network
#
# A *model file* (TOML) holds the neuron and synapse equations in Brian2's syntax, the
# distributions of every heterogeneous parameter, the connectivity and the background input.
# The package ships a few; `hrsnn` is a leaky integrate-and-fire network modelled on the HRSNN
# of Chakraborty & Mukhopadhyay, the kind of network LNP was designed for:
# every neuron has its own membrane time constant τ_m, drawn from a gamma distribution, and its
# own synaptic time constant. `lnp-brian models hrsnn` prints the file; copy it, edit it, and
# pass the path to `load_model` to use your own.

# %%
spec = lb.load_model("hrsnn")
print(f"model {spec.name}: {spec.description}")
print(f"  integration step dt = {float(spec.dt) * 1e3:g} ms")
for name, dist in spec.neuron.parameters.items():
    p = dist.params
    print(f"  per-neuron parameter {name}: {dist.kind}, mean {p['mean'] * 1e3:g} ms, CV {p['cv']:g}"
          + (f", clipped to [{dist.min * 1e3:g} ms, {dist.max * 1e3:g} ms]" if dist.max is not None else "")
          + (f", at least {dist.min * 1e3:g} ms" if dist.max is None and dist.min is not None else ""))
bg = lb.default_input(spec)  # the model file's [input] table as an input object
print(f"  background input per neuron: {bg.n} Poisson sources at {float(bg.rate):g} Hz, "
      f"{float(bg.weight) * 1e12:g} pA each, filtered with {float(bg.tau) * 1e3:g} ms")

# %% [markdown]
# `build_network` draws one network from the model: which neuron connects to which, the
# weights, and every neuron's parameters. The result is a `Network` of plain NumPy arrays
# (no Brian2 objects yet), in SI units: `net.params["tau_m"]` is in seconds, `net.w` in
# amperes. Weights are signed (Dale's law): positive from excitatory (E), negative from
# inhibitory (I) neurons. The same `seed` gives the same network.

# %%
N = 150
dense = lb.build_network(spec, n=N, seed=1)
print(dense)
n_exc, n_inh = int(dense.exc.sum()), int((~dense.exc).sum())
print(f"  {n_exc} excitatory and {n_inh} inhibitory neurons, {dense.n_synapses} synapses "
      f"({dense.n_synapses / N ** 2 * 100:.1f} % of all possible pairs)")
tau = dense.params["tau_m"]  # seconds
print(f"  tau_m: mean {tau.mean() * 1e3:.1f} ms, CV {tau.std() / tau.mean():.2f}, "
      f"range {tau.min() * 1e3:.1f}-{tau.max() * 1e3:.1f} ms")
w_pA = dense.w * 1e12
print(f"  weights: E synapses mean {w_pA[w_pA > 0].mean():.1f} pA, I synapses mean {w_pA[w_pA < 0].mean():.1f} pA")

# %% [markdown]
# The histogram below is the network's heterogeneity in time scales: most neurons integrate
# over 10–30 ms, a few over much longer. The curve is the gamma density the model file asks
# for (shape k = 1/CV² = 4).

# %%
from scipy.stats import gamma as gamma_dist  # noqa: E402

d = spec.neuron.parameters["tau_m"]
shape = 1 / d.params["cv"] ** 2
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
ax.hist(tau * 1e3, bins=25, density=True, color="0.6", label=f"{N} neurons")
x = np.linspace(0.1, tau.max() * 1.2e3, 300)
ax.plot(x, gamma_dist.pdf(x, shape, scale=d.params["mean"] * 1e3 / shape), "k", label="gamma, model file")
ax.set_xlabel("membrane time constant τ_m (ms)")
ax.set_ylabel("density (1/ms)")
ax.legend(frameon=False)
save(fig, "tau_m.png")

# %% [markdown]
# ## 2. Simulation
#
# A `Simulator` turns the network into Brian2 objects once, for a fixed *topology* (who can
# connect to whom) and duration, and can then be run again and again with new *values*: new
# noise seeds, weights, masks of pruned synapses and neurons, parameters such as τ_m. On the
# standalone devices this is what makes the rest of the package affordable: one compiled
# binary serves hundreds of runs.
#
# The input here is the model's own background noise (`lb.default_input(spec)`): each neuron
# receives independent Poisson spike trains, filtered into a current that keeps its membrane
# potential fluctuating around threshold. `lb.simulate(net, ...)` is the one-line version
# (build, run once, clean up).

# %%
noise = lb.default_input(spec)  # as printed in section 1
with lb.Simulator(dense, DEVICE, duration="300 ms", inputs=noise, record={"v": [0, 1, 2]},
                  build_dir=BUILDS / "simulate") as sim:
    t0 = time.perf_counter()
    res = sim.run(seed=1)
    first = time.perf_counter() - t0
    rates = res.rates()
    print(f"run 1 (seed 1): {res.summary()}; took {first:.2f} s")
    print(f"  rates: mean {rates.mean():.1f} Hz (E {rates[dense.exc].mean():.1f} Hz, "
          f"I {rates[~dense.exc].mean():.1f} Hz), "
          f"{np.mean(rates == 0) * 100:.0f} % silent")
    save(lb.plots.raster_figure(res, dense, title=f"HRSNN, {N} neurons, background noise"), "raster.png")
    save(lb.plots.dynamics_figure(res, dense), "dynamics.png")

    # the same build, new values: another noise seed, a pruned copy, slower membranes
    t0 = time.perf_counter()
    res2 = sim.run(seed=2)
    print(f"run 2 (seed 2): mean rate {res2.rates().mean():.1f} Hz; took {time.perf_counter() - t0:.2f} s")
    silenced = dense.prune(neurons=range(0, N, 3))  # every third neuron switched off
    res3 = sim.run(silenced, seed=1)
    print(f"run 3 ({silenced.n_active} active neurons, {silenced.n_synapses} synapses): mean rate of the active "
          f"neurons {res3.rates()[silenced.active].mean():.1f} Hz")
    res4 = sim.run(seed=1, params={"tau_m": tau * 2})
    print(f"run 4 (every tau_m doubled): mean rate {res4.rates().mean():.1f} Hz")
    print(f"  compilations for these 4 runs: {sim.compilations} "
          + ("(runtime compiles nothing; cpp_standalone shows 1)" if DEVICE == "runtime" else
             f"(the build took {sim.timings['build']:.1f} s, each run a fraction of a second)"))

# %% [markdown]
# What to look at: the raster (`raster.png`) shows irregular, asynchronous firing with E in
# blue and I in red; `dynamics.png` shows three membrane traces, the rate and ISI-CV
# histograms (a CV near 1 means Poisson-like irregular spiking) and the spectrum of the
# population rate.
#
# Two details worth knowing. First, `hrsnn` has STDP on E→E synapses, so in these plain
# simulations the E→E weights change while the network runs; the Lyapunov and pruning code
# below freezes plasticity, so that it analyses a fixed network. Second, the first run on the
# runtime device is slower than the later ones because Brian2 generates its code then; on
# cpp_standalone the cost sits in building the `Simulator` instead.

# %% [markdown]
# ## 3. Lyapunov exponents
#
# The maximal Lyapunov exponent λ_max says whether two almost identical copies of the
# network, driven by the *same* noise, drift apart (λ_max > 0, chaos) or come back together
# (λ_max < 0). `max_exponent` measures it with the two-trajectory (Benettin) method: a
# reference copy and a few perturbed copies run side by side in one build; every `interval`
# the distance of each copy from the reference is measured and scaled back to its starting
# size d0; the mean log growth per second is λ_max in 1/s. The distance combines every state
# variable in fixed units (1 = 1 mV for v, 1 pA for currents) plus filtered spike trains.
#
# **Why d0 is always reported.** Leaky integrate-and-fire networks simulated on a time grid
# show *stable chaos*: a tiny perturbation of v decays with the membrane leak and is wiped out
# at the next reset, unless it is big enough to move a spike into another time step. Then the
# spike pattern changes and the copies separate quickly. So the exponent depends on the size
# of the perturbation: small d0 gives a negative number (close to −1/τ_m of the slowest
# neurons), large d0 a positive one. A λ_max without its d0 is ambiguous, so the package always
# reports the pair; `finite_size_exponents` scans several sizes in one build.

# %%
lyap = lb.max_exponent(dense, DEVICE, duration="500 ms", perturbation=1.0, copies=4, inputs=noise,
                       transient="200 ms", seed=1, build_dir=BUILDS / "lyapunov")
print(f"lambda_max = {lyap.lambda_max:.1f} ± {lyap.lambda_max_stderr:.1f} 1/s at d0 = {lyap.perturbation:g} "
      f"(scaled units: 1 mV on v, 1 pA on currents), {lyap.method['copies']} perturbed copies, "
      f"{lyap.method['duration_s'] * 1e3:g} ms")

sizes = [1e-3, 1e-2, 1e-1, 1.0]
fs = lb.finite_size_exponents(dense, sizes=sizes, copies_per_size=2, device=DEVICE, duration="500 ms",
                              transient="200 ms", inputs=noise, seed=1, build_dir=BUILDS / "finite_size")
for d0, lam, se in zip(fs.sizes, fs.lambdas, fs.stderr):
    print(f"  d0 = {d0:<6g}: lambda = {lam:7.1f} ± {se:.1f} 1/s")
print(f"  for comparison, -1/max(tau_m) = {-1 / tau.max():.1f} 1/s (leak of the slowest neuron)")

fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
lb.plots.plot_divergence(lyap, a1)
lb.plots.plot_finite_size(fs, a2)
save(fig, "lyapunov.png")

# %% [markdown]
# Reading the numbers: at the smallest d0 the exponent is negative and close to the leak of the
# slowest neuron, −1/max(τ_m) (the perturbation just decays); at d0 = 1 it is large and
# positive (spikes move and the copies separate within one interval). Three cautions:
#
# * The error of `max_exponent` comes from splitting the measurement into time blocks; the
#   error of `finite_size_exponents` is the spread between the copies of one size only. Copies
#   that end up on the same trajectory (common at large d0, where every perturbation moves the
#   same spikes) then give an error near 0 that is not a real uncertainty.
# * At large d0 the growth within one renormalisation interval saturates, so the number also
#   depends on `interval` (10 ms here), not only on d0: report both.
# * 300 ms of measurement and two to four copies are far too little for a real number; use
#   seconds of simulated time and more copies (`lnp-brian lyapunov --duration 2s ...`).

# %% [markdown]
# ## 4. Lyapunov Noise Pruning
#
# LNP prunes without a task. Each iteration (details in `docs/method.md`):
#
# 1. runs the network under its noise and measures each neuron's *open-loop gain* (how much
#    its rate changes per pA of extra input) by replaying its recorded input to it alone;
# 2. linearises the network into a rate model A and an effective connectivity M, and computes
#    per-neuron Lyapunov exponents of A;
# 3. scores each synapse by how stable its two neurons are (the "Lyapunov matrix");
# 4. samples the synapses to keep with probabilities ∝ effective coupling × effective
#    resistance × stability score (spectral sparsification), and reweights the kept ones;
# 5. removes the neurons with the lowest betweenness centrality, keeping the E:I ratio;
# 6. re-grows a few synapses where M's leading eigenvectors became concentrated on few neurons;
# 7. re-tunes the τ_m distribution of the surviving neurons (Optuna, a few trials) so that the
#    linear model's spectrum stays close to the dense network's.
#
# This is the package's *reconstruction* of the method of Chakraborty et al. (ICLR 2024); the
# paper's full text was not available, see the README.
#
# Settings here: two iterations towards removing 30 % of the neurons and 60 % of the synapses
# (consistent targets: a synapse survives only if both its neurons do, and 0.7² ≈ 49 % of the
# synapses can survive removing 30 % of the neurons, more than the 40 % asked for), probes of
# 400 ms, 3 timescale trials per iteration. The defaults (5 iterations, 1 s probes, 8 trials) are
# for real runs.

# %%
config = dict(iterations=2, target_neurons=0.3, target_synapses=0.6, duration="400 ms", trials=3,
              lyapunov_copies=2, spectrum_k=8, seed=3, device=DEVICE)
pruner = lb.Pruner(dense, lb.PruneConfig(**config), build_root=BUILDS / "prune", log=print)
result = pruner.run()
pruned = result.network
print(f"LNP: {dense.n_active} -> {pruned.n_active} neurons, {dense.n_synapses} -> {pruned.n_synapses} synapses, "
      f"{result.compilations} compilations, {sum(result.info['timings'].values()):.1f} s in the loop")

# %% [markdown]
# Every iteration leaves one row in `result.rows` (the same columns as `trajectory.csv` of
# `lnp-brian prune`). Row 0 is the dense network. Besides the counts, each step wrote a
# diagnostic that says whether it did anything:
#
# * `zero_gain_fraction` — fraction of neurons whose measured gain is 0 (silent or saturated
#   neurons; they drop out of the linear model);
# * `jaccard_magnitude` — overlap of the kept synapses with simply keeping the strongest ones
#   (1 would mean the sampling is just magnitude pruning in disguise);
# * E / I neuron counts — the E:I ratio should stay at 4:1;
# * `ipr_M_dense`, `ipr_M_pruned`, `ipr_M_grown` — mean inverse participation ratio of M's
#   leading eigenvectors (1/n when spread over n neurons, 1 on a single neuron) in the dense
#   network, after pruning, and after re-growth;
# * `objective_first`, `objective_best` — distance (1/s) of the linear spectrum from the dense
#   one before and after the τ_m search (best ≤ first: the unchanged network is trial 0);
# * `lambda_max` with `lambda_max_d0` — the finite-size exponent at d0 = 1, as in section 3;
#   `max_re_eig_A` — the largest real part of A's eigenvalues (negative: the linearised network
#   is stable).

# %%


def fmt(row, key, spec_=".3g", unit=""):
    v = row.get(key)
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:{spec_}}{unit}"


print(f"{'it':>2} {'neurons (E/I)':>14} {'synapses':>8} {'lambda_max (1/s)':>17} {'max Re eig A':>13} "
      f"{'zero gain':>9} {'Jaccard':>7} {'IPR dense/pruned/grown':>23} {'objective first->best':>22} "
      f"{'rate':>8}")
for r in result.rows:
    ipr_text = f"{fmt(r, 'ipr_M_dense', '.3f')}/{fmt(r, 'ipr_M_pruned', '.3f')}/{fmt(r, 'ipr_M_grown', '.3f')}"
    obj = f"{fmt(r, 'objective_first', '.2f')} -> {fmt(r, 'objective_best', '.2f')} 1/s"
    print(f"{r['iteration']:>2} {r['neurons']:>5} ({r['exc_neurons']:>3}/{r['inh_neurons']:>2}) {r['synapses']:>8} "
          f"{r['lambda_max']:>8.1f} ± {r['lambda_max_stderr']:<5.1f} {r['max_re_eig_A']:>8.1f} 1/s "
          f"{r['zero_gain_fraction']:>9.2f} {fmt(r, 'jaccard_magnitude', '.2f'):>7} {ipr_text:>23} {obj:>22} "
          f"{r['mean_rate_hz']:>5.1f} Hz")
print(f"(lambda_max at d0 = {result.rows[0]['lambda_max_d0']:g}; zero gain and Jaccard are fractions, IPR is "
      f"dimensionless; the objective is a spectral distance)")
save(lb.plots.diagnostics_figure(result.rows, title=f"LNP diagnostics, {N}-neuron HRSNN"), "diagnostics.png")

# %% [markdown]
# How to read this run honestly: with 150 neurons, 400 ms probes and two perturbed copies,
# λ_max at d0 = 1 carries error bars of tens of 1/s and is shaped by the saturation described
# in section 3, so its changes between iterations are not evidence that pruning made the
# network more or less chaotic. The counts, the E/I split and the
# diagnostics are exact; `diagnostics.png` plots them per iteration.
#
# **Baselines.** Activity-based pruning (AP) removes the lowest-rate neurons and the weakest
# synapses, following *the same count schedule*; it reuses the builds of the LNP run (same
# topology, so nothing is rebuilt).

# %%
ap_pruner = lb.Pruner(dense, lb.PruneConfig(**{**config, "method": "ap"}), build_root=BUILDS / "prune")
ap_result = ap_pruner.run()
ap_net = ap_result.network
print(f"AP: {dense.n_active} -> {ap_net.n_active} neurons ({int((ap_net.active & ap_net.exc).sum())} E / "
      f"{int((ap_net.active & ~ap_net.exc).sum())} I), {dense.n_synapses} -> {ap_net.n_synapses} synapses")

counts = {label: (r.column("iteration"), r.column("neurons"), r.column("synapses"))
          for label, r in (("LNP", result), ("AP", ap_result))}
axes = lb.plots.plot_pruning_counts(counts)
save(axes[0].figure, "counts.png")

# %% [markdown]
# ## 5. Spectra: dense vs pruned vs random at equal counts
#
# `pruner.compare(network)` measures three networks on the same builds: the dense one, the
# given one and a *randomly* pruned copy of the dense network with exactly the same neuron and
# synapse counts. For each it returns
#
# * `eigenvalues`: all eigenvalues of the effective connectivity M (1/s) — how strongly and in
#   which patterns activity is fed back through the synapses;
# * `spectra`: the first `spectrum_k` Lyapunov exponents of the linearised rate model A (1/s)
#   (for a linear model these are the largest real parts of A's eigenvalues; every one is
#   negative when the linear model is stable);
# * `lambda_max`: the spiking network's finite-size λ_max at d0 = 1, (mean, standard error).
#
# The AP network goes through its own pruner's `compare`; the dense and random networks it
# measures are the same as the LNP pruner's (same seeds, same counts).

# %%
from lnp_brian.pruning.timescales import spectral_distance  # noqa: E402

cmp = pruner.compare(pruned)
cmp_ap = ap_pruner.compare(ap_net)
random_net = pruner.random_match(pruned)
nets = {"dense": dense, "LNP": pruned, "AP": ap_net, "random": random_net}
spectra = {"dense": cmp["spectra"]["dense"], "LNP": cmp["spectra"]["pruned"], "AP": cmp_ap["spectra"]["pruned"],
           "random": cmp["spectra"]["random, equal counts"]}
eigs = {"dense": cmp["eigenvalues"]["dense"], "LNP": cmp["eigenvalues"]["pruned"],
        "AP": cmp_ap["eigenvalues"]["pruned"], "random": cmp["eigenvalues"]["random, equal counts"]}
lmax = {"dense": cmp["lambda_max"]["dense"], "LNP": cmp["lambda_max"]["pruned"], "AP": cmp_ap["lambda_max"]["pruned"],
        "random": cmp["lambda_max"]["random, equal counts"]}

print(f"{'network':>8} {'neurons':>7} {'synapses':>8} {'lambda_max (d0 = 1)':>20} {'top exponent of A':>18} "
      f"{'max |eig M|':>12} {'distance of spectrum from dense':>32}")
for label, net in nets.items():
    lam, se = lmax[label]
    print(f"{label:>8} {net.n_active:>7} {net.n_synapses:>8} {lam:>9.1f} ± {se:<5.1f} 1/s "
          f"{spectra[label][0]:>12.1f} 1/s "
          f"{np.abs(eigs[label]).max():>8.1f} 1/s {spectral_distance(spectra[label], spectra['dense']):>28.2f} 1/s")

fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
lb.plots.plot_eigenvalues(eigs, ax)
ax.set_title("eigenvalues of the effective connectivity M", fontsize="small")
save(fig, "eigenvalues.png")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for label, s in spectra.items():
    lb.plots.plot_lyapunov_spectrum(s, ax, label=label)
ax.set_title(f"first {len(spectra['dense'])} Lyapunov exponents of the linearised rate model", fontsize="small")
save(fig, "lyapunov_spectra.png")

# %% [markdown]
# What the comparison says, and what it does not. LNP's sampling and its τ_m search aim to keep
# the linear spectrum close to the dense network's, so the last column is the number LNP
# optimises; compare it between LNP, AP and random at the *same* counts, never across different
# counts. The cell below states which network came out closest in this run. On 150 neurons with
# 400 ms probes the ranking can change with the seed, and one run is no evidence either way: to
# make a claim, run `lnp-brian prune` (or an experiment file, `configs/lnp_evidence.toml`) on
# full-size networks with several seeds and look at the spread over seeds.

# %%
distance = {label: spectral_distance(spectra[label], spectra["dense"]) for label in ("LNP", "AP", "random")}
closest = min(distance, key=distance.get)
print(f"closest to the dense spectrum in this run: {closest} ({distance[closest]:.2f} 1/s; "
      + ", ".join(f"{k} {v:.2f} 1/s" for k, v in distance.items() if k != closest)
      + f") — one seed, {N} neurons: an illustration, not a result")

# %% [markdown]
# Where to go next: `lnp-brian prune --help` for the same pipeline on the command line (with
# checkpoints and `--resume`), `docs/method.md` for each LNP step and its switch (every step can
# be turned off or randomised for ablations), and `docs/reservoir.md` for scoring pruned
# networks on a prediction task.

# %%
print(f"tutorial finished in {time.perf_counter() - T_START:.0f} s; figures in {OUT}")
print(f"dense: {dense.n_active} neurons, {dense.n_synapses} synapses; "
      f"LNP-pruned: {pruned.n_active} neurons, {pruned.n_synapses} synapses")
