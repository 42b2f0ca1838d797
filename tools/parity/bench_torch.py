#!/usr/bin/env python3
"""PyTorch (eager, CPU) side of the Java-vs-PyTorch UNet benchmark.

Times one UNet training step (forward, MSE against a fixed target, backward, Adam) and one
inference step (classifier-free guidance batch of 2, no grad), then prints one JSON object.

    # the committed tiny model
    tools/parity/.venv/bin/python tools/parity/bench_torch.py --model trainer/src/test/resources/parity/sd1-tiny
    # the mid-size config (SD 1.x layout at a quarter of the channels), random weights
    tools/parity/.venv/bin/python tools/parity/bench_torch.py --config mid --threads 2
    # save that mid-size UNet in the diffusers layout (DIR/unet/) for the Java side; not committed
    tools/parity/.venv/bin/python tools/parity/bench_torch.py --config mid --save /tmp/sd-mid --no-bench
"""

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel

# SD 1.x's UNet at a quarter of the channels; 8 groups keep SD's channels per group (320/32 = 80/8).
CONFIGS = {
    "mid": dict(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=(80, 160, 320, 320),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        mid_block_type="UNetMidBlock2DCrossAttn",
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=8,
        cross_attention_dim=768,
        norm_num_groups=8,
        use_linear_projection=False,
    ),
}


def _esd_noxattn(name: str) -> bool:
    """ESD-u: no attn2, time embedding, conv_in/conv_out or norms (TrainableParameterSet.java)."""
    if "attn2" in name or name.startswith(("time_embedding.", "conv_in.", "conv_out.")):
        return False
    layer = name.split(".")[-2] if "." in name else name
    return not layer.startswith("norm") and layer != "conv_norm_out"


# The trainer's parameter sets (docs: method.md, "What is trained").
TRAINABLE = {
    "all": lambda name: True,
    "crossAttention": lambda name: "attn2" in name,
    "crossAttentionKV": lambda name: "attn2.to_k" in name or "attn2.to_v" in name,
    "nonCrossAttention": _esd_noxattn,
}



def load_unet(args) -> tuple[UNet2DConditionModel, str]:
    if args.model:
        folder = Path(args.model)
        sub = "unet" if (folder / "unet" / "config.json").is_file() else None
        if sub is None and not (folder / "config.json").is_file():
            raise SystemExit(f"{folder}: neither {folder}/unet/config.json nor {folder}/config.json exists")
        return UNet2DConditionModel.from_pretrained(str(folder), subfolder=sub), str(folder)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**CONFIGS[args.config])
    # diffusers zero-initialises conv_out and proj_out; random values make the timing representative
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, p in sorted(unet.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g) * 0.02)
    return unet, args.config


