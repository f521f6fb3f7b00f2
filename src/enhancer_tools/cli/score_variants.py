"""score-variants: the effect of each VCF variant on a model's enhancer probability."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.genome.windows import (
    DEFAULT_MAX_N_FRAC,
    DEFAULT_WIDTH,
    EDGE_POLICIES,
)

HELP = """Score the REF and each ALT allele of every VCF/BCF record (plain, gzip or bgzip) with any
model directory (DNABERT-2, EnhancerNet CNN, k-mer baseline, plain Hugging Face DNABERT-2),
and write the input records annotated with the effects (bgzip VCF + tabix index), an effects
TSV with one row per (record, ALT), and a rejects TSV.

\b
Windows: the model's width (--width overrides; default 1000), centred on the REF span
(centre = POS-1 + len(REF)//2, an SNV's own base) by bed-summit-window's rule and edge policy
(the model's, else drop; --edge). The ALT window is the REF window with REF replaced by ALT,
then brought back to the same length: an insertion of d bp trims d//2 bases off the left end
and d - d//2 off the right end; a deletion of k bp adds k//2 genome bases on the left and
k - k//2 on the right. The ALT allele so stays centred. DNABERT-2 re-tokenises each window.

\b
Scores (z = log-odds averaged over both strands unless --no-rc-average; T = the model's
temperature): p_ref = sigmoid(z_ref/T), p_alt = sigmoid(z_alt/T) (as score-regions' p);
dlogit = (z_alt - z_ref)/T = logit(p_alt) - logit(p_ref), the log odds ratio; delta_p =
p_alt - p_ref; flip = 1 when ALT crosses the threshold upwards (gain), -1 downwards (loss),
else 0. VCF INFO (Number=A, '.' for an ALT not scored): ET_PREF, ET_PALT, ET_DLOGIT, ET_FLIP.

\b
Not scored (rejects TSV: record chrom pos id ref alt reason detail): no_alt_allele,
unknown_chromosome (with a hint when 'chr1' meets '1'), ref_past_chromosome_end,
ref_mismatch (REF differs from the genome), symbolic_allele (<DEL>, *), breakend,
invalid_allele, indel_too_long (--max-indel), off_chromosome_end,
chromosome_shorter_than_window, too_many_n (--max-n-frac, REF window),
allele_longer_than_window. Such records stay in the VCF without the INFO fields. A VCF none
of whose chromosomes is in the genome is an error.

\b
Order: records are written in input order; unsorted input is sorted (htslib's bcftools sort,
bounded memory) before indexing. An empty VCF gives a header-only output.
--shard I/N scores the I-th of N contiguous blocks of records (bcftools concat joins them).
"""

EPILOG = """\
\b
Example:
  score-variants --model models/cnn --vcf patient.vcf.gz -g hg38.fa.gz -o effects.vcf.gz \\
      --tsv effects.tsv --rejects rejects.tsv -j 8 --json stats/variants.json"""


@tool_command("score-variants", help=HELP, short_help="Effect of VCF variants on enhancer probability, any model.",
              epilog=EPILOG)
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=True),
              help="Model directory (model.json from a training tool, or a plain Hugging Face DNABERT-2 folder).")
@input_file("--vcf", "vcf_path", required=True, help="Variants (VCF plain/gzip/bgzip, or BCF).")
@input_file("--genome", "-g", required=True, help="Reference FASTA (plain or bgzip) the VCF was called against.")
@output_option("--output", "-o", required=True, help="Annotated VCF, bgzip-compressed (.vcf.gz); its .tbi is written too.")
@output_option("--tsv", default=None, help="Effects TSV, one row per scored (record, ALT).")
@output_option("--rejects", default=None, help="TSV of ALT alleles not scored, with the reason.")
@click.option("--width", type=click.IntRange(min=1), default=None,
              help=f"Window width in bp. Default: the model directory's window width, else {DEFAULT_WIDTH}.")
@click.option("--edge", type=click.Choice(EDGE_POLICIES), default=None,
              help="Windows running off a chromosome end (as bed-summit-window). Default: the model's, else drop.")
@click.option("--max-indel", type=click.IntRange(min=0), default=50, show_default=True,
              help="Longest indel scored (|len(ALT) - len(REF)| in bp).")
@click.option("--max-n-frac", type=click.FloatRange(0, 1), default=DEFAULT_MAX_N_FRAC, show_default=True,
              help="Skip variants whose REF window has more than this fraction of N (1 scores everything).")
@click.option("--rc-average/--no-rc-average", default=True, show_default=True,
              help="Average the log-odds of both strands before calibration.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Call threshold for flip. Default: the model's calibration threshold (0.5 for a plain checkpoint).")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True,
              help="Windows (REF and ALT, across variants) per model call.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="auto: bf16 on CUDA, fp32 on CPU.")
@click.option("-j", "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch (default: torch's choice).")
@click.option("--shard", default=None, metavar="I/N", help="Score only the I-th of N contiguous blocks of records (1-based).")
def main(run, model_dir, vcf_path, genome, output, tsv, rejects, width, edge, max_indel, max_n_frac, rc_average,
         threshold, batch_size, device, precision, threads, shard):
    from enhancer_tools.scoring.variants import VariantRequest, score_variants

    score_variants(run, VariantRequest(
        model_dir=model_dir, vcf=vcf_path, genome=genome, output=output, tsv=tsv, rejects=rejects, width=width,
        edge=edge, max_indel=max_indel, max_n_frac=max_n_frac, rc_average=rc_average, threshold=threshold,
        batch_size=batch_size, device=device, precision=precision, threads=threads, shard=shard))


if __name__ == "__main__":
    main()
