"""Chooses, once at import time, the compiled kernels or their pure-Python twins.

The compiled kernel ``fastsock._<name>_c`` (built from ``src/_speedups/``) is used unless
``FASTSOCK_NO_EXTENSIONS`` is set, the interpreter is not CPython, or it fails to import; then the
twin ``fastsock._<name>_py`` is used. Both expose the same names with the same behaviour.
"""

import importlib
import os
import platform

KERNELS = ("eio", "sio", "json", "ws", "fanout")

NO_EXTENSIONS = (
    os.environ.get("FASTSOCK_NO_EXTENSIONS", "").strip().lower() not in ("", "0", "false", "no")
    or platform.python_implementation() != "CPython"
)


def _load(name):
    if not NO_EXTENSIONS:
        try:
            return importlib.import_module(f"fastsock._{name}_c"), True
        except ImportError:
            pass
    return importlib.import_module(f"fastsock._{name}_py"), False


_loaded = {name: _load(name) for name in KERNELS}

eio = _loaded["eio"][0]
sio = _loaded["sio"][0]
json = _loaded["json"][0]
ws = _loaded["ws"][0]
fanout = _loaded["fanout"][0]

#: kernel name -> True when its compiled implementation is the one in use
COMPILED_KERNELS = {name: compiled for name, (_, compiled) in _loaded.items()}
#: True when every kernel in use is compiled
COMPILED = all(COMPILED_KERNELS.values())
