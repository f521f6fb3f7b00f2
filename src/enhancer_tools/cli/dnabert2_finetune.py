"""dnabert2-finetune: fine-tune DNABERT-2 (or train a small one from scratch) as an enhancer classifier."""

from __future__ import annotations

import os

import click

from enhancer_tools.cli.common import (
    force_option,
    input_file,
    tool_command,
    user_settings,
)
from enhancer_tools.cli.dnabert2_start import model_start
from enhancer_tools.cli.trainer_options import request_fields, trainer_options
from enhancer_tools.models.dnabert2_config import POOLINGS
from enhancer_tools.models.hyperparameters import COSINE_FLOOR, SCHEDULERS
from enhancer_tools.models.kinds.dnabert2 import DNABERT2Hyperparameters as HP
from enhancer_tools.models.modeldir import PICKLE_WEIGHTS, WEIGHTS

EPILOG = """Writes MODEL_DIR (model.json kind dnabert2, config.json, model.safetensors, tokenizer.json,
calibration.json, provenance.json). Token ids are cached and checkpoints kept in MODEL_DIR.work/;
an interrupted run continues with --resume. Defaults depend on the start: --model uses the DNABERT-2
authors' fine-tuning settings (lr 3e-5 with linear decay, batch 32, 5 epochs, [CLS] pooling; search lr
1e-5..1e-4), --init trains from random weights (mean pooling, lr 3e-4 with cosine decay, 10 epochs,
batch 16, dropout 0.2, both strands; search lr 1e-4..3e-3). Validation scores average both strands, as
score-regions does.
Multi-GPU (DDP): torchrun --standalone --nproc_per_node N -m enhancer_tools.cli.dnabert2_finetune ...
(same options; --batch-size is per GPU). Several GPUs or nodes sharing an Optuna study: run the same
command with --trials, --optuna-storage and --study-name on each worker (one GPU each).

\b
Example:
  dnabert2-finetune --train split/train.fa --val split/val.fa --model DNABERT-2-117M/ \\
      -o models/dnabert2 --max-length 232 --device cuda --json stats/dnabert2.json"""

def _defaults(name: str) -> str:
    """' (default A with --model, B with --init)' for a setting whose default depends on the start."""
    pretrained, scratch = getattr(HP(), name), getattr(HP.for_scratch(), name)
    show = {True: "on", False: "off"}
    if pretrained == scratch:
        return f" (default {show.get(scratch, scratch)})"
    return f" (default {show.get(pretrained, pretrained)} with --model, {show.get(scratch, scratch)} with --init)"


# click parameter -> hyperparameter (a user-given value overrides the default and is never searched)
TRAINING_OPTIONS = {name: name for name in (
    "epochs", "batch_size", "learning_rate", "warmup_ratio", "weight_decay", "grad_accum", "dropout", "patience",
    "rc_augment", "class_weights", "gradient_checkpointing", "attention", "precision", "eval_every",
    "checkpoint_every", "num_workers", "pooling", "scheduler")} | {"compile_": "compile"}


@tool_command("dnabert2-finetune", epilog=EPILOG)
@input_file("--train", "train_path", required=True, help="Labelled training FASTA/TSV (label=0/1).")
@input_file("--val", "val_path", required=True,
            help="Labelled validation FASTA/TSV: early stopping, threshold, temperature, Optuna objective.")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Pretrained DNABERT-2 directory (config.json + model.safetensors or pytorch_model.bin); "
                   "a masked-LM checkpoint gets a fresh classification head.")
@click.option("--init", "init", default=None,
              help="Train from random weights instead: 'tiny' (hidden 64, 2 layers) or a DNABERT-2 config.json "
                   "(its vocab_size is replaced by the tokenizer's).")
@input_file("--tokenizer", default=None,
            help="tokenizer.json. With --model it must be the checkpoint's (default: MODEL/tokenizer.json); "
                 "with --init e.g. a bpe-train tokenizer of the training split.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@force_option("model directory")
@click.option("--max-length", "max_tokens", type=click.IntRange(3), default=HP.max_tokens, show_default=True,
              help="Tokens per sequence including [CLS] and [SEP]; longer sequences are truncated (warned above 0.1%).")
@click.option("--epochs", type=click.IntRange(1), default=None, help=f"Maximum epochs{_defaults('epochs')}.")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help=f"Sequences per batch and GPU{_defaults('batch_size')}.")
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=None,
              help=f"Peak AdamW learning rate{_defaults('learning_rate')}.")
