"""Neural building blocks shared by every model: STFT helpers, front ends, FiLM, Mamba-2, checkpoints."""
