"""enhancernet-train: train the EnhancerNet CNN on a labelled training set, validated on a held-out set."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import (
    force_option,
    input_file,
    tool_command,
    user_settings,
)
from enhancer_tools.cli.trainer_options import request_fields, trainer_options
from enhancer_tools.models.kinds.enhancernet import EnhancerNetHyperparameters as HP

EPILOG = """Writes MODEL_DIR (model.json kind enhancernet, config.json, model.safetensors, calibration.json,
provenance.json). Interrupted runs continue with --resume (checkpoints in MODEL_DIR.work/).
Multi-GPU: torchrun --standalone --nproc_per_node N -m enhancer_tools.cli.enhancernet_train ...

\b
Example:
  enhancernet-train --train split/train.fa --val split/val.fa -o models/cnn --epochs 15 -j 2 \\
      --json stats/cnn.json"""

# click parameter -> hyperparameter (the names that differ say their unit)
TRAINING_OPTIONS = {name: name for name in ("epochs", "batch_size", "learning_rate", "weight_decay", "dropout",
                                            "patience", "rc_share", "rc_augment", "class_weights", "checkpoint_every")}
TRAINING_OPTIONS.update({"base_channels": "base_channels", "shift": "shift_bp", "replicates": "replicates"})


@tool_command("enhancernet-train", epilog=EPILOG)
@input_file("--train", "train_path", required=True, help="Labelled training FASTA/TSV (label=0/1).")
@input_file("--val", "val_path", required=True, help="Labelled validation FASTA/TSV: early stopping, threshold, temperature.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--width", type=click.IntRange(16), default=None,
              help="Input width in bp (longer sequences centre-cropped, shorter padded). Default: longest training sequence.")
@click.option("--epochs", type=click.IntRange(1), default=HP.epochs, show_default=True, help="Maximum epochs.")
@click.option("--batch-size", type=click.IntRange(1), default=HP.batch_size, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=HP.learning_rate, show_default=True)
@click.option("--weight-decay", type=click.FloatRange(0), default=HP.weight_decay, show_default=True)
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=HP.dropout, show_default=True)
@click.option("--patience", type=click.IntRange(1), default=HP.patience, show_default=True,
              help="Stop after this many validations without a better PR-AUC.")
@click.option("--rc-share/--no-rc-share", default=HP.rc_share, show_default=True,
              help="Score both strands with shared weights and average (strand-symmetric model).")
@click.option("--base-channels", type=click.IntRange(4), default=HP.base_channels, show_default=True,
              help="Channels of the first conv block (the next two have 1.5x and 2x as many).")
@click.option("--shift", type=click.IntRange(0), default=HP.shift_bp, show_default=True,
              help="Training-time jitter: move each sequence by a random offset of up to this many bp per step.")
@click.option("--replicates", type=click.IntRange(1, 16), default=HP.replicates, show_default=True,
              help="Train this many networks apart (seeds SEED, SEED+1, ...; each its own batch order and early "
                   "stopping) and score with their mean log-odds: a deep ensemble in one model directory, n times "
                   "the cost (1: a single network). With --trials every trial is one network; giving both is an "
                   "error.")
@click.option("--rc-augment", is_flag=True, help="Train on a random strand of each sequence per epoch.")
@click.option("--class-weights", is_flag=True, help="Weight the loss so both classes count equally.")
@click.option("--checkpoint-every", type=click.IntRange(0), default=HP.checkpoint_every, show_default=True,
              help="Optimizer steps between checkpoints (0: after each epoch).")
@trainer_options
def main(run, train_path, val_path, output, force, width, **options):
    """Train EnhancerNet, a convolutional enhancer classifier of one-hot DNA, with early stopping on
    validation PR-AUC, optional Optuna search, and a validation-chosen threshold and temperature."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.models.hyperparameters import with_values
    from enhancer_tools.models.registry import kind
    from enhancer_tools.training.data import read_labelled
    from enhancer_tools.training.fit import FitRequest, fit

    given = user_settings(TRAINING_OPTIONS)
    if width is None:
        width = max(len(s) for s in read_labelled(train_path, "training").seqs)
    if width < 64:
        raise UserError(f"--width {width} is too short: EnhancerNet's three pooling blocks need at least 64 bp")
    hp = with_values(HP(), {**given, "width_bp": width})
    fit(run, FitRequest(kind=kind("enhancernet"), hyperparameters=hp, user_set=frozenset(given) | {"width_bp"},
                        train=train_path, val=val_path, output=output, force=force, **request_fields(options)))


if __name__ == "__main__":
    main()
