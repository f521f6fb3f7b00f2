"""On the demo genome (CPU, the tiny model from random weights, a BPE vocabulary trained on the
genome), masked-token accuracy on the held-out tiles rises well above the accuracy of always
guessing the commonest masked token, and the validation loss falls."""

import pytest
import torch
from pretrain_helpers import run_library

from enhancer_tools.demo import make_demo
from enhancer_tools.io.fasta import read_fasta
from enhancer_tools.models.dnabert2 import DNABERT2Config
from enhancer_tools.tokenize.bpe import save_tokenizer, train_bpe

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_masked_accuracy_rises_well_above_the_commonest_token(tmp_path):
    make_demo(tmp_path / "demo", seed=1, scale="full")
    genome = tmp_path / "demo" / "genome.fa"
    seqs = [r.seq[i:i + 1000].upper() for r in read_fasta(genome) for i in range(0, len(r.seq), 20000)]
    tokenizer = tmp_path / "tokenizer.json"
    save_tokenizer(train_bpe([s for s in seqs if "N" not in s], 512), tokenizer)
    architecture = DNABERT2Config.tiny(vocab_size=512).to_dict()
    _, result = run_library(genome, tokenizer, tmp_path / "mlm",
                            architecture=architecture, tile_step=160, val_fraction=0.02,
                            settings={"max_tokens": 66, "batch_size": 32, "steps": 300, "eval_every": 150,
                                      "learning_rate": 2e-3, "warmup_ratio": 0.05})
    curve = [(e["step"], e["val_masked_accuracy"], e["val_loss"]) for e in result.log]
    majority = result.validation["majority_token_accuracy"]
    print(f"validation (step, masked accuracy, loss): {curve}; commonest-token accuracy {majority:.4f}")
    assert result.validation["masked_tokens"] > 1000
    assert curve[-1][1] > 3 * majority, "masked accuracy is not well above the commonest token's frequency"
    assert curve[-1][2] < curve[0][2] - 0.3
