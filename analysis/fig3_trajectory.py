"""Fig. 3 in kind: neurons and synapses per pruning iteration for each method, with the task
score (Lorenz63 NRMSE) of the network pruned after each iteration, mean ± std over seeds.

    python analysis/fig3_trajectory.py runs/EXPERIMENT [--out DIR] [--task lorenz63_h1]
"""

from _common import parse, save_per_task

from lnp_brian.report.summary import plot_trajectory

if __name__ == "__main__":
    save_per_task(parse(__doc__.splitlines()[0]), "trajectory", plot_trajectory)
