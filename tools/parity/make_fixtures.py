#!/usr/bin/env python3
"""Builds the parity fixtures the Java Stable Diffusion runtime is tested against.

Small random-weight models made with diffusers' and transformers' own classes, saved in the
diffusers layout, with fixed inputs and the outputs diffusers/transformers give for them.
Deterministic: fixed seeds and one CPU thread, so a rerun rewrites identical files.

    tools/parity/setup.sh
    flock /tmp/ce-build.lock tools/parity/.venv/bin/python tools/parity/make_fixtures.py
"""

import argparse
import copy
import gzip
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import diffusers
import transformers
from diffusers import (AutoencoderKL, DDIMInverseScheduler, DDIMScheduler, StableDiffusionPipeline,
                       UNet2DConditionModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prompts import corpus  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "trainer/src/test/resources/parity"
MAX_LENGTH = 77
BOS, EOS = "<|startoftext|>", "<|endoftext|>"

# The two model families. Field names are the diffusers/transformers config names.
MODELS = {
    "sd1-tiny": dict(
        unet=dict(
            sample_size=16,
            block_out_channels=(16, 32, 32),
            layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            mid_block_type="UNetMidBlock2DCrossAttn",
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            attention_head_dim=8,  # SD 1.x: one int, which diffusers uses as the number of heads
            cross_attention_dim=32,
            norm_num_groups=8,
            use_linear_projection=False,
            upcast_attention=False,
        ),
        text_encoder=dict(hidden_size=32, hidden_act="quick_gelu", intermediate_size=37, num_hidden_layers=3),
        vae=dict(block_out_channels=(16, 32), norm_num_groups=8),
        scheduler=dict(prediction_type="epsilon"),
        pad_token=EOS,
        guidance_scale=3.0,  # the trainer's sampling default
    ),
    "sd2-tiny": dict(
        unet=dict(
            sample_size=16,
            block_out_channels=(16, 32, 32),
            layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            mid_block_type="UNetMidBlock2DCrossAttn",
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            attention_head_dim=[2, 4, 4],  # SD 2.x: one per block, used as the number of heads
            cross_attention_dim=24,
            norm_num_groups=4,
            use_linear_projection=True,
            upcast_attention=False,
        ),
        text_encoder=dict(hidden_size=24, hidden_act="gelu", intermediate_size=64, num_hidden_layers=4),
        vae=dict(block_out_channels=(16, 32), norm_num_groups=4),
        scheduler=dict(prediction_type="v_prediction"),
        pad_token="!",
        guidance_scale=7.5,  # the pipelines' default
    ),
}

# Fixtures of the layout current diffusers/transformers write (save_pretrained, nothing rewritten),
# each the same weights as a published-layout model above, so that the Java side can show that both
# layouts load and generate identically.
CURRENT_LAYOUT = {"sd1-tiny-current": "sd1-tiny"}
# Over this size a component's weights are sharded with an index (the UNet and text encoder here).
CURRENT_SHARD_SIZE = "1MB"

SAMPLE_PROMPT = "a photo of a cat"
TEXT_PROMPTS = ["a photo of a cat", "", "An oil painting of a castle, in the style of Van Gogh!"]


# ---------------------------------------------------------------- tokenizer

def bytes_to_unicode():
    """OpenAI CLIP's reversible byte -> printable unicode map (same as GPT-2's)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def clip_bpe_source():
    spec = importlib.util.find_spec("open_clip")  # locate only: importing open_clip needs timm/torchvision
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("open_clip_torch is not installed: run tools/parity/setup.sh")
    path = Path(list(spec.submodule_search_locations)[0]) / "bpe_simple_vocab_16e6.txt.gz"
    if not path.is_file():
        raise SystemExit(f"{path}: CLIP BPE merges file missing from open_clip_torch")
    return path


def write_tokenizer(folder: Path, pad_token: str):
    """vocab.json + merges.txt exactly as OpenAI CLIP builds its encoder (49408 tokens)."""
    merges = gzip.open(clip_bpe_source()).read().decode("utf-8").split("\n")
    merges = merges[1:49152 - 256 - 2 + 1]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m.split()) for m in merges]
    vocab += [BOS, EOS]
    assert len(vocab) == 49408, len(vocab)
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert len(encoder) == 49408
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(encoder, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    special = dict(bos_token=BOS, eos_token=EOS, unk_token=EOS, pad_token=pad_token)
    config = dict(tokenizer_class="CLIPTokenizer", model_max_length=MAX_LENGTH, do_lower_case=True,
                  errors="replace", add_prefix_space=False, **special)
    write_json(folder / "tokenizer_config.json", config)
    write_json(folder / "special_tokens_map.json", special)
    tok = CLIPTokenizer.from_pretrained(str(folder))
    assert tok.pad_token == pad_token and len(tok) == 49408
    ids = tok("a photo of a cat").input_ids
    assert ids == [49406, 320, 1125, 539, 320, 2368, 49407], ids
    return tok


def tokenizer_fixtures(out: Path):
    folder = out / "tokenizer"
    sd1 = write_tokenizer(folder, EOS)
    with tempfile.TemporaryDirectory() as tmp:
        sd2 = write_tokenizer(Path(tmp), "!")
    prompts = corpus()
    write_json(folder / "prompts.json", prompts)
    rows = []
    for p in prompts:
        rows.append(dict(
            prompt=p,
            sd1_ids=sd1(p).input_ids,  # no truncation, no padding: BOS ... EOS, may exceed 77
            sd2_ids=sd2(p).input_ids,
            sd1_input_ids=pad(sd1, p),
            sd2_input_ids=pad(sd2, p),
        ))
    assert sum(len(r["sd1_ids"]) > MAX_LENGTH for r in rows) >= 5
    write_json(folder / "tokens.json", dict(
        about="transformers CLIPTokenizer ids. *_ids: no padding, no truncation (BOS ... EOS, may exceed 77). "
              "*_input_ids: padding='max_length', max_length=77, truncation=True, as the SD pipelines call it. "
              "sd1 pads with <|endoftext|> (49407); sd2 pads with '!' (0), and because transformers registers the "
              "pad token as a special added token, every '!' in an sd2 prompt becomes its own id 0 instead of "
              "going through BPE (e.g. 'wow!!' -> 2781, 0, 0 where sd1 gives 2781, 1443)",
        transformers=transformers.__version__, pad_ids=dict(sd1=sd1.pad_token_id, sd2=sd2.pad_token_id),
        tokens=rows))
    return {"sd1-tiny": sd1, "sd2-tiny": sd2}


def pad(tok, text):
    return tok(text, padding="max_length", max_length=MAX_LENGTH, truncation=True).input_ids


# ---------------------------------------------------------------- models

def perturb(module: torch.nn.Module, seed: int, scale: float = 0.05):
    """Every parameter gets noise, so zero-initialised paths (conv_out, proj_out, to_out) carry signal."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)


def build_pipeline(name: str, spec: dict, tokenizer) -> StableDiffusionPipeline:
    torch.manual_seed(1)
    unet = UNet2DConditionModel(in_channels=4, out_channels=4, **spec["unet"])
    perturb(unet, 11)
    torch.manual_seed(2)
    # bos/eos/pad ids 0/2/1 are what the published SD text encoder configs carry (legacy values)
    te_cfg = CLIPTextConfig(vocab_size=49408, num_attention_heads=4, max_position_embeddings=77,
                            projection_dim=spec["text_encoder"]["hidden_size"], layer_norm_eps=1e-5,
                            bos_token_id=0, eos_token_id=2, pad_token_id=1, **spec["text_encoder"])
    text_encoder = CLIPTextModel(te_cfg).eval()
    perturb(text_encoder, 12, scale=0.02)
    torch.manual_seed(3)
    vae = AutoencoderKL(in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
                        layers_per_block=1, latent_channels=4, sample_size=32, scaling_factor=0.18215,
                        **spec["vae"])
    perturb(vae, 13)
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                              beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
                              steps_offset=1, timestep_spacing="leading", **spec["scheduler"])
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


