"""A module the zygote tests fork: runs the Python code given as its argument."""

from __future__ import annotations


def main(argv: list[str]) -> None:
    """Execute ``argv[0]`` as Python code."""
    exec(argv[0], {"__name__": "__probe__"})
