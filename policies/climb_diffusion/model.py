"""ClimbDiT: SABR-CLIMB's denoiser, alternating spatial and temporal transformer blocks.

The sequence the temporal blocks see is the route prompt followed by the motion: C context
slots (one per touched hold, in order) then T motion frames. In a *spatial* block each element
cross-attends to its own frame's patch tokens (a context slot to its context frame, a motion
frame to its video frame); in a *temporal* block the elements attend to each other over time.
Every block is modulated by adaLN-Zero (DiT, Peebles & Xie 2023) from the diffusion step and the
body shape, and starts as the identity. Tensors in, tensors out: no knowledge of envs or files.

Video frames are passed once per distinct frame (`video (B, U, P, D)`) with an index per motion
frame (`video_index (B, T)`): a tripod video of a static wall is one frame repeated, and its
keys and values are then computed once instead of T times.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def sinusoidal(x: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Fixed sinusoidal embedding (..., dim) of positions or diffusion steps x (...)."""
    half = dim // 2
    steps = torch.arange(half, dtype=torch.float32, device=x.device)
    freqs = torch.exp(-math.log(max_period) * steps / half)
    args = x.to(torch.float32)[..., None] * freqs  # (..., half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, dim % 2))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: x (B, S, W) scaled and shifted per sample by (B, W) vectors."""
    return x * (1.0 + scale[:, None]) + shift[:, None]


