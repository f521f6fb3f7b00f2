"""report: evaluate scored held-out sets (metrics, bootstrap intervals, model comparison against
the k-mer floor), draw figures, and gather every tool's run info into one MultiQC report."""

from __future__ import annotations

import logging

import click

from enhancer_tools.cli.common import force_option, tool_command

log = logging.getLogger(__name__)

EPILOG = """\
Scores files are score-regions TSVs of a labelled set (columns id, p, label required; call is
used for the threshold metrics, else p >= 0.5). All models must score the same ids; they are
paired by id. The k-mer floor is the --floor model, else the one --scores name starting with
"kmer" (kmer, k-mer, KMER_baseline...). REPORT_DIR gets multiqc_report.html, multiqc_data/,
metrics.tsv, comparison.tsv, metrics.json, figures/*.png|svg and multiqc_content/*_mqc.* (the
custom-content files: `multiqc DIR` on any folder holding REPORT_DIR rebuilds the same sections).

\b
Example:
  report --scores DNABERT2=scores/dnabert2.tsv --scores CNN=scores/cnn.tsv \\
         --scores kmer=scores/kmer.tsv --stats stats/ -o report/ --bootstrap 1000"""


@tool_command("report", epilog=EPILOG)
@click.option("--scores", "scores", multiple=True, required=True, metavar="NAME=SCORES.tsv",
              help="A model's scores on a labelled held-out set; repeat for each model.")
@click.option("--stats", "stats", multiple=True, type=click.Path(exists=True), metavar="DIR_OR_JSON",
              help="Run-info JSON (any tool's --json) or a folder searched for them; repeatable.")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False), metavar="REPORT_DIR",
              help="Report folder (created; an earlier report there is replaced only with --force).")
@force_option("report")
@click.option("--bootstrap", "bootstrap", type=int, default=1000, show_default=True,
              help="Paired bootstrap resamples for 95% intervals and tests (0: none).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the bootstrap resampling.")
@click.option("--floor", "floor", default=None, metavar="NAME",
              help="The --scores name of the k-mer floor model (default: the name starting with 'kmer').")
def main(run, scores, stats, output, force, bootstrap, seed, floor):
    """Evaluate models on a scored labelled set and build the MultiQC report."""
    from enhancer_tools.report.build import build_report

    build_report(list(scores), list(stats), output, bootstrap, seed, floor, run, force=force)
    log.info("report written: %s/multiqc_report.html", output.rstrip("/"))
