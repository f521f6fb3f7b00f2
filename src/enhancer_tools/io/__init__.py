"""Readers and writers shared by every tool: FASTA, BED/narrowPeak, labelled datasets,
atomic output files and run-info JSON."""
