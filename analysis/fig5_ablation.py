"""Fig. 5 in kind: the final score of every method, ablations of LNP's steps among them
(lnp-no-STEP, lnp-random-STEP), mean ± std over seeds.

    python analysis/fig5_ablation.py runs/EXPERIMENT [--out DIR] [--task lorenz63_h10]
"""

from _common import parse, save_per_task

from lnp_brian.report.summary import plot_ablation

if __name__ == "__main__":
    save_per_task(parse(__doc__.splitlines()[0]), "ablation", plot_ablation)
