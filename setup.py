"""Builds fastsock's Cython kernels.

Every ``src/_speedups/_<kernel>_c.pyx`` becomes the extension ``fastsock._<kernel>_c``; its
pure-Python twin is ``src/fastsock/_<kernel>_py.py``.

Environment:
  FASTSOCK_NO_EXTENSIONS=1   build a pure-Python package (no compiler used).
  CIBUILDWHEEL=1 or FASTSOCK_REQUIRE_EXTENSIONS=1
                             a kernel that fails to compile is an error, never a silent pure build.
  FASTSOCK_DEBUG_BUILD=1     compile with line tracing and C assertions (for coverage/debugging).
Without the strict flag, a machine that cannot compile still installs the pure-Python package
and prints one warning.
"""

import glob
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


NO_EXTENSIONS = _flag("FASTSOCK_NO_EXTENSIONS") or platform.python_implementation() != "CPython"
STRICT = _flag("CIBUILDWHEEL") or _flag("FASTSOCK_REQUIRE_EXTENSIONS")
DEBUG = _flag("FASTSOCK_DEBUG_BUILD")

if NO_EXTENSIONS and STRICT:
    sys.exit("fastsock: a strict build (CIBUILDWHEEL / FASTSOCK_REQUIRE_EXTENSIONS) cannot be pure")

_warned = []


def _warn_pure(why):
    if STRICT:
        raise RuntimeError(f"fastsock: compiled kernels are required but {why}")
    if not _warned:
        _warned.append(why)
        sys.stderr.write(
            "\n*** fastsock: building WITHOUT compiled kernels (" + why + "); "
            "the pure-Python implementation will be used. ***\n\n"
        )


def _extensions():
    if NO_EXTENSIONS:
        return []
    sources = sorted(glob.glob(os.path.join("src", "_speedups", "_*_c.pyx")))
    exts = []
    macros = [("CYTHON_TRACE_NOGIL", "1")] if DEBUG else [("NDEBUG", "1")]
    for pyx in sources:
        module = os.path.splitext(os.path.basename(pyx))[0]
        exts.append(Extension(f"fastsock.{module}", [pyx], define_macros=macros))
    try:
        from Cython.Build import cythonize
    except ImportError:
        # An sdist ships the generated C; without Cython those are used as they are.
        c_exts = []
        for ext in exts:
            c_file = ext.sources[0][:-4] + ".c"
            if os.path.exists(c_file):
                ext.sources = [c_file]
                c_exts.append(ext)
        if len(c_exts) != len(exts):
            _warn_pure("Cython is not installed and generated C sources are missing")
        return c_exts
    directives = {
        "language_level": 3,
        "boundscheck": False,
        "wraparound": False,
        "cdivision": True,
        "embedsignature": True,
        "linetrace": DEBUG,
    }
    built = []
    for ext in exts:
        try:
            built.extend(cythonize([ext], compiler_directives=directives, quiet=True))
        except Exception as exc:  # a Cython compile error in one kernel
            _warn_pure(f"cythonizing {ext.sources[0]} failed: {exc}")
    return built


class OptionalBuildExt(build_ext):
    """Compiles each kernel; a failure leaves that kernel pure unless the build is strict."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            _warn_pure(f"no working C compiler ({exc})")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn_pure(f"compiling {ext.name} failed ({exc})")


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
