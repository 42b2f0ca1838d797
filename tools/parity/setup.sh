#!/usr/bin/env bash
# Creates tools/parity/.venv with the pinned packages; safe to rerun (pip skips what is installed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

exec 9>/tmp/ce-build.lock
flock 9  # pip installs share the machine-wide build lock

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
# Only for its data file bpe_simple_vocab_16e6.txt.gz (OpenAI CLIP's BPE merges); its code is never
# imported, so its dependencies (timm, torchvision) are left out.
"$venv/bin/pip" install --quiet --no-deps open_clip_torch==3.3.0
"$venv/bin/python" -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)"
