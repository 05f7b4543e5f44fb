"""Experiments described by TOML files: grids of models, pruning methods, tasks and seeds,
run locally or with dask, resumable, with their results tables.
"""
