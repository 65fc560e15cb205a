"""M2D (Masked Modeling Duo) ViT encoder and the M2D-AT audio tagger of the DCASE 2025 baseline.

Parameter names are those of the official runtime (a timm VisionTransformer under `backbone.`,
`head_norm`, `head`), so an official M2D weight file — the .pth inside a folder named like
`m2d_as_vit_base-80x1001p16x16p32k-…` — loads into it, and its `norm_stats` (log-mel mean and
std) travel with the weights.

The encoder turns 10 s of audio into 62 frames of 5 × 768 = 3,840 features: log-mel
(80 × 1001) → 16 × 16 patches → ViT → tokens regrouped per time step, frequency patches
concatenated. The tagger averages them over time, applies a BatchNorm without affine and a
linear layer to the 18 classes, and a sigmoid.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from s5bench.common.errors import S5Error
from s5bench.common.labels import LABELS, SAMPLE_RATE, SILENCE

from .blocks import LogMel, MultiHeadSelfAttention
from .state_dicts import load_state_dict_strict, read_record


class Mlp(nn.Module):
    """The ViT feed-forward: Linear, GELU, Linear (timm's names `fc1`, `fc2`).

    Args:
        dim: token width.
        hidden: hidden width.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Position-wise feed-forward.

        Args:
            x: tokens of shape (..., dim).

        Returns:
            Tensor of x's shape.
        """
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """A pre-norm ViT block: x + attn(norm1(x)), then x + mlp(norm2(x)) (timm's names).

    Args:
        dim: token width.
        heads: attention heads.
        mlp_ratio: the MLP's hidden width as a multiple of dim.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = MultiHeadSelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One transformer block.

        Args:
            x: tokens of shape (B, L, dim).

        Returns:
            Tensor of shape (B, L, dim).
        """
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    """Non-overlapping patches of a log-mel image, each projected to a token (a strided Conv2d `proj`).

    Args:
        patch: patch size (frequency bins, frames).
        dim: token width.
    """

    def __init__(self, patch, dim: int):  # patch: (bins, frames), left untyped: Conv2d wants tuple[int, int]
        super().__init__()
        self.proj = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens, frequency-major (all time patches of the lowest frequency row first).

        Args:
            x: log-mel images of shape (B, 1, mel bins, frames).

        Returns:
            Tokens of shape (B, F'·T', dim), F' = bins // patch[0], T' = frames // patch[1].
        """
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, F'·T', D), frequency-major


class M2DBackbone(nn.Module):
    """The ViT of M2D with timm's parameter names (cls_token, pos_embed, patch_embed.proj,
    blocks.i.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm) and `norm_stats`.

    Args:
        input_size: log-mel image size the positions are learned for (mel bins, frames).
        patch_size: patch size (mel bins, frames).
        embed_dim: token width D.
        depth: transformer blocks.
        num_heads: attention heads.
        mlp_ratio: the MLP's hidden width as a multiple of embed_dim.
    """

    def __init__(self, input_size: tuple[int, int] = (80, 1001), patch_size: tuple[int, int] = (16, 16),
                 embed_dim: int = 768, depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0):
        super().__init__()
        self.input_size, self.patch_size = tuple(input_size), tuple(patch_size)
        self.grid = (input_size[0] // patch_size[0], input_size[1] // patch_size[1])
        self.patch_embed = PatchEmbed(self.patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + self.grid[0] * self.grid[1], embed_dim) * 0.02)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.norm_stats = nn.Parameter(torch.tensor([-7.1, 4.2]), requires_grad=False)

    def forward(self, lms: torch.Tensor) -> torch.Tensor:
        """(B, 1, 80, frames ≤ input width) -> (B, F'·T', D) patch tokens, the cls token removed.

        Args:
            lms: normalised log-mel images of shape (B, 1, input_size[0], frames), frames at most
                input_size[1] (a shorter clip takes the first time positions).

        Returns:
            Tokens of shape (B, F'·T', embed_dim), frequency-major, F' = input_size[0] // patch_size[0],
            T' = frames // patch_size[1].
        """
        x = self.patch_embed(lms)
        pos = self.pos_embed[:, 1:]
        frames = x.shape[1] // self.grid[0]
        if frames < self.grid[1]:  # a shorter clip uses the first positions of each frequency row
            pos = pos.reshape(1, self.grid[0], self.grid[1], -1)[:, :, :frames].reshape(1, -1, pos.shape[-1])
        x = x + pos
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 1:]