class Fixture:
    """Tensors for io.safetensors and their description for MANIFEST.json."""

    def __init__(self):
        self.tensors, self.about = {}, {}

    def put(self, key, value, about):
        t = value.detach().contiguous() if torch.is_tensor(value) else torch.tensor(value)
        if t.is_floating_point():
            t = t.to(torch.float32)
        self.tensors[key] = t.clone()
        self.about[key] = dict(shape=list(t.shape), dtype=str(t.dtype).replace("torch.", ""), about=about)
        if t.is_floating_point() and t.numel():
            self.about[key]["max_abs"] = round(float(t.abs().max()), 6)


class Capture:
    """Forward hooks that keep the named submodules' outputs: intermediate values to debug against."""

    def __init__(self, module: torch.nn.Module, names):
        self.outputs, self.handles = {}, []
        for name in names:
            self.handles.append(module.get_submodule(name).register_forward_hook(self._keep(name)))

    def _keep(self, name):
        def hook(_module, _inputs, output):
            if hasattr(output, "sample"):
                output = output.sample
            elif isinstance(output, tuple):
                output = output[0]
            self.outputs[name] = output.detach().clone()
        return hook

    def __enter__(self):
        return self.outputs

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()


UNET_DEBUG = ["time_proj", "time_embedding", "conv_in", "down_blocks.0.resnets.0", "down_blocks.0.attentions.0",
              "down_blocks.0", "down_blocks.1", "down_blocks.2", "mid_block", "up_blocks.0", "up_blocks.1",
              "up_blocks.2", "conv_norm_out"]
