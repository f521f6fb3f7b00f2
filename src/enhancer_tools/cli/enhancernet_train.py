"""enhancernet-train: train the EnhancerNet CNN on a labelled training set, validated on a held-out set."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command

EPILOG = """Writes MODEL_DIR (model.json kind enhancernet, config.json, model.safetensors, calibration.json,
provenance.json). Interrupted runs continue with --resume (checkpoints in MODEL_DIR.work/).
Multi-GPU: torchrun --standalone --nproc_per_node N -m enhancer_tools.cli.enhancernet_train ..."""


@tool_command("enhancernet-train", epilog=EPILOG)
@input_file("--train", "train_path", required=True, help="Labelled training FASTA/TSV (label=0/1).")
@input_file("--val", "val_path", required=True, help="Labelled validation FASTA/TSV: early stopping, threshold, temperature.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--width", type=click.IntRange(16), default=None,
              help="Input width in bp (longer sequences centre-cropped, shorter padded). Default: longest training sequence.")
@click.option("--epochs", type=click.IntRange(1), default=15, show_default=True, help="Maximum epochs.")
@click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=2e-3, show_default=True)
@click.option("--weight-decay", type=click.FloatRange(0), default=0.01, show_default=True)
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.3, show_default=True)
@click.option("--patience", type=click.IntRange(1), default=4, show_default=True,
              help="Stop after this many validations without a better PR-AUC.")
@click.option("--rc-share/--no-rc-share", default=True, show_default=True,
              help="Score both strands with shared weights and average (strand-symmetric model).")
@click.option("--rc-augment", is_flag=True, help="Train on a random strand of each sequence per epoch.")
@click.option("--class-weights", is_flag=True, help="Weight the loss so both classes count equally.")
@click.option("--trials", type=click.IntRange(0), default=0, show_default=True,
              help="Optuna trials to run (0: one run with the settings given).")
@click.option("--optuna-storage", default=None, help="Study storage shared by workers, e.g. sqlite:///study.db.")
@click.option("--study-name", default=None, help="Optuna study name (needed to share a study).")
@click.option("--search-space", "space_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML/JSON search space merged over the default one.")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in MODEL_DIR.work/ (or the shared study).")
@click.option("--checkpoint-every", type=click.IntRange(0), default=0, show_default=True,
              help="Optimizer steps between checkpoints (0: after each epoch).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for torch (default: torch's choice).")
def main(run, train_path, val_path, output, force, width, epochs, batch_size, learning_rate, weight_decay, dropout, patience,
         rc_share, rc_augment, class_weights, trials, optuna_storage, study_name, space_file, resume, checkpoint_every,
         device, seed, threads):
    """Train EnhancerNet, a convolutional enhancer classifier of one-hot DNA, with early stopping on
    validation PR-AUC, optional Optuna search, and a validation-chosen threshold and temperature."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.models.enhancernet import HYPERPARAMETERS, family
    from enhancer_tools.training.data import read_labelled
    from enhancer_tools.training.fit import FitRequest, fit

    chosen = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "weight_decay": weight_decay,
              "dropout": dropout, "patience": patience, "rc_share": rc_share, "rc_augment": rc_augment,
              "class_weights": class_weights, "checkpoint_every": checkpoint_every}
    ctx = click.get_current_context()
    fixed = {k for k in chosen if ctx.get_parameter_source(k) == click.core.ParameterSource.COMMANDLINE}
    if width is None:
        width = max(len(s) for s in read_labelled(train_path, "training").seqs)
    fixed.add("width")
    if width < 64:
        raise UserError(f"--width {width} is too short: EnhancerNet's three pooling blocks need at least 64 bp")
    params = {**HYPERPARAMETERS, **chosen, "width": width}
    fit(run, family(), FitRequest(train=train_path, val=val_path, output=output, params=params, fixed=frozenset(fixed),
                                  trials=trials, storage=optuna_storage, study_name=study_name, space_file=space_file,
                                  resume=resume, device=device, seed=seed, threads=threads, force=force))


if __name__ == "__main__":
    main()
