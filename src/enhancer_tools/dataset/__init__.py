"""Canonical sequence keys, reverse-complement-aware de-duplication, leakage-free splits and
their audit, near-duplicate clustering (vsearch).

Light on purpose (no numpy): the CLIs import it at start-up.
"""

CONFLICT_POLICIES = ("drop", "keep-first", "majority")
