"""model-ensemble: stack trained models of any kinds by a logistic regression on their validation
log-odds, cross-fitted inside the validation set."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command
from enhancer_tools.models.ensemble import DEFAULT_C, DEFAULT_FOLDS

EPILOG = """Writes MODEL_DIR in the shared layout (model.json kind ensemble) with the members copied
into MODEL_DIR/members/, so the folder alone is the model: score-regions, explain-regions
(--method ism; integrated gradients only when every member has gradients), score-variants and
report use it like any model.

\b
The stack: z = intercept + sum_i w_i * z_i / T_i, where z_i is member i's log-odds (averaged over
both strands, as score-regions scores) and T_i its calibration temperature (each member enters as
the calibrated log-odds it states). The weights
are fitted on the labelled validation set; the validation metrics, temperature and threshold of
the ensemble come from out-of-fold predictions of --folds stratified folds, so they are not
measured on records the stack was fitted to.

\b
Example:
  model-ensemble --member DNABERT2=models/dnabert2 --member CNN=models/cnn --member kmer=models/kmer \\
      --val split/val.fa -o models/ensemble --json stats/ensemble.json"""


@tool_command("model-ensemble", epilog=EPILOG)
@click.option("--member", "members", multiple=True, required=True, metavar="[NAME=]DIR",
              help="A member model directory (any kind but ensemble), optionally named; repeat, at least twice. "
                   "The name defaults to the folder's name.")
@input_file("--val", "val_path", required=True,
            help="Labelled validation FASTA/TSV (label=0/1): the stack, the threshold and the temperature are "
                 "chosen on it.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--folds", type=click.IntRange(min=2), default=DEFAULT_FOLDS, show_default=True,
              help="Stratified cross-fitting folds inside the validation set.")
@click.option("--c", "c", type=float, default=DEFAULT_C, show_default=True,
              help="Inverse L2 regularisation strength of the stacking logistic regression.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the fold assignment.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("-j", "--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch (default: torch's choice).")
def main(run, members, val_path, output, force, folds, c, seed, batch_size, device, threads):
    """Stack member models (DNABERT-2, EnhancerNet, k-mer, in any mix) into one ensemble model by a
    logistic regression on their calibrated validation log-odds."""
    from enhancer_tools.training.ensemble import (
        EnsembleRequest,
        fit_ensemble,
        parse_member,
    )

    fit_ensemble(run, EnsembleRequest(members=[parse_member(m) for m in members], val=val_path, output=output,
                                      folds=folds, c=c, seed=seed, device=device, batch_size=batch_size,
                                      threads=threads, force=force))


if __name__ == "__main__":
    main()
