"""Names of the simulation devices (a module without imports, so that the command line's help
and option checks do not load Brian2)."""

#: Brian2 devices a :class:`~lnp_brian.simulation.simulator.Simulator` runs on
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")
