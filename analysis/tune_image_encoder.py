"""Choose the image encoder defaults on VALIDATION images (never the test images).

A dense HRSNN (default 300 neurons, seed 1) classifies scikit-learn's 8x8 digits. The
images are split exactly as ``ImageTaskRunner.digits(n_train=300, n_test=200)`` splits them;
the readout is trained on those 300 training images and every choice is made on 300
VALIDATION images drawn (stratified, seeded) from the 1297 digits that are in neither the
training nor the test set. Stages A-C score validation images only; stage D also scores
the test images, for the record (the choice reads validation only), as it does for the
old defaults.

One compiled build serves the whole sweep: it has every (pixel, neuron) input synapse
(``input_fraction = 1``) and a 10 ms rate grid, so

- a smaller ``input_fraction`` is the runner's own seeded draw with the unconnected
  weights set to zero (a compiled build accepts zeros in its pattern);
- ``present`` and ``rest`` (multiples of 10 ms) change how many images fit in one run
  (the rest of the run is silent padding, whose spikes are not read);
- ``max_rate`` and ``input_weight`` are run values.

The stages are a coordinate search, each starting from the previous stage's choice: the
setting with the fewest synaptic operations per image within ``--tolerance`` (0.01) of the
best validation accuracy so far.

A. present x max_rate (input_weight 100 pA, input_fraction 0.2, rest 20 ms, spike counts);
B. input_weight at input_fraction 0.2, then input_fraction with fraction x weight (the mean
   input current per input spike rate) kept;
C. rest;
D. features read from the same simulations: spike counts over the presentation, their
   square roots, counts in the two halves of the presentation, counts plus spike trains
   filtered with a 20 ms exponential sampled at the end of the presentation; every noise
   seed of ``--noise-seeds``, the choice on the mean validation accuracy.

    python analysis/tune_image_encoder.py --out runs/tune_image_encoder.json
    python analysis/tune_image_encoder.py --encoder 100,20,800,0.2,50   # stage D only

Prints a table; the JSON holds every row. docs/images.md quotes the result.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

GRID_MS = 10.0  # rate grid of the sweep build: present and rest must be multiples of it
FEATURES = ("counts", "sqrt", "halves", "counts+trace20")


def split_indices(n_train=300, n_test=200, n_val=300, data_seed=0, val_seed=12345):
    """Indices (into load_digits()) of the runner's training and test images, and of
    validation images drawn from the digits in neither."""
    from lnp_brian.tasks.datasets import digits, stratified_split

    images, labels = digits()
    idx = np.arange(len(images))
    sub, rest, _, lab_rest = stratified_split(idx, labels, 1 - (n_train + n_test) / len(images), seed=data_seed)
    tr, te, _, _ = stratified_split(sub, labels[sub], n_test / (n_train + n_test), seed=data_seed)
    va, _, _, _ = stratified_split(rest, lab_rest, 1 - n_val / len(rest), seed=val_seed)
    assert not (set(va) & set(tr)) and not (set(va) & set(te))
    return images, labels, tr, va, te


class SweepRunner:
    """An ImageTaskRunner on a build with every input synapse and a 10 ms rate grid, whose
    timing and encoder are set per configuration (see the module docstring)."""

    def __init__(self, net, x_train, y_train, x_eval, y_eval, device, build_dir, seed, duration_s):
        from lnp_brian.tasks.runners import ImageTaskRunner

        per_slot = 2 * GRID_MS * 1e-3
        batch = int(round(duration_s / per_slot))
        self.r = ImageTaskRunner(net, x_train, y_train, x_eval, y_eval, device, present=f"{GRID_MS:g} ms",
                                 rest=f"{GRID_MS:g} ms", input_fraction=1.0, input_weight="100 pA",
                                 batch=batch, seed=seed, build_dir=build_dir, reuse=True)
        self.rows = batch * 2
        self.duration = batch * per_slot
        self.seed = seed
        self.K, self.n = self.r.input_weights.shape
        r = self.r
        orig = r.batch_rates

        def padded(x):  # the runner's rates, then silence up to the compiled length
            out = np.zeros((self.rows, x.shape[1]))
            rates = orig(x)
            out[: len(rates)] = rates
            return out

        r.batch_rates = padded

    def weights(self, fraction, weight_pA):
        """The runner's own seeded input synapses for this fraction and mean weight."""
        from lnp_brian.core.seeding import rng

        g = rng(self.seed, "tasks.images.input_synapses")
        connected = g.random((self.K, self.n)) < fraction
        return np.where(connected, weight_pA * 1e-12 * g.uniform(0.5, 1.5, (self.K, self.n)), 0.0)

    def configure(self, present_ms, rest_ms, max_rate, fraction, weight_pA):
        r = self.r
        r.present, r.rest, r.max_rate = present_ms * 1e-3, rest_ms * 1e-3, float(max_rate)
        r.rows_present, r.rows_rest = int(round(present_ms / GRID_MS)), int(round(rest_ms / GRID_MS))
        r.slot = r.present + r.rest
        r.batch = int(np.floor(self.duration / r.slot + 1e-9))
        r.input_weights = self.weights(fraction, weight_pA)

    def features(self, x, stage, noise_seed):
        """Every feature variant of images x (n, 64), SOPs per image and mean rate (Hz)."""
        from lnp_brian.simulation.traces import count_features, filtered_features

        r = self.r
        _, totals, _, kept = r.features(x, seed=noise_seed, stage=stage, keep_results=True)
        P, dt = r.present, r.sim.dt
        parts = {k: [] for k in ("counts", "first", "second", "trace20")}
        for res, n_img in kept:
            starts = np.arange(n_img) * r.slot
            parts["counts"].append(count_features(res, starts, P))
            parts["first"].append(count_features(res, starts, P / 2))
            parts["second"].append(count_features(res, starts + P / 2, P / 2))
            parts["trace20"].append(filtered_features(res, 20e-3, sample_times=starts + P - 0.5 * dt))
        c = {k: np.concatenate(v) for k, v in parts.items()}
        feats = {"counts": c["counts"], "sqrt": np.sqrt(c["counts"]),
                 "halves": np.hstack([c["first"], c["second"]]),
                 "counts+trace20": np.hstack([c["counts"], c["trace20"]])}
        rate = c["counts"].mean() / P
        return feats, totals["total"] / len(x), rate


