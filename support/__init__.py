"""The support around the core (nn.py, conv.py): data, model files, checkpoints, threads, pictures and
the command lines' shared pieces."""
