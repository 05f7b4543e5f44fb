"""Simulating a :class:`~lnp_brian.network.network.Network` with Brian2 (runtime,
cpp_standalone, cuda_standalone): a build compiled once per topology and re-run with new
values, and the results it returns.
"""
