"""bed-summit-window: summit-centred genome windows from narrowPeak/BED peaks."""

from __future__ import annotations

import logging

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.errors import UserError
from enhancer_tools.genome.windows import DEFAULT_MAX_N_FRAC, DEFAULT_WIDTH, EDGE_POLICIES

log = logging.getLogger(__name__)

HELP = """Cut windows of --width bp centred on peak summits from GENOME and write them as a
labelled FASTA (>ID label=1 region=chrom:start-end(strand)), with an optional BED6 of the
same windows and a rejects table.

\b
PEAKS: narrowPeak (MACS2/MACS3/HMMRATAC; plain or gzip) or BED3+. The centre is the summit
(column 10, start + offset) or, where that is -1 or absent (BED), the midpoint
start + (end - start) // 2; --summit-col N names another column holding the offset.
A summit outside its own peak is rejected, never moved.

\b
Window: start = centre - width // 2, end = start + width (0-based, half-open). Odd
widths are symmetric; an even width (1000) has 500 bases before the centre base and 499
after it, as `awk '{s=summit-int(W/2)}'` pipelines do.

\b
IDs: the peak name (column 4) when it is unique in the file; otherwise (no name, '.',
or repeated) the window's chrom:start-end, with _rc appended for reverse-complemented
windows. Output order: chromosomes as they first appear in PEAKS, then by window start
(file order for a sorted file). The BED6 strand is the orientation of the written
sequence, so `bedtools getfasta -s -bed windows.bed` gives the same sequences.

\b
Filters, in order (each rejected line goes to --rejects with its reason code):
malformed_line, excluded_chromosome, unknown_chromosome, peak_past_chromosome_end,
summit_outside_peak, off_chromosome_end / chromosome_shorter_than_window (--edge),
blacklist_overlap, duplicate_window (same coordinates and orientation; first line
kept), weaker_than_nearby_peak (--keep-strongest), too_many_n.
"""

EPILOG = """\
\b
Example:
  bed-summit-window peaks.narrowPeak -g hg38.fa.gz --width 1000 \\
      --exclude-chroms '_|chrUn|chrM|chrEBV' --blacklist hg38-blacklist.v2.bed \\
      -o windows.fa --bed windows.bed --rejects rejects.tsv --json stats/windows.json"""


@tool_command("bed-summit-window", help=HELP, short_help="Summit-centred genome windows from peaks.", epilog=EPILOG)
@input_file("peaks")
@input_file("--genome", "-g", required=True,
            help="Reference FASTA, plain or bgzip (an existing .fai/.gzi is used, a missing one is created). "
                 "Plain gzip cannot be indexed: recompress with bgzip.")
@output_option("--output", "-o", required=True, help="Windows FASTA (labelled dataset convention).")
@output_option("--bed", help="Also write the windows as BED6 (name = FASTA ID, strand = sequence orientation).")
@output_option("--rejects", help="TSV of rejected lines: line, reason, detail, original line.")
@click.option("--width", type=click.IntRange(min=1), default=DEFAULT_WIDTH, show_default=True, help="Window width in bp.")
@click.option("--edge", type=click.Choice(EDGE_POLICIES), default="drop", show_default=True,
              help="Window running off a chromosome end: drop it (reject), shift it inside keeping the width, "
                   "or clip it (shorter window).")
@click.option("--summit-col", type=click.IntRange(min=1), default=None,
              help="1-based column holding the summit offset from start (-1 = none). Default: column 10 "
                   "for 10-column narrowPeak, else the midpoint.")
@click.option("--label", default="1", show_default=True, help="Class label written as label= in every header.")
@click.option("--max-n-frac", type=click.FloatRange(0, 1), default=DEFAULT_MAX_N_FRAC, show_default=True,
              help=f"Reject windows with more than this fraction of N (either case). {DEFAULT_MAX_N_FRAC:g} keeps "
                   "windows with a short gap or a few masked bases, which a model sees as unknown tokens, but drops windows "
                   "that reach into assembly gaps (telomeres, centromeres), whose sequence is mostly N and "
                   "teaches nothing. 1 disables the filter.")
@click.option("--chroms", default=None, metavar="REGEX",
              help="Keep only chromosomes matching this regular expression (re.search; e.g. '^chr[0-9XY]+$').")
@click.option("--exclude-chroms", default=None, metavar="REGEX",
              help="Reject chromosomes matching this regular expression (e.g. 'chrM|_random|chrUn|_alt').")
@input_file("--blacklist", default=None, help="BED of regions to avoid (e.g. ENCODE blacklist); overlapping windows are rejected.")
@click.option("--strand-aware", is_flag=True,
              help="Reverse-complement windows of '-' strand peaks (column 6). Without it every window is the "
                   "forward strand.")
@click.option("--case", "case", type=click.Choice(["keep", "upper"]), default="keep", show_default=True,
              help="Keep the genome's case (soft-masked repeats in lower case) or upper-case the sequences.")
@click.option("--keep-strongest", is_flag=True,
              help="Of peaks whose centres lie closer than --min-distance, keep only the strongest "
                   "(greedy: strongest first; ties go to the earlier line).")
@click.option("--min-distance", type=click.IntRange(min=1), default=None,
              help="Distance for --keep-strongest in bp. Default: --width (kept windows do not overlap).")
@click.option("--strongest-by", type=click.Choice(["signal", "pvalue", "qvalue", "score"]), default="signal",
              show_default=True, help="Strength column for --keep-strongest: narrowPeak signalValue (7), pValue (8), "
                                      "qValue (9) or BED score (5).")
def main(run, peaks, genome, output, bed, rejects, width, edge, summit_col, label, max_n_frac, chroms,
         exclude_chroms, blacklist, strand_aware, case, keep_strongest, min_distance, strongest_by):
    from enhancer_tools.genome.reference import open_genome
    from enhancer_tools.genome.summit_windows import Rejects, SummitWindowOptions, make_summit_windows
    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs

    if not label or any(ch.isspace() for ch in label):
        raise UserError(f"--label must be a non-empty word without spaces, not {label!r}")
    refuse_overwriting_inputs([output, bed, rejects], [peaks, genome, blacklist])
    run.add_input("peaks", peaks)
    run.add_input("genome", genome)
    run.add_input("blacklist", blacklist)
    opts = SummitWindowOptions(
        width=width, edge=edge, summit_col=summit_col, label=label, max_n_frac=max_n_frac, chroms=chroms,
        exclude_chroms=exclude_chroms, blacklist=blacklist, strand_aware=strand_aware, upper=case == "upper",
        keep_strongest=keep_strongest, min_distance=min_distance, strongest_by=strongest_by,
    )
    fasta = open_genome(genome)
    rejected = Rejects()
    with AtomicOutputs() as out:
        fa_out = out.open(output, "wb", background=True)
        bed_out = out.open(bed, "wb", background=True) if bed else None
        run.counts.update(make_summit_windows(peaks, fasta, opts, fa_out, bed_out, rejected))
        if rejects:
            rejected.write(out.open(rejects), peaks)
    run.outputs.update({"fasta": output, "bed": bed, "rejects": rejects})
    c = run.counts
    log.info("%d peaks read, %d windows written, %d rejected %s", c["peaks_read"], c["windows_written"],
             c["rejected"], c["rejects_by_reason"] or "")
