"""Sphinx configuration of the lnp_brian documentation site (``make docs``).

The site is built from the Markdown pages in this folder and the docstrings of the package
(numpydoc); CI builds it with warnings as errors, so a broken docstring or link fails the run.
"""

import lnp_brian

project = "lnp_brian"
author = "lnp_brian developers"
release = version = lnp_brian.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx.ext.viewcode", "numpydoc", "myst_parser"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# README.md is this folder's index for readers of the repository; the site has index.md
exclude_patterns = ["_build", "README.md", "results/*.txt"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# scikit-learn adds set_*_request methods to every estimator; their docstrings are sklearn's
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource",
                           "exclude-members": "set_fit_request, set_score_request, set_predict_request, "
                                              "set_transform_request"}
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types and units
autodoc_mock_imports = ["brian2cuda"]
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

html_theme = "alabaster"
html_title = f"lnp_brian {release}"
html_static_path = []
