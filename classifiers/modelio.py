"""Model directories: a skops file plus a JSON manifest that says what it is.

A model directory holds ``model.skops`` and ``manifest.json``. The manifest
records the format version, the model kind, the sha256 of every training file,
the cross-validated metrics, the tokenizer it was trained with (jieba or
rjieba) and the sha256 of the model file itself, so a report can always say
which data a verdict came from.

A model always cuts text with the tokenizer it was trained with: it is part of
the saved pipeline, and loading checks that the file and the manifest agree.
Asked to load under another tokenizer (the playbook's), it refuses with
:class:`TokenizerMismatchError` rather than let two tokenizers meet in one
service.

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

from classifiers.errors import ModelFileError, TokenizerMismatchError
from classifiers.tokenizer import LEGACY_TOKENIZER, Tokenizer, require_tokenizer
from playbooks.schema import TokenizerName

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
    tokenizer: str | None = LEGACY_TOKENIZER  # absent from manifests written before rjieba: those were jieba

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


def _versions(tokenizer: str | None) -> dict[str, str]:
    import sklearn

    versions = {"scikit-learn": sklearn.__version__, "skops": _version("skops")}
    if tokenizer is not None:
        versions[tokenizer] = _version(tokenizer)
    return versions


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def tokenizers_of(model: Any) -> set[str]:
    """The tokenizers (``jieba``, ``rjieba``) the word vectorisers of a scikit-learn model cut with."""
    get_params = getattr(model, "get_params", None)
    if get_params is None:
        return set()
    return {value.engine for value in get_params(deep=True).values() if isinstance(value, Tokenizer)}


def _one_tokenizer(model: Any, where: Path) -> str | None:
    found = tokenizers_of(model)
    if len(found) > 1:
        raise ModelFileError(f"{where}: the model cuts text with several tokenizers ({', '.join(sorted(found))})")
    return next(iter(found), None)


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
    tokenizer = _one_tokenizer(model, directory)
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
        library_versions=_versions(tokenizer),
        tokenizer=tokenizer,
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


def load_model(
    directory: Path, *, kind: str, tokenizer: TokenizerName | None = None
) -> tuple[Any, Manifest]:
    """Load a model directory written by :func:`save_model`, refusing foreign content.

    The model keeps the tokenizer it was trained with. With *tokenizer* (the one the rest of the
    service uses), a model trained with another is refused with :class:`TokenizerMismatchError`.
    """
    import skops.io as sio  # loaded on use (see save_model)
    from skops.io.exceptions import UntrustedTypesFoundException

    directory = Path(directory)
    manifest = read_manifest(directory, kind=kind)
    _check_tokenizer(directory, manifest, tokenizer)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ModelFileError(f"{directory}: manifest present but {MODEL_FILE} is missing")
    if sha256_file(model_path) != manifest.model_sha256:
        raise ModelFileError(f"{model_path}: sha256 does not match the manifest (file changed or corrupt)")
    # One pass over the file: skops audits every type against ``trusted`` before it builds anything (a
    # separate get_untrusted_types() pass would parse the tens of MB of schema twice, the service's
    # memory peak). Only a refused file is read again, to name the foreign types.
    try:
        model = sio.load(model_path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException:
        _check_trusted(model_path)
        raise ModelFileError(f"{model_path}: refuses to load untrusted types") from None
    except Exception as exc:  # noqa: BLE001 - any failure means "this file cannot be used"
        raise ModelFileError(f"{model_path}: cannot be loaded: {exc}") from None
    in_file = _one_tokenizer(model, model_path)
    if in_file is not None and in_file != manifest.tokenizer:
        raise ModelFileError(
            f"{model_path}: cuts text with {in_file} but its manifest says {manifest.tokenizer} (file replaced?)"
        )
    return model, manifest


def _check_tokenizer(directory: Path, manifest: Manifest, wanted: TokenizerName | None) -> None:
    """The recorded tokenizer is installed and, when one is *wanted*, is that one."""
    recorded = manifest.tokenizer
    if recorded is None:
        return
    if wanted is not None and recorded != wanted:
        raise TokenizerMismatchError(
            f"{directory}: this {manifest.kind} model was trained with the {recorded} tokenizer, but the playbook "
            f"chooses {wanted}; retrain it (yuqing train {manifest.kind} --out {directory}) or set "
            f"'tokenizer: {recorded}' in the playbook"
        )
    try:
        require_tokenizer(recorded)
    except ValueError as exc:
        raise ModelFileError(f"{directory}: {exc}") from None


def models_fit(models_dir: Path | None, tokenizer: TokenizerName) -> list[str]:
    """What keeps the models in *models_dir* from loading under a playbook that chooses *tokenizer*, one line
    each, from their manifests alone (no model is loaded; ``yuqing playbook check`` asks this). A model not
    trained yet is not a problem here: items are stored unannotated until it is."""
    problems = []
    for kind in ("topic", "rumour"):
        directory = default_model_dir(kind, models_dir)
        if not (directory / MANIFEST_FILE).exists():
            continue
        try:
            _check_tokenizer(directory, read_manifest(directory, kind=kind), tokenizer)
        except ModelFileError as exc:
            problems.append(str(exc))
    return problems


def default_model_dir(kind: str, models_dir: Path | None = None) -> Path:
    """Where the bundled (or operator-configured) model of ``kind`` lives."""
    return Path(models_dir or DEFAULT_MODELS_DIR) / kind
