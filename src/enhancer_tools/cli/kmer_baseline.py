"""kmer-baseline: logistic regression on canonical k-mer frequencies, the floor every model must beat."""

from __future__ import annotations

import logging

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command

log = logging.getLogger(__name__)


@tool_command("kmer-baseline", epilog="Writes MODEL_DIR in the shared layout (model.json kind kmer).")
@input_file("--train", "train_path", required=True, help="Labelled training FASTA/TSV (label=0/1).")
@input_file("--val", "val_path", required=True, help="Labelled validation FASTA/TSV: chooses C, threshold, temperature.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--k", "k_text", default="3-6", show_default=True, help="k-mer lengths: a range (3-6) or a list (4,6).")
@click.option("--c-grid", default="0.0001,0.001,0.01,0.1,1,10,100", show_default=True,
              help="Inverse regularisation strengths to try; the best validation PR-AUC wins.")
@click.option("--class-weights", is_flag=True, help="Weight the loss so both classes count equally.")
def main(run, train_path, val_path, output, force, k_text, c_grid, class_weights):
    """Train the k-mer logistic-regression baseline: normalised canonical k-mer frequencies, the
    regularisation strength C chosen on the validation set."""
    import numpy as np

    from enhancer_tools.errors import UserError
    from enhancer_tools.io.atomic import AtomicOutputs
    from enhancer_tools.io.output_folder import check_output_folder
    from enhancer_tools.models.kmer import fit_kmer, model_config, parse_k
    from enhancer_tools.models.modeldir import is_model_directory, provenance, save_model_dir
    from enhancer_tools.metrics.calibration import calibrate
    from enhancer_tools.training.data import read_train_val
    from enhancer_tools.metrics.binary import binary_metrics

    ks = parse_k(k_text)
    try:
        grid = [float(c) for c in c_grid.split(",")]
    except ValueError:
        raise UserError(f"--c-grid {c_grid!r}: give comma-separated positive numbers") from None
    if not grid or min(grid) <= 0:
        raise UserError(f"--c-grid {c_grid!r}: every C must be > 0")
    run.add_input("train", train_path)
    run.add_input("val", val_path)
    check_output_folder(output, [train_path, val_path], force=force, is_ours=is_model_directory, what="model directory")
    train, val = read_train_val(train_path, val_path)
    run.counts.update(train_sequences=len(train), train_positive=train.n_positive, val_sequences=len(val),
                      val_positive=val.n_positive)
    scorer, c, table = fit_kmer(train.seqs, train.labels, val.seqs, val.labels, ks, grid, class_weights)
    if len(grid) > 1 and c in (min(grid), max(grid)):
        log.warning("the best C (%g) is at the edge of --c-grid; a wider grid may do better", c)
    z = scorer.logits(val.seqs)
    calibration = calibrate(z, val.labels)
    validation = binary_metrics(val.labels, z, calibration.temperature)
    metrics = {"validation": validation, "calibration": calibration.as_dict(), "regularisation": table,
               "hyperparameters": {"k": ks, "C": c, "class_weights": class_weights},
               "features": scorer.features.n_features}
    prov = provenance({"train": train_path, "val": val_path}, {"k": ks, "c_grid": grid, "class_weights": class_weights}, metrics)
    with AtomicOutputs() as out:
        save_model_dir(out.directory(output, replace=force), kind="kmer", config=model_config(scorer, c),
                       tensors={"coef": scorer.coef, "intercept": np.array([scorer.intercept])},
                       calibration=calibration, provenance_info=prov)
    run.outputs["model_dir"] = output
    run.extra.update(metrics)
    run.extra["model"] = {"kind": "kmer"}
    log.info("C=%g: validation ROC-AUC %.4f, PR-AUC %.4f", c, validation["roc_auc"] or 0, validation["pr_auc"] or 0)
