"""Why a region is called an enhancer: nucleotide attributions (in-silico mutagenesis, integrated
gradients), motifs found in them (tfmodisco-lite), their known-motif matches (memelite's TOMTOM
against JASPAR), and explain-regions' outputs (tables, logos, HTML, MultiQC content)."""
