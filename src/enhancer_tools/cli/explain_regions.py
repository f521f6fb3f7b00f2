"""explain-regions: why a model calls a region an enhancer (ISM, integrated gradients, motifs)."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command
from enhancer_tools.errors import UserError

HELP = """Explain a model's calls: nucleotide attributions of each region by in-silico saturation
mutagenesis (ISM) and/or integrated gradients (IG), motifs learned from them (tfmodisco-lite)
and their known-motif matches (TOMTOM against JASPAR, offline). Works with every model kind
the training tools write; the k-mer baseline has no gradients (ISM only).

\b
Input, one of:
  --fasta IN     FASTA (or dataset TSV/CSV).
  --bed REGIONS  BED/narrowPeak + --genome: windows cut as score-regions cuts them.
Regions shorter than the model's training window are refused.

\b
Methods (--method):
  ism   every single-base substitution of each region (or its --start/--end slice) scored
        through the model's own scorer (DNABERT-2 re-tokenises each mutant); effect =
        logit(p_mutant) - logit(p_region), p as score-regions computes it (strand-averaged
        log-odds divided by the calibration temperature). 3 x L sequences per region and strand
        (an EnhancerNet recomputes only the layers' windows each substitution reaches).
  ig    integrated gradients (--steps points) on the one-hot input (CNN) or on the token
        embeddings spread evenly over each token's bases (DNABERT-2), same units as ISM.
  both  both.
With --rc-average (default) both strands are explained and averaged, as score-regions does.

\b
Motifs (--modisco): tfmodisco-lite on the hypothetical contributions (ISM effects centred per
position when ISM ran, else IG's); each pattern's 3 best matches in --motifs (JASPAR2024 CORE
of --tax-group from the pyjaspar package, or a MEME file) with TOMTOM p- and q-values.

\b
Outputs in OUT_DIR (all or nothing; an existing non-empty folder is refused unless it is an
earlier explain-regions output and --force is given): attributions.npz (ids, sequences,
offset, length, per method one [4, sum L] array, A C G T; no pickled objects), regions.tsv, ism.tsv (id position ref alt
delta_logodds; 1-based positions), motifs.tsv, images/ (logos PNG+SVG, region tracks),
summary.html, explain_regions_mqc.json (MultiQC custom content), explain_regions.json; with
--bed and --genome also attributions.ism.bw / attributions.ig.bw (each base's contribution on
the genome, overlapping windows averaged; needs pyBigWig).
"""

EPILOG = """\
\b
Example:
  explain-regions --model models/enhancernet --fasta test_positives.fa --top 200 \\
      --method both --modisco -o explain/enhancernet -j 4 --json stats/explain.json"""


@tool_command("explain-regions", help=HELP, short_help="Attributions, motifs and JASPAR matches of a model's calls.",
              epilog=EPILOG)
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True),
              help="Model directory (any kind), or a plain Hugging Face DNABERT-2 folder.")
@input_file("--fasta", "fasta_path", default=None, help="Regions to explain (FASTA or dataset TSV/CSV; gzip ok).")
@input_file("--bed", "bed_path", default=None, help="Regions to explain (BED/narrowPeak; needs --genome).")
@input_file("--genome", "-g", default=None, help="Reference FASTA (plain or bgzip) for --bed.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--method", type=click.Choice(["ism", "ig", "both"]), default="ism", show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=None, help="Explain only the N highest-scoring regions.")
@input_file("--ids", "ids_path", default=None, help="Explain only the regions whose ids this file lists (one per line).")
@click.option("--start", type=click.IntRange(min=0), default=None, help="ISM/IG slice start in each region (0-based).")
@click.option("--end", type=click.IntRange(min=1), default=None, help="ISM/IG slice end (exclusive; default: region end).")
@click.option("--modisco", is_flag=True, help="Find motifs with tfmodisco-lite and match them to --motifs.")
@click.option("--motifs", default="JASPAR2024", show_default=True, metavar="JASPAR2024|FILE.meme",
              help="Known motifs for --modisco: a JASPAR release inside pyjaspar, or a MEME file.")
@click.option("--tax-group", default="vertebrates", show_default=True,
              help="JASPAR taxonomic group (vertebrates, fungi, insects, plants, nematodes, urochordates).")
@click.option("--steps", type=click.IntRange(min=2), default=32, show_default=True, help="IG integration points.")
@click.option("--rc-average/--no-rc-average", default=True, show_default=True,
              help="Average both strands' attributions, as score-regions averages their log-odds.")
@click.option("--plots", type=click.IntRange(min=0), default=5, show_default=True,
              help="Attribution tracks of this many top-scoring regions in summary.html.")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True,
              help="Sequences per forward pass.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="ISM scoring precision (auto: bf16 on CUDA, fp32 on CPU); IG and an EnhancerNet's ISM "
                   "always run in fp32.")
@click.option("-j", "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch and TOMTOM.")
@force_option("explain-regions output")
def main(run, model_dir, fasta_path, bed_path, genome, output, method, top, ids_path, start, end, modisco, motifs,
         tax_group, steps, rc_average, plots, batch_size, device, precision, threads, force):
    from enhancer_tools.interpret.run import ExplainRequest, explain_regions

    if bool(fasta_path) == bool(bed_path):
        raise UserError("give exactly one input: --fasta, or --bed with --genome")
    if bed_path and not genome:
        raise UserError("--bed needs --genome")
    if fasta_path and genome:
        raise UserError("--genome is only used with --bed")
    if top and ids_path:
        raise UserError("give --top or --ids, not both")
    explain_regions(run, ExplainRequest(
        model_dir=model_dir, output=output, fasta=fasta_path, bed=bed_path, genome=genome, method=method, top=top,
        ids=ids_path, start=start, end=end, modisco=modisco, motifs=motifs, tax_group=tax_group, steps=steps,
        rc_average=rc_average, plots=plots, batch_size=batch_size, device=device, precision=precision,
        threads=threads, force=force))


if __name__ == "__main__":
    main()