VAE_ENCODER_DEBUG = ["encoder.conv_in", "encoder.down_blocks.0", "encoder.down_blocks.1", "encoder.mid_block",
                     "encoder.conv_norm_out"]
VAE_DECODER_DEBUG = ["post_quant_conv", "decoder.conv_in", "decoder.mid_block", "decoder.up_blocks.0",
                     "decoder.up_blocks.1", "decoder.conv_norm_out"]


def randn(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def model_fixtures(pipe: StableDiffusionPipeline, spec: dict) -> Fixture:
    f = Fixture()
    unet, vae, te, tok, sched = pipe.unet, pipe.vae, pipe.text_encoder, pipe.tokenizer, pipe.scheduler
    sf = vae.config.scaling_factor

    # UNet: batch of 2 with a different timestep per sample
    sample = randn(100, 2, 4, 16, 16)
    timestep = torch.tensor([981, 41], dtype=torch.int64)
    context = randn(101, 2, 77, unet.config.cross_attention_dim)
    f.put("unet.sample", sample, "UNet input latents")
    f.put("unet.timestep", timestep, "one timestep per batch element")
    f.put("unet.encoder_hidden_states", context, "cross-attention context")
    with Capture(unet, UNET_DEBUG) as inner:
        f.put("unet.out", unet(sample, timestep, encoder_hidden_states=context).sample, "UNet output (.sample)")
    for name in UNET_DEBUG:
        f.put(f"unet.debug.{name}", inner[name], f"output of {name} (first element / .sample) in unet.out's forward")

    # one training step's loss and gradients: MSE against a fixed target, as the trainer computes it
    target = randn(102, 2, 4, 16, 16)
    f.put("unet.train.target", target, "MSE target for unet.out")
    with torch.enable_grad():
        unet.zero_grad()
        loss = torch.nn.functional.mse_loss(unet(sample, timestep, encoder_hidden_states=context).sample, target)
        loss.backward()
    f.put("unet.train.loss", loss.reshape(1), "mean squared error of unet.out vs unet.train.target")
    params = dict(unet.named_parameters())
    for name in ("conv_in.weight",
                 "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
                 "mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                 "up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_out.0.weight",
                 "up_blocks.2.attentions.1.proj_out.weight",
                 "conv_out.bias"):
        f.put(f"unet.train.grad.{name}", params[name].grad, f"d loss / d {name}")
    unet.zero_grad(set_to_none=True)

    # text encoder on the model's own tokenizer, padded as the pipelines do
    ids = torch.tensor([pad(tok, p) for p in TEXT_PROMPTS], dtype=torch.int64)
    out = te(ids, output_hidden_states=True)
    f.put("text_encoder.input_ids", ids, f"tokenizer(prompts {TEXT_PROMPTS!r}), max_length padding")
    f.put("text_encoder.last_hidden_state", out.last_hidden_state, "after final_layer_norm; what SD conditions on")
    f.put("text_encoder.pooler_output", out.pooler_output, "last_hidden_state at the first EOS (argmax id)")
    f.put("text_encoder.debug.hidden_states", torch.stack(out.hidden_states),
          "embeddings output, then each encoder layer's output (before final_layer_norm)")

    # VAE encoder and decoder
    image = randn(103, 1, 3, 64, 64).clamp(-1, 1)
    with Capture(vae, VAE_ENCODER_DEBUG) as inner:
        dist = vae.encode(image).latent_dist
    for name in VAE_ENCODER_DEBUG:
        f.put(f"vae.debug.{name}", inner[name], f"output of {name} in vae.encode(vae.encoder.image)")
    f.put("vae.encoder.image", image, "VAE input in [-1, 1]")
    f.put("vae.encoder.moments", dist.parameters, "encoder + quant_conv output: mean and logvar on channels")
    f.put("vae.encoder.mean", dist.mean, "latent_dist.mean (unscaled)")
    f.put("vae.encoder.logvar", dist.logvar, "latent_dist.logvar, clamped to [-30, 20]")
    f.put("vae.encoder.std", dist.std, "latent_dist.std")
    latent = randn(104, 1, 4, 16, 16)
    f.put("vae.decoder.latent", latent, "decoder input z (already divided by scaling_factor)")
    with Capture(vae, VAE_DECODER_DEBUG) as inner:
        f.put("vae.decoder.image", vae.decode(latent).sample, "post_quant_conv + decoder output, unclamped")
    for name in VAE_DECODER_DEBUG:
        f.put(f"vae.debug.{name}", inner[name], f"output of {name} in vae.decode(vae.decoder.latent)")

    # scheduler
    for n in (10, 50):
        sched.set_timesteps(n)
        f.put(f"scheduler.timesteps_{n}", sched.timesteps.to(torch.int64), f"DDIM timesteps for {n} steps")
    sched.set_timesteps(10)
    t = int(sched.timesteps[3])
    x_t, model_output = randn(105, 1, 4, 16, 16), randn(106, 1, 4, 16, 16)
    step = sched.step(model_output, t, x_t, eta=0.0)
    f.put("scheduler.step.num_inference_steps", torch.tensor([10], dtype=torch.int64), "set_timesteps(10)")
    f.put("scheduler.step.timestep", torch.tensor([t], dtype=torch.int64), "timesteps_10[3]")
    f.put("scheduler.step.sample", x_t, "x_t")
    f.put("scheduler.step.model_output", model_output, f"model output ({sched.config.prediction_type})")
    f.put("scheduler.step.prev_sample", step.prev_sample, "x_{t - 1000/10}, eta 0")
    f.put("scheduler.step.pred_original_sample", step.pred_original_sample, "predicted x_0")
    x0, noise = randn(107, 2, 4, 16, 16), randn(108, 2, 4, 16, 16)
    nt = torch.tensor([10, 500], dtype=torch.int64)
    f.put("scheduler.add_noise.original_samples", x0, "x_0")
    f.put("scheduler.add_noise.noise", noise, "noise")
    f.put("scheduler.add_noise.timesteps", nt, "one per batch element")
    f.put("scheduler.add_noise.noisy_samples", sched.add_noise(x0, noise, nt), "sqrt(acp) x0 + sqrt(1-acp) noise")
    f.put("scheduler.get_velocity", sched.get_velocity(x0, noise, nt), "v target for x_0, noise, timesteps")

    # full 10-step DDIM sample with classifier-free guidance, replayable without torch's RNG
    prompt_embeds, negative_embeds = pipe.encode_prompt(SAMPLE_PROMPT, "cpu", 1, True, negative_prompt="")
    latents_init = randn(109, 1, 4, 16, 16)
    per_step = []

    def record(_pipe, _i, _t, kwargs):
        per_step.append(kwargs["latents"].clone())
        return kwargs

    latents_final = pipe(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, latents=latents_init,
                         num_inference_steps=10, guidance_scale=spec["guidance_scale"], eta=0.0,
                         output_type="latent", callback_on_step_end=record).images
    f.put("sample.input_ids", torch.tensor([pad(tok, SAMPLE_PROMPT)], dtype=torch.int64), repr(SAMPLE_PROMPT))
    f.put("sample.negative_input_ids", torch.tensor([pad(tok, "")], dtype=torch.int64), "empty prompt")
    f.put("sample.prompt_embeds", prompt_embeds, "text_encoder(sample.input_ids).last_hidden_state")
    f.put("sample.negative_prompt_embeds", negative_embeds, "text_encoder(sample.negative_input_ids)")
    f.put("sample.guidance_scale", torch.tensor([spec["guidance_scale"]]), "classifier-free guidance scale")
    f.put("sample.latents_init", latents_init, "x_T (init_noise_sigma is 1 for DDIM)")
    f.put("sample.timesteps", pipe.scheduler.timesteps.to(torch.int64), "the 10 timesteps, in order")
    f.put("sample.latents_per_step", torch.stack(per_step), "latents after each of the 10 steps")
    f.put("sample.latents_final", latents_final, "final latents (unscaled)")
    f.put("sample.image", vae.decode(latents_final / sf).sample, "vae.decode(latents_final / scaling_factor)")

    # DDIM inversion with the empty prompt (purification), then the regeneration from x_T
    inv_image = randn(110, 1, 3, 32, 32).clamp(-1, 1)
    x = vae.encode(inv_image).latent_dist.mean * sf
    f.put("inversion.image", inv_image, "image to invert")
    f.put("inversion.latent_in", x, "vae mean * scaling_factor")
    inverse = DDIMInverseScheduler.from_config(sched.config)
    inverse.set_timesteps(10)
    for t in inverse.timesteps:
        x = inverse.step(unet(x, t, encoder_hidden_states=negative_embeds).sample, t, x).prev_sample
    f.put("inversion.timesteps", inverse.timesteps.to(torch.int64), "DDIMInverseScheduler timesteps, in order")
    f.put("inversion.latent_out", x, "x_T after 10 inverse DDIM steps, empty prompt, no guidance")
    sched.set_timesteps(10)
    for t in sched.timesteps:
        x = sched.step(unet(x, t, encoder_hidden_states=negative_embeds).sample, t, x, eta=0.0).prev_sample
    f.put("inversion.reconstructed", x, "10 DDIM steps back from inversion.latent_out, empty prompt")
    return f


def prefix_text_encoder_keys(path: Path):
    """Published SD checkpoints name the text encoder's weights text_model.*; transformers 5 saves them
    without the prefix (and strips it on load), so restore it to give Java the layout it meets in the wild."""
    from safetensors import safe_open
    with safe_open(str(path), "pt") as f:
        tensors = {("" if k.startswith("text_model.") else "text_model.") + k: f.get_tensor(k) for k in f.keys()}
        metadata = f.metadata()
    save_file(tensors, str(path), metadata=metadata)


@torch.no_grad()
def check_reload(folder: Path, fx: Fixture):
    """The saved folder must load with diffusers' own loader and reproduce the recorded outputs exactly."""
    pipe = StableDiffusionPipeline.from_pretrained(str(folder), safety_checker=None, requires_safety_checker=False)
    t = fx.tensors
    unet_out = pipe.unet(t["unet.sample"], t["unet.timestep"], encoder_hidden_states=t["unet.encoder_hidden_states"])
    assert torch.equal(unet_out.sample, t["unet.out"]), "reloaded UNet differs"
    te_out = pipe.text_encoder(t["text_encoder.input_ids"]).last_hidden_state
    assert torch.equal(te_out, t["text_encoder.last_hidden_state"]), "reloaded text encoder differs"
    vae_out = pipe.vae.decode(t["vae.decoder.latent"]).sample
    assert torch.equal(vae_out, t["vae.decoder.image"]), "reloaded VAE differs"
    ids = torch.tensor([pad(pipe.tokenizer, SAMPLE_PROMPT)])
    assert torch.equal(ids, t["sample.input_ids"]), "reloaded tokenizer differs"


def save_current_layout(pipe: StableDiffusionPipeline, folder: Path):
    """What diffusers 0.42 + transformers 5 write, nothing rewritten: tokenizer/tokenizer.json without
    vocab.json and merges.txt, text encoder keys without text_model., weights over the shard size
    sharded with an index; and the VAE's bf16 variant beside its fp32 weights."""
    pipe.save_pretrained(folder, safe_serialization=True, max_shard_size=CURRENT_SHARD_SIZE)
    vae_bf16 = copy.deepcopy(pipe.vae).to(torch.bfloat16)
    vae_bf16.save_pretrained(folder / "vae", safe_serialization=True, variant="bf16")


def state_dict(folder: Path, component: str, weights: str):
    """A component's tensors by name from one file or a sharded index."""
    from safetensors import safe_open
    path = folder / component / weights
    files = [path]
    if weights.endswith(".index.json"):
        files = sorted({folder / component / f for f in json.loads(path.read_text())["weight_map"].values()})
    tensors = {}
    for f in files:
        with safe_open(str(f), "pt") as st:
            tensors.update({k: st.get_tensor(k) for k in st.keys()})
    return tensors


@torch.no_grad()
def check_current_layout(folder: Path, published: Path):
    """The layout is the one current diffusers writes, and its weights are the published-layout model's."""
    tokenizer = sorted(p.name for p in (folder / "tokenizer").iterdir())
    assert tokenizer == ["tokenizer.json", "tokenizer_config.json"], tokenizer
    te = state_dict(folder, "text_encoder", "model.safetensors.index.json")
    assert not any(k.startswith("text_model.") for k in te), "transformers now saves without text_model."
    unet = state_dict(folder, "unet", "diffusion_pytorch_model.safetensors.index.json")
    for name, tensors, weights in (
            ("text_encoder", {"text_model." + k: v for k, v in te.items()}, "model.safetensors"),
            ("unet", unet, "diffusion_pytorch_model.safetensors"),
            ("vae", state_dict(folder, "vae", "diffusion_pytorch_model.safetensors"),
             "diffusion_pytorch_model.safetensors")):
        reference = state_dict(published, name, weights)
        reference.pop("text_model.embeddings.position_ids", None)
        assert tensors.keys() == reference.keys(), name
        assert all(torch.equal(tensors[k], reference[k]) for k in tensors), f"{name} weights differ"
    bf16 = AutoencoderKL.from_pretrained(str(folder / "vae"), variant="bf16")
    fp32 = AutoencoderKL.from_pretrained(str(folder / "vae"))
    assert all(torch.equal(p.to(torch.bfloat16), q) for p, q in zip(fp32.parameters(), bf16.parameters()))


# ---------------------------------------------------------------- output

def write_json(path: Path, value):
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", choices=sorted(MODELS) + sorted(CURRENT_LAYOUT), action="append",
                    help="build only these models")
    ap.add_argument("--check", action="store_true",
                    help="build into a temporary folder and fail unless it equals --out byte for byte")
    args = ap.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp), None)
            return compare(Path(tmp), args.out)
    build(args.out, args.only)


