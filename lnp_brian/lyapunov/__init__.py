"""Lyapunov exponents and the linearised dynamics: finite-size exponents from perturbed
copies, QR spectra, the variational equations integrated in the build, open-loop gains and
the noise probe of the operating point.
"""
