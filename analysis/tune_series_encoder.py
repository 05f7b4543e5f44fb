"""Choose the series encoder and readout defaults on the VALIDATION block (never the test block).

A dense HRSNN (default 300 neurons) forecasts Lorenz63 (default 2500 samples, dt 0.03,
60/20/20 split) one and ten steps ahead. For every sample time one build is compiled; gains,
bias spreads, input fractions and feature sets are re-runs / re-fits of the same build. Every
row reports the validation NRMSE used for the choice and, for the record, the test NRMSE of
the same fit.

    python analysis/tune_series_encoder.py --out runs/tune_encoder.json
    python analysis/tune_series_encoder.py --seed 2 --sample-times 50 --gains 3200 \
        --biases 0,0.25,0.5,1 --out runs/tune_bias_s2.json

Prints a table; the JSON holds every row. docs/reservoir.md quotes the result.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def fit_scores(runner, X, task, blocks):
    """Validation and test NRMSE of the default readout on feature matrix X."""
    from lnp_brian.tasks import metrics
    from lnp_brian.tasks.runners import default_series_readout

    est = default_series_readout(blocks).fit(X[task.train.index], task.train.targets)
    return {split: float(metrics.nrmse(task.split(split).targets, est.predict(X[task.split(split).index])))
            for split in ("val", "test")}


def columns(runner, X, n_active, *, taus=None, input_term=True, features="spikes"):
    """Select feature blocks from a full matrix [u | spikes per tau | v]."""
    K = runner.task.dim
    cols, blocks = [], []
    if input_term:
        cols.append(np.arange(K))
        blocks.append(K)
    start = K
    for tau in runner.feature_tau:
        if "spikes" in features and (taus is None or tau in taus):
            cols.append(np.arange(start, start + n_active))
            blocks.append(n_active)
        start += n_active
    if "v" in features and runner.v_name is not None:
        cols.append(np.arange(start, start + n_active))
        blocks.append(n_active)
    return X[:, np.concatenate(cols)], blocks


def main(argv=None):
    import lnp_brian as lb
    from lnp_brian.tasks import datasets as ds
    from lnp_brian.tasks.runners import SERIES_DEFAULTS, SeriesTaskRunner

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="hrsnn")
    p.add_argument("--neurons", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sample-times", default="10,20,50", help="ms, comma-separated")
    p.add_argument("--gains", default="1600,3200,6400", help="pA, comma-separated")
    p.add_argument("--biases", default="0.5", help="input_bias values (units of the gain), comma-separated")
    p.add_argument("--samples", type=int, default=2500, help="length of the Lorenz63 series")
    p.add_argument("--device", default="cpp_standalone")
    p.add_argument("--out", type=Path, default=Path("runs/tune_encoder.json"))
    args = p.parse_args(argv)

    net = lb.build_network(args.model, n=args.neurons, seed=args.seed)
    series = ds.lorenz63(args.samples, dt=0.03)
    tasks = {h: ds.make_series_task(series, horizon=h, name=f"lorenz63_h{h}") for h in (1, 10)}
    n = net.n_active
    rows = []
    t_all = time.perf_counter()
    for st in [float(x) for x in args.sample_times.split(",")]:
        runner = SeriesTaskRunner(tasks[1], net, args.device, sample_time=f"{st} ms", features="spikes+v",
                                  build_dir=args.out.parent / f"build_tune_{args.model}_{st:g}ms", reuse=True,
                                  seed=args.seed)
        for frac in (1.0, 0.5):
            W_full, b_full = runner.input_weights, runner.bias_pattern
            if frac < 1.0:  # keep a seeded subset of the input neurons (same weights and biases)
                keep = np.random.default_rng(args.seed).choice(net.n, int(frac * net.n), replace=False)
                W = np.zeros_like(W_full)
                W[:, keep] = W_full[:, keep]
                runner.input_weights = W
                runner.bias_pattern = np.where(np.isin(np.arange(net.n), keep), b_full, 0.0)
            for gain, bias in [(float(g), float(b)) for g in args.gains.split(",") for b in args.biases.split(",")]:
                if frac < 1.0 and (gain != 3200.0 or bias != SERIES_DEFAULTS["input_bias"]):
                    continue
                runner.input_gain, runner.input_bias = gain * 1e-12, bias
                t0 = time.perf_counter()
                X, sops, rate, _ = runner.features(seed=args.seed)
                sim_s = time.perf_counter() - t0
                variants = {"u+bank": {}}  # the feature sets re-fitted on these runs
                if frac == 1.0:
                    variants["u+bank+v (non-spiking)"] = {"features": "spikes+v"}
                if frac == 1.0 and bias == SERIES_DEFAULTS["input_bias"]:
                    one = min(runner.feature_tau, key=lambda t: abs(t - 0.02))  # the bank's filter nearest 20 ms
                    variants.update({"bank (no u)": {"input_term": False}, f"u+{one * 1e3:g}ms": {"taus": (one,)},
                                     f"{one * 1e3:g}ms only": {"taus": (one,), "input_term": False},
                                     "u+v (non-spiking)": {"features": "v"}})
                for label, kw in variants.items():
                    Xs, blocks = columns(runner, X, n, **kw)
                    row = {"sample_time_ms": st, "input_fraction": frac, "gain_pA": gain, "input_bias": bias,
                           "features": label,
                           "rate_hz": rate, "spikes_per_neuron_per_sample": rate * st * 1e-3,
                           "simulate_s": sim_s}
                    for h, task in tasks.items():
                        sc = fit_scores(runner, Xs[: task.test.index[-1] + 1], task, blocks)
                        row[f"val_h{h}"], row[f"test_h{h}"] = sc["val"], sc["test"]
                    rows.append(row)
                    print(f"{st:4g} ms  frac {frac:.1f}  {gain:6g} pA  bias {bias:4g}  {label:24s} rate {rate:5.1f} Hz  "
                          f"val h1 {row['val_h1']:.4f} h10 {row['val_h10']:.4f}   "
                          f"test h1 {row['test_h1']:.4f} h10 {row['test_h10']:.4f}  ({sim_s:.1f} s)", flush=True)
            runner.input_weights, runner.bias_pattern = W_full, b_full
        runner.close()
    best = min((r for r in rows if r["features"] == "u+bank"), key=lambda r: r["val_h10"])
    print(f"\nlowest validation h = 10 (spike features u+bank): {best['sample_time_ms']:g} ms, "
          f"fraction {best['input_fraction']}, {best['gain_pA']:g} pA, bias {best['input_bias']:g}: "
          f"val h1 {best['val_h1']:.4f} "
          f"h10 {best['val_h10']:.4f}; test h1 {best['test_h1']:.4f} h10 {best['test_h10']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "neurons": args.neurons, "seed": args.seed,
                                    "samples": args.samples,
                                    "rows": rows, "chosen": best,
                                    "wall_s": time.perf_counter() - t_all}, indent=1))


if __name__ == "__main__":
    main()