def compare(fresh: Path, committed: Path) -> int:
    def names(root):
        return {p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and p.name not in ("README.md", ".gitattributes")}

    a, b = names(fresh), names(committed)
    bad = sorted(str(p) for p in a ^ b) + sorted(str(p) for p in a & b
                                                 if (fresh / p).read_bytes() != (committed / p).read_bytes())
    for p in bad:
        print(f"differs: {p}", file=sys.stderr)
    print("fixtures up to date" if not bad else f"{len(bad)} fixture files differ from a fresh build")
    return 1 if bad else 0


def build(out: Path, only):
    torch.set_num_threads(1)  # one thread: bit-identical reruns
    torch.use_deterministic_algorithms(True)
    out.mkdir(parents=True, exist_ok=True)

    if only and not set(only) & set(MODELS):
        # Only current-layout fixtures: the published ones and the tokenizer files stay as they are.
        tokenizers = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name in MODELS:
                tokenizers[name] = write_tokenizer(Path(tmp) / name, MODELS[name]["pad_token"])
        build_current_layouts(out, only, tokenizers)
        return
    tokenizers = tokenizer_fixtures(out)
    manifest = dict(
        about="Parity fixtures for the Java SD runtime; regenerate with tools/parity/make_fixtures.py",
        versions=dict(torch=torch.__version__, diffusers=diffusers.__version__,
                      transformers=transformers.__version__, numpy=np.__version__),
        tokenizer=dict(folder="tokenizer", files=["prompts.json", "tokens.json"],
                       about="tokens.json: per prompt {prompt, sd1_ids, sd2_ids (unpadded, untruncated), "
                             "sd1_input_ids, sd2_input_ids (77, truncated, padded)}"),
        models={})
    for name in only or sorted(MODELS):
        spec = MODELS[name]
        pipe = build_pipeline(name, spec, tokenizers[name])
        folder = out / name
        with tempfile.TemporaryDirectory(dir=out) as tmp:  # nothing half-written: build aside, then swap in
            staged = Path(tmp) / name
            pipe.save_pretrained(staged, safe_serialization=True)
            shutil.rmtree(staged / "tokenizer")
            write_tokenizer(staged / "tokenizer", spec["pad_token"])
            prefix_text_encoder_keys(staged / "text_encoder" / "model.safetensors")
            fx = model_fixtures(pipe, spec)
            check_reload(staged, fx)
            save_file(fx.tensors, str(staged / "io.safetensors"), metadata={"format": "pt"})
            if folder.exists():
                shutil.rmtree(folder)
            for path in [staged, *staged.rglob("*")]:  # temp files come out 0600
                path.chmod(0o755 if path.is_dir() else 0o644)
            os.replace(staged, folder)
        manifest["models"][name] = dict(
            io="io.safetensors",
            unet_parameters=sum(p.numel() for p in pipe.unet.parameters()),
            text_encoder_parameters=sum(p.numel() for p in pipe.text_encoder.parameters()),
            vae_parameters=sum(p.numel() for p in pipe.vae.parameters()),
            tensors=fx.about)
        print(f"{name}: {len(fx.tensors)} tensors", flush=True)
    build_current_layouts(out, only, tokenizers)
    if not only:
        write_json(out / "MANIFEST.json", manifest)


def build_current_layouts(out: Path, only, tokenizers):
    for name, published in CURRENT_LAYOUT.items():
        if only and name not in only:
            continue
        pipe = build_pipeline(published, MODELS[published], tokenizers[published])
        fx = model_fixtures(pipe, MODELS[published])
        folder = out / name
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            staged = Path(tmp) / name
            save_current_layout(pipe, staged)
            check_reload(staged, fx)
            check_current_layout(staged, out / published)
            if folder.exists():
                shutil.rmtree(folder)
            for path in [staged, *staged.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            os.replace(staged, folder)
        print(f"{name}: {published}'s weights in the current diffusers layout", flush=True)


if __name__ == "__main__":
    sys.exit(main())
