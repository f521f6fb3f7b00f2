"""background-windows: GC-matched random genome windows (negatives) for a set of positives."""

from __future__ import annotations

import logging

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC, DEFAULT_WIDTH

log = logging.getLogger(__name__)

HELP = """Draw random --width bp windows from GENOME whose GC-content histogram matches that of
the --like sequences (usually the positives from bed-summit-window), avoiding the --exclude
windows (plus --margin), the --blacklist, and N-rich sequence. Writes a labelled FASTA
(>bg_chrom:start-end label=0 region=chrom:start-end(+)) and optionally a BED6.

\b
Matching: GC = (G+C)/(A+C+G+T) of each window, binned into --gc-bins equal bins over
[0, 1]; each bin gets ratio x (number of --like sequences in it) windows. The JSON run
info holds the histograms: like (the target), genome_candidates (random allowed windows,
before matching) and background (after). A bin that the genome cannot fill (after up to
20 x the requested number of draws) is reported as a shortfall and a warning.

\b
Windows are drawn uniformly over the allowed chromosomes (weighted by length), or with
--match-chroms in the positives' per-chromosome proportions (from their region=
attributes). Background windows never overlap an excluded region but may overlap each
other; identical windows are never drawn twice. The output is sorted by position and is
the same for the same inputs and --seed.
"""

EPILOG = """\
\b
Example:
  background-windows -g hg38.fa.gz --exclude windows.bed --like windows.fa \\
      --blacklist hg38-blacklist.v2.bed --exclude-chroms '_|chrUn|chrM|chrEBV' \\
      --ratio 1 --seed 1 -o background.fa --json stats/background.json"""


@tool_command("background-windows", help=HELP, short_help="GC-matched background windows.", epilog=EPILOG)
@input_file("--genome", "-g", required=True, help="Reference FASTA, plain or bgzip (indexed as by bed-summit-window).")
@input_file("--exclude", required=True, help="BED of regions to avoid (the positive windows, e.g. bed-summit-window --bed).")
@input_file("--like", required=True, help="Labelled FASTA or TSV/CSV whose GC distribution is matched (the positives).")
@output_option("--output", "-o", required=True, help="Background FASTA (labelled dataset convention).")
@output_option("--bed", help="Also write the windows as BED6.")
@click.option("--ratio", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Background windows per --like sequence.")
@click.option("--width", type=click.IntRange(min=1), default=DEFAULT_WIDTH, show_default=True, help="Window width in bp.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; the same seed gives the same windows.")
@click.option("--margin", type=click.IntRange(min=0), default=0, show_default=True,
              help="Widen every --exclude region by this many bp on both sides before avoiding it.")
@input_file("--blacklist", default=None, help="BED of regions to avoid as well (e.g. ENCODE blacklist).")
@click.option("--gc-bins", type=click.IntRange(min=1, max=1000), default=20, show_default=True,
              help="Number of equal GC bins over [0, 1] (20 = 5% wide).")
@click.option("--max-n-frac", type=click.FloatRange(0, 1), default=DEFAULT_MAX_N_FRAC, show_default=True,
              help="Skip windows with more than this fraction of N (same default and reason as bed-summit-window).")
@click.option("--match-chroms", is_flag=True, help="Draw windows per chromosome in the same proportions as the --like sequences.")
@click.option("--chroms", default=None, metavar="REGEX", help="Draw only from chromosomes matching this regular expression.")
@click.option("--exclude-chroms", default=None, metavar="REGEX",
              help="Never draw from chromosomes matching this regular expression (e.g. 'chrM|_random|chrUn').")
@click.option("--label", default="0", show_default=True, help="Class label written as label= in every header.")
@click.option("--case", "case", type=click.Choice(["keep", "upper"]), default="keep", show_default=True,
              help="Keep the genome's case or upper-case the sequences.")
def main(run, genome, exclude, like, output, bed, ratio, width, seed, margin, blacklist, gc_bins, max_n_frac,
         match_chroms, chroms, exclude_chroms, label, case):
    import numpy as np

    from enhancer_tools.genome.background import (
        BackgroundOptions, exclusion_intervals, gc_bin, like_profile, sample_background, write_background)
    from enhancer_tools.genome.reference import chrom_sizes, open_genome
    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs

    if not label or any(ch.isspace() for ch in label):
        raise UserError(f"--label must be a non-empty word without spaces, not {label!r}")
    refuse_overwriting_inputs([output, bed], [genome, exclude, like, blacklist])
    for role, path in (("genome", genome), ("exclude", exclude), ("like", like), ("blacklist", blacklist)):
        run.add_input(role, path)
    opts = BackgroundOptions(width=width, ratio=ratio, seed=seed, margin=margin, gc_bins=gc_bins, max_n_frac=max_n_frac,
                             match_chroms=match_chroms, chroms=chroms, exclude_chroms=exclude_chroms, blacklist=blacklist,
                             label=label, upper=case == "upper")
    fasta = open_genome(genome)
    like_gc, like_chroms = like_profile(like)
    excluded = exclusion_intervals(exclude, blacklist, chrom_sizes(fasta), margin)
    chrom_idx, starts, stats = sample_background(fasta, like_gc, like_chroms, excluded, opts)
    if len(starts) == 0:
        if stats["candidate_histogram"].sum():
            raise UserError("no background window matched the GC content of --like; try fewer --gc-bins")
        raise UserError("no background window could be placed: every allowed window overlaps --exclude/--blacklist or is N-rich")
    with AtomicOutputs() as out:
        gc = write_background(fasta, chrom_idx, starts, opts, out.open(output, "wb"), out.open(bed, "wb") if bed else None)
    background_hist = np.bincount(gc_bin(gc, gc_bins), minlength=gc_bins)
    shortfall = int(stats["shortfall_by_bin"].sum())
    run.outputs.update({"fasta": output, "bed": bed})
    run.counts.update({
        "like_sequences": len(like_gc), "windows_requested": stats["requested"], "windows_written": len(starts),
        "shortfall": shortfall, "candidates_drawn": stats["candidates_drawn"],
        "candidates_overlapping_excluded": stats["candidates_overlapping_excluded"],
        "candidates_n_rich": stats["candidates_n_rich"],
    })
    edges = [round(i / gc_bins, 6) for i in range(gc_bins + 1)]
    run.extra["gc_histogram"] = {
        "bin_edges": edges, "like": stats["like_histogram"], "genome_candidates": stats["candidate_histogram"],
        "background": background_hist, "shortfall": stats["shortfall_by_bin"],
    }
    if shortfall:
        short_bins = [f"{edges[k]:.2f}-{edges[k + 1]:.2f}" for k in np.flatnonzero(stats["shortfall_by_bin"])]
        log.warning("%d of %d requested windows could not be matched (GC bins %s are rare in the allowed genome)",
                    shortfall, stats["requested"], ", ".join(short_bins))
    log.info("%d background windows written for %d --like sequences", len(starts), len(like_gc))
