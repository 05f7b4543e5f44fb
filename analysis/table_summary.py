"""The summary table: final iteration of every (model, task, method), mean ± std over seeds,
beside the persistence and linear-ridge baselines; recomputed from results.csv and written
to summary.csv and summary.txt.

    python analysis/table_summary.py runs/EXPERIMENT [--out DIR]
"""

from _common import parse

from lnp_brian.experiment.runner import read_results, summarise, write_summary
from lnp_brian.report.summary import summary_table

if __name__ == "__main__":
    args = parse(__doc__.splitlines()[0])
    summary = summarise(read_results(args.experiment))
    write_summary(args.out / "summary.csv", summary)
    text = summary_table(summary)
    (args.out / "summary.txt").write_text(text + "\n", encoding="utf-8")
    print(text)
