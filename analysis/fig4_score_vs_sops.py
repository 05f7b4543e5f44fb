"""Fig. 4 in kind: task score (accuracy, or NRMSE for a series) against average synaptic
operations per sample, one marker per method and iteration, error bars over seeds.

    python analysis/fig4_score_vs_sops.py runs/EXPERIMENT [--out DIR] [--task digits]
"""

from _common import parse, save_per_task

from lnp_brian.report.summary import plot_score_vs_sops

if __name__ == "__main__":
    save_per_task(parse(__doc__.splitlines()[0]), "sops", plot_score_vs_sops)
