#!/usr/bin/env python3
"""A full-size Stable Diffusion 1.5 pipeline with random weights, saved by diffusers (not committed).

SD 1.5's published configs (UNet 859.5 M parameters at 64x64 latents, CLIP ViT-L/14 text encoder,
the KL VAE, DDIM), built with diffusers' and transformers' own classes, every parameter perturbed
so zero-initialised paths carry signal; the tokenizer files are the fixtures' (OpenAI CLIP's BPE).
For the scale benchmark (tools/bench/sd15-vs-torch.sh); no model hub is reachable here.

    tools/parity/.venv/bin/python tools/parity/make_sd15.py /tmp/sd15   # about 5 GB, 1-2 min
"""

import argparse
import shutil
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "trainer/src/test/resources/parity/sd1-tiny/tokenizer"

# runwayml/stable-diffusion-v1-5's unet/config.json
UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    attention_head_dim=8, cross_attention_dim=768, norm_num_groups=32, act_fn="silu",
    downsample_padding=1, flip_sin_to_cos=True, freq_shift=0, mid_block_scale_factor=1, norm_eps=1e-5,
    center_input_sample=False,
)
# its vae/config.json
VAE = dict(
    in_channels=3, out_channels=3, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    latent_channels=4, norm_num_groups=32, sample_size=512, act_fn="silu", scaling_factor=0.18215,
)
# openai/clip-vit-large-patch14's text_config
TEXT = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
    num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5,
    projection_dim=768, bos_token_id=0, eos_token_id=2, pad_token_id=1,
)


def perturb(module: torch.nn.Module, seed: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="folder to write the pipeline to (replaced)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    unet = UNet2DConditionModel(**UNET)
    perturb(unet, 11, 0.02)
    torch.manual_seed(2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT)).eval()
    torch.manual_seed(3)
    vae = AutoencoderKL(**VAE)
    perturb(vae, 13, 0.01)
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                              beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
                              steps_offset=1, timestep_spacing="leading")
    tokenizer = CLIPTokenizer.from_pretrained(str(TOKENIZER))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    out = Path(args.out)
    staged = out.with_name(out.name + ".tmp")
    shutil.rmtree(staged, ignore_errors=True)
    pipe.save_pretrained(staged, safe_serialization=True)
    shutil.rmtree(out, ignore_errors=True)
    staged.rename(out)
    print(f"saved SD 1.5 (random weights; UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.1f} M "
          f"parameters) to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
