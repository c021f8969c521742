"""Shared test fixtures.

Kernel tests take one of the fixtures ``eio_impl``, ``sio_impl``, ``json_impl`` or ``ws_impl``:
each is parametrized with ids ``c`` (the compiled module, imported by name so a missing extension
fails the test) and ``py`` (the pure-Python twin). In a pure build (``FASTSOCK_NO_EXTENSIONS=1``
or ``pytest --no-c-extensions``) only ``py`` runs. ``<kernel>_pair`` gives ``(compiled, pure)``
for agreement tests and skips in a pure build.
"""

import importlib
import os

import pytest

KERNELS = ("eio", "sio", "json", "ws", "fanout")


def pytest_addoption(parser):
    parser.addoption(
        "--no-c-extensions",
        action="store_true",
        default=False,
        help="test only the pure-Python kernels (implied by FASTSOCK_NO_EXTENSIONS=1)",
    )


def c_extensions_enabled(config):
    env = os.environ.get("FASTSOCK_NO_EXTENSIONS", "").strip().lower()
    return not config.getoption("--no-c-extensions") and env in ("", "0", "false", "no")


def pytest_generate_tests(metafunc):
    enabled = c_extensions_enabled(metafunc.config)
    for kernel in KERNELS:
        name = f"{kernel}_impl"
        if name in metafunc.fixturenames:
            ids = ["c", "py"] if enabled else ["py"]
            metafunc.parametrize(name, ids, indirect=True, ids=ids)


@pytest.fixture
def compiled_build(request):
    """Skips the test in a pure-Python build."""
    if not c_extensions_enabled(request.config):
        pytest.skip("pure-Python build")


def _kernel_fixture(kernel):
    def impl(request):
        suffix = "c" if request.param == "c" else "py"
        return importlib.import_module(f"fastsock._{kernel}_{suffix}")

    def pair(request):
        if not c_extensions_enabled(request.config):
            pytest.skip("pure-Python build: no compiled kernel to compare with")
        return (
            importlib.import_module(f"fastsock._{kernel}_c"),
            importlib.import_module(f"fastsock._{kernel}_py"),
        )

    return pytest.fixture(impl), pytest.fixture(pair)


eio_impl, eio_pair = _kernel_fixture("eio")
sio_impl, sio_pair = _kernel_fixture("sio")
json_impl, json_pair = _kernel_fixture("json")
ws_impl, ws_pair = _kernel_fixture("ws")
fanout_impl, fanout_pair = _kernel_fixture("fanout")


JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


@pytest.fixture(scope="session")
def node_js():
    """Path of ``tests/js`` with its npm packages installed; run scripts there with ``node``.

    Fails in CI (``CI`` set) when Node.js is missing, skips with the reason elsewhere.
    """
    import shutil
    import subprocess

    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        if os.environ.get("CI"):
            pytest.fail("Node.js and npm are required for the JavaScript client tests")
        pytest.skip("Node.js/npm not installed: JavaScript client tests skipped")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "socket.io-client")):
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, capture_output=True
        )
    return JS_DIR
