"""``python -m lnp_brian.cli``: the same as the ``lnp-brian`` command."""

import sys

from .main import main

sys.exit(main())
