#!/usr/bin/env python3
"""PyTorch eager side of `trainer generate`: load a diffusers folder, text to image with DDIM and
classifier-free guidance, save the PNG, print one JSON line (seconds, peak RSS of the process).

    tools/parity/.venv/bin/python tools/bench/generate_torch.py --model DIR --steps 2 --threads 2 --output x.png
"""

import argparse
import json
import resource
import time

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline


def main():
    start = time.perf_counter()
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", default="a photo of a cat")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    pipe = StableDiffusionPipeline.from_pretrained(args.model, safety_checker=None, requires_safety_checker=False)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    loaded = time.perf_counter()
    with torch.no_grad():
        image = pipe(args.prompt, num_inference_steps=args.steps, guidance_scale=args.guidance,
                     generator=torch.Generator().manual_seed(args.seed)).images[0]
    image.save(args.output)
    done = time.perf_counter()
    print(json.dumps(dict(runtime="pytorch-eager", torch=torch.__version__, steps=args.steps,
                          threads=args.threads, load_s=round(loaded - start, 1),
                          generate_s=round(done - loaded, 1), total_s=round(done - start, 1),
                          peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1))))


if __name__ == "__main__":
    main()
