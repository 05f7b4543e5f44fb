"""Model files: parsing and validating a TOML model (equations, parameters with units,
per-neuron and per-synapse distributions) into a :class:`~lnp_brian.model.spec.ModelSpec`.
"""
