"""Foundations every layer may use: physical units and their parsing, atomic files, seeds,
the list of devices, run directories and the package version. Nothing here imports Brian2's
simulation machinery or any other layer of lnp_brian.
"""
