"""fasta-rc-dedup: remove exact and reverse-complement duplicates from labelled sequence files."""

from __future__ import annotations

import logging

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.dataset import CONFLICT_POLICIES
from enhancer_tools.errors import UserError
from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs

log = logging.getLogger(__name__)

HELP = """Remove duplicate sequences, a sequence and its reverse complement counting as the same.

INPUT files are labelled datasets: FASTA with '>ID label=<class> ...' headers (plain or gzip,
any line wrapping, LF or CRLF) or TSV/CSV with 'sequence' and 'label' columns. Records are
compared case-insensitively by a canonical key: xxh3-128 of min(upper(seq),
revcomp(upper(seq))), IUPAC complement rules; N and other ambiguity codes are ordinary
letters (ACNT matches only ACNT and its reverse complement ANGT, never ACGT).

The first occurrence (files in the order given, records in file order) is kept, with its own
header and case, sequence on one line. Exact and reverse-complement duplicates are counted
separately, within a file and across files. A duplicate group whose members carry different
labels is a label conflict (see --conflicts). Record ids must be unique across the inputs.
"""

EPILOG = """\
\b
Example:
  fasta-rc-dedup windows.fa background.fa -o dataset.fa --clusters clusters.tsv -j 4 \\
      --json stats/dedup.json"""


def parse_label_for(pairs: tuple[str, ...], inputs: tuple[str, ...]) -> list[str | None]:
    """The --label-for FILE=LABEL options as one default label (or None) per input, in order."""
    given: dict[str, str] = {}
    for pair in pairs:
        path, sep, label = pair.rpartition("=")
        if not sep or not path or not label:
            raise UserError(f"--label-for takes FILE=LABEL, got {pair!r}")
        if path not in inputs:
            raise UserError(f"--label-for names {path!r}, which is not one of the inputs")
        given[path] = label
    return [given.get(p) for p in inputs]


@tool_command("fasta-rc-dedup", help=HELP, epilog=EPILOG)
@input_file("inputs", nargs=-1, required=True)
@output_option("-o", "--output", required=True, help="Deduplicated FASTA (a name ending .gz is gzip-compressed).")
@click.option("--label-for", "label_for", multiple=True, metavar="FILE=LABEL",
              help="Label for the records of FILE that have no label= in their header (repeatable); "
                   "the label is appended to those headers in the output.")
@click.option("--conflicts", type=click.Choice(CONFLICT_POLICIES), default="drop", show_default=True,
              help="Duplicate groups with different labels: drop every member, keep the first, or keep "
                   "the first record of the strictly most frequent label (a tie drops the group).")
@output_option("--clusters", default=None,
               help="TSV with one row per member of each duplicate group: group (id of its first record), "
                    "id, file, line, relation (first/exact/reverse_complement/near_duplicate), label, kept.")
@click.option("--identity", type=click.FloatRange(0.5, 1.0), default=None,
              help="Also collapse near-duplicates at this identity (e.g. 0.95) with vsearch --cluster_fast "
                   "--strand both, keeping each cluster's first record. Needs vsearch on the PATH.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Processes for reading large uncompressed single-line FASTA (and vsearch threads).")
def main(run, inputs, output, label_for, conflicts, clusters, identity, jobs):
    # numpy and the readers load here, not at import: --help stays fast
    from enhancer_tools.dataset.dedup import (
        FirstOccurrenceWriter, check_unique_ids, collapse_near_duplicates, plan_dedup, scan_inputs, write_clusters,
        write_kept,
    )

    refuse_overwriting_inputs([output, clusters], inputs)
    labels = parse_label_for(label_for, inputs)
    run.add_input("inputs", list(inputs))
    with AtomicOutputs() as out:
        # The first occurrences are written, as they are, while the scan runs; if the plan (label
        # conflicts, near duplicates) keeps other records, the output is written again. Records
        # that get a label= from --label-for are rewritten, not copied, so they are not streamed.
        stream = identity is None and all(label is None for label in labels)
        streamed = FirstOccurrenceWriter(out.open(output, "wb", background=True)) if stream else None
        data = scan_inputs(list(inputs), labels, jobs, on_part=streamed.add_part if streamed else None)
        if streamed is not None:
            streamed.finish()
        check_unique_ids(data)
        plan = plan_dedup(data, conflicts)
        if identity is not None:
            collapse_near_duplicates(data, plan, identity, conflicts, jobs)
        if streamed is not None and streamed.matches(plan.keep):
            written = int(plan.keep.sum())
        else:
            written = write_kept(data, plan.keep, out.reopen(output, "wb", background=True))
        if clusters:
            write_clusters(data, plan, out.open(clusters))
    run.counts.update(plan.counts)
    run.counts["records_out"] = written
    run.extra["labels"] = data.labels
    run.outputs["output"] = output
    if clusters:
        run.outputs["clusters"] = clusters
    c = plan.counts
    log.info("%d records in, %d out: %d exact + %d reverse-complement duplicates, %d label-conflict groups "
             "(%d records dropped)", c["records_in"], written,
             c["exact_duplicates_within_file"] + c["exact_duplicates_across_files"],
             c["revcomp_duplicates_within_file"] + c["revcomp_duplicates_across_files"],
             c["label_conflict_groups"], c["records_dropped_for_conflicts"])
