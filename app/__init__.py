"""idgraph: the identity-graph service (HTTP, dialects, use cases, store, wiring)."""

from importlib.metadata import PackageNotFoundError, version

try:
    # Read once, from the installed package's metadata (pyproject.toml is its only source).
    VERSION = version("idgraph")
except PackageNotFoundError:  # run from a checkout that was never installed
    VERSION = "0+unknown"
