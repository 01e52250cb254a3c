"""Train a network under an epoch or a wall-clock budget.

:func:`fit` crops the data once (:func:`~kplearn.train.crops.build_crops`),
then loops: batches of cached crops are augmented in torch
(:func:`~kplearn.train.augment.augment_batch`), the model's own loss is
minimised with AdamW, the learning rate follows a warm-up + cosine schedule of
the *fraction of the budget used* (steps for an epoch budget, seconds for a
time budget), and after every epoch a validation metric decides which weights
to keep. The best weights are restored at the end (and written to ``out``
when given); training stops early after ``patience`` epochs without
improvement.

A time budget makes the number of steps depend on the machine, so only epoch
budgets are reproducible bit for bit (with the same seed and thread count).

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.models import build_model
>>> data = make_faces(24, image_size=64, seed=0)
>>> net = build_model("regression", "faces68", preset="fast")
>>> hist = fit(net, data[:16], data[16:], epochs=1, batch_size=8, progress=False)
>>> hist.metric, len(hist.epochs)
('nme', 1)
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from kplearn.data.datasets import KeypointDataset
from kplearn.models.base import KeypointNet
from kplearn.run_config import box_mode_for
from kplearn.skeletons import Skeleton, get_skeleton
from kplearn.train.augment import augment_batch, augment_config
from kplearn.train.crops import CropSet, build_crops
from kplearn.train.predict import forward_batches, predict_crops
from kplearn.train.progress import TrainingProgress
from kplearn.train.recipe import (
    BatchSource,
    autocast,
    memory_format,
    outputs_to_float,
    resolve_recipe,
)

__all__ = ["fit", "History", "resolve_device", "lr_factor", "SCHEDULES", "crops_for"]

SCHEDULES = ("cosine", "onecycle", "constant")


@dataclass
class History:
    """What :func:`fit` did: one record per epoch, the best epoch, why it stopped."""

    metric: str
    mode: str
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    stop_reason: str = ""
    seconds: float = 0.0
    steps: int = 0
    train_size: int = 0
    val_size: int = 0
    device: str = "cpu"
    #: The training numerics used (:func:`kplearn.train.recipe.resolve_recipe`).
    recipe: dict = field(default_factory=dict)
    #: Seconds spent in training steps (batches, forward, backward, update), and the
    #: resulting training speed, without cropping and validation.
    train_seconds: float = 0.0
    images_per_second: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        return value < self.best_value if self.mode == "min" else value > self.best_value


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/``"auto"``: CUDA if available, else Apple MPS, else the CPU."""
    if device is not None and str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def lr_factor(fraction: float, schedule: str = "cosine", warmup: float = 0.03) -> float:
    """Learning-rate multiplier at ``fraction`` (0..1) of the budget.

    ``"cosine"``: linear warm-up over ``warmup``, then half a cosine down to 1 %;
    ``"onecycle"``: the same with a 30 % warm-up; ``"constant"``: 1.

    >>> lr_factor(0.0, "cosine", 0.1), lr_factor(0.1, "cosine", 0.1), round(lr_factor(1.0), 3)
    (0.01, 1.0, 0.01)
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return 1.0
    warm = 0.3 if schedule == "onecycle" else float(warmup)
    f = min(max(fraction, 0.0), 1.0)
    if warm > 0 and f < warm:
        return 0.01 + 0.99 * f / warm
    p = (f - warm) / max(1.0 - warm, 1e-9)
    return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * p))


def crops_for(
    model: KeypointNet, data, box_mode: str | None, padding: float, progress: bool
) -> CropSet:
    """The :class:`CropSet` a model trains or is validated on."""
    if isinstance(data, CropSet):
        return data
    if not isinstance(data, KeypointDataset):
        raise ValueError(f"expected a KeypointDataset or CropSet, got {type(data).__name__}")
    bottom_up = model.output_kind == "paf"
    if box_mode is None:
        box_mode = box_mode_for(single_instance=data.is_single_instance, bottom_up=bottom_up)
    return build_crops(data, model.input_size, box_mode=box_mode, padding=padding,
                       bottom_up=bottom_up, progress=progress)  # fmt: skip


def default_metric(model: KeypointNet, skeleton: Skeleton) -> tuple[str, str]:
    """``(metric, "min"|"max")`` used to pick the best epoch."""
    if model.output_kind == "paf":
        return "loss", "min"
    if skeleton.name == "faces68":
        return "nme", "min"
    return "epe", "min"


@torch.no_grad()
def validate(
    model: KeypointNet, crops: CropSet, metric: str, skeleton: Skeleton, batch_size: int = 64
) -> dict:
    """Validation figures in crop pixels (no flip test): the selection metric and, cheaply, EPE."""
    gt = crops.keypoints[:, 0].double().numpy()
    if metric == "loss":
        total, n = 0.0, 0
        was = model.training
        model.train(False)
        for start, out in forward_batches(model, crops.images, False, batch_size):
            kp = crops.keypoints[start : start + batch_size].to(next(model.parameters()).device)
            value, _ = model.loss(out, kp)
            total += float(value) * len(kp)
            n += len(kp)
        model.train(was)
        return {"loss": total / max(n, 1)}
    xy, _ = predict_crops(model, crops.images, flip_test=False, batch_size=batch_size)
    vis = gt[..., 2] > 0
    err = np.linalg.norm(xy - gt[..., :2], axis=-1)
    err[np.isnan(err)] = np.inf  # a keypoint not predicted is a miss (as kplearn.metrics.epe)
    out = {"epe": float(err[vis].mean()) if vis.any() else float("nan")}
    if metric == "nme":
        from kplearn.metrics import nme

        out["nme"] = float(nme(np.concatenate([xy, gt[..., 2:]], -1), gt, normalize="interocular"))
    return out


def fit(
    model: KeypointNet,
    train: KeypointDataset | CropSet,
    val: KeypointDataset | CropSet | None = None,
    loss=None,
    *,
    epochs: int | None = None,
    minutes: float | None = None,
    batch_size: int = 32,
    lr: float = 2e-3,
    weight_decay: float = 1e-4,
    schedule: str = "cosine",
    warmup: float = 0.03,
    augment=True,
    seed: int = 0,
    progress: bool = True,
    patience: int | None = None,
    metric: str | None = None,
    device: str | torch.device | None = None,
    box_mode: str | None = None,
    padding: float = 1.25,
    out: str | Path | None = None,
    num_threads: int | None = None,
    grad_clip: float | None = None,
    ema: float | None = None,
    label_offset: float | str | None = None,
    skeleton: str | Skeleton | None = None,
    checkpoint_extra: dict | None = None,
    precision: str = "fp32",
    channels_last: bool | None = None,
    compile: bool = False,
    prefetch: bool = False,
) -> History:
    """Train ``model`` on ``train``, keeping the weights that validate best.

    Parameters
    ----------
    model : KeypointNet
        From :func:`kplearn.models.build_model`.
    train, val : KeypointDataset or CropSet
        Training data and (optional) validation data of the model's layout. Without
        ``val`` the last weights are kept.
    loss : callable, optional
        ``loss(output_dict, keypoints (N, M, K, 3) in input pixels) -> Tensor`` (or
        ``(Tensor, dict)``); the model's own loss by default.
    epochs, minutes : optional
        Budget: passes over the training data and/or wall-clock minutes (cropping,
        training and validation included); training stops at whichever comes first.
        Neither: 10 epochs.
    batch_size, lr, weight_decay : AdamW settings.
    schedule : {"cosine", "onecycle", "constant"}
        Learning-rate shape over the budget (see :func:`lr_factor`); ``warmup`` its warm-up fraction.
    augment : bool, dict or AugmentConfig
        Training augmentation (see :mod:`kplearn.train.augment`).
    seed : int
        Seeds batch order, augmentation and torch.
    progress : bool
        Show progress (:class:`~kplearn.train.progress.TrainingProgress`: budget used,
        loss, last validation metric, elapsed / budget): a bar on a terminal or in
        Jupyter, a line now and then in a log, nothing with ``TQDM_DISABLE``.
    patience : int, optional
        Stop after this many validations without improvement.
    metric : str, optional
        Selection metric: ``"nme"`` (faces68), ``"epe"`` (crop pixels) or ``"loss"``;
        chosen from the layout by default.
    device : optional
        ``"cpu"``, ``"cuda"``, ``"mps"``; by default CUDA or MPS when available.
    box_mode : {"image", "box"}, optional
        How instances are cropped (default: whole images for one instance per
        image, padded boxes otherwise).
    padding : float
        Box enlargement.
    out : path, optional
        Run directory: the best checkpoint (:func:`~kplearn.train.checkpoint.save_checkpoint`)
        and ``history.json`` are written there.
    num_threads : int, optional
        ``torch.set_num_threads`` during training (restored afterwards).
    grad_clip : float, optional
        Clip the gradient norm.
    ema : float, optional
        Keep an exponential moving average of the weights with this decay (e.g.
        0.998; warmed up as ``min(ema, (1 + t) / (10 + t))``); validation, the best
        checkpoint and the returned model use the averaged weights.
    label_offset : float, "auto" or None
        Horizontal offset (input pixels) of the labels from the image content's mirror
        line. The network is trained on labels moved back by it, so that flip
        augmentation and flip test-time augmentation stay consistent with the labels,
        and the model adds it to its predictions (config ``label_offset``). ``"auto"``
        measures it on the training crops (:func:`kplearn.train.mirror.estimate_label_offset`;
        whole-image crops only); ``None`` keeps the model's current offset (0 for a new model).
    skeleton : optional
        The layout (taken from ``train`` when it is a dataset).
    checkpoint_extra : dict, optional
        Extra entries for ``config.json``.
    precision : {"fp32", "bf16"}
        ``"bf16"``: forward pass under bf16 autocast where the device supports it
        (see :mod:`kplearn.train.recipe`; falls back to fp32 with a warning).
    channels_last : bool, optional
        Training memory format; by default the device's (channels-last on the CPU).
    compile : bool
        ``torch.compile`` the training forward pass (compile time counts in the budget).
    prefetch : bool
        Augment the next batch in a background thread (same batches as without).
        The recipe used is recorded in ``History.recipe``.

    Returns
    -------
    History
    """
    t_start = time.perf_counter()
    if epochs is None and minutes is None:
        epochs = 10
    if epochs is not None and (int(epochs) != epochs or epochs < 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if minutes is not None and not (minutes > 0 and math.isfinite(minutes)):
        raise ValueError(f"minutes must be positive, got {minutes!r}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be at least 2 (batch norm), got {batch_size}")
    if skeleton is None:
        if not isinstance(train, KeypointDataset):
            raise ValueError("pass skeleton= when training on a CropSet")
        skeleton = train.skeleton
    sk = get_skeleton(skeleton)
    if sk.num_keypoints != model.num_keypoints:
        raise ValueError(
            f"the model predicts {model.num_keypoints} keypoints, the data has {sk.num_keypoints} ({sk.name})"
        )
    for name, d in (("train", train), ("val", val)):
        if isinstance(d, KeypointDataset) and d.skeleton.name != sk.name:
            raise ValueError(f"{name} data has layout {d.skeleton.name!r}, expected {sk.name!r}")
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    cleanups: list = []  # run however _fit ends (stops a prefetching thread)
    try:
        return _fit(**locals())
    finally:
        for done in cleanups:
            done()
        torch.set_num_threads(old_threads)


def _resolve_label_offset(label_offset, crops: CropSet, sk: Skeleton, box_mode: str, model) -> float:
    if isinstance(label_offset, str):
        if label_offset != "auto":
            raise ValueError(f"label_offset must be 'auto', a number or None, got {label_offset!r}")
        if box_mode != "image" or model.output_kind == "paf":
            return 0.0  # only aligned whole-image crops (faces) have a meaningful mean image
        from kplearn.train.mirror import estimate_label_offset

        return float(estimate_label_offset(crops.images.numpy(), crops.keypoints.numpy(), sk.flip_index))
    value = float(label_offset)
    if not math.isfinite(value):
        raise ValueError(f"label_offset must be finite, got {label_offset!r}")
    return value


def _shift_labels(crops: CropSet, dx: float) -> CropSet:
    """A copy of ``crops`` with labelled x moved by ``-dx`` (into the mirror-consistent frame)."""
    kp = crops.keypoints.clone()
    kp[..., 0] -= dx * (kp[..., 2] > 0).to(kp.dtype)
    return dataclasses.replace(crops, keypoints=kp)


def _update_ema(ema_state: dict, model: torch.nn.Module, decay: float) -> None:
    """``ema = decay * ema + (1 - decay) * weights`` for floating tensors; others copied."""
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                ema_state[key].mul_(decay).add_(value.detach(), alpha=1.0 - decay)
            else:
                ema_state[key].copy_(value)


def _fit(*, model, train, val, loss, epochs, minutes, batch_size, lr, weight_decay, schedule, warmup,
         augment, seed, progress, patience, metric, device, box_mode, padding, out, grad_clip, sk, ema,
         label_offset, precision, channels_last, compile, prefetch, cleanups,
         checkpoint_extra, t_start, **_) -> History:  # fmt: skip
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = resolve_device(device)
    recipe = resolve_recipe(dev, precision, channels_last, compile, prefetch)
    fmt = memory_format(recipe)
    model.to(dev).to(memory_format=fmt)
    if box_mode is None and isinstance(train, KeypointDataset):
        box_mode = box_mode_for(single_instance=train.is_single_instance,
                                bottom_up=model.output_kind == "paf")  # fmt: skip
    box_mode = box_mode or "image"
    train_crops = crops_for(model, train, box_mode, padding, progress)
    val_crops = None if val is None else crops_for(model, val, box_mode, padding, progress)
    if len(train_crops) < 2:
        raise ValueError("need at least two training instances")
    if label_offset is not None:
        dx = _resolve_label_offset(label_offset, train_crops, sk, box_mode, model)
        model.config["label_offset"] = [dx, 0.0]
    else:  # keep what the model already has (0 for a new one)
        dx = float(model.label_offset[0])
    if dx:
        # Only the training targets move: validation compares decoded (offset) predictions
        # with the labels as they are.
        train_crops = _shift_labels(train_crops, dx)
    if hasattr(model, "init_from_keypoints"):
        model.init_from_keypoints(train_crops.keypoints.to(dev))
    aug = augment_config(augment)
    flip_index = np.asarray(sk.flip_index)
    metric_name, mode = default_metric(model, sk) if metric is None else (metric, "min")
    if metric_name not in ("nme", "epe", "loss"):
        raise ValueError(f"metric must be 'nme', 'epe' or 'loss', got {metric_name!r}")
    if metric_name == "nme" and sk.name != "faces68":
        raise ValueError("metric 'nme' needs the faces68 layout (inter-ocular normalisation)")
    history = History(metric=metric_name, mode=mode, train_size=len(train_crops),
                      val_size=0 if val_crops is None else len(val_crops), device=str(dev))  # fmt: skip
    loss_fn = model.loss if loss is None else loss

    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )
    n = len(train_crops)
    bs = min(batch_size, n)
    steps_per_epoch = max(1, n // bs)
    total_steps = None if epochs is None else int(epochs) * steps_per_epoch
    budget = None if minutes is None else 60.0 * float(minutes)

    def fraction(step: int) -> float:
        f = 0.0
        if total_steps is not None:
            f = max(f, step / total_steps)
        if budget is not None:
            f = max(f, (time.perf_counter() - t_start) / budget)
        return f

    def out_of_budget(step: int) -> bool:
        return fraction(step) >= 1.0

    shown = TrainingProgress(progress, epochs=epochs, minutes=minutes, metric=metric_name,
                             start=t_start)  # fmt: skip
    def make_batch(idx, gen):
        x, kp = augment_batch(train_crops.images[idx], train_crops.keypoints[idx], aug, gen, flip_index)
        return x.to(dev).contiguous(memory_format=fmt), kp.to(dev)

    source = BatchSource(n, bs, steps_per_epoch, rng, make_batch, prefetch=recipe["prefetch"])
    cleanups.append(source.close)
    step_model = torch.compile(model) if recipe["compile"] else model
    history.recipe = dict(recipe)
    train_seconds = 0.0
    best_state = None
    ema_state = None if not ema else copy.deepcopy(model.state_dict())
    since_best = 0
    step = 0
    epoch = 0
    stop = ""
    while not stop:
        epoch += 1
        model.train()
        source.start_epoch()
        running, count = 0.0, 0
        t_epoch = time.perf_counter()
        for b in range(steps_per_epoch):
            if out_of_budget(step):
                stop = "epochs" if total_steps is not None and step >= total_steps else "time"
                break
            t_step = time.perf_counter()
            x, kp = source.get(b)
            for group in optimizer.param_groups:
                group["lr"] = lr * lr_factor(fraction(step), schedule, warmup)
            with autocast(recipe, dev):
                output = step_model(x)
            value = loss_fn(outputs_to_float(output) if recipe["precision"] != "fp32" else output, kp)
            value = value[0] if isinstance(value, tuple) else value
            if not torch.isfinite(value):
                raise FloatingPointError(
                    f"the loss became {float(value)} at step {step}; lower the learning rate"
                )
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            step += 1
            train_seconds += time.perf_counter() - t_step
            if ema_state is not None:
                _update_ema(ema_state, model, min(float(ema), (1.0 + step) / (10.0 + step)))
            running += float(value.detach())
            count += 1
            shown.update(fraction(step), epoch=epoch, loss=running / count)
        if count == 0:  # the budget ran out before this epoch started
            epoch -= 1
            break
        record = {"epoch": epoch, "steps": step, "train_loss": running / count,
                  "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - t_epoch}  # fmt: skip
        if ema_state is not None:  # evaluate and keep the averaged weights
            live_state = copy.deepcopy(model.state_dict())
            model.load_state_dict(ema_state)
        if val_crops is not None:
            scores = validate(model, val_crops, metric_name, sk)
            record["val"] = scores
            value_now = scores[metric_name]
        else:
            value_now = record["train_loss"] if metric_name == "loss" else float("nan")
        history.epochs.append(record)
        if val_crops is None or history.improved(value_now):
            history.best_epoch, history.best_value = (
                epoch,
                (value_now if math.isfinite(value_now) else None),
            )
            best_state = copy.deepcopy(model.state_dict())
            since_best = 0
            if out is not None:
                from kplearn.train.checkpoint import save_checkpoint

                save_checkpoint(
                    model, out, box_mode=box_mode, padding=padding, extra=checkpoint_extra
                )
        else:
            since_best += 1
        shown.end_epoch(epoch, value_now if val_crops is not None else None)
        if ema_state is not None:
            model.load_state_dict(live_state)
        model.to(memory_format=fmt)  # validation predicts in the device's format
        if not stop and total_steps is not None and step >= total_steps:
            stop = "epochs"
        if not stop and budget is not None and out_of_budget(step):
            stop = "time"
        if not stop and patience is not None and since_best >= patience:
            stop = "early stopping"
    shown.close()
    source.close()
    history.stop_reason = stop or "time"
    history.steps = step
    history.train_seconds = train_seconds
    history.images_per_second = step * bs / train_seconds if train_seconds > 0 else 0.0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - t_start
    if out is not None:
        import json

        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "history.json").write_text(json.dumps(history.to_dict(), indent=2))
    return history
