"""Model architectures (DNABERT-2, EnhancerNet, k-mer baseline) and model directories."""
