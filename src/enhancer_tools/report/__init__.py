"""Model evaluation and the MultiQC report (the ``report`` tool)."""
