"""Figures and tables: raster, dynamics, spectra and pruning diagnostics, and the summary of
an experiment's results.
"""
