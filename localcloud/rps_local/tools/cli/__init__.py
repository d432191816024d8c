"""The ``rps`` command line: one module per command (``cmd_*.py``), each with ``register(subparsers)``."""
