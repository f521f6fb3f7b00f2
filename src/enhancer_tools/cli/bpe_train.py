"""bpe-train: a DNABERT-2-style BPE tokenizer trained on a training split, and the token-length
statistics that choose a model's max_length."""

from __future__ import annotations

import logging
import time

import click

from enhancer_tools.cli.common import input_file, output_option, tool_command
from enhancer_tools.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_MAX_SEQUENCES = 25_000

HELP = """Train a BPE tokenizer in the DNABERT-2 layout on TRAIN (the training split only:
never give it validation or test sequences), then measure how many tokens every sequence of
TRAIN needs. With --stats-only, measure under an existing --tokenizer (ours or the real
DNABERT-2 one) without training.

\b
TRAIN: a labelled dataset (FASTA `>ID label=1 ...`, or TSV/CSV with a `sequence` column)
or plain FASTA; plain or gzip. Labels are ignored.

\b
Tokenizer: [UNK]=0 [CLS]=1 [SEP]=2 [PAD]=3 [MASK]=4, then A C G T, then the merges;
post-processing `[CLS] seq [SEP]`; loads with tokenizers.Tokenizer.from_file and
transformers.PreTrainedTokenizerFast. Sequences are upper-cased; N and other IUPAC codes
are not in the alphabet (as in DNABERT-2): each becomes one [UNK], and training does not
merge across them. Training uses a uniform random sample of --max-sequences sequences
(seeded; the Hugging Face trainer needs about 50 bytes of memory per base, so 25,000 x 1 kb
takes about 1.4 GB); the statistics always cover every sequence.

\b
Statistics (in --json under "token_lengths"; tokens counted without [CLS]/[SEP]): tokens
per sequence (min, median, p95, p99, p99.9, max, mean; nearest-rank quantiles), bp per
token, the sequences that --max-length would truncate, recommended_max_length (the smallest
multiple of 8 holding p99.9 + 2 specials) and a histogram.
"""

EPILOG = """\
\b
Example:
  bpe-train train.fa -o tokenizer.json --vocab-size 4096 --max-length 232 -j 8 \\
      --json stats/bpe.json"""


