"""Make the tiny pretrained-style DNABERT-2 checkpoint the Galaxy tests register in the
`huggingface` data table (test-data/dnabert2_tiny_checkpoint/): a masked-LM DNABERT-2 (hidden 64,
2 layers, 1 head) with random, seeded weights and the 64-token test tokenizer, in the released
checkpoint's Hugging Face layout (config.json, model.safetensors, tokenizer.json). Deterministic
for a torch version; tests/test_galaxy_test_checkpoint.py checks the committed copy against it.

    python scripts/make-tiny-checkpoint.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER = ROOT / "test-data" / "galaxy" / "tokenizer_tiny.json"
DEFAULT_OUT = ROOT / "test-data" / "dnabert2_tiny_checkpoint"


def make(out: Path) -> Path:
    """Write the checkpoint into ``out`` (created; its three files replaced)."""
    import torch

    from enhancer_tools.models.dnabert2 import DNABERT2Config, DNABERT2ForMaskedLM
    from enhancer_tools.tokenize.encode import load_tokenizer

    torch.manual_seed(20251)
    vocab = load_tokenizer(TOKENIZER).get_vocab_size(with_added_tokens=True)
    model = DNABERT2ForMaskedLM(DNABERT2Config.tiny(vocab_size=vocab))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, provenance={"purpose": "Galaxy test fixture: random weights, not a trained model"},
                          tokenizer_json=TOKENIZER)
    (out / "provenance.json").unlink()  # a timestamp would change the file at every run
    return out


if __name__ == "__main__":
    print(make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
