"""Which implementation a benchmark runs: fastsock compiled, fastsock pure, or upstream."""

import importlib
import os

import pytest

IMPLS = ["fastsock-c", "fastsock-py", "upstream"]


def kernel(name, impl):
    """The fastsock kernel module ``name`` for ``impl``; skips ``fastsock-c`` in a pure build."""
    if impl == "fastsock-c":
        if os.environ.get("FASTSOCK_NO_EXTENSIONS"):
            pytest.skip("pure-Python build")
        return importlib.import_module(f"fastsock._{name}_c")
    return importlib.import_module(f"fastsock._{name}_py")
