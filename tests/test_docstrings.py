"""Every public function, class, method and property (the names in a module's ``__all__``)
has a numpydoc docstring: a summary, every parameter documented (units for physical
quantities) and a Returns section where something is returned. The Examples sections are run
as doctests. This is what the documentation site (``make docs``) renders."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import lnp_brian

numpydoc_validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is in the docs extra")

#: GL08 no docstring, PR01 a parameter not documented, PR02 a documented parameter that does
#: not exist, RT01 no Returns section for a function that returns a value
CHECKS = {"GL08", "PR01", "PR02", "RT01"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(lnp_brian.__path__, "lnp_brian.")
                 if not m.name.endswith("__main__"))


def public_names(module_name: str) -> list[str]:
    """Dotted names of the public definitions of a module: its ``__all__`` entries defined
    there, and the public methods and properties those classes define."""
    module = importlib.import_module(module_name)
    names = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module_name or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        names.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            names += [f"{module_name}.{name}.{attr}" for attr, value in vars(obj).items()
                      if not attr.startswith("_") and (inspect.isfunction(value) or isinstance(value, property)
                                                        or isinstance(value, (classmethod, staticmethod)))]
    return names


@pytest.mark.parametrize("module_name", MODULES)
def test_public_definitions_have_numpydoc_docstrings(module_name):
    problems = []
    for name in public_names(module_name):
        result = numpydoc_validate.validate(name)
        problems += [f"{name}: {code} {message}" for code, message in result["errors"] if code in CHECKS]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module_name", MODULES)
def test_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):
        if test.examples and test.name.startswith(module_name):
            runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s) in {module_name}"


def test_examples_are_not_vacuous():
    """Enough public definitions carry a runnable Examples section that a newcomer sees how
    the everyday functions are called (the count only ever grows)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    with_examples = {t.name for m in MODULES for t in finder.find(importlib.import_module(m), m) if t.examples}
    assert len(with_examples) >= 40, sorted(with_examples)


def test_the_checks_see_a_missing_parameter():
    def undocumented(x, duration):
        """Do something.

        Parameters
        ----------
        x : float
            A value.

        Returns
        -------
        float
            The value.
        """
        return x

    undocumented.__module__ = __name__
    globals()["undocumented"] = undocumented
    codes = {code for code, _ in numpydoc_validate.validate(f"{__name__}.undocumented")["errors"]}
    assert "PR01" in codes