def memory_mb() -> tuple[float, float]:
    """VmRSS and VmHWM (the peak) from /proc/self/status, as the Java bench reads them."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024.0
    return values["VmRSS"], values["VmHWM"]


def time_ms(fn, warmup: int, repeat: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="diffusers pipeline folder (reads unet/) or a UNet folder")
    src.add_argument("--config", choices=sorted(CONFIGS), help="build this UNet config with random weights")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="intra-op threads")
    ap.add_argument("--batch", type=int, default=1, help="training batch size (inference uses 2 x this)")
    ap.add_argument("--train", choices=sorted(TRAINABLE), default="crossAttention", help="parameters Adam updates")
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--gradient-checkpointing", action="store_true",
                    help="unet.enable_gradient_checkpointing(): recompute resnets and transformer blocks in backward")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--save", help="write the UNet to DIR/unet/ in the diffusers layout")
    ap.add_argument("--no-bench", action="store_true", help="only build/save, time nothing")
    ap.add_argument("--inputs", help="read sample, encoder_hidden_states, target, timestep from this safetensors file")
    ap.add_argument("--save-inputs", help="write the (seeded) inputs to this safetensors file, for trainer bench --inputs")
    ap.add_argument("--attention", choices=["sdpa", "classic"], default="sdpa",
                    help="diffusers' default fused scaled_dot_product_attention, or its classic processor "
                         "(baddbmm, softmax, bmm: the operations the Java runtime runs)")
    ap.add_argument("--profile", help="after the timing, write torch profiler traces of one training and one "
                                      "inference step to DIR (torch-train.json, torch-infer.json)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    unet, source = load_unet(args)
    if args.save:
        unet.save_pretrained(str(Path(args.save) / "unet"), safe_serialization=True)
        print(f"saved {source} UNet to {Path(args.save) / 'unet'}", file=sys.stderr)

    cfg = unet.config
    if args.inputs:
        from safetensors.torch import load_file
        tensors = load_file(args.inputs)
        sample, context = tensors["sample"], tensors["encoder_hidden_states"]
        target, timestep = tensors["target"], tensors["timestep"]
    else:
        size = cfg.sample_size if isinstance(cfg.sample_size, int) else cfg.sample_size[0]
        g = torch.Generator().manual_seed(2)
        b = args.batch
        sample = torch.randn(b, cfg.in_channels, size, size, generator=g)
        context = torch.randn(b, 77, cfg.cross_attention_dim, generator=g)
        target = torch.randn(b, cfg.out_channels, size, size, generator=g)
        timestep = torch.randint(0, 1000, (b,), generator=g)
    if args.save_inputs:
        from safetensors.torch import save_file
        save_file(dict(sample=sample, encoder_hidden_states=context, target=target, timestep=timestep),
                  args.save_inputs)
        print(f"saved the inputs to {args.save_inputs}", file=sys.stderr)
    if args.no_bench:
        return
    b, size = sample.shape[0], sample.shape[-1]

    if args.attention == "classic":
        from diffusers.models.attention_processor import AttnProcessor
        unet.set_attn_processor(AttnProcessor())

    chosen = TRAINABLE[args.train]
    trainable = []
    for name, p in unet.named_parameters():
        p.requires_grad_(chosen(name))
        if chosen(name):
            trainable.append(p)
    optimizer = torch.optim.Adam(trainable, lr=args.lr)
    if args.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    unet.train()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        out = unet(sample, timestep, encoder_hidden_states=context).sample
        loss = torch.nn.functional.mse_loss(out, target)
        loss.backward()
        optimizer.step()

    infer_sample = torch.cat([sample, sample])
    infer_context = torch.cat([torch.zeros_like(context), context])
    infer_t = torch.cat([timestep, timestep])

    @torch.no_grad()
    def infer_step():
        unet(infer_sample, infer_t, encoder_hidden_states=infer_context)

    loaded = memory_mb()
    train = time_ms(train_step, args.warmup, args.repeat)
    after_train = memory_mb()
    unet.eval()
    infer = time_ms(infer_step, args.warmup, args.repeat)
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        unet.train()
        for name, step in (("train", train_step), ("infer", infer_step)):
            if name == "infer":
                unet.eval()
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
                step()
            prof.export_chrome_trace(str(Path(args.profile) / f"torch-{name}.json"))
    print(json.dumps(dict(
        runtime="pytorch-eager",
        attention=args.attention,
        torch=torch.__version__,
        model=source,
        unet_parameters=sum(p.numel() for p in unet.parameters()),
        trainable_parameters=sum(p.numel() for p in trainable),
        train=args.train,
        gradient_checkpointing=args.gradient_checkpointing,
        threads=args.threads,
        batch=b,
        latent=[cfg.in_channels, size, size],
        context=[77, cfg.cross_attention_dim],
        train_step_ms=round(statistics.median(train), 2),
        train_step_ms_all=[round(x, 2) for x in train],
        infer_step_ms=round(statistics.median(infer), 2),
        infer_step_ms_all=[round(x, 2) for x in infer],
        peak_rss_mb=peak_rss_mb,
        rss_loaded_mb=round(loaded[0], 1),
        peak_rss_loaded_mb=round(loaded[1], 1),
        peak_rss_train_mb=round(after_train[1], 1),
        machine=f"{platform.machine()} {platform.processor() or ''}".strip(),
    )))


if __name__ == "__main__":
    main()
