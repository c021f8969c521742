"""Runnable examples: ``python -m fastsock.examples.chat``."""