def score(Xtr, ytr, Xev, yev):
    from lnp_brian.tasks.readout import ClassifierReadout

    est = ClassifierReadout().fit(Xtr, ytr)
    return float(np.mean(est.predict(Xev) == yev)), float(est.C_)


def main(argv=None):
    import lnp_brian as lb
    from lnp_brian.tasks.datasets import logistic_pixels_baseline
    from lnp_brian.tasks.runners import images_to_inputs

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="hrsnn")
    p.add_argument("--neurons", type=int, default=300)
    p.add_argument("--seed", type=int, default=1, help="network seed")
    p.add_argument("--encoder-seed", type=int, default=0)
    p.add_argument("--noise-seed", type=int, default=0)
    p.add_argument("--presents", default="50,100,200", help="ms, comma-separated")
    p.add_argument("--rates", default="100,200,400,800", help="Hz, comma-separated")
    p.add_argument("--weights", default="25,50,100,200", help="pA at input_fraction 0.2 (A uses 100, B the rest)")
    p.add_argument("--fractions", default="0.05,0.2,0.5,1.0", help="stage B, fraction x weight kept")
    p.add_argument("--rests", default="0,20,50", help="ms, stage C")
    p.add_argument("--tolerance", type=float, default=0.01, help="accuracy within which the cheaper row wins")
    p.add_argument("--noise-seeds", default="0,1,2", help="noise seeds of stage D and the old defaults")
    p.add_argument("--encoder", help="present_ms,rest_ms,max_rate,input_fraction,input_weight_pA: skip "
                                     "stages A-C and run D for this encoder")
    p.add_argument("--n-val", type=int, default=300)
    p.add_argument("--run-seconds", type=float, default=7.0, help="simulated time per run of the sweep build")
    p.add_argument("--device", default="cpp_standalone")
    p.add_argument("--out", type=Path, default=Path("runs/tune_image_encoder.json"))
    args = p.parse_args(argv)
    floats = lambda s: [float(v) for v in s.split(",")]  # noqa: E731

    t_all = time.perf_counter()
    images, labels, tr, va, te = split_indices(n_val=args.n_val)
    x = images_to_inputs(images)
    net = lb.build_network(args.model, n=args.neurons, seed=args.seed)
    build = args.out.parent / f"build_tune_images_{args.model}_{args.neurons}"
    t0 = time.perf_counter()
    sweep = SweepRunner(net, x[tr], labels[tr], x[va], labels[va], args.device, build, args.encoder_seed,
                        args.run_seconds)
    build_s = time.perf_counter() - t0
    print(f"build {build_s:.1f} s; train {len(tr)}, validation {len(va)}, test {len(te)} images", flush=True)
    pix_val = logistic_pixels_baseline(x[tr], labels[tr], x[va], labels[va], seed=args.encoder_seed).accuracy
    pix_test = logistic_pixels_baseline(x[tr], labels[tr], x[te], labels[te], seed=args.encoder_seed).accuracy
    print(f"pixel logistic regression: validation {pix_val:.3f}, test {pix_test:.3f}", flush=True)

    rows, cache = [], {}

    def run(stage, present, rest, rate, frac, weight, features=("counts",), split=("val",), noise=None):
        noise = args.noise_seed if noise is None else noise
        key = (present, rest, rate, frac, weight, noise)
        t0 = time.perf_counter()
        sweep.configure(present, rest, rate, frac, weight)
        if key not in cache:
            cache.clear()  # one configuration's features at a time
            cache[key] = {"train": sweep.features(x[tr], "train", noise)}
        out = []
        for sp in split:
            if sp not in cache[key]:
                cache[key][sp] = sweep.features(x[va] if sp == "val" else x[te], sp, noise)
        sim_s = time.perf_counter() - t0
        ftr, _, rate_hz = cache[key]["train"]
        for feat in features:
            row = {"stage": stage, "present_ms": present, "rest_ms": rest, "max_rate_hz": rate,
                   "input_fraction": frac, "input_weight_pA": weight, "features": feat, "noise_seed": noise,
                   "rate_hz": rate_hz, "simulate_s": sim_s}
            for sp in split:
                fev, sops, _ = cache[key][sp]
                row[f"{sp}_accuracy"], row["C"] = score(ftr[feat], labels[tr], fev[feat],
                                                        labels[va] if sp == "val" else labels[te])
                row["sops_per_image"] = sops
            rows.append(row)
            out.append(row)
            print(f"{stage} s{noise} {present:5g} ms rest {rest:4g} ms {rate:5g} Hz frac {frac:4.2f} {weight:5g} pA "
                  f"{feat:15s} rate {rate_hz:5.1f} Hz  SOPs/img {row['sops_per_image']:9.0f}  "
                  + "  ".join(f"{sp} {row[f'{sp}_accuracy']:.3f}" for sp in split)
                  + f"  ({sim_s:.1f} s)", flush=True)
        return out

    def best(stage_rows):
        """The cheapest row of a stage (synaptic operations per image) within ``--tolerance``
        of the best validation accuracy seen so far (300 validation images give a standard
        error of about 0.015, so smaller differences are not evidence); if none is, the
        stage's best."""
        top = max(r["val_accuracy"] for r in rows)
        near = [r for r in stage_rows if r["val_accuracy"] >= top - args.tolerance]
        if not near:
            return max(stage_rows, key=lambda r: r["val_accuracy"])
        return min(near, key=lambda r: r["sops_per_image"])

    if args.encoder:  # stages D and T only, for a given encoder
        b = dict(zip(("present_ms", "rest_ms", "max_rate_hz", "input_fraction", "input_weight_pA"),
                     floats(args.encoder)))
    else:
        b = search(run, best, args)
    enc = (b["present_ms"], b["rest_ms"], b["max_rate_hz"], b["input_fraction"], b["input_weight_pA"])
    seeds = [int(v) for v in args.noise_seeds.split(",")]
    # D: features, every noise seed (the features are read from the same simulations; the test
    # images are scored for the record, the choice is the mean validation accuracy)
    stage = [r for s_ in seeds for r in run("D", *enc, features=FEATURES, split=("val", "test"), noise=s_)]
    mean = {f: {sp: float(np.mean([r[f"{sp}_accuracy"] for r in stage if r["features"] == f]))
                for sp in ("val", "test")} for f in FEATURES}
    top = max(m["val"] for m in mean.values())
    chosen = next(f for f in FEATURES if mean[f]["val"] >= top - args.tolerance)  # the simplest near the top
    old = [run("T", 50.0, 20.0, 100.0, 0.2, 100.0, split=("val", "test"), noise=s_)[0] for s_ in seeds]
    old_mean = {sp: float(np.mean([r[f"{sp}_accuracy"] for r in old])) for sp in ("val", "test")}
    print(f"\nfeatures, mean over noise seeds {seeds}: "
          + ", ".join(f"{f} val {m['val']:.3f} test {m['test']:.3f}" for f, m in mean.items()))
    print(f"chosen on validation: present {enc[0]:g} ms, rest {enc[1]:g} ms, {enc[2]:g} Hz, input_fraction "
          f"{enc[3]:g}, {enc[4]:g} pA, features {chosen}: validation {mean[chosen]['val']:.3f} (pixels "
          f"{pix_val:.3f}), test {mean[chosen]['test']:.3f} (pixels {pix_test:.3f})")
    print(f"old defaults: validation {old_mean['val']:.3f}, test {old_mean['test']:.3f}")
    wall = time.perf_counter() - t_all
    print(f"wall {wall:.0f} s (build {build_s:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "neurons": args.neurons, "seed": args.seed,
                                    "encoder_seed": args.encoder_seed, "noise_seed": args.noise_seed,
                                    "noise_seeds_final": seeds,
                                    "n_train": len(tr), "n_val": len(va), "n_test": len(te),
                                    "pixels_logistic": {"val_accuracy": pix_val, "test_accuracy": pix_test},
                                    "rows": rows, "encoder": dict(zip(("present_ms", "rest_ms", "max_rate_hz",
                                                                       "input_fraction", "input_weight_pA"), enc)),
                                    "features": chosen, "feature_means": mean, "old_defaults_means": old_mean,
                                    "build_s": build_s, "wall_s": wall}, indent=1))


def search(run, best, args):
    """Stages A-C: the encoder (see the module docstring); returns the chosen row."""
    floats = lambda s: [float(v) for v in s.split(",")]  # noqa: E731
    # A: timing and drive
    stage = []
    for present in floats(args.presents):
        for rate in floats(args.rates):
            stage += run("A", present, 20.0, rate, 0.2, 100.0)
    b = best(stage)
    # B: input weight, then connectivity at the same mean current
    stage = [b]
    for weight in floats(args.weights):
        if weight != b["input_weight_pA"]:
            stage += run("B", b["present_ms"], 20.0, b["max_rate_hz"], 0.2, weight)
    b = best(stage)
    for frac in floats(args.fractions):
        if frac != b["input_fraction"]:
            stage += run("B", b["present_ms"], 20.0, b["max_rate_hz"], frac, b["input_weight_pA"] * 0.2 / frac)
    b = best(stage)
    # C: rest between images
    stage = [b]
    for rest in floats(args.rests):
        if rest != b["rest_ms"]:
            stage += run("C", b["present_ms"], rest, b["max_rate_hz"], b["input_fraction"], b["input_weight_pA"])
    return best(stage)


if __name__ == "__main__":
    main()
