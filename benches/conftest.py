"""Benchmarks compare fastsock (compiled and pure) with the upstream stack side by side.

    pytest benches/test_codecs.py --benchmark-group-by=group --benchmark-columns=median,ops,rounds
    pytest benches/test_e2e.py --e2e-clients 100,1000,5000

The end-to-end entries (``test_e2e.py``) take the ``--e2e-*`` options below and print one more
table at the end of the run: every figure beside Flask-SocketIO's at the same N.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from impls import IMPLS


def pytest_addoption(parser):
    group = parser.getgroup("fastsock end-to-end benchmarks (benches/test_e2e.py)")
    group.addoption("--e2e-clients", default="100", metavar="N[,N...]",
                    help="clients in the room, comma-separated (default: 100)")
    group.addoption("--e2e-async-modes", default="gevent", metavar="MODE[,MODE...]",
                    help="server async modes, comma-separated: gevent, threading")
    group.addoption("--e2e-duration", type=float, default=1.0, metavar="SECONDS",
                    help="measured seconds per scenario (default: 1)")
    group.addoption("--e2e-warmup", type=float, default=0.5, metavar="SECONDS",
                    help="unmeasured seconds before each scenario (default: 0.5)")
    group.addoption("--e2e-fastsock-option", action="append", default=[], metavar="KEY=VALUE",
                    help="extra fastsock SocketIO() keyword argument (VALUE as JSON), "
                         "repeatable, e.g. cork=false")


@pytest.fixture(params=IMPLS)
def impl(request):
    return request.param


class E2EResults:
    """What the end-to-end entries measured, by (implementation, async mode, N).

    Ratios are to Flask-SocketIO in the same async mode at the same N (gevent for the blaster).
    """

    def __init__(self, config) -> None:
        self.config = config
        self.by_case: dict[tuple, dict] = {}

    def record(self, impl, mode, clients, scenario, result, compiled=None) -> None:
        name = impl if impl.startswith("blaster") else f"{impl}/{mode}"
        if compiled is False:
            name += "-py"  # FASTSOCK_NO_EXTENSIONS=1 or a failed build: the pure-Python twins
        entry = self.by_case.setdefault((impl, mode, clients),
                                        {"clients": clients, "impl": name})
        entry[scenario] = result

    def get(self, impl, mode, clients, scenario):
        return self.by_case.get((impl, mode, clients), {}).get(scenario)

    def table(self) -> str:
        from e2e.run import SCENARIOS, format_table, rows_of

        rows = []
        for (impl, mode, clients), result in self.by_case.items():
            base_mode = "gevent" if impl.startswith("blaster") else mode
            base = self.by_case.get(("flask_socketio", base_mode, clients))
            rows += [dict(row, first=impl == "flask_socketio") for row in rows_of(result, base)]
        rows.sort(key=lambda r: (SCENARIOS.index(r["scenario"]), r["N"], not r["first"]))
        return format_table(rows)


@pytest.fixture(scope="session")
def e2e_results(request):
    results = request.config.stash.get(E2E_KEY, None)
    if results is None:
        results = request.config.stash[E2E_KEY] = E2EResults(request.config)
    return results


E2E_KEY = pytest.StashKey[E2EResults]()


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = config.stash.get(E2E_KEY, None)
    if results is None or not results.by_case:
        return
    terminalreporter.section("fastsock vs Flask-SocketIO, end to end")
    terminalreporter.write_line(
        "server on core 0, load generator on core 1; 'vs base' = times better than "
        "Flask-SocketIO in the same async mode at the same N (throughput, p99 latency, bytes per connection); "
        "a throughput figure counts only where the server's core is saturated (srv % >= 90) "
        "and the load generator's is not (lg % < 90); others % = what other processes took "
        "of those cores")
    terminalreporter.write_line(results.table())