@click.option("--warmup-ratio", type=click.FloatRange(0, 1), default=None,
              help=f"Share of steps of linear warmup{_defaults('warmup_ratio')}.")
@click.option("--scheduler", type=click.Choice(SCHEDULERS), default=None,
              help=f"Learning rate after the warmup: linear decay to 0, cosine decay to {COSINE_FLOOR:g} x the peak, "
                   f"or constant{_defaults('scheduler')}.")
@click.option("--pooling", type=click.Choice(POOLINGS), default=None,
              help="What the classifier reads: the [CLS] state (the released head), the mean over the real tokens, "
                   "or the average of both (default: the checkpoint's own, cls when it has none, with --model; "
                   "mean with --init). Stored in config.json (classifier_pooling).")
@click.option("--weight-decay", type=click.FloatRange(0), default=HP.weight_decay, show_default=True,
              help="AdamW weight decay.")
@click.option("--grad-accum", type=click.IntRange(1), default=HP.grad_accum, show_default=True,
              help="Batches per optimizer step.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=None,
              help=f"Hidden and classifier dropout{_defaults('dropout')}.")
@click.option("--patience", type=click.IntRange(1), default=HP.patience, show_default=True,
              help="Stop after this many validations without a better PR-AUC.")
@click.option("--rc-augment/--no-rc-augment", default=None,
              help=f"Train on a random strand of each sequence per epoch{_defaults('rc_augment')}.")
@click.option("--class-weights", is_flag=True, help="Weight the loss so both classes count equally.")
@click.option("--gradient-checkpointing", is_flag=True,
              help="Recompute activations in the backward pass (less GPU memory, ~30% slower).")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile each encoder layer.")
@click.option("--attention", type=click.Choice(["sdpa", "eager", "flex"]), default=HP.attention, show_default=True,
              help="Attention implementation.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=HP.precision,
              show_default=True, help="auto: bf16 (or fp16) autocast on CUDA, fp32 on CPU.")
@click.option("--eval-every", type=click.IntRange(0), default=HP.eval_every, show_default=True,
              help="Optimizer steps between validations (0: once per epoch).")
@click.option("--checkpoint-every", type=click.IntRange(0), default=HP.checkpoint_every, show_default=True,
              help="Optimizer steps between checkpoints (0: at each validation).")
@click.option("--num-workers", type=click.IntRange(0), default=HP.num_workers, show_default=True,
              help="DataLoader worker processes.")
@trainer_options
def main(run, train_path, val_path, model_dir, init, tokenizer, output, force, max_tokens, **options):
    """Fine-tune DNABERT-2 on a labelled training set, validated on a held-out set: early stopping on
    validation PR-AUC, optional Optuna search, and a validation-chosen threshold and temperature."""
    from enhancer_tools.models.hyperparameters import with_values
    from enhancer_tools.models.registry import kind
    from enhancer_tools.training.data import read_labelled
    from enhancer_tools.training.fit import FitRequest, fit

    tokenizer, start = model_start(model_dir, init, tokenizer)
    run.add_input("tokenizer", tokenizer)
    if model_dir is not None:
        weights = [os.path.join(model_dir, f) for f in (WEIGHTS, PICKLE_WEIGHTS)]
        run.add_input("model", next((w for w in weights if os.path.isfile(w)), None))
    given = user_settings(TRAINING_OPTIONS)
    widths = {len(s) for s in read_labelled(train_path, "training").seqs}
    defaults = HP() if model_dir is not None else HP.for_scratch()
    hp = with_values(defaults, {**given, **start, "tokenizer": os.path.abspath(tokenizer), "max_tokens": max_tokens,
                                "width_bp": widths.pop() if len(widths) == 1 else None})
    fit(run, FitRequest(kind=kind("dnabert2"), hyperparameters=hp, user_set=frozenset(given), train=train_path,
                        val=val_path, output=output, force=force, inputs=(model_dir, tokenizer, init if init != "tiny" else None),
                        **request_fields(options)))


if __name__ == "__main__":
    main()
