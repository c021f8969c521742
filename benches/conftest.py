"""Benchmarks compare fastsock (compiled and pure) with the upstream stack side by side.

    pytest benches/test_codecs.py --benchmark-group-by=group --benchmark-columns=median,ops,rounds
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from impls import IMPLS


@pytest.fixture(params=IMPLS)
def impl(request):
    return request.param