class Attention(nn.Module):
    """Multi-head attention: queries (N, Sq, W) over keys/values (N, Sk, W) of their own."""

    def __init__(self, width: int, heads: int, kv_from_query: bool) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width) if kv_from_query else None
        self.out = nn.Linear(width, width)

    def forward(
        self,
        q: torch.Tensor,
        k: torch.Tensor | None = None,
        v: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """q (N, Sq, W); k, v (N, Sk, W) (from q when None); mask True = attend, (N, Sk) for
        every query alike or (N, Sq, Sk) per query."""
        n, sq, w = q.shape
        if k is None:
            k, v = self.kv(q).chunk(2, dim=-1)
        h = self.heads

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(n, -1, h, w // h).transpose(1, 2)  # (N, h, S, W/h)

        attn_mask = None
        if mask is not None:
            attn_mask = mask[:, None, None, :] if mask.dim() == 2 else mask[:, None]
        y = F.scaled_dot_product_attention(split(self.q(q)), split(k), split(v), attn_mask)
        return self.out(y.transpose(1, 2).reshape(n, sq, w))


class Block(nn.Module):
    """One adaLN-Zero transformer block, spatial (cross-attention) or temporal (self-attention)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, spatial: bool) -> None:
        super().__init__()
        self.spatial = spatial
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(width, heads, kv_from_query=not spatial)
        self.kv = nn.Linear(width, 2 * width) if spatial else None
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width)
        )
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.ada[1].weight)  # adaLN-Zero: the block starts as the identity
        nn.init.zeros_(self.ada[1].bias)

    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor,
        patches: torch.Tensor,
        own_frame: torch.Tensor,
        slot_mask: torch.Tensor,
    ) -> torch.Tensor:
        """x (B, S, W); c (B, W); patches (B, N P, W) the tokens of the N distinct frames;
        own_frame (B, S, N P) True where a patch belongs to the element's own frame;
        slot_mask (B, S) True for real elements (padded context slots are ignored)."""
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(c).chunk(6, dim=-1)  # each (B, W)
        h = modulate(self.norm1(x), sh1, sc1)
        if self.spatial:
            # keys and values once per distinct frame; each element attends to its own frame
            # only (a mask, not a gather: a static video's frame is shared by every motion frame)
            k, v = self.kv(patches).chunk(2, dim=-1)  # (B, N P, W) each
            y = self.attn(h, k, v, mask=own_frame)
        else:
            y = self.attn(h, mask=slot_mask)
        x = x + g1[:, None] * y
        return x + g2[:, None] * self.mlp(modulate(self.norm2(x), sh2, sc2))


class ClimbDiT(nn.Module):
    """Denoiser: noisy motion + known frames + video/context tokens + step + betas -> output."""

    def __init__(
        self,
        feature_dim: int,
        token_dim: int,
        width: int,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        betas_dim: int = 10,
        use_hold_positions: bool = True,
        max_context: int = 10,
    ) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"ClimbDiT: width {width} is not divisible by heads {heads}")
        if depth < 2 or depth % 2:
            raise ValueError(f"ClimbDiT: depth {depth} must be even (spatial/temporal pairs)")
        self.width = width
        self.use_hold_positions = use_hold_positions
        self.motion_in = nn.Linear(2 * feature_dim + 1, width)  # [x_t, known, known mask]
        self.slot_query = nn.Parameter(torch.zeros(width))  # what a context slot starts as
        self.hold_in = nn.Linear(3, width) if use_hold_positions else None
        # the whole prompt's geometry as one vector into adaLN (DiT's class conditioning):
        # a direct path that does not wait for attention to learn to read the slots
        self.prompt_in = (
            nn.Sequential(nn.Linear(4 * max_context, width), nn.SiLU(), nn.Linear(width, width))
            if use_hold_positions
            else None
        )
        self.patch_in = nn.Linear(token_dim, width)
        self.null_patch = nn.Parameter(torch.zeros(width))  # dropped video (guidance)
        self.time_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.betas_in = nn.Linear(betas_dim, width)
        self.blocks = nn.ModuleList(
            Block(width, heads, mlp_ratio, spatial=(i % 2 == 0)) for i in range(depth)
        )
        self.norm_out = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.out = nn.Linear(width, feature_dim)
        for m in (self.ada_out[1], self.out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
        nn.init.normal_(self.slot_query, std=0.02)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        *,
        known: torch.Tensor,
        known_mask: torch.Tensor,
        video: torch.Tensor,
        video_index: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor,
        context_pos: torch.Tensor,
        betas: torch.Tensor,
        drop: torch.Tensor,
    ) -> torch.Tensor:
        """Denoiser output (B, T, F).

        x_t (B, T, F) noisy normalised motion; t (B,) diffusion steps; known (B, T, F) frames
        given in advance (any values where known_mask (B, T) is False); video (B, U, P, D)
        distinct frames' tokens and video_index (B, T) the frame each motion frame shows;
        context (B, C, P, D) context-frame tokens, context_mask (B, C) True for real slots,
        context_pos (B, C, 3) their holds' positions (normalised); betas (B, 10); drop (B,)
        True where the video and context are dropped (the unconditional branch of guidance).
        """
        b, n_frames, _ = x_t.shape
        n_ctx = context.shape[1]
        keep = ~drop  # (B,)
        km = known_mask.to(x_t.dtype)[..., None]  # (B, T, 1)
        motion = self.motion_in(torch.cat([x_t, known * km, km], dim=-1))  # (B, T, W)
        slots = self.slot_query.expand(b, n_ctx, self.width)  # (B, C, W)
        if self.hold_in is not None:
            slots = slots + self.hold_in(context_pos) * keep[:, None, None]
        seq = torch.cat([slots, motion], dim=1)  # (B, S, W), S = C + T
        seq = seq + sinusoidal(torch.arange(n_ctx + n_frames, device=x_t.device), self.width)

        # distinct frames: the C context frames, then the U video frames; a context slot sees
        # its own frame, motion frame k the video frame video_index[k]
        sets = self.patch_in(torch.cat([context, video], dim=1))  # (B, N, P, W), N = C + U
        sets = torch.where(keep[:, None, None, None], sets, self.null_patch)
        n_sets, n_patch = sets.shape[1], sets.shape[2]
        index = torch.cat(
            [torch.arange(n_ctx, device=x_t.device).expand(b, n_ctx), video_index + n_ctx], dim=1
        )  # (B, S)
        key_frame = torch.arange(n_sets, device=x_t.device).repeat_interleave(n_patch)  # (N P,)
        own_frame = index[:, :, None] == key_frame  # (B, S, N P)
        patches = sets.reshape(b, n_sets * n_patch, self.width)  # (B, N P, W)

        slot_mask = torch.cat(
            [context_mask & keep[:, None], torch.ones_like(known_mask)], dim=1
        )  # (B, S)
        c = self.time_mlp(sinusoidal(t, self.width)) + self.betas_in(betas)  # (B, W)
        if self.prompt_in is not None:
            real = (context_mask & keep[:, None]).to(x_t.dtype)[..., None]  # (B, C, 1)
            flat = torch.cat([context_pos * real, real], dim=-1).reshape(b, -1)  # (B, 4 C)
            c = c + self.prompt_in(flat)
        for block in self.blocks:
            seq = block(seq, c, patches, own_frame, slot_mask)
        shift, scale = self.ada_out(c).chunk(2, dim=-1)
        return self.out(modulate(self.norm_out(seq[:, n_ctx:]), shift, scale))  # (B, T, F)
