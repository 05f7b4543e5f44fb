"""Networks as plain NumPy/SciPy data: neurons' parameters, synapse lists and weights drawn
from a model (:class:`~lnp_brian.network.network.Network`), connectivity rules, saving and
loading.
"""
