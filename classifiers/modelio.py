"""Model directories: a skops file plus a JSON manifest that says what it is.

A model directory holds ``model.skops`` and ``manifest.json``. The manifest
records the format version, the model kind, the sha256 of every training file,
the cross-validated metrics and the sha256 of the model file itself, so a
report can always say which data a verdict came from.

Loading never unpickles: skops rebuilds objects and refuses any type outside
:data:`TRUSTED_TYPES`, a list written here from our own pipelines (a test
checks it against freshly trained models). A model file that asks for
anything else is refused with :class:`ModelFileError`, whatever its manifest
says, because the manifest sits next to the file it would vouch for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.errors import ModelFileError

FORMAT_VERSION = 1
MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODELS_DIR = PACKAGE_DIR / "models"

# Types our pipelines hold that skops does not trust by default: exactly what
# get_untrusted_types() reports for the topic and rumour pipelines (a test
# checks equality, so a new pipeline step must be added here on purpose).
TRUSTED_TYPES: tuple[str, ...] = (
    "classifiers.features.RecordColumns",
    "classifiers.features.TextColumns",
    "classifiers.tokenizer.Tokenizer",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (training files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a model directory says about itself."""

    kind: str
    format_version: int
    model_sha256: str
    training_data: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    library_versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def describe_data(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """File name, sha256 and line count of each training file, for the manifest."""
    out = []
    for path in paths:
        with open(path, "rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        out.append({"file": Path(path).name, "sha256": sha256_file(Path(path)), "records": lines})
    return out


def _versions() -> dict[str, str]:
    import jieba
    import sklearn

    return {"scikit-learn": sklearn.__version__, "skops": _skops_version(), "jieba": jieba.__version__}


def _skops_version() -> str:
    from importlib.metadata import version

    return version("skops")


def save_model(
    model: Any,
    directory: Path,
    *,
    kind: str,
    data_files: Iterable[Path] = (),
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Manifest:
    """Write ``model`` and its manifest into ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_FILE
    import skops.io as sio  # loaded on use: it pulls in scikit-learn, seconds a command may not need

    sio.dump(model, model_path, compression=8)  # zipfile.ZIP_DEFLATED
    _check_trusted(model_path)
    manifest = Manifest(
        kind=kind,
        format_version=FORMAT_VERSION,
        model_sha256=sha256_file(model_path),
        training_data=describe_data(data_files),
        metrics=dict(metrics or {}),
        params=dict(params or {}),
        created=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        library_versions=_versions(),
    )
    (directory / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_manifest(directory: Path, *, kind: str | None = None) -> Manifest:
    """Parse and check the manifest of a model directory."""
    path = Path(directory) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{directory}: not a model directory (no {MANIFEST_FILE})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: manifest is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: manifest must be a JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: format version {version!r}, this code reads {FORMAT_VERSION}; retrain")
    if kind is not None and data.get("kind") != kind:
        raise ModelFileError(f"{path}: holds a {data.get('kind')!r} model, expected {kind!r}")
    try:
        return Manifest(**data)
    except TypeError as exc:
        raise ModelFileError(f"{path}: unexpected manifest fields: {exc}") from None


def _check_trusted(model_path: Path) -> None:
    import skops.io as sio  # loaded on use (see save_model)

    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # noqa: BLE001 - skops raises zip/json/type errors on corrupt files
        raise ModelFileError(f"{model_path}: not a readable skops file: {exc}") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        raise ModelFileError(f"{model_path}: refuses to load untrusted types: {', '.join(foreign)}")


def load_model(directory: Path, *, kind: str) -> tuple[Any, Manifest]:
    """Load a model directory written by :func:`save_model`, refusing foreign content."""
    import skops.io as sio  # loaded on use (see save_model)

    directory = Path(directory)
    manifest = read_manifest(directory, kind=kind)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ModelFileError(f"{directory}: manifest present but {MODEL_FILE} is missing")
    if sha256_file(model_path) != manifest.model_sha256:
        raise ModelFileError(f"{model_path}: sha256 does not match the manifest (file changed or corrupt)")
    _check_trusted(model_path)
    try:
        model = sio.load(model_path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # noqa: BLE001 - any failure means "this file cannot be used"
        raise ModelFileError(f"{model_path}: cannot be loaded: {exc}") from None
    return model, manifest


def default_model_dir(kind: str, models_dir: Path | None = None) -> Path:
    """Where the bundled (or operator-configured) model of ``kind`` lives."""
    return Path(models_dir or DEFAULT_MODELS_DIR) / kind
