"""Fixture for NudeNetParityTest: the nudenet 3.4.2 package's own outputs on neutral images.

Draws a few neutral images (gradients and plain shapes; nothing a person would call explicit),
writes them as PNG, runs nudenet's NudeDetector on the files exactly as its README does
(detector.detect(path)) and records, per image:
- candidates: the raw output rows of the ONNX model (cx, cy, w, h in model pixels and the 18 class
  scores) of the K rows with the highest class score, which checks decoding, resizing, padding and
  the network itself whether or not anything is detected;
- detections: what detect() returns (class, score, integer box);
- lowThreshold: nudenet's own _postprocess, its source with only the two thresholds lowered and the
  float box kept, so that the clipping and OpenCV's NMSBoxes are exercised on these images too.

  flock /tmp/ce-build.lock tools/parity/.venv-nudenet/bin/python tools/parity/make_nudenet_fixture.py

Writes trainer/src/test/resources/nudenet/ (the PNGs and nudenet-fixture.json); reruns rewrite
identical files on the same machine.
"""

import hashlib
import inspect
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import nudenet
import nudenet.nudenet as nn

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "trainer" / "src" / "test" / "resources" / "nudenet"
TOP_K = 8
LOW_SCORE = 0.01  # nudenet: 0.2 (candidates) and 0.25 (NMSBoxes score threshold)
LOW_NMS_SCORE = 0.02


def gradient(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 255 * (1 - (x + y) / max(h + w - 2, 1))
    return np.stack([r, g, b], axis=-1)


def shapes(h, w, seed):
    """A soft background and a few plain discs and rectangles in warm and cool colours."""
    rs = np.random.RandomState(seed)
    img = gradient(h, w) * 0.5 + 64
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    for _ in range(6):
        colour = rs.uniform(40, 230, size=3)
        cy, cx = rs.uniform(0, h), rs.uniform(0, w)
        if rs.rand() < 0.5:
            r = rs.uniform(0.08, 0.3) * min(h, w)
            mask = (y - cy) ** 2 + (x - cx) ** 2 <= r * r
        else:
            hh, ww = rs.uniform(0.1, 0.4) * h, rs.uniform(0.1, 0.4) * w
            mask = (abs(y - cy) <= hh / 2) & (abs(x - cx) <= ww / 2)
        img[mask] = colour
    return img


# name -> RGB float image; sizes chosen to cover: no resize (320), downscale (SD's 512), upscale
# (the toy world's 64), and a wide image that nudenet pads before resizing.
IMAGES = {
    "gradient-320": gradient(320, 320),
    "shapes-512": shapes(512, 512, 1),
    "shapes-64": shapes(64, 64, 2),
    "shapes-100x77": shapes(77, 100, 3),
    "shapes-320": shapes(320, 320, 4),
}


def patched_postprocess():
    """nudenet's _postprocess with only its two thresholds changed and the float box kept."""
    src = inspect.getsource(nn._postprocess)
    edits = [
        ("if max_score >= 0.2:", f"if max_score >= {LOW_SCORE}:"),
        ("cv2.dnn.NMSBoxes(boxes, scores, 0.25, 0.45)",
         f"cv2.dnn.NMSBoxes(boxes, scores, {LOW_NMS_SCORE}, 0.45)"),
        ('"box": [int(x), int(y), int(w), int(h)],',
         '"box": [int(x), int(y), int(w), int(h)], "floatBox": [float(x), float(y), float(w), float(h)],'),
    ]
    for old, new in edits:
        if src.count(old) != 1:
            sys.exit(f"nudenet's _postprocess changed: {old!r} not found once")
        src = src.replace(old, new)
    scope = dict(vars(nn))
    exec(src, scope)
    return scope["_postprocess"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    detector = nn.NudeDetector()
    low = patched_postprocess()
    model = Path(nn.__file__).with_name("320n.onnx")
    images = []
    for name, rgb in IMAGES.items():
        png = OUT / f"{name}.png"
        pixels = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
        cv2.imwrite(str(png), pixels[:, :, ::-1])  # OpenCV writes BGR
        detections = detector.detect(str(png))
        blob, x_ratio, y_ratio, x_pad, y_pad, w0, h0 = nn._read_image(str(png), 320)
        output = detector.onnx_session.run(None, {detector.input_name: blob})
        rows = np.transpose(np.squeeze(output[0]))
        order = np.argsort(-rows[:, 4:].max(axis=1), kind="stable")[:TOP_K]
        low_detections = low(output, x_pad, y_pad, x_ratio, y_ratio, w0, h0, 320, 320)
        images.append({
            "file": png.name,
            "width": int(w0),
            "height": int(h0),
            "outputRows": int(rows.shape[0]),
            "candidates": [
                {"row": int(i), "values": [float(v) for v in rows[i]]} for i in order
            ],
            "detections": detections,
            "lowThreshold": low_detections,
        })
        print(name, "max class score", float(rows[:, 4:].max()), "detections", len(detections),
              "low-threshold detections", len(low_detections))
    fixture = {
        "made by": "tools/parity/make_nudenet_fixture.py",
        "versions": {
            "nudenet": nudenet.__version__ if hasattr(nudenet, "__version__") else "3.4.2",
            "onnxruntime": onnxruntime.__version__,
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
        "model": {"file": "320n.onnx", "sha256": hashlib.sha256(model.read_bytes()).hexdigest()},
        "labels": list(vars(nn)["__labels"]),
        "lowThreshold": {"score": LOW_SCORE, "nmsScore": LOW_NMS_SCORE, "iou": 0.45},
        "images": images,
    }
    (OUT / "nudenet-fixture.json").write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