def parse_weight_folder(name: str) -> dict:
    """`m2d_as_vit_base-80x1001p16x16p32k-…` -> input 80×1001, patch 16×16, 32 kHz.

    Args:
        name: the name of the folder that holds an official M2D weight file.

    Returns:
        {"input_size": (bins, frames), "patch_size": (bins, frames), "sr": rate in Hz} (16 kHz when
        the name has no `p<N>k` part).

    Raises:
        S5Error: If the name does not follow that pattern.
    """
    m = re.match(r"^[^-]+-(\d+)x(\d+)p(\d+)x(\d+)(?:p(\d+)k)?", name)
    if not m:
        raise S5Error(f"folder name {name!r} does not say the M2D input and patch size "
                      "(expected e.g. m2d_as_vit_base-80x1001p16x16p32k-…)")
    f, t, pf, pt, sr = m.groups()
    return {"input_size": (int(f), int(t)), "patch_size": (int(pf), int(pt)), "sr": int(sr or 16) * 1000}


def read_m2d_weights(path: str | Path) -> dict:
    """The backbone's tensors from an official M2D .pth (a bare state dict, one under 'model', or
    an EVAR fine-tuning checkpoint whose keys start with 'module.ar.runtime.backbone.').

    Args:
        path: the .pth file.

    Returns:
        Its state dict, the EVAR prefix removed (tensors of other parts included).

    Raises:
        S5Error: If the file cannot be loaded or does not hold a dict.
    """
    ckpt = read_record(path)
    ckpt = ckpt.get("model", ckpt)
    return {k.replace("module.ar.runtime.backbone.", ""): v for k, v in ckpt.items()}


