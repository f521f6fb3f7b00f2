"""Tokenising DNA: BPE training in the DNABERT-2 layout, encoding, token-length statistics."""
