"""--device auto|cpu|cuda: where the model runs, never part of its identity."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import MiniLMEmbedder, get_embedder
from paperlike.embedding.device import check_device, gpu_present, resolve_device
from paperlike.errors import ModelError

no_gpu = pytest.mark.skipif(gpu_present(), reason="this machine has a CUDA GPU")


def test_device_names(monkeypatch):
    monkeypatch.delenv("PAPERLIKE_DEVICE", raising=False)
    assert check_device(None) == "auto" and check_device(" CPU ") == "cpu"
    monkeypatch.setenv("PAPERLIKE_DEVICE", "cuda")
    assert check_device(None) == "cuda" and check_device("cpu") == "cpu"
    with pytest.raises(ModelError, match="unknown device 'tpu'; use one of: auto, cpu, cuda"):
        check_device("tpu")
    with pytest.raises(ModelError, match="unknown device"):
        get_embedder("hashing", device="tpu")  # a typo fails even where the device does not matter
    with pytest.raises(ModelError, match="unknown device"):
        MiniLMEmbedder(device="gpu0")


def test_device_is_not_part_of_the_identity():
    assert MiniLMEmbedder(device="cpu").identity() == MiniLMEmbedder(device="cuda").identity() == MiniLMEmbedder().identity()


@no_gpu
def test_cuda_without_a_gpu_is_one_line_error():
    with pytest.raises(ModelError, match=r"^--device cuda, but PyTorch sees no CUDA GPU here; use --device auto or cpu"):
        resolve_device("cuda")
    with pytest.raises(ModelError, match="sees no CUDA GPU"):
        MiniLMEmbedder(device="cuda").resolved_backend()
    assert resolve_device("auto") == "cpu"


def test_onnx_backend_runs_on_the_cpu():
    with pytest.raises(ModelError, match="the onnx backend runs on the CPU"):
        MiniLMEmbedder(backend="onnx", device="cuda").resolved_backend()


@pytest.mark.skipif(sys.platform.startswith("linux") and gpu_present(), reason="an NVIDIA driver is installed")
def test_auto_on_a_machine_without_driver_does_not_import_torch():
    probe = (
        "import json, sys; from paperlike.embedding.device import resolve_device; "
        "print(json.dumps([resolve_device('auto'), 'torch' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == ["cpu", False]


def test_cli_device_option(hash_index_dir):
    ok = CliRunner().invoke(
        cli,
        [
            "similar",
            "few-shot distillation",
            "--text",
            "--device",
            "cpu",
            "-k",
            "2",
            "--json",
            "--index-dir",
            str(hash_index_dir),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)) == 2
    bad = CliRunner().invoke(cli, ["index", "build", "--device", "tpu", "--index-dir", str(hash_index_dir)])
    assert bad.exit_code == 2 and "'tpu' is not one of 'auto', 'cpu', 'cuda'" in bad.stderr
    # From the environment, the same choices are checked (and the variable named).
    env = CliRunner().invoke(cli, ["index", "build", "--index-dir", str(hash_index_dir)], env={"PAPERLIKE_DEVICE": "tpu"})
    assert env.exit_code == 2 and "PAPERLIKE_DEVICE" in env.stderr
