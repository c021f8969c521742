"""Type stub of the compiled fanout kernel: the same surface as its pure-Python twin."""

from fastsock._fanout_py import FLUSH_THRESHOLD as FLUSH_THRESHOLD
from fastsock._fanout_py import MAX_PENDING as MAX_PENDING
from fastsock._fanout_py import SEND_MAX as SEND_MAX
from fastsock._fanout_py import Corker as Corker
from fastsock._fanout_py import Output as Output
from fastsock._fanout_py import fanout as fanout

CYTHON_COMPILED: bool
