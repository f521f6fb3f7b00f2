"""enhancer-tools: from enhancer peak calls to a DNABERT-2 enhancer classifier."""

__version__ = "0.1.0"