@tool_command("bpe-train", help=HELP, short_help="Train a DNA BPE tokenizer; token-length statistics.", epilog=EPILOG)
@input_file("train")
@output_option("--output", "-o", default=None, help="tokenizer.json to write (required unless --stats-only).")
@click.option("--vocab-size", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Tokens in the vocabulary, specials and bases included (DNABERT-2: 4096).")
@click.option("--max-sequences", type=click.IntRange(min=1), default=DEFAULT_MAX_SEQUENCES, show_default=True,
              help="Train on a seeded uniform sample of this many sequences (all when TRAIN has fewer). "
                   "25,000 x 1 kb (~1.4 GB of trainer memory) gives tokens/kb within 0.1% of a 4x larger "
                   "sample (benchmarks/results/bpe.md).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the training sample.")
@click.option("--max-token-length", type=click.IntRange(min=2), default=32, show_default=True,
              help="Longest token in bp the trainer may create (the real DNABERT-2 vocabulary's longest is 32); "
                   "stops satellite repeats from filling the vocabulary.")
@click.option("--stats-only", is_flag=True, help="Do not train; measure TRAIN under --tokenizer.")
@input_file("--tokenizer", default=None, help="Existing tokenizer.json for --stats-only.")
@click.option("--max-length", type=click.IntRange(min=3), default=None,
              help="Model context in tokens, [CLS]/[SEP] included (the study: 232): report how many sequences "
                   "it would truncate. Default: the recommended max_length.")
@click.option("-j", "--threads", type=click.IntRange(min=1), default=None,
              help="Processes for the statistics (default: all cores this job may use).")
def main(run, train, output, vocab_size, max_sequences, seed, max_token_length, stats_only, tokenizer,
         max_length, threads):
    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs
    from enhancer_tools.tokenize.encode import tokenizer_info
    from enhancer_tools.tokenize.lengths import default_workers

    workers = threads or default_workers()
    run.add_input("train", train)
    if stats_only:
        if tokenizer is None:
            raise UserError("--stats-only needs --tokenizer tokenizer.json")
        if output is not None:
            raise UserError("--stats-only writes no tokenizer; drop --output (use --json for the statistics)")
        run.add_input("tokenizer", tokenizer)
        run.extra["tokenizer"] = tokenizer_info(tokenizer)
        run.extra["token_lengths"] = _length_stats(tokenizer, train, max_length, workers, run)
        return
    if tokenizer is not None:
        raise UserError("--tokenizer is for --stats-only; to train a new tokenizer give only --output")
    if output is None:
        raise UserError("give --output tokenizer.json (or --stats-only --tokenizer FILE)")
    refuse_overwriting_inputs([output], [train])
    with AtomicOutputs() as out:
        staged = out.path(output)
        run.extra["bpe"] = _train(train, staged, vocab_size, max_sequences, seed, max_token_length)
        run.extra["timings"] = {"sample_and_train_seconds": run.extra["bpe"]["train_seconds"]}
        run.extra["tokenizer"] = {**tokenizer_info(staged), "path": output}
        run.extra["token_lengths"] = _length_stats(staged, train, max_length, workers, run)
    run.outputs["tokenizer"] = output
    run.counts["training_sequences"] = run.extra["bpe"]["training_sequences"]


def _sequences(path):
    from enhancer_tools.io.dataset import read_dataset

    return (rec.seq for rec in read_dataset(path, require_label=False, unique_ids=False))


def _train(train, tokenizer_path, vocab_size, max_sequences, seed, max_token_length) -> dict:
    from enhancer_tools.progress import progress
    from enhancer_tools.tokenize.bpe import check_vocab_size, reservoir_sample, save_tokenizer, train_bpe

    check_vocab_size(vocab_size)
    started = time.time()
    sample, total = reservoir_sample(progress(_sequences(train), "sampling", unit="seq"), max_sequences, seed)
    log.info("training on %d of %d sequences (seed %d), vocabulary %d", len(sample), total, seed, vocab_size)
    trained = train_bpe(sample, vocab_size, max_token_length)
    sample_bases = sum(map(len, sample))
    del sample
    save_tokenizer(trained, tokenizer_path)
    seconds = time.time() - started
    log.info("trained %d tokens in %.1f s", trained.get_vocab_size(), seconds)
    return {
        "input_sequences": total,
        "training_sequences": min(total, max_sequences),
        "training_bases": sample_bases,
        "sampled": total > max_sequences,
        "seed": seed,
        "vocab_size_requested": vocab_size,
        "vocab_size": trained.get_vocab_size(),
        "max_token_length": max_token_length,
        "train_seconds": round(seconds, 2),
    }


def _length_stats(tokenizer_path, train, max_length, workers, run) -> dict:
    from enhancer_tools.progress import progress
    from enhancer_tools.tokenize.lengths import token_length_stats

    started = time.time()
    def streamed():  # a generator: its progress bar appears only if the stream is used
        yield from progress(_sequences(train), "token lengths", unit="seq")

    stats = token_length_stats(tokenizer_path, streamed(), max_length, workers, fasta=train)
    run.extra.setdefault("timings", {})["length_stats_seconds"] = round(time.time() - started, 2)
    per = stats["tokens_per_sequence"]
    run.counts["sequences"] = stats["sequences"]
    run.counts["bases"] = stats["bases"]
    run.counts["non_acgt_bases"] = stats["non_acgt_bases"]
    log.info("%d sequences: tokens min %d, median %d, p99.9 %d, max %d; %.2f bp/token; recommended "
             "max_length %d; max_length %d truncates %d (%.3f%%) [%.1f s, %d processes]",
             stats["sequences"], per["min"], per["median"], per["p99_9"], per["max"], stats["bp_per_token"],
             stats["recommended_max_length"], stats["max_length"], stats["truncated_sequences"],
             100 * stats["truncated_fraction"], time.time() - started, workers)
    return stats
