"""dnabert2-finetune: fine-tune DNABERT-2 (or train a small one from scratch) as an enhancer classifier."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command

EPILOG = """Writes MODEL_DIR (model.json kind dnabert2, config.json, model.safetensors, tokenizer.json,
calibration.json, provenance.json). Token ids are cached and checkpoints kept in MODEL_DIR.work/;
an interrupted run continues with --resume. Defaults depend on the start: --model uses the DNABERT-2
authors' fine-tuning settings (lr 3e-5, batch 32, 5 epochs; search lr 1e-5..1e-4), --init trains from
random weights (lr 1e-3, 5 epochs; search lr 1e-4..3e-3).
Multi-GPU (DDP): torchrun --standalone --nproc_per_node N -m enhancer_tools.cli.dnabert2_finetune ...
(same options; --batch-size is per GPU). Several GPUs or nodes sharing an Optuna study: run the same
command with --trials, --optuna-storage and --study-name on each worker (one GPU each)."""


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
@click.option("--max-length", type=click.IntRange(3), default=232, show_default=True,
              help="Tokens per sequence including [CLS] and [SEP]; longer sequences are truncated (warned above 0.1%).")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Maximum epochs (default 5).")
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Sequences per batch and GPU (default 32).")
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=None,
              help="Peak AdamW learning rate (default 3e-5 / 1e-3 from scratch).")
@click.option("--warmup-ratio", type=click.FloatRange(0, 1), default=None, help="Share of steps of linear warmup (0.1).")
@click.option("--weight-decay", type=click.FloatRange(0), default=None, help="AdamW weight decay (0.01).")
@click.option("--grad-accum", type=click.IntRange(1), default=None, help="Batches per optimizer step (1).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Hidden and classifier dropout (0.1).")
@click.option("--patience", type=click.IntRange(1), default=None,
              help="Stop after this many validations without a better PR-AUC (3).")
@click.option("--rc-augment", is_flag=True, default=None, help="Train on a random strand of each sequence per epoch.")
@click.option("--class-weights", is_flag=True, default=None, help="Weight the loss so both classes count equally.")
@click.option("--gradient-checkpointing", is_flag=True, default=None,
              help="Recompute activations in the backward pass (less GPU memory, ~30% slower).")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile each encoder layer.")
@click.option("--attention", type=click.Choice(["sdpa", "eager", "flex"]), default=None,
              help="Attention implementation (default sdpa).")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=None,
              help="auto: bf16 (or fp16) autocast on CUDA, fp32 on CPU.")
@click.option("--eval-every", type=click.IntRange(0), default=None,
              help="Optimizer steps between validations (0: once per epoch).")
@click.option("--checkpoint-every", type=click.IntRange(0), default=None,
              help="Optimizer steps between checkpoints (0: at each validation).")
@click.option("--num-workers", type=click.IntRange(0), default=None, help="DataLoader worker processes (0).")
@click.option("--trials", type=click.IntRange(0), default=0, show_default=True,
              help="Optuna trials to run (0: one run with the settings given).")
@click.option("--optuna-storage", default=None, help="Study storage shared by workers, e.g. sqlite:///study.db.")
@click.option("--study-name", default=None, help="Optuna study name (needed to share a study).")
@click.option("--search-space", "space_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML/JSON search space merged over the default one (see enhancer_tools.training.hpo).")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in MODEL_DIR.work/ (or the shared study).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for torch (default: torch's choice).")
def main(run, train_path, val_path, model_dir, init, tokenizer, output, force, max_length, trials, optuna_storage, study_name,
         space_file, resume, device, seed, threads, **training):
    """Fine-tune DNABERT-2 on a labelled training set, validated on a held-out set: early stopping on
    validation PR-AUC, optional Optuna search, and a validation-chosen threshold and temperature."""
    import os

    from enhancer_tools.models.dnabert2_family import family
    from enhancer_tools.training.data import read_labelled
    from enhancer_tools.training.fit import FitRequest, fit

    tokenizer, start = _model_start(model_dir, init, tokenizer)
    run.add_input("tokenizer", tokenizer)
    if model_dir is not None:
        weights = [os.path.join(model_dir, f) for f in ("model.safetensors", "pytorch_model.bin")]
        run.add_input("model", next((w for w in weights if os.path.isfile(w)), None))
    fam = family(pretrained=model_dir is not None, cache_dir=os.path.abspath(output) + ".work/cache")
    chosen = {("compile" if k == "compile_" else k): v for k, v in training.items() if v is not None}
    widths = {len(s) for s in read_labelled(train_path, "training").seqs}
    params = {**fam.defaults, **chosen, **start, "tokenizer": os.path.abspath(tokenizer), "max_length": max_length,
              "width": widths.pop() if len(widths) == 1 else None}
    fixed = set(chosen) | set(start) | {"tokenizer", "max_length", "width"}
    fit(run, fam, FitRequest(train=train_path, val=val_path, output=output, params=params, fixed=frozenset(fixed),
                             trials=trials, storage=optuna_storage, study_name=study_name, space_file=space_file,
                             resume=resume, device=device, seed=seed, threads=threads, force=force,
                             inputs=(model_dir, tokenizer, init if init != "tiny" else None)))


def _model_start(model_dir: str | None, init: str | None, tokenizer: str | None) -> tuple[str, dict]:
    """The tokenizer to use and the parameters that say where the weights come from; UserError
    when the tokenizer does not fit the model."""
    import os

    from enhancer_tools.errors import UserError
    from enhancer_tools.models.dnabert2 import DNABERT2Config
    from enhancer_tools.models.dnabert2_io import check_tokenizer_fits, read_config, read_config_file
    from enhancer_tools.tokenize.encode import load_tokenizer

    if (model_dir is None) == (init is None):
        raise UserError("give exactly one of --model DNABERT2_DIR (fine-tune) and --init tiny|CONFIG.json (from scratch)")
    if model_dir is not None:
        if tokenizer is None:
            tokenizer = os.path.join(model_dir, "tokenizer.json")
            if not os.path.isfile(tokenizer):
                raise UserError("the model directory has no tokenizer.json; give the checkpoint's tokenizer with "
                                "--tokenizer", model_dir)
        config = read_config(model_dir)
        check_tokenizer_fits(tokenizer, config, model_dir)
        vocab_size = load_tokenizer(tokenizer).get_vocab_size(with_added_tokens=True)
        if vocab_size != config.vocab_size:  # no tokenizer.json in the checkpoint to compare with
            raise UserError(f"tokenizer has {vocab_size} tokens but the checkpoint's embeddings hold "
                            f"{config.vocab_size}: pretrained embeddings only fit the tokenizer they were trained "
                            "with (a BPE vocabulary trained on your data needs --init)", tokenizer)
        return tokenizer, {"model": os.path.abspath(model_dir), "architecture": None}
    if tokenizer is None:
        raise UserError("--init needs --tokenizer (e.g. bpe-train on the training split)")
    vocab_size = load_tokenizer(tokenizer).get_vocab_size(with_added_tokens=True)
    if init == "tiny":
        config = DNABERT2Config.tiny(vocab_size=vocab_size)
    elif os.path.isfile(init):
        config = read_config_file(init, vocab_size=vocab_size)
    else:
        raise UserError(f"--init {init!r} is neither 'tiny' nor an existing config.json")
    check_tokenizer_fits(tokenizer, config)
    return tokenizer, {"model": None, "architecture": config.to_dict()}


if __name__ == "__main__":
    main()
