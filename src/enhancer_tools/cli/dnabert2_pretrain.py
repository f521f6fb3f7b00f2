"""dnabert2-pretrain: continued masked-language-model pretraining of DNABERT-2 on a genome or sequences."""

from __future__ import annotations

import click

from enhancer_tools.cli.common import force_option, input_file, tool_command
from enhancer_tools.cli.dnabert2_start import model_start
from enhancer_tools.training.mlm_corpus import DEFAULT_MAX_N_FRAC
from enhancer_tools.training.pretrain_settings import PretrainSettings as S

EPILOG = """Writes MLM_DIR in the Hugging Face layout (config.json with architectures BertForMaskedLM,
model.safetensors with the bert.* and cls.predictions.* keys of the released checkpoint, the decoder tied
to the word embeddings, tokenizer.json, provenance.json), which dnabert2-finetune --model and score-regions
read. The corpus is tiles of --genome (--width bp, or --max-length tokens at the tokenizer's bp per token,
every --tile-step bp; tiles more than --max-n-frac N or overlapping --exclude are left out) or the records
of --fasta, both strands; it is streamed, never tokenised whole. A --val-fraction of the tiles (chosen by
position) is held out; validation masked-token accuracy and loss are logged every --eval-every steps.
Keep the test split's windows out with --exclude: windows seen in pretraining inflate the later evaluation.
Checkpoints go to MLM_DIR.work/; an interrupted run continues with --resume.
Multi-GPU (DDP): torchrun --standalone --nproc_per_node N -m enhancer_tools.cli.dnabert2_pretrain ...
(same options; --batch-size is per GPU).

\b
Example:
  dnabert2-pretrain --genome hg38.fa.gz --exclude split/test.bed --model DNABERT-2-117M/ -o models/mlm \\
      --max-length 232 --steps 20000 --batch-size 64 --device cuda --json stats/pretrain.json"""

# click parameter -> PretrainSettings field
SETTINGS = ("max_tokens", "mask_prob", "batch_size", "grad_accum", "learning_rate", "weight_decay", "warmup_ratio",
            "steps", "epochs", "eval_every", "checkpoint_every", "precision", "val_max_tiles")


@tool_command("dnabert2-pretrain", epilog=EPILOG)
@input_file("-g", "--genome", default=None, help="Genome FASTA (plain or bgzip; indexed when needed) to tile.")
@click.option("--fasta", "fasta", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Sequences to pretrain on instead of a genome (repeatable; held in memory as text).")
@input_file("--exclude", default=None,
            help="BED of regions no tile may overlap, e.g. the windows of the test split (genome only).")
@click.option("--width", type=click.IntRange(1), default=None,
              help="Tile width in bp (default: --max-length tokens at the tokenizer's bp per token on a sample).")
@click.option("--tile-step", type=click.IntRange(1), default=None, help="bp between tile starts (default: the width).")
@click.option("--max-n-frac", type=click.FloatRange(0, 1), default=DEFAULT_MAX_N_FRAC, show_default=True,
              help="Leave out tiles with a larger share of N (or other non-ACGT) bases.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.01, show_default=True,
              help="Share of tiles held out for validation (chosen by a hash of their position).")
@click.option("--val-max-tiles", type=click.IntRange(1), default=S.val_max_tiles, show_default=True,
              help="Validate on at most this many of the held-out tiles (evenly spaced).")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="DNABERT-2 masked-LM checkpoint to continue (config.json + model.safetensors or pytorch_model.bin).")
@click.option("--init", "init", default=None,
              help="Start from random weights instead: 'tiny' (hidden 64, 2 layers) or a DNABERT-2 config.json.")
@input_file("--tokenizer", default=None,
            help="tokenizer.json. With --model it must be the checkpoint's (default: MODEL/tokenizer.json); "
                 "with --init e.g. a bpe-train tokenizer.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="MLM directory to write.")
@force_option("masked-LM directory")
@click.option("--max-length", "max_tokens", type=click.IntRange(3), default=S.max_tokens, show_default=True,
              help="Tokens per tile including [CLS] and [SEP]; longer tiles are truncated.")
@click.option("--mask-prob", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=S.mask_prob,
              show_default=True, help="Share of tokens chosen for prediction (80% [MASK], 10% random, 10% kept).")
@click.option("--steps", type=click.IntRange(0), default=S.steps, show_default=True,
              help="Optimizer steps (0: --epochs passes over the training tiles).")
@click.option("--epochs", type=click.IntRange(1), default=S.epochs, show_default=True,
              help="Passes over the training tiles when --steps is 0.")
@click.option("--batch-size", type=click.IntRange(1), default=S.batch_size, show_default=True,
              help="Tiles per micro-batch and GPU.")
@click.option("--grad-accum", type=click.IntRange(1), default=S.grad_accum, show_default=True,
              help="Micro-batches per optimizer step.")
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=S.learning_rate, show_default=True,
              help="Peak AdamW learning rate (from random weights try 5e-4).")
@click.option("--warmup-ratio", type=click.FloatRange(0, 1), default=S.warmup_ratio, show_default=True,
              help="Share of steps of linear warmup (then linear decay to 0).")
@click.option("--weight-decay", type=click.FloatRange(0), default=S.weight_decay, show_default=True,
              help="AdamW weight decay (not on biases and norms).")
@click.option("--no-rc-augment", is_flag=True, help="Forward strand only (default: a seeded random strand per tile).")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=S.precision,
              show_default=True, help="auto: bf16 (or fp16) autocast on CUDA, fp32 on CPU.")
@click.option("--eval-every", type=click.IntRange(0), default=S.eval_every, show_default=True,
              help="Optimizer steps between validations (0: only at the end).")
@click.option("--checkpoint-every", type=click.IntRange(0), default=S.checkpoint_every, show_default=True,
              help="Optimizer steps between checkpoints (0: at each validation).")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in MLM_DIR.work/.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("-j", "--threads", type=click.IntRange(1), default=None,
              help="CPU threads for torch (default: torch's choice).")
def main(run, genome, fasta, exclude, width, tile_step, max_n_frac, val_fraction, model_dir, init, tokenizer, output,
         force, no_rc_augment, resume, device, seed, threads, **options):
    """Continue the masked-language-model pretraining of DNABERT-2 (or pretrain a small one from random
    weights) on tiles of a genome or on FASTA sequences."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.training.pretrain_run import PretrainRequest, pretrain

    if (genome is None) == (not fasta):
        raise UserError("give exactly one of --genome GENOME.fa and --fasta SEQS.fa")
    if exclude and not genome:
        raise UserError("--exclude applies to --genome tiles; leave the excluded records out of --fasta instead")
    tokenizer, start = model_start(model_dir, init, tokenizer)
    settings = S(rc_augment=not no_rc_augment, **{name: options.pop(name) for name in SETTINGS})
    pretrain(run, PretrainRequest(
        output=output, tokenizer=tokenizer, settings=settings, model_dir=model_dir, architecture=start["architecture"],
        init_file=init if init not in (None, "tiny") else None, genome=genome, fasta=tuple(fasta), exclude=exclude,
        width=width, tile_step=tile_step, val_fraction=val_fraction, max_n_frac=max_n_frac, resume=resume,
        force=force, device=device, seed=seed, threads=threads))


if __name__ == "__main__":
    main()
