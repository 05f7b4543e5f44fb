"""Compare filter banks of the series readout (kernel and time constants) on the VALIDATION block.

The features are a computation on the spikes only, so every bank of a seed runs on the same
build (the simulation is repeated per bank with the same noise seed, hence the same spikes).
Dense HRSNN (default 300 neurons), Lorenz63 (2500 samples, dt 0.03, 60/20/20 split), h = 1 and
h = 10, the package's other encoder and readout defaults. docs/reservoir.md quotes the result:

    python analysis/compare_filter_banks.py --seeds 1,2,3,4,5 --out runs/filter_banks.json

Prints one line per seed and bank and the means; the JSON holds every row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

BANKS = ("exponential:5,20,50,100,200", "alpha:5,20,50,100,200", "alpha:2.5,10,25,50,100")


def main(argv=None):
    import lnp_brian as lb
    from lnp_brian.tasks import datasets as ds
    from lnp_brian.tasks import metrics
    from lnp_brian.tasks.runners import SeriesTaskRunner, default_series_readout, series_options

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="hrsnn")
    p.add_argument("--neurons", type=int, default=300)
    p.add_argument("--seeds", default="1,2,3,4,5", help="network and encoder seeds, comma-separated")
    p.add_argument("--banks", nargs="+", default=list(BANKS),
                   help="KERNEL:TAU,TAU,... with the time constants in ms (default: %(default)s)")
    p.add_argument("--samples", type=int, default=2500, help="length of the Lorenz63 series")
    p.add_argument("--device", default="cpp_standalone")
    p.add_argument("--out", type=Path, default=Path("runs/filter_banks.json"))
    args = p.parse_args(argv)
    banks = []  # (label, checked options): series_options refuses a bad kernel or time constant
    for b in args.banks:
        kernel, _, taus = b.partition(":")
        try:
            banks.append((b, series_options(feature_kernel=kernel, feature_tau=[f"{t} ms" for t in taus.split(",")])))
        except ValueError as exc:
            p.error(f"--banks {b}: {exc}")

    series = ds.lorenz63(args.samples, dt=0.03)
    tasks = {h: ds.make_series_task(series, horizon=h, name=f"lorenz63_h{h}") for h in (1, 10)}
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        net = lb.build_network(args.model, n=args.neurons, seed=seed)
        runner = SeriesTaskRunner(tasks[1], net, args.device, build_dir=args.out.parent / f"build_banks_{args.model}_{seed}",
                                  reuse=True, seed=seed)
        for label, o in banks:  # the same build and drive: only the features change
            runner.feature_kernel, runner.feature_tau = o["feature_kernel"], o["feature_tau"]
            X, _, rate, _ = runner.features(seed=seed)
            blocks = runner.feature_blocks(net.n_active)
            row = {"seed": seed, "bank": label, "rate_hz": rate}
            for h, task in tasks.items():
                Xh = X[: task.test.index[-1] + 1]
                est = default_series_readout(blocks).fit(Xh[task.train.index], task.train.targets)
                for split in ("val", "test"):
                    row[f"{split}_h{h}"] = float(metrics.nrmse(task.split(split).targets,
                                                               est.predict(Xh[task.split(split).index])))
            rows.append(row)
            print(f"seed {seed}  {label:28s} val h1 {row['val_h1']:.5f} h10 {row['val_h10']:.5f}   "
                  f"test h1 {row['test_h1']:.5f} h10 {row['test_h10']:.5f}", flush=True)
        runner.close()
    print()
    for label, _ in banks:
        r = [x for x in rows if x["bank"] == label]
        print(f"{label:28s} " + "  ".join(f"{k} {np.mean([x[k] for x in r]):.5f}"
                                           for k in ("val_h1", "val_h10", "test_h1", "test_h10")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "neurons": args.neurons, "samples": args.samples,
                                    "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
