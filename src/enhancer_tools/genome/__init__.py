"""Genome access and window placement: summit-centred windows, GC-matched backgrounds."""
