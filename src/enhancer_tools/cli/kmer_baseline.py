"""kmer-baseline: logistic regression on canonical k-mer frequencies, the floor every model must beat."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command
from enhancer_tools.models.kinds.kmer import C_GRID

EPILOG = """Writes MODEL_DIR in the shared layout (model.json kind kmer).

\b
Example:
  kmer-baseline --train split/train.fa --val split/val.fa -o models/kmer --k 3-6 \\
      --json stats/kmer.json"""


@tool_command("kmer-baseline", epilog=EPILOG)
@input_file("--train", "train_path", required=True, help="Labelled training FASTA/TSV (label=0/1).")
@input_file("--val", "val_path", required=True, help="Labelled validation FASTA/TSV: chooses C, threshold, temperature.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--k", "k_text", default="3-6", show_default=True, help="k-mer lengths: a range (3-6) or a list (4,6).")
@click.option("--c-grid", default=",".join(f"{c:g}" for c in C_GRID), show_default=True,
              help="Inverse regularisation strengths to try; the best validation PR-AUC wins.")
@click.option("--class-weights", is_flag=True, help="Weight the loss so both classes count equally.")
def main(run, train_path, val_path, output, force, k_text, c_grid, class_weights):
    """Train the k-mer logistic-regression baseline: normalised canonical k-mer frequencies, the
    regularisation strength C chosen on the validation set."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.models.kinds.kmer import KmerHyperparameters
    from enhancer_tools.models.kmer import parse_k
    from enhancer_tools.models.registry import kind
    from enhancer_tools.training.fit import FitRequest, fit

    try:
        grid = tuple(float(c) for c in c_grid.split(","))
    except ValueError:
        raise UserError(f"--c-grid {c_grid!r}: give comma-separated positive numbers") from None
    if not grid or min(grid) <= 0:
        raise UserError(f"--c-grid {c_grid!r}: every C must be > 0")
    hp = KmerHyperparameters(k=tuple(parse_k(k_text)), c_grid=grid, class_weights=class_weights)
    fit(run, FitRequest(kind=kind("kmer"), hyperparameters=hp, train=train_path, val=val_path, output=output,
                        force=force))


if __name__ == "__main__":
    main()
