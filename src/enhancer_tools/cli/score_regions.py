"""score-regions: score sequences, BED regions or a tiled genome with a trained model directory."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC, DEFAULT_WIDTH, EDGE_POLICIES

HELP = """Score sequences with any model directory the training tools write (DNABERT-2, EnhancerNet
CNN, k-mer baseline) or a plain Hugging Face DNABERT-2 folder (temperature 1, threshold 0.5),
and write a scores TSV (id chrom start end p_forward p_reverse p call [label]).

\b
Input, one of:
  --fasta IN     FASTA (or dataset TSV/CSV); label= and region=chrom:start-end are used
                 when present (the label column lets `report` evaluate a held-out set).
  --bed REGIONS  BED/narrowPeak + --genome: windows cut exactly as bed-summit-window cuts
                 them (summit or midpoint centre, width and edge policy from the model
                 directory's window info; --width/--edge override); rejected lines go to
                 --rejects with bed-summit-window's reason codes.
  --tile         + --genome: tiles of the model's width every --step bp over the
                 chromosomes matching --chroms; tiles with more than --max-n-frac N are
                 skipped.

\b
Scores: p_forward and p_reverse are sigmoid(z / T) of each strand's log-odds z (T = the
model's calibration temperature); p = sigmoid(((z_fwd + z_rev) / 2) / T), so a sequence and
its reverse complement score the same. --no-rc-average scores the forward strand only
(p = p_forward, p_reverse NA). call = p >= threshold (the model's, or --threshold).

\b
Tracks (--tile only): --bedgraph/--bigwig give each tile's p to its central --step bp
(the whole tile when --step >= width), so intervals never overlap.

\b
Sharding: --shard I/N scores the I-th of N contiguous blocks of the input records (tiles
counted before the N filter). Concatenating the shards' outputs in order (dropping the TSV
header of shards 2..N) gives the unsharded output: e.g.
`awk 'FNR>1 || NR==1' part*.tsv > scores.tsv`, `cat part*.bedGraph > track.bedGraph`.
"""

EPILOG = """\
\b
Example:
  score-regions --model models/dnabert2 --fasta test.fa -o scores/dnabert2.tsv -j 8 \\
      --json stats/score-dnabert2.json"""


@tool_command("score-regions", help=HELP, short_help="Score FASTA, BED regions or genome tiles with a model.",
              epilog=EPILOG)
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=True),
              help="Model directory (model.json from a training tool, or a plain Hugging Face DNABERT-2 folder).")
@input_file("--fasta", "fasta_path", default=None, help="Sequences to score (FASTA or dataset TSV/CSV; gzip ok).")
@input_file("--bed", "bed_path", default=None, help="Regions to score (BED/narrowPeak; needs --genome).")
@click.option("--tile", is_flag=True, help="Tile the genome (needs --genome).")
@input_file("--genome", "-g", default=None, help="Reference FASTA (plain or bgzip) for --bed and --tile.")
@click.option("--chroms", default=None, metavar="REGEX", help="--tile: chromosomes to tile (re.search), e.g. '^chr[0-9XY]+$'.")
@click.option("--step", type=click.IntRange(min=1), default=200, show_default=True, help="--tile: bp between tile starts.")
@click.option("--width", type=click.IntRange(min=1), default=None,
              help=f"Window/tile width in bp. Default: the model directory's window width, else {DEFAULT_WIDTH}.")
@click.option("--edge", type=click.Choice(EDGE_POLICIES), default=None,
              help="--bed: window running off a chromosome end (as bed-summit-window). Default: the model's, else drop.")
@click.option("--max-n-frac", type=click.FloatRange(0, 1), default=DEFAULT_MAX_N_FRAC, show_default=True,
              help="--bed/--tile: skip windows with more than this fraction of N (1 scores everything).")
@output_option("--output", "-o", required=True, help="Scores TSV.")
@output_option("--bed-out", default=None, help="Called regions as BED6 (score = round(1000 p)).")
@output_option("--bedgraph", default=None, help="--tile: bedGraph track of p.")
@output_option("--bigwig", default=None, help="--tile: bigWig track of p (needs pyBigWig).")
@output_option("--rejects", default=None, help="--bed: TSV of regions not scored, with the reason.")
@click.option("--rc-average/--no-rc-average", default=True, show_default=True,
              help="Average the log-odds of both strands before calibration.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Call threshold on p. Default: the model's calibration threshold (0.5 for a plain checkpoint).")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="auto: bf16 on CUDA, fp32 on CPU.")
@click.option("-j", "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch (default: torch's choice).")
@click.option("--shard", default=None, metavar="I/N", help="Score only the I-th of N contiguous blocks of the input (1-based).")
@click.option("--compile", "compile_", is_flag=True,
              help="torch.compile the model with static shapes (token batches padded to multiples of 8, one graph "
                   "per bucket length; the first batches of each length are slow). Worth it for long GPU runs.")
@click.option("--static-shapes", is_flag=True,
              help="Pad token batches to multiples of 8 and run them at that shape (implied by --compile).")
def main(run, model_dir, fasta_path, bed_path, tile, genome, chroms, step, width, edge, max_n_frac, output, bed_out,
         bedgraph, bigwig, rejects, rc_average, threshold, batch_size, device, precision, threads, shard, compile_,
         static_shapes):
    from enhancer_tools.scoring.run import ScoreRequest, score_regions

    modes = [name for name, on in (("--fasta", fasta_path), ("--bed", bed_path), ("--tile", tile)) if on]
    if len(modes) != 1:
        raise UserError("give exactly one input: --fasta, --bed (with --genome) or --tile (with --genome)"
                        + (f"; got {' and '.join(modes)}" if modes else ""))
    if (bed_path or tile) and not genome:
        raise UserError(f"{modes[0]} needs --genome")
    if fasta_path and genome:
        raise UserError("--genome is only used with --bed or --tile, not --fasta")
    if (bedgraph or bigwig) and not tile:
        raise UserError("--bedgraph and --bigwig write tiled tracks: use them with --tile")
    if rejects and not bed_path:
        raise UserError("--rejects lists BED regions that were not scored: use it with --bed")
    if chroms and not tile:
        raise UserError("--chroms selects chromosomes to tile: use it with --tile")
    score_regions(run, ScoreRequest(
        model_dir=model_dir, fasta=fasta_path, bed=bed_path, tile=tile, genome=genome, chroms=chroms, step=step,
        width=width, edge=edge, max_n_frac=max_n_frac, output=output, bed_out=bed_out, bedgraph=bedgraph,
        bigwig=bigwig, rejects=rejects, rc_average=rc_average, threshold=threshold, batch_size=batch_size,
        device=device, precision=precision, threads=threads, shard=shard, compile=compile_,
        static_shapes=static_shapes))


if __name__ == "__main__":
    main()
