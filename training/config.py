"""Training configuration: frozen, validated dataclasses read from a TOML file
(`training/configs/*.toml`) and saved in every checkpoint, so a run can always say what it was."""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"
DEFAULT_CONFIG = "cpu"
MODEL_KINDS = ("meflownet", "raft_small")
BACKBONES = ("cnn", "dav2")
SCHEDULES = ("onecycle", "cosine")
STAGES = (1, 2)
MIN_IMAGE_SIDE = 64  # the smallest images any config trains on
SIZE_MULTIPLE = 8  # crops and padded inference sizes are multiples of this (RAFT's 1/8 grid)


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the key."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "meflownet"  # meflownet | raft_small (the deep baseline)
    backbone: str = "cnn"  # cnn (small, trained with the encoder) | dav2 (Depth-Anything-V2, frozen)
    backbone_weights: str = ""  # dav2: local Hugging Face folder; empty: random init from dav2_size
    dav2_size: str = "tiny"  # tiny (tests) | small (the paper's), used when no weights are given
    backbone_channels: int = 16  # cnn feature channels (dav2 gives its head's 32)
    dav2_input: int = 518  # dav2 sees images resized to this side (a multiple of its 14-px patch)
    encoder_channels: int = 32  # ResNet encoder width at 1/2 resolution (paper: 64)
    encoder_blocks: int = 2
    decoder_channels: int = 48  # hidden width of each warping decoder
    decoder_blocks: int = 2
    iterations: int = 4  # warping iterations (paper: 5); RAFT-small uses raft_iterations
    raft_iterations: int = 12

    def validate(self) -> None:
        _check(self.kind in MODEL_KINDS, f"model.kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        _check(self.backbone in BACKBONES, f"model.backbone must be one of {BACKBONES}, got {self.backbone!r}")
        _check(self.dav2_size in ("tiny", "small"), f"model.dav2_size must be tiny or small, got {self.dav2_size!r}")
        _check(self.dav2_input % 14 == 0, f"model.dav2_input must be a multiple of 14 (the patch size), got {self.dav2_input}")
        for name in ("backbone_channels", "encoder_channels", "encoder_blocks", "decoder_channels", "decoder_blocks",
                     "iterations", "raft_iterations"):
            _check(getattr(self, name) >= 1, f"model.{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class LossConfig:
    gamma: float = 0.85  # iteration i of N weighs gamma^(N-i-1)
    log_scale_max: float = 10.0  # MoL: log b1 clamped to [0, this]; b2 = 1
    head_mol_weight: float = 0.5  # stage 2: 0.5 MoL_head + ROI-EPE_expr + EPE_expr

    def validate(self) -> None:
        _check(0 < self.gamma <= 1, f"loss.gamma must be in (0, 1], got {self.gamma}")
        _check(self.log_scale_max > 0, f"loss.log_scale_max must be positive, got {self.log_scale_max}")
        _check(self.head_mol_weight >= 0, f"loss.head_mol_weight must be >= 0, got {self.head_mol_weight}")


@dataclass(frozen=True)
class AugmentConfig:
    crop: tuple[int, int] = (96, 96)  # (H, W); shrinks to smaller images with a notice
    scale: tuple[float, float] = (0.9, 1.1)  # random zoom before the crop
    flip: float = 0.5  # probability of a horizontal flip (u negated, landmarks mirrored)
    brightness: float = 0.2  # multiplicative jitter, same for onset and apex
    contrast: float = 0.2
    saturation: float = 0.2
    noise_std: float = 2.0  # independent Gaussian noise per frame, in 0-255 units

    def validate(self) -> None:
        _check(len(self.crop) == 2 and all(c >= MIN_IMAGE_SIDE and c % SIZE_MULTIPLE == 0 for c in self.crop),
               f"augment.crop must be [H, W], each >= {MIN_IMAGE_SIDE} and a multiple of {SIZE_MULTIPLE}, got {list(self.crop)}")
        _check(0 < self.scale[0] <= self.scale[1], f"augment.scale must be [low, high] with 0 < low <= high, got {list(self.scale)}")
        _check(0 <= self.flip <= 1, f"augment.flip is a probability, got {self.flip}")
        for name in ("brightness", "contrast", "saturation"):
            _check(0 <= getattr(self, name) < 1, f"augment.{name} must be in [0, 1), got {getattr(self, name)}")
        _check(self.noise_std >= 0, f"augment.noise_std must be >= 0, got {self.noise_std}")


@dataclass(frozen=True)
class OptimConfig:
    steps: int = 1000  # per stage
    batch_size: int = 8  # per process (DDP: the global batch is this x world size)
    lr: float = 4e-4
    weight_decay: float = 1e-5
    schedule: str = "onecycle"  # onecycle (warm-up, then cosine anneal) | cosine (warm-up, cosine)
    warmup_steps: int = 50
    clip_grad: float = 1.0
    amp: bool = True  # bfloat16 autocast on CUDA; ignored on the CPU
    time_limit_min: float = 0.0  # >0: stop (and checkpoint) after this many minutes of the stage
    # [optim.stage2]: values that differ in stage 2 (e.g. a lower lr: its head decoder starts as a
    # copy of the trained facial decoder and only fine-tunes); never changed in place: for_stage makes a new config
    stage2: dict = field(default_factory=dict)

    def validate(self) -> None:
        _check(self.steps >= 1, f"optim.steps must be >= 1, got {self.steps}")
        _check(self.batch_size >= 1, f"optim.batch_size must be >= 1, got {self.batch_size}")
        _check(self.lr > 0, f"optim.lr must be positive, got {self.lr}")
        _check(self.schedule in SCHEDULES, f"optim.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        _check(0 <= self.warmup_steps < self.steps, f"optim.warmup_steps must be in [0, steps), got {self.warmup_steps}")
        _check(self.clip_grad > 0, f"optim.clip_grad must be positive, got {self.clip_grad}")
        _check(self.time_limit_min >= 0, f"optim.time_limit_min must be >= 0, got {self.time_limit_min}")


        known = {f.name for f in fields(self)} - {"stage2"}
        _check(set(self.stage2) <= known, f"[optim.stage2] may set {sorted(known)}, got {sorted(self.stage2)}")
        if self.stage2:
            self.for_stage(2).validate()

    def for_stage(self, stage: int) -> OptimConfig:
        """The settings of one stage: [optim], with [optim.stage2] overriding it for stage 2."""
        return replace(self, stage2={}, **self.stage2) if stage == 2 and self.stage2 else self


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    workers: int = 0  # DataLoader worker processes per rank
    log_every: int = 10
    checkpoint_every: int = 200
    validate_every: int = 200
    validation_samples: int = 32  # held-out identities scored at each validation

    def validate(self) -> None:
        for name in ("log_every", "checkpoint_every", "validate_every"):
            _check(getattr(self, name) >= 1, f"run.{name} must be >= 1, got {getattr(self, name)}")
        _check(self.workers >= 0 and self.validation_samples >= 0, "run.workers and run.validation_samples must be >= 0")


@dataclass(frozen=True)
class TrainConfig:
    name: str = DEFAULT_CONFIG
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> TrainConfig:
        for part in (self.model, self.loss, self.augment, self.optim, self.run):
            part.validate()
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> TrainConfig:
        sections = {"model": ModelConfig, "loss": LossConfig, "augment": AugmentConfig, "optim": OptimConfig, "run": RunConfig}
        unknown = set(data) - set(sections) - {"name"}
        if unknown:
            raise ConfigError(f"{source}: unknown section(s) {sorted(unknown)}; known: {sorted(sections)}")
        parts = {}
        for key, kind in sections.items():
            values = dict(data.get(key, {}))
            known = {f.name for f in fields(kind)}
            bad = set(values) - known
            if bad:
                raise ConfigError(f"{source}: unknown key(s) {sorted(bad)} in [{key}]; known: {sorted(known)}")
            for name, value in values.items():
                if isinstance(value, list):
                    values[name] = tuple(value)
            parts[key] = kind(**values)
        return cls(name=str(data.get("name", source)), **parts).validate()

    def with_changes(self, **sections: dict) -> TrainConfig:
        """A copy with some fields of some sections replaced: with_changes(optim={"steps": 5})."""
        return replace(self, **{key: replace(getattr(self, key), **values) for key, values in sections.items()}).validate()


def load_config(name_or_path: str | Path | None = None) -> TrainConfig:
    """A config by file path or by name in training/configs (default: cpu). ConfigError on a
    missing file or a bad value, naming both."""
    spec = str(name_or_path or DEFAULT_CONFIG)
    path = Path(spec)
    if not path.suffix:
        path = CONFIG_DIR / f"{spec}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))
        raise ConfigError(f"no training config {spec!r}: give a .toml file or one of {known}")
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML ({err})") from None
    data.setdefault("name", path.stem)
    return TrainConfig.from_dict(data, source=path.name)
