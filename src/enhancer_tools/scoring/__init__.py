"""Scoring with a trained model: input sources, batched reverse-complement-averaged inference, output writers."""
