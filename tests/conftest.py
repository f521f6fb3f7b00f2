"""Fixtures shared by several test modules."""

import pytest
import torch
from click.testing import CliRunner
from demo_labelled import make_demo_split

DEMO_CNN_WIDTH = 500  # the planted clusters span at most 300 bp around the summit
DEMO_CNN_EPOCHS = 10


@pytest.fixture(scope="session")
def demo_cnn(tmp_path_factory):
    """Factory ``demo_cnn(seed) -> (folder, model_dir)``: an EnhancerNet trained on the demo split
    (``folder``: demo/, train.fa, val.fa; 500 bp windows) with its defaults for 10 epochs without
    early stopping, one per seed, trained once per session. The explain-regions and score-variants
    demo targets share it."""
    from enhancer_tools.cli.enhancernet_train import main as enhancernet_train

    folder = tmp_path_factory.mktemp("demo-cnn")
    models = {}

    def get(seed: int = 1):
        if not models:
            make_demo_split(folder, width=DEMO_CNN_WIDTH)
        if seed not in models:
            threads = torch.get_num_threads()
            try:
                result = CliRunner().invoke(enhancernet_train, [
                    "--train", str(folder / "train.fa"), "--val", str(folder / "val.fa"), "-o", str(folder / f"cnn{seed}"),
                    "--epochs", str(DEMO_CNN_EPOCHS), "--patience", str(DEMO_CNN_EPOCHS), "--threads", "2",
                    "--seed", str(seed), "--quiet"], catch_exceptions=False)
            finally:
                torch.set_num_threads(threads)
            assert result.exit_code == 0, result.output
            models[seed] = folder / f"cnn{seed}"
        return folder, models[seed]

    return get
