"""Which device embeds: ``auto`` (a GPU when PyTorch sees one), ``cpu`` or ``cuda``.

The device never enters a model's identity: the same weights give the same vectors (cosine
>= 0.9999) on either, so an index built on a GPU answers queries on a laptop and the reverse.
Asking whether a GPU is there must not cost a PyTorch import on machines that have none (text
queries start in about a second with ONNX), so ``auto`` first looks for an NVIDIA driver.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError
from ..settings import ENV_DEVICE, Settings

__all__ = ["DEVICES", "check_device", "gpu_present", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: str | None) -> str:
    """``device``, else ``$PAPERLIKE_DEVICE``, else ``auto``; lower-cased and checked.

    Raises:
        ModelError: Not one of :data:`DEVICES`.
    """
    value = (device or Settings.from_env().device or "auto").strip().lower()
    if value not in DEVICES:
        source = "" if device else f" (from ${ENV_DEVICE})"
        raise ModelError(f"unknown device '{value}'{source}; use one of: {', '.join(DEVICES)}")
    return value


def _driver_absent() -> bool:
    # Linux without the NVIDIA kernel driver (or WSL's GPU bridge), and macOS, have no CUDA:
    # answer without importing PyTorch.
    if sys.platform == "darwin":
        return True
    if sys.platform.startswith("linux"):
        return not (Path("/proc/driver/nvidia").exists() or Path("/dev/dxg").exists())
    return False


@lru_cache(maxsize=1)
def gpu_present() -> bool:
    """True when PyTorch can use a CUDA GPU here (imports torch only if a driver is installed)."""
    if _driver_absent():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str | None) -> str:
    """The device that will run the model: ``cpu`` or ``cuda``.

    Raises:
        ModelError: ``cuda`` asked for but PyTorch sees no GPU.
    """
    value = check_device(device)
    if value == "cuda" and not gpu_present():
        raise ModelError(
            "--device cuda, but PyTorch sees no CUDA GPU here; use --device auto or cpu, "
            "or install a CUDA build of PyTorch (see pytorch.org)"
        )
    if value == "auto":
        return "cuda" if gpu_present() else "cpu"
    return value
