# Marks models/ as the installed data package lnp_brian.models (see setup.cfg).
