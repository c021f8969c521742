"""The compiled build is really compiled, is the default, and FASTSOCK_NO_EXTENSIONS flips it."""

import importlib
import importlib.machinery
import os
import subprocess
import sys

import pytest

from fastsock._kernels import KERNELS

PROBE = "import fastsock, json; print(json.dumps([fastsock.COMPILED, fastsock.COMPILED_KERNELS]))"


def _probe(**env):
    full_env = dict(os.environ)
    full_env.pop("FASTSOCK_NO_EXTENSIONS", None)
    full_env.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=full_env, capture_output=True, text=True, check=True
    ).stdout
    import json

    return json.loads(out)


@pytest.mark.parametrize("kernel", KERNELS)
def test_compiled_module_is_an_extension(compiled_build, kernel):
    module = importlib.import_module(f"fastsock._{kernel}_c")
    assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), module.__file__
    # cython.compiled is evaluated inside the module at build time: False if it came out as
    # plain Python (e.g. a pure-Python-mode source compiled without its declarations).
    assert module.CYTHON_COMPILED is True


def test_compiled_is_default(compiled_build):
    compiled, per_kernel = _probe()
    assert compiled is True
    assert per_kernel == {k: True for k in KERNELS}


def test_no_extensions_env_selects_pure():
    compiled, per_kernel = _probe(FASTSOCK_NO_EXTENSIONS="1")
    assert compiled is False
    assert per_kernel == {k: False for k in KERNELS}


@pytest.mark.parametrize("kernel", KERNELS)
def test_pure_twin_is_python(kernel):
    module = importlib.import_module(f"fastsock._{kernel}_py")
    assert module.__file__.endswith(".py")
