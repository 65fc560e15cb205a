"""What one training step computes for each component: inputs from a stream batch, loss, metrics.

Batch keys (data_gen.stream): mixture (B,4,T), targets (B,3,T), label_vector (B,3,18),
active (B,3), interference (B,2,T), noise (B,T).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.nn.functional as F

from s5bench.common.errors import S5Error
from s5bench.metrics.signal import best_scaled, si_snr, snr

from ..models.checkpoints import m2d_encoder
from ..models.m2d_slots import N_SLOT_CLASSES
from ..models.precision import run_autocast
from . import losses

_R = TypeVar("_R")


class Task:
    """Subclass: `step(model, batch) -> (loss, {metric: float})` on the bare model (the trainer
    wraps model and step together for DistributedDataParallel); `trainable(model)` picks the
    parameters to optimise (default: all). The trainer keeps `global_step` (steps done so far)
    up to date, for options that change with training time.

    Mixed precision: the model calls go through `self.call(fn, *args)`, which runs them under
    autocast to `amp_dtype` (set by the trainer; None: full precision) and hands back float32,
    so that losses and figures are computed in float32 with autocast off. `want_figures` False
    (the trainer's steps between log rows) skips the training figures, each of which reads a
    value back to the host.

    Args:
        **options: the recipe's `task_options`, a subset of the class's OPTIONS (the rest keep
            their defaults).

    Raises:
        S5Error: If an option is not one of OPTIONS.
    """

    OPTIONS: dict = {}  # the task's options (recipe `task_options`) with their defaults

    def __init__(self, **options: Any):
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            raise S5Error(f"unknown task option(s) {', '.join(map(repr, unknown))} for {type(self).__name__}; "
                          f"it takes: {', '.join(sorted(self.OPTIONS)) or 'none'}")
        self.options = {**self.OPTIONS, **options}
        self.global_step = 0
        self.amp_dtype = None  # torch.bfloat16 / torch.float16 under mixed precision
        self.want_figures = True

    def call(self, fn: Callable[..., _R], *args: Any) -> _R:
        """fn(*args) (a model or one of its methods), under autocast when `amp_dtype` is set.

        Args:
            fn: the model, or one of its methods.
            *args: its arguments; the first must be a tensor (autocast runs on its device type).

        Returns:
            fn's result, its low-precision tensors cast back to float32 under autocast.
        """
        if self.amp_dtype is None:
            return fn(*args)
        return run_autocast(fn, *args, dtype=self.amp_dtype, device_type=args[0].device.type)

    def trainable(self, model: torch.nn.Module) -> list[torch.nn.Parameter]:
        """The parameters to optimise (here: those that require gradients).

        Args:
            model: the bare model.

        Returns:
            Its parameters with requires_grad set.
        """
        return [p for p in model.parameters() if p.requires_grad]

    def step(self, model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """One training or validation step's loss and figures (a subclass's to implement).

        Args:
            model: the bare model (not wrapped for DDP).
            batch: a collated stream batch (keys in this module's docstring), on the model's device.

        Returns:
            The scalar loss and the figures {name: float}.

        Raises:
            NotImplementedError: Always, in this base class.
        """
        raise NotImplementedError


def freeze_m2d_except(model: torch.nn.Module, n_blocks: int,
                      head_names: tuple[str, ...] = ("head", "class_weight")) -> None:
    """Train the head and the last `n_blocks` transformer blocks (+ final norm); freeze the rest.
    n_blocks < 0 trains everything.

    Args:
        model: an M2D tagger, slot tagger or SC (any model when n_blocks < 0); changed in place.
        n_blocks: transformer blocks to train, counted from the top; 0: the head only; < 0: all.
        head_names: top-level parameter or submodule names that stay trainable (`head_norm*` always does).

    Raises:
        S5Error: If n_blocks ≥ 0 and the model has no M2D encoder.
    """
    if n_blocks < 0:
        for p in model.parameters():
            p.requires_grad_(True)
        return
    backbone = m2d_encoder(model).backbone
    for p in model.parameters():
        p.requires_grad_(False)
    depth = len(backbone.blocks)
    for name, p in model.named_parameters():
        top = name.split(".")[0]
        if top in head_names or name.startswith("head_norm"):
            p.requires_grad_(True)
    for block in list(backbone.blocks)[depth - n_blocks:] if n_blocks else []:
        for p in block.parameters():
            p.requires_grad_(True)
    if n_blocks:
        for p in backbone.norm.parameters():
            p.requires_grad_(True)


class TaggerTask(Task):
    """M2D-AT: BCE on the mixture's multi-hot; `train_blocks`: 0 = head only (stage 1), 2 = the
    last 2 blocks too (stage 2), -1 = everything (tiny models trained from scratch)."""

    OPTIONS = {"train_blocks": -1}

    def trainable(self, model: torch.nn.Module) -> list[torch.nn.Parameter]:
        """Freeze all but the head and the last `train_blocks` blocks (`freeze_m2d_except`).

        Args:
            model: the tagger (changed in place).

        Returns:
            The parameters left trainable.
        """
        freeze_m2d_except(model, int(self.options["train_blocks"]), head_names=("head",))
        return super().trainable(model)

    def step(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """BCE of the tagger's logits on channel 0 against the mixture's multi-hot.

        Figure: `acc_mix`, the % of mixtures whose predicted label set (p ≥ 0.5, at least the top
        class) equals the target set.

        Args:
            model: a tagger with `logits(wave)` (M2DTagger, CNNTagger).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        target = batch["label_vector"].sum(1).clamp(max=1)
        logits = self.call(model.logits, batch["mixture"][:, 0])
        loss = F.binary_cross_entropy_with_logits(logits, target)
        if not self.want_figures:
            return loss, {}
        pred = (torch.sigmoid(logits) >= 0.5).float()
        top = F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
        pred = torch.maximum(pred, top)  # at least one label, as at inference
        exact = (pred == target).all(-1).float().mean()
        return loss, {"acc_mix": float(exact) * 100}


def slot_targets(batch: dict) -> torch.Tensor:
    """(B, 3) class index of each target slot, silence (index 18) where the slot is empty.

    Args:
        batch: a stream batch (`label_vector` (B, 3, 18), `active` (B, 3)).

    Returns:
        (B, 3) long class indices, 18 for inactive slots.
    """
    cls = batch["label_vector"].argmax(-1)
    return torch.where(batch["active"], cls, torch.full_like(cls, N_SLOT_CLASSES - 1))


class SlotTaggerTask(TaggerTask):
    """The 2026 tagger (1- or 4-channel): PIT cross-entropy over its 3 slots × 19 entries, the
    same trainable parts as M2D-AT. `acc_mix`: the share of mixtures whose slot labels equal the
    targets as multisets."""

    def step(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """PIT cross-entropy of the slot logits against the slot targets (`slot_targets`).

        Figure: `acc_mix` (%).

        Args:
            model: a slot tagger with `mixture_logits(mixture)` (M2DSlotTagger, M2DSpatialSlotTagger,
                CNNSlotTagger).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        target = slot_targets(batch)
        logits = self.call(model.mixture_logits, batch["mixture"])
        loss = losses.pit_cross_entropy(logits, target)
        if not self.want_figures:
            return loss, {}
        with torch.no_grad():
            pred = logits.argmax(-1).sort(-1).values
            exact = (pred == target.sort(-1).values).all(-1).float().mean()
        return loss, {"acc_mix": float(exact) * 100}


SEPARATOR_LOSSES = ("masked_snr", "class_aware_pit")


class SeparatorTask(Task):
    """ResUNetK with oracle queries. `loss`: masked_snr (2025: SNR over the active slots) or
    class_aware_pit (2026: slots of equal labels may exchange their references; silent slots,
    queried with zeros, score 0).

    Args:
        **options: `loss` (masked_snr or class_aware_pit).

    Raises:
        S5Error: If an option is unknown or the loss is not one of SEPARATOR_LOSSES.
    """

    OPTIONS = {"loss": "masked_snr"}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.loss = self.options["loss"]
        if self.loss not in SEPARATOR_LOSSES:
            raise S5Error(f"separator loss {self.loss!r} is not one of {', '.join(SEPARATOR_LOSSES)}")

    def step(self, model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Query the separator with the true one-hots; the option's SNR loss on its (B, 3, T) outputs.

        Figures: `snr_active` (dB, mean over active slots) and `sep_gain` (dB, `separation_gain`
        over active slots).

        Args:
            model: a label-queried separator, model(mixture (B, 4, T), query (B, 3·18)) -> (B, 3, 1, T).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        B = batch["mixture"].shape[0]
        est = self.call(model, batch["mixture"], batch["label_vector"].reshape(B, -1))[:, :, 0]
        if self.loss == "masked_snr":
            loss = losses.masked_snr_loss(est, batch["targets"], batch["active"])
        else:
            loss = losses.class_aware_pit_snr_loss(est, batch["targets"], batch["label_vector"])
        if not self.want_figures:
            return loss, {}
        return loss, {"snr_active": _active_snr(est, batch), "sep_gain": _active_separation_gain(est, batch)}


def _active_snr(est, batch):
    with torch.no_grad():
        s = snr(est.detach().float(), batch["targets"].float())
        act = batch["active"]
        return float(s[act].mean()) if act.any() else 0.0


@torch.no_grad()
def separation_gain(est: torch.Tensor, ref: torch.Tensor, mix0: torch.Tensor) -> float:
    """Mean over rows of SNR(ŝ, s) − SNR(α·x₀, s), α = ⟨x₀, s⟩/‖x₀‖² the best gain on the
    mixture's channel 0. Positive once a model separates; a model that only rescales its
    mixture scores at most 0 dB. Computed in float64, without gradient.

    Args:
        est: estimates of shape (N, samples).
        ref: references of shape (N, samples).
        mix0: the mixture's channel 0 for each row, shape (N, samples).

    Returns:
        The mean gain in dB (0.0 when there are no rows).
    """
    if not len(ref):
        return 0.0
    est, ref, mix0 = est.detach().double(), ref.double(), mix0.double()
    return float((snr(est, ref) - snr(best_scaled(mix0, ref), ref)).mean())


def _active_separation_gain(est, batch):
    """separation_gain over the active slots of (B, S, T) estimates aligned with the targets."""
    act = batch["active"]
    mix0 = batch["mixture"][:, :1].expand(-1, act.shape[1], -1)
    return separation_gain(est[act], batch["targets"][act], mix0[act])


class USSTask(Task):
    """DeFT-Mamba-USS: SA-SDR on the foreground objects (PIT within foreground) + 0.01·(SA-SDR
    on interference (PIT within interference) + SI-SNR on noise), CE on active foreground, KL to
    uniform on silent foreground, BCE on the silence branch.

    `si_warmup_steps` (option, default 0): for the first steps the foreground term is the
    negative SI-SNR of the active slots instead, so that a rescaled copy of the mixture earns
    nothing and separation has to start; SA-SDR (the paper's loss) takes over afterwards.

    Args:
        **options: `si_warmup_steps`.

    Raises:
        S5Error: If an option is unknown.
    """

    OPTIONS = {"si_warmup_steps": 0}

    def step(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """The USS loss above on the model's objects, foreground and interference aligned by PIT.

        Figures: `sa_sdr_fg` (dB), `snr_active` (dB), `sep_gain` (dB) and `class_acc` (% of active
        foreground slots whose class logits pick the right class).

        Args:
            model: a USS model (`n_fg`, `n_int`; model(mixture) -> {waveforms, class_logits, silence_logit}).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        out = self.call(model, batch["mixture"])
        wave, logits, sil = out["waveforms"], out["class_logits"], out["silence_logit"]
        nf, ni = model.n_fg, model.n_int
        fg, inter, noise = wave[:, :nf], wave[:, nf:nf + ni], wave[:, nf + ni]
        perm = losses.best_permutation(fg, batch["targets"])
        fg, logits, sil = (losses.gather_slots(x, perm) for x in (fg, logits[:, :nf], sil[:, :nf]))
        iperm = losses.best_permutation(inter, batch["interference"])
        inter = losses.gather_slots(inter, iperm)
        active = batch["active"]
        if self.global_step < int(self.options["si_warmup_steps"]):
            fg_term = -si_snr(fg[active], batch["targets"][active]).mean()
        else:
            fg_term = losses.neg_sa_sdr(fg, batch["targets"])
        sep = fg_term + 0.01 * (
            losses.neg_sa_sdr(inter, batch["interference"]) + losses.neg_si_snr(noise, batch["noise"]))
        cls = batch["label_vector"].argmax(-1)
        ce = F.cross_entropy(logits[active], cls[active]) if active.any() else logits.sum() * 0
        kl = losses.kl_to_uniform(logits[~active])
        bce = F.binary_cross_entropy_with_logits(sil, (~active).float())
        loss = sep + ce + kl + bce
        if not self.want_figures:
            return loss, {}
        with torch.no_grad():
            acc = ((logits.argmax(-1) == cls) & active).sum() / active.sum().clamp(min=1)
        return loss, {"sa_sdr_fg": -float(losses.neg_sa_sdr(fg.detach(), batch["targets"])),
                      "snr_active": _active_snr(fg, batch), "sep_gain": _active_separation_gain(fg, batch),
                      "class_acc": float(acc) * 100}


def frozen(path, task: str = "uss") -> torch.nn.Module:
    """A trained component (an exported checkpoint of `task`), frozen and in eval mode, for tasks
    that learn from its outputs.

    Args:
        path: the exported checkpoint (as written in a config).
        task: the task it must have been trained for.

    Returns:
        The model on the CPU, in eval mode, every parameter with requires_grad False.

    Raises:
        FileNotFoundError: If the file does not exist.
        S5Error: If it cannot be loaded or is not a checkpoint of `task`.
    """
    from ..models.checkpoints import load_component

    model, _ = load_component(path, expect_task=task)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


@torch.no_grad()
def uss_foreground(uss: Any, batch: dict) -> torch.Tensor:
    """The USS's foreground outputs (B, 3, T) assigned to the batch's target slots by PIT.

    Args:
        uss: a frozen USS model (moved to the batch's device and set to eval mode).
        batch: a stream batch (`mixture`, `targets`).

    Returns:
        Foreground waveforms of shape (B, n_fg, samples), slot i aligned with target i (no gradient).
    """
    uss.to(batch["mixture"].device).eval()
    fg = uss(batch["mixture"])["waveforms"][:, :uss.n_fg]
    return losses.gather_slots(fg, losses.best_permutation(fg, batch["targets"]))


@torch.no_grad()
def tse_outputs(tse: torch.nn.Module, batch: dict, enrollments: torch.Tensor) -> torch.Tensor:
    """A frozen TSE's estimate of every active target (row-major order, as `x[batch["active"]]`)
    from the mixture, that target's enrollment (B, S, T) and its true class.

    Args:
        tse: a frozen TSE model (moved to the batch's device and set to eval mode).
        batch: a stream batch (`mixture`, `active`, `label_vector`).
        enrollments: one enrollment per slot, shape (B, S, samples).

    Returns:
        Estimates of shape (N, samples), N the number of active slots (no gradient).
    """
    b_idx, s_idx = torch.nonzero(batch["active"], as_tuple=True)
    tse.to(batch["mixture"].device).eval()
    return tse(batch["mixture"][b_idx], enrollments[b_idx, s_idx], batch["label_vector"][b_idx, s_idx])


class SCTask(Task):
    """M2D-SC on single sources: active dry targets (their class) and interference/noise
    (silence), each with a little of the mixture leaked in (as separated outputs have).
    With `uss_checkpoint`, the outputs of that (frozen) USS are added, as the pipeline feeds
    them: each foreground output assigned (PIT) to an active target takes its class, the others
    are silence; so the SC and its silence thresholds see what it classifies at inference.
    With `tse_checkpoint` as well, that (frozen) TSE's re-extraction of each active target from
    its USS output and true class is added too, as the pipeline re-classifies after every pass.
    Step 1: ArcFace + KL to uniform; step 2 (`energy_weight` > 0): + squared energy hinge.

    Args:
        **options: train_blocks, leak, s, m, energy_weight, m_in, m_out, uss_checkpoint,
            tse_checkpoint (see OPTIONS for their defaults).

    Raises:
        S5Error: If an option is unknown, tse_checkpoint is given without uss_checkpoint, or a
            checkpoint cannot be loaded or is of another task.
        FileNotFoundError: If a named checkpoint does not exist.
    """

    OPTIONS = {"train_blocks": -1, "leak": 0.1, "s": 32.0, "m": 0.5, "energy_weight": 0.0, "m_in": -6.0,
               "m_out": -1.0, "uss_checkpoint": None, "tse_checkpoint": None}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.uss = frozen(self.options["uss_checkpoint"]) if self.options["uss_checkpoint"] else None
        if self.options["tse_checkpoint"] and self.uss is None:
            raise S5Error("SC task option tse_checkpoint needs uss_checkpoint (the TSE's enrollments)")
        self.tse = frozen(self.options["tse_checkpoint"], "tse") if self.options["tse_checkpoint"] else None

    def trainable(self, model: torch.nn.Module) -> list[torch.nn.Parameter]:
        """Freeze all but the head and the last `train_blocks` blocks (`freeze_m2d_except`).

        Args:
            model: the SC (changed in place).

        Returns:
            The parameters left trainable.
        """
        freeze_m2d_except(model, int(self.options["train_blocks"]), head_names=("class_weight",))
        return super().trainable(model)

    def inputs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Active sources (with leak), their classes, and the non-zero silent inputs.

        Args:
            batch: a stream batch.

        Returns:
            Active inputs (N_act, samples): each active target plus u·leak of its mixture's channel 0
            (u uniform in [0, 1)), then the USS (and TSE) outputs if those checkpoints are set;
            their classes (N_act,) long; silent inputs (N_sil, samples): interference, noise and
            the USS outputs assigned to inactive slots, all-zero rows dropped.
        """
        mix0 = batch["mixture"][:, 0]
        act = batch["active"]
        owner = torch.nonzero(act)[:, 0]  # the mixture each active source comes from
        leak = float(self.options["leak"])
        active_in = batch["targets"][act] + leak * torch.rand(len(owner), 1, device=mix0.device) * mix0[owner]
        classes = batch["label_vector"].argmax(-1)[act]
        silent = torch.cat([batch["interference"].reshape(-1, mix0.shape[-1]), batch["noise"]])
        if self.uss is not None:
            fg = uss_foreground(self.uss, batch)
            extra = [fg[act]]
            if self.tse is not None:
                extra.append(tse_outputs(self.tse, batch, fg))
            active_in = torch.cat([active_in, *extra])
            classes = torch.cat([classes] * (1 + len(extra)))
            silent = torch.cat([silent, fg[~act]])
        return active_in, classes, silent[silent.pow(2).sum(-1) > 0]

    def step(self, model: Any, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """ArcFace on the active inputs + KL to uniform on the silent ones (+ the energy hinge).

        Figures: `class_acc` (% of active inputs classified right), `energy_active` and
        `energy_silent` (mean energies).

        Args:
            model: an SC with `cosine(wave)` (M2DSC, CNNSC).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        x_act, y, x_sil = self.inputs(batch)
        cos = self.call(model.cosine, torch.cat([x_act, x_sil]))
        cos_act, cos_sil = cos[:len(x_act)], cos[len(x_act):]
        s, margin = float(self.options["s"]), float(self.options["m"])
        loss = losses.arcface_loss(cos_act, y, s, margin) + losses.kl_to_uniform(s * cos_sil)
        lam = float(self.options["energy_weight"])
        e_act, e_sil = losses.energy(s * cos_act), losses.energy(s * cos_sil)
        if lam:
            loss = loss + lam * losses.energy_hinge(e_act, e_sil, float(self.options["m_in"]),
                                                    float(self.options["m_out"]))
        if not self.want_figures:
            return loss, {}
        with torch.no_grad():
            acc = (cos_act.argmax(-1) == y).float().mean() if len(y) else torch.tensor(0.0)
        return loss, {"class_acc": float(acc) * 100, "energy_active": float(e_act.detach().mean()),
                      "energy_silent": float(e_sil.detach().mean()) if len(e_sil) else 0.0}


def class_aware_rows_loss(est: torch.Tensor, targets: torch.Tensor, label_vector: torch.Tensor,
                          active: torch.Tensor) -> torch.Tensor:
    """The 2026 class-aware PIT SNR loss of one estimate per active target (a TSE's queries).

    Within a mixture, estimates whose queries carry one class may exchange their targets
    (`losses.class_aware_pit_snr_loss`, the 2026 separator's loss); the mean is over the active
    targets, as `_snr_loss`'s.

    Args:
        est: (N, T) estimates, one per active slot in row-major order (as `targets[active]`).
        targets: (B, S, T) references.
        label_vector: (B, S, classes) one-hot classes (zeros on silent slots).
        active: (B, S) bool, N of them True.

    Returns:
        The scalar loss.
    """
    full = est.new_zeros(targets.shape)
    full[active] = est
    labels = label_vector * active[..., None]  # an inactive slot is silent whatever it holds
    per_slot_mean = losses.class_aware_pit_snr_loss(full, targets.to(est.dtype), labels)
    return per_slot_mean * active.numel() / active.sum().clamp(min=1)


def _snr_loss(est, ref):
    """Negative SNR of (N, T) estimates, averaged over rows."""
    return losses.masked_snr_loss(est[:, None], ref[:, None], torch.ones(len(ref), 1, dtype=torch.bool))


class TSETask(Task):
    """DeFT-Mamba-TSE: for each active target, the mixture, an enrollment and the true one-hot ->
    the target; masked SNR. Enrollments are the outputs of a trained USS (`uss_checkpoint`,
    frozen, assigned to targets by PIT) or, without one, the target plus a share of the mixture.

    Options that make training cover what the pipeline asks of the TSE:
    - `self_enroll_prob`: with this probability an enrollment is replaced by the TSE's own
      output for it (no gradient), as in the second pass (fss3), whose enrollment is a TSE output;
    - `mixture_enroll_prob`: with this probability the enrollment is the mixture's channel 0, so
      the class one-hot is the only clue and the model has to learn to use it;
    - `unrolled_passes` (1 or 2): at 2 the training step runs both passes of the pipeline, the
      second enrolled with the first's output *with* its gradient, and the loss is
      (1 − w)·first + w·second (`second_pass_weight` w), so the first pass is also trained to be
      what the second refines (`self_enroll_prob` trains the second pass on detached outputs);
    - `loss`: masked_snr (each query against its own target) or class_aware_pit (2026: the
      queries of one mixture that carry one class may exchange their targets, so two queries of
      a repeated class must extract two different sources, either way round).

    Args:
        **options: uss_checkpoint, self_enroll_prob, mixture_enroll_prob, unrolled_passes,
            second_pass_weight, loss (see OPTIONS for their defaults).

    Raises:
        S5Error: If an option is unknown, unrolled_passes is not 1 or 2, the loss is not one of
            SEPARATOR_LOSSES, or the USS checkpoint cannot be loaded or is of another task.
        FileNotFoundError: If the USS checkpoint does not exist.
    """

    OPTIONS = {"uss_checkpoint": None, "self_enroll_prob": 0.0, "mixture_enroll_prob": 0.0, "unrolled_passes": 1,
               "second_pass_weight": 0.5, "loss": "masked_snr"}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.uss = frozen(self.options["uss_checkpoint"]) if self.options["uss_checkpoint"] else None
        if int(self.options["unrolled_passes"]) not in (1, 2):
            raise S5Error(f"TSE task option unrolled_passes is {self.options['unrolled_passes']!r}; it takes 1 or 2")
        if self.options["loss"] not in SEPARATOR_LOSSES:
            raise S5Error(f"TSE task option loss is {self.options['loss']!r}; "
                          f"it takes {', '.join(SEPARATOR_LOSSES)}")

    def enrollments(self, batch: dict) -> torch.Tensor:
        """One enrollment per target slot: the frozen USS's PIT-aligned foreground, or without a USS
        the target plus 0.3 × the mixture's channel 0.

        Args:
            batch: a stream batch.

        Returns:
            Enrollments of shape (B, 3, samples).
        """
        if self.uss is None:
            return batch["targets"] + 0.3 * batch["mixture"][:, :1]
        return uss_foreground(self.uss, batch)

    def step(self, model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Extract every active target from its mixture, enrollment and one-hot; the option's loss.

        In training the enrollments are augmented (`self_enroll_prob`, `mixture_enroll_prob`) and,
        with `unrolled_passes` 2, the second pass is part of the loss. Figures: `snr_active`,
        `snr_gain_over_enrollment` and `sep_gain` (dB, first pass); in eval mode also
        `second_pass_gain` and `sep_gain_two_passes` (dB).

        Args:
            model: a TSE, model(mixture (N, 4, T), enrollment (N, T), one-hot (N, 18)) -> (N, T).
            batch: a stream batch.

        Returns:
            The scalar loss (with its graph) and the figures named above ({} when `want_figures` is False).
        """
        act = batch["active"]
        b_idx, s_idx = torch.nonzero(act, as_tuple=True)
        mix, hot = batch["mixture"][b_idx], batch["label_vector"][b_idx, s_idx]
        enr = self.enrollments(batch)[b_idx, s_idx]
        if model.training:
            enr = self._augment(model, mix, enr, hot)
        est = self.call(model, mix, enr, hot)
        ref = batch["targets"][b_idx, s_idx]
        loss = self._loss(est, batch)
        if model.training and int(self.options["unrolled_passes"]) == 2:
            w = float(self.options["second_pass_weight"])
            loss = (1 - w) * loss + w * self._loss(self.call(model, mix, est, hot), batch)
        if not self.want_figures:
            return loss, {}
        with torch.no_grad():  # figures of the first pass (the loss may include the second)
            first = snr(est.float(), ref.float())
            gain = first - snr(enr.float(), ref.float())
        figures = {"snr_active": float(first.mean()), "snr_gain_over_enrollment": float(gain.mean()),
                   "sep_gain": separation_gain(est, ref, mix[:, 0])}
        if not model.training:
            figures.update(self._second_pass(model, mix, est, hot, ref))
        return loss, figures

    def _loss(self, est: torch.Tensor, batch) -> torch.Tensor:
        """The option's loss of (N, T) estimates of the active targets (row-major order)."""
        act = batch["active"]
        if self.options["loss"] == "masked_snr":
            return _snr_loss(est, batch["targets"][act])
        return class_aware_rows_loss(est, batch["targets"], batch["label_vector"], act)

    @torch.no_grad()
    def _second_pass(self, model, mix, est, hot, ref) -> dict:
        """The pipeline's second pass (fss3) on validation: the model's own output as enrollment.
        `second_pass_gain` is what it adds over the first pass; `sep_gain_two_passes` is the
        two passes' separation figure, what a recipe selects on when the final stage matters."""
        est2 = model(mix, est, hot)
        gain = snr(est2.float(), ref.float()) - snr(est.float(), ref.float())
        return {"second_pass_gain": float(gain.mean()), "sep_gain_two_passes": separation_gain(est2, ref, mix[:, 0])}

    @torch.no_grad()
    def _augment(self, model, mix, enr, hot):
        n = len(enr)
        own = torch.rand(n, device=enr.device) < float(self.options["self_enroll_prob"])
        if own.any():
            enr = enr.clone()
            enr[own] = self.call(model, mix[own], enr[own], hot[own])
        blind = torch.rand(n, device=enr.device) < float(self.options["mixture_enroll_prob"])
        return torch.where(blind[:, None], mix[:, 0], enr)


TASK_CLASSES = {"tagger": TaggerTask, "slot_tagger": SlotTaggerTask, "separator": SeparatorTask,
                "uss": USSTask, "sc": SCTask, "tse": TSETask}
