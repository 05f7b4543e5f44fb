"""Lyapunov Noise Pruning: its configuration (every default in one place), the pruner and
the timescale optimisation.
"""
