#!/usr/bin/env bash
# Creates tools/parity/.venv with the pinned packages; safe to rerun (pip skips what is installed).
# `setup.sh nudenet` instead creates tools/parity/.venv-nudenet from requirements-nudenet.txt (the
# NudeNet fixture's few packages, no torch).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

exec 9>/tmp/ce-build.lock
flock 9  # pip installs share the machine-wide build lock

if [ "${1:-}" = nudenet ]; then
  [ -x "$here/.venv-nudenet/bin/python" ] || "$python" -m venv "$here/.venv-nudenet"
  "$here/.venv-nudenet/bin/pip" install --quiet -r "$here/requirements-nudenet.txt"
  "$here/.venv-nudenet/bin/python" -c "import nudenet, onnxruntime, cv2; print('onnxruntime', onnxruntime.__version__, 'opencv', cv2.__version__)"
  exit 0
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
# Only for its data file bpe_simple_vocab_16e6.txt.gz (OpenAI CLIP's BPE merges); its code is never
# imported, so its dependencies (timm, torchvision) are left out.
"$venv/bin/pip" install --quiet --no-deps open_clip_torch==3.3.0
"$venv/bin/python" -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)"
