#!/usr/bin/env python3
"""Writes trainer/src/test/resources/parity/safetensors-python.safetensors with Python's
safetensors (the torch API, as diffusers' save_pretrained uses it), so that the Java reader and
writer are checked against the reference without Python at test time.

    flock /tmp/ce-build.lock tools/parity/.venv/bin/python tools/parity/safetensors_fixture.py
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[2] / "trainer/src/test/resources/parity/safetensors-python.safetensors"

# Every dtype the trainer meets, names out of order, a scalar and an empty tensor. Values are
# formulas the Java test recomputes; one metadata entry, since the reference writer keeps
# metadata in a hash map and several entries would come out in no fixed order.
tensors = {
    "up_blocks.0.resnets.0.conv1.weight": (torch.arange(24, dtype=torch.float32) * 0.25 - 3).reshape(2, 3, 2, 2),
    "down_blocks.0.norm.bias": torch.tensor([1.0, -2.0, 0.5, 65504.0, 2.0 ** -24], dtype=torch.float16),
    "text_model.embeddings.weight": torch.tensor([[1.0, -3.5, 0.15625], [1e-3, 3e38, -0.0]], dtype=torch.bfloat16),
    "text_model.embeddings.position_ids": torch.arange(7, dtype=torch.int64).reshape(1, 7),
    "mask": torch.tensor([True, False, True]),
    "bytes": torch.tensor([0, 7, 255], dtype=torch.uint8),
    "scale": torch.tensor(0.18215, dtype=torch.float32),
    "empty": torch.zeros(0, 4, dtype=torch.float32),
}
save_file(tensors, str(OUT), metadata={"format": "pt"})
print(OUT)