class M2DEncoder(nn.Module):
    """Front end + backbone: (B, T) audio -> (B, frames, F'·D) features.

    Args:
        input_size: the backbone's log-mel image size (mel bins, frames); 80 bins at 32 kHz.
        patch_size: patch size (mel bins, frames).
        sr: sample rate in Hz; only 32,000 is built in.
        embed_dim: token width D.
        depth: transformer blocks.
        num_heads: attention heads.

    Raises:
        S5Error: If sr is not 32,000.
    """

    def __init__(self, input_size: tuple[int, int] = (80, 1001), patch_size: tuple[int, int] = (16, 16),
                 sr: int = SAMPLE_RATE, embed_dim: int = 768, depth: int = 12, num_heads: int = 12):
        super().__init__()
        if sr != SAMPLE_RATE:
            raise S5Error(f"only the 32 kHz M2D front end is built in, not {sr} Hz")
        self.backbone = M2DBackbone(input_size, patch_size, embed_dim, depth, num_heads)
        self.to_lms = LogMel(sr=SAMPLE_RATE, n_fft=800, hop=320, n_mels=input_size[0], f_min=50.0, f_max=16000.0,
                             mean=0.0, std=1.0)
        self.feature_d = embed_dim * self.backbone.grid[0]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Frame features: log-mel (hop 320 samples, 10 ms), normalised by `norm_stats`, encoded in
        pieces of input_size[1] frames, each time step's F' frequency tokens concatenated.

        Args:
            wave: mono waveforms of shape (B, samples) at 32 kHz.

        Returns:
            Features of shape (B, frames, feature_d), one frame per patch_size[1] log-mel frames
            (62 for 10 s with the defaults), feature_d = F'·embed_dim (3,840 for ViT-B).
        """
        mean, std = self.backbone.norm_stats
        lms = ((self.to_lms(wave) - mean) / std)[:, None]  # (B, 1, 80, frames)
        unit, pf = self.backbone.input_size[1], self.backbone.patch_size[1]
        n_chunks = -(-lms.shape[-1] // unit)
        lms = F.pad(lms, (0, (-lms.shape[-1]) % pf))
        feats = []
        for i in range(n_chunks):  # clips longer than the model's width are encoded piece by piece
            tok = self.backbone(lms[..., i * unit:(i + 1) * unit])
            B, N, D = tok.shape
            fb = self.backbone.grid[0]
            feats.append(tok.reshape(B, fb, N // fb, D).permute(0, 2, 1, 3).reshape(B, N // fb, fb * D))
        return torch.cat(feats, dim=1)

    @staticmethod
    def weight_file_config(path: str | Path) -> dict:
        """Sizes of an official weight file: input/patch size from its folder, width and depth
        from its tensors (heads = width / 64, as in ViT-B).

        Args:
            path: the official .pth, inside its folder of the official name.

        Returns:
            Keyword arguments of M2DEncoder: input_size, patch_size, sr, embed_dim, depth, num_heads.

        Raises:
            S5Error: If the folder name does not give the sizes, or the file cannot be read or has
                no `pos_embed` tensor.
        """
        cfg = parse_weight_folder(Path(path).parent.name)
        state = read_m2d_weights(path)
        if "pos_embed" not in state:
            raise S5Error(f"{path}: no 'pos_embed' tensor; not an M2D weight file")
        dim = state["pos_embed"].shape[-1]
        depth = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
        return {**cfg, "embed_dim": dim, "depth": depth, "num_heads": max(1, dim // 64)}

    def load_official(self, path: str | Path) -> list[str]:
        """Load an official M2D weight file strictly into the backbone; tensors that are not the
        backbone's (decoders, target encoders, EVAR heads) are left aside and returned.

        Args:
            path: the official .pth (a file without `norm_stats` gets the defaults −7.1, 4.2).

        Returns:
            The sorted names of the file's tensors that were not loaded.

        Raises:
            S5Error: If the file cannot be read, or its backbone tensors do not fit (missing or of
                another shape).
        """
        state = read_m2d_weights(path)
        own = self.backbone.state_dict()
        if "norm_stats" not in state:  # the 2022 models carry none; theirs are the defaults
            state["norm_stats"] = torch.tensor([-7.1, 4.2])
        load_state_dict_strict(self.backbone, {k: v for k, v in state.items() if k in own}, source=str(path))
        return sorted(k for k in state if k not in own)


def _drop_encoder_copy(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(prefix + "encoder.")]:
        del state_dict[key]


def _fill_encoder_copy(module, state_dict, prefix, *args):
    for key in [k for k in state_dict if k.startswith(prefix + "backbone.")]:
        state_dict[prefix + "encoder." + key[len(prefix):]] = state_dict[key]


class M2DTagger(nn.Module):
    """M2D-AT: mean over time of the encoder's features -> BatchNorm (no affine) -> Linear -> sigmoid.

    Args:
        n_classes: number of classes (18).
        **encoder_kw: M2DEncoder's arguments (input_size, patch_size, sr, embed_dim, depth, num_heads).
    """

    def __init__(self, n_classes: int = len(LABELS), **encoder_kw):
        super().__init__()
        self.encoder = M2DEncoder(**encoder_kw)
        self.backbone = self.encoder.backbone  # the official names: backbone.*, head_norm, head
        self.head_norm = nn.BatchNorm1d(self.encoder.feature_d, affine=False)
        head = nn.Linear(self.encoder.feature_d, n_classes)
        nn.init.trunc_normal_(head.weight, std=2e-5)
        nn.init.zeros_(head.bias)
        self.head: nn.Module = head  # subclasses and wrappers put other heads here
        # one copy of the backbone in state dicts, under its official name (hooks, so that this
        # also holds where the tagger sits inside another module, as in M2dAtSpatial)
        self.register_state_dict_post_hook(_drop_encoder_copy)
        self.register_load_state_dict_pre_hook(_fill_encoder_copy)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        """Class logits (the head's output before the sigmoid).

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            Logits of shape (B, n_classes).
        """
        x = self.encoder(wave).mean(1)
        return self.head(self.head_norm(x))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, T) channel-0 audio -> (B, 18) probabilities.

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            Independent per-class probabilities in [0, 1], shape (B, n_classes).
        """
        return torch.sigmoid(self.logits(wave))

    @staticmethod
    def pick_labels(probs: torch.Tensor, threshold: float = 0.5, n_min: int = 1, n_max: int = 3) -> list[list[str]]:
        """Classes with p ≥ threshold, at least the top n_min and at most the top n_max, listed in
        class-index order and padded with silence to n_max slots.

        Args:
            probs: class probabilities of shape (B, 18), as `forward` gives.
            threshold: probability at or above which a class is named.
            n_min: classes named at least (the most probable ones).
            n_max: classes named at most, and the number of slots returned.

        Returns:
            B lists of n_max labels: class names in class-index order, then `silence`.
        """
        out = []
        for p in probs:
            order = torch.argsort(p, descending=True)
            chosen = [int(i) for i in order if p[i] >= threshold][:n_max]
            if len(chosen) < n_min:
                chosen = [int(i) for i in order[:n_min]]
            labels = [LABELS[i] for i in sorted(chosen)]
            out.append(labels + [SILENCE] * (n_max - len(labels)))
        return out
