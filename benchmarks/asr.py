"""Transcription speed: bare faster-whisper vs podtools, sequential vs batched, one process.

    python benchmarks/asr.py [AUDIO] [--repeat N] [--device cpu|cuda]

Same model (the embedded Whisper tiny.en unless --model) and the same decoding settings on
both sides; models are loaded once, outside the timings. Bare faster-whisper is given the file
path (it decodes it itself); podtools decodes with podtools.audio and runs its transcribe stage.
Prints wall time (median of N), realtime factor (audio seconds / wall second), ratios, and the
WER against samples/script.json when AUDIO is the bundled sample.

The overhead rows compare the same work: podtools batched with gap filling off against bare
batched (the loop guards, on by default, included; their own row shows them off). Gap filling (on by default) decodes again, sequentially, the speech that the batched pass
left without words (tiny.en ends some VAD chunks early: on the sample it drops three whole turns);
its row shows what that costs and what it buys (WER).
Targets: podtools/bare overhead <= 1.05; podtools batched faster than bare sequential.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("audio", nargs="?", default=str(ROOT / "samples" / "episode.mp3"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--model", default="embedded")
    args = ap.parse_args()

    from faster_whisper import BatchedInferencePipeline

    from podtools import audio as audio_mod
    from podtools.asr import TranscribeOptions, _kwargs, load_model
    from podtools.models import Episode
    from podtools.pipeline import transcribe_episode

    seq = TranscribeOptions(model=args.model, device=args.device, batched=False)
    bat = seq.model_copy(update={"batched": True, "fill_gaps": False})
    filled = seq.model_copy(update={"batched": True, "fill_gaps": True})
    unguarded = bat.model_copy(update={"guards": False})
    model = load_model(seq)
    duration = audio_mod.probe(args.audio).duration

    def bare(batched: bool):
        kwargs = _kwargs(seq)
        if batched:
            segs, _ = BatchedInferencePipeline(model.whisper).transcribe(args.audio, batch_size=bat.batch_size, **kwargs)
        else:
            segs, _ = model.whisper.transcribe(args.audio, **kwargs)
        return " ".join(s.text for s in segs)

    def ours(options: TranscribeOptions):
        samples = audio_mod.decode(args.audio)
        ep = Episode(id="bench", source=args.audio, duration=len(samples) / 16000)
        return " ".join(s.text for s in transcribe_episode(ep, samples, options, model).segments)

    runs = {
        "bare faster-whisper, sequential": lambda: bare(False),
        "podtools transcribe, sequential": lambda: ours(seq),
        "bare faster-whisper, batched": lambda: bare(True),
        "podtools transcribe, batched": lambda: ours(bat),
        "podtools, batched + gap filling": lambda: ours(filled),
        "podtools, batched, guards off": lambda: ours(unguarded),
    }
    ours(bat)  # warm-up: first-call allocations, VAD model load
    times: dict[str, float] = {}
    texts: dict[str, str] = {}
    for _ in range(args.repeat):  # interleaved so drift affects every row alike
        for name, fn in runs.items():
            t0 = time.perf_counter()
            texts[name] = fn()
            times.setdefault(name, [])
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["bare faster-whisper, sequential"]
    print(f"\naudio: {Path(args.audio).name}, {duration:.1f} s; model {args.model} on {model.device} "
          f"({model.compute_type}); median of {args.repeat}\n")
    wer = _wer_against_script(args.audio)
    print(f"| {'run':<34} | {'wall s':>7} | {'x realtime':>10} | {'vs bare sequential':>18} | {'WER':>5} |")
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 12}|{'-' * 20}|{'-' * 7}|")
    for name, t in med.items():
        w = f"{wer(texts[name]):5.3f}" if wer else "    -"
        print(f"| {name:<34} | {t:7.2f} | {duration / t:10.1f} | {t / base:18.3f} | {w} |")
    print()
    print(f"overhead podtools/bare, sequential: {med['podtools transcribe, sequential'] / base:.3f} (target <= 1.05)")
    print(f"overhead podtools/bare, batched:    "
          f"{med['podtools transcribe, batched'] / med['bare faster-whisper, batched']:.3f} (target <= 1.05)")
    print(f"podtools batched vs bare sequential: {med['podtools transcribe, batched'] / base:.3f} (target < 1)")
    print(f"podtools batched + gap filling vs bare sequential: {med['podtools, batched + gap filling'] / base:.3f} "
          "(target < 1)")
    print(f"loop guards (on by default) vs off, batched: "
          f"{med['podtools transcribe, batched'] / med['podtools, batched, guards off']:.3f} (target <= 1.02)")


def _wer_against_script(audio: str):
    """WER of a text against samples/script.json, when ``audio`` is the bundled sample."""
    if Path(audio).resolve() != (ROOT / "samples" / "episode.mp3").resolve():
        return None
    import json
    import re

    import jiwer

    def norm(text: str) -> str:
        text = re.sub(r"[^\w\s%.]", " ", text.lower().replace("-", " "))
        return " ".join(re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text).split())

    turns = json.loads((ROOT / "samples" / "script.json").read_text())["turns"]
    reference = norm(" ".join(t["text"] for t in turns))
    return lambda text: jiwer.wer(reference, norm(text))


if __name__ == "__main__":
    main()
