"""Where a DNABERT-2 run's weights come from, shared by dnabert2-finetune and dnabert2-pretrain:
``--model DIR`` (a checkpoint, whose tokenizer must be the one given) or ``--init tiny|CONFIG.json``
with ``--tokenizer`` (random weights sized to the tokenizer's vocabulary)."""

from __future__ import annotations

import os

from enhancer_tools.models.modeldir import TOKENIZER_JSON


def model_start(model_dir: str | None, init: str | None, tokenizer: str | None) -> tuple[str, dict]:
    """The tokenizer to use and the parameters that say where the weights come from; UserError
    when the tokenizer does not fit the model."""
    from enhancer_tools.errors import UserError
    from enhancer_tools.models.dnabert2_config import DNABERT2Config
    from enhancer_tools.models.dnabert2_io import (
        check_tokenizer_fits,
        read_config,
        read_config_file,
    )
    from enhancer_tools.tokenize.encode import load_tokenizer

    if (model_dir is None) == (init is None):
        raise UserError("give exactly one of --model DNABERT2_DIR (a checkpoint) and --init tiny|CONFIG.json (from scratch)")
    if model_dir is not None:
        if tokenizer is None:
            tokenizer = os.path.join(model_dir, TOKENIZER_JSON)
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
