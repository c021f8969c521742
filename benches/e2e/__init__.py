"""End-to-end benchmarks: server apps, a trivially fast stand-in server and the runner."""
