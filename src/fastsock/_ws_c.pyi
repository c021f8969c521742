"""Type stub of the compiled ws kernel: the same surface as its pure-Python twin."""

from fastsock._ws_py import BINARY as BINARY
from fastsock._ws_py import CLOSE as CLOSE
from fastsock._ws_py import CONTINUATION as CONTINUATION
from fastsock._ws_py import PING as PING
from fastsock._ws_py import PONG as PONG
from fastsock._ws_py import TEXT as TEXT
from fastsock._ws_py import FrameParser as FrameParser
from fastsock._ws_py import accept_key as accept_key
from fastsock._ws_py import build_close as build_close
from fastsock._ws_py import build_frame as build_frame

CYTHON_COMPILED: bool
