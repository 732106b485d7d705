"""Training-set shards (``focuslab.af_dataset/1``, docs/dataset_format.md): write, read, validate.

A dataset is a folder of ``shard-NNNNN.npz`` files, a ``progress.json`` listing the shards
finished so far, and a ``manifest.json`` written last. The ``.npz`` writer here is
deterministic: arrays are stored uncompressed in a zip whose entries carry a fixed
timestamp (1980-01-01, the zip epoch) and fixed permissions, in the order given, so the same
arrays give the same bytes (numpy's ``savez`` stamps the current time). Every file goes
through :mod:`focuslab.files` (temporary name, then rename).

Readers: :func:`read_manifest`, :func:`load_shard`, :func:`num_samples`,
:func:`iter_samples`. Broken inputs raise :class:`~focuslab.errors.InputFileError` with one
line saying what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.files import write_bytes_atomic, write_json_atomic

#: Format tag of the manifest.
FORMAT = "focuslab.af_dataset/1"

#: Zip entry timestamp of every array (the zip epoch): same arrays, same bytes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

MANIFEST = "manifest.json"
PROGRESS = "progress.json"


def shard_name(index: int) -> str:
    """File name of shard ``index``: ``shard-00000.npz``."""
    return f"shard-{int(index):05d}.npz"


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed ``.npz`` holding ``arrays`` (in their order), deterministically.

    Each array is written with :func:`numpy.lib.format.write_array` (``allow_pickle=False``)
    into a zip entry ``KEY.npy`` with the fixed timestamp :data:`ZIP_EPOCH`.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            arr = np.ascontiguousarray(value)
            if arr.dtype == object:
                raise InvalidParameterError(f"shard array {key!r} has dtype object; store numeric arrays only")
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_shard(folder: str | Path, index: int, arrays: Mapping[str, np.ndarray]) -> dict:
    """Write shard ``index`` atomically; returns its manifest entry ``{"file", "num_samples", "sha256"}``.

    All arrays must share their first axis (the sample axis).
    """
    lengths = {k: int(np.shape(v)[0]) for k, v in arrays.items() if np.ndim(v) > 0}
    if not lengths or len(set(lengths.values())) != 1:
        raise InvalidParameterError(f"shard arrays must share their first (sample) axis, got lengths {lengths}")
    data = npz_bytes(arrays)
    name = shard_name(index)
    write_bytes_atomic(Path(folder) / name, data)
    return {"file": name, "num_samples": next(iter(lengths.values())), "sha256": sha256_bytes(data)}


# ----------------------------------------------------------------------------- progress
def read_progress(folder: str | Path) -> dict[int, dict]:
    """Shards recorded as finished in ``progress.json``: ``{index: entry}`` ({} when absent or unreadable)."""
    path = Path(folder) / PROGRESS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): dict(v) for k, v in data.get("shards", {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def write_progress(folder: str | Path, fingerprint: str, done: Mapping[int, dict]) -> None:
    """Record the finished shards (atomically) with the run's ``fingerprint`` (config + seed)."""
    write_json_atomic(
        Path(folder) / PROGRESS,
        {"format": FORMAT, "fingerprint": fingerprint, "shards": {str(k): done[k] for k in sorted(done)}},
    )


def progress_fingerprint(folder: str | Path) -> str | None:
    """The fingerprint recorded in ``progress.json`` (None when absent)."""
    try:
        return json.loads((Path(folder) / PROGRESS).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def shard_is_intact(folder: str | Path, entry: Mapping) -> bool:
    """Whether the shard file of a progress/manifest ``entry`` exists with its recorded SHA-256."""
    path = Path(folder) / str(entry.get("file", ""))
    return path.is_file() and sha256_file(path) == entry.get("sha256")


# ----------------------------------------------------------------------------- reading
def read_manifest(folder: str | Path) -> dict:
    """The dataset's manifest (docs/dataset_format.md), validated.

    Raises
    ------
    InputFileError
        The folder or its ``manifest.json`` is missing (an unfinished run: rerun ``focuslab
        data generate`` with the same arguments), unreadable, or of another format.
    """
    d = Path(folder)
    if not d.is_dir():
        raise InputFileError(f"dataset folder {str(d)!r} does not exist; "
                             "give a folder written by focuslab data generate")
    path = d / MANIFEST
    if not path.is_file():
        hint = " (a run is unfinished: rerun focuslab data generate with the same arguments)" if (
            d / PROGRESS).is_file() else ""
        raise InputFileError(f"{str(d)!r} has no {MANIFEST}{hint}; give a folder written by focuslab data generate")
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read {str(path)!r} ({exc}); regenerate the dataset") from None
    if not isinstance(man, dict) or man.get("format") != FORMAT:
        tag = man.get("format") if isinstance(man, dict) else None
        raise InputFileError(f"{str(path)!r} has format {tag!r}, expected {FORMAT!r}; give a focuslab training set")
    for key in ("kind", "num_samples", "shards", "variants", "crop_px"):
        if key not in man:
            raise InputFileError(f"{str(path)!r} lacks the key {key!r}; regenerate the dataset")
    return man


def load_shard(folder: str | Path, index: int, *, verify: bool = False) -> dict[str, np.ndarray]:
    """The arrays of shard ``index`` as ``{key: array}``.

    Parameters
    ----------
    folder
        Dataset folder.
    index
        Shard index (0 .. number of shards - 1).
    verify
        Check the file's SHA-256 against the manifest first.

    Raises
    ------
    InvalidParameterError
        ``index`` out of range.
    InputFileError
        Missing or corrupt shard (a truncated file, a checksum mismatch).
    """
    man = read_manifest(folder)
    shards = man["shards"]
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= index < len(shards):
        raise InvalidParameterError(f"shard index must be in 0..{len(shards) - 1}, got {index!r}")
    entry = shards[int(index)]
    path = Path(folder) / entry["file"]
    if not path.is_file():
        raise InputFileError(f"shard {str(path)!r} is missing; rerun focuslab data generate with the same arguments")
    if verify and sha256_file(path) != entry.get("sha256"):
        raise InputFileError(f"shard {str(path)!r} fails its SHA-256 check; rerun focuslab data generate to rewrite it")
    try:
        with np.load(path, allow_pickle=False) as npz:
            out = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputFileError(f"shard {str(path)!r} is corrupt ({type(exc).__name__}); "
                             "rerun focuslab data generate to rewrite it") from None
    n = int(entry["num_samples"])
    bad = [k for k, v in out.items() if v.ndim == 0 or v.shape[0] != n]
    if bad:
        raise InputFileError(f"shard {str(path)!r}: arrays {bad} do not hold {n} samples; regenerate the dataset")
    return out


def num_samples(folder: str | Path) -> int:
    """Number of samples in the dataset."""
    return int(read_manifest(folder)["num_samples"])


def iter_samples(folder: str | Path, *, keys: list[str] | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Yield the samples one by one, in order, as ``{key: array}`` (shards loaded one at a time)."""
    man = read_manifest(folder)
    for i in range(len(man["shards"])):
        shard = load_shard(folder, i)
        names = list(shard) if keys is None else keys
        missing = [k for k in names if k not in shard]
        if missing:
            raise InvalidParameterError(f"keys {missing} are not in the dataset; it holds {sorted(shard)}")
        for j in range(shard[names[0]].shape[0]):
            yield {k: shard[k][j] for k in names}
