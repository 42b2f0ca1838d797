#!/usr/bin/env python3
"""Loads a safetensors file the way diffusers does and prints what it holds as JSON, so that the
Java tests can check files written by Java in the reference implementation.

    check_safetensors.py FILE [--rewrite OUT]

--rewrite saves the loaded tensors and metadata again with Python's writer, for a byte-for-byte
comparison with the Java writer.
"""

import argparse
import json

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
         torch.uint8: "U8", torch.bool: "BOOL"}

parser = argparse.ArgumentParser()
parser.add_argument("file")
parser.add_argument("--rewrite")
args = parser.parse_args()

tensors = load_file(args.file)
with safe_open(args.file, framework="pt") as f:
    metadata = f.metadata()

# diffusers' own loader (safetensors branch of load_state_dict) must accept it too.
from diffusers.models.model_loading_utils import load_state_dict  # noqa: E402

via_diffusers = load_state_dict(args.file)
assert via_diffusers.keys() == tensors.keys()
for name, t in tensors.items():
    assert torch.equal(via_diffusers[name], t), name

if args.rewrite:
    save_file(tensors, args.rewrite, metadata=metadata)

print(json.dumps({
    "metadata": metadata,
    "tensors": {name: {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                       "values": t.float().flatten().tolist()}
                for name, t in tensors.items()},
}, sort_keys=True))
