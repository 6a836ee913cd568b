#!/usr/bin/env python3
"""Deterministic input for the packaging benches (issue 12): agent activity events as JSON lines in the activity-log
format `tierstorage event add --stdin` reads, and JSON snapshot documents.

  session-input.py events SEED MB     JSON lines, about MB megabytes, on stdout
  session-input.py snapshot SEED KB   one JSON document of about KB kilobytes, on stdout

The text is drawn from a Zipf-like vocabulary of code and prose words, file paths, commands and stack traces, so it
compresses like a real agent log (gzip -6 keeps about a fifth), not like repeated lines or random bytes."""
import json
import random
import sys

WORDS = ("the a to of and in is for that on with this it be as are by we should use from not or file test build "
         "policy tier backup archive session snapshot catalog manifest event agent tool error retry verify checksum "
         "stream gzip tar upload download restore phase review token cost model latency budget parse config yaml "
         "json sqlite index query migration schema rollup report chart handoff decision task plan refactor rename "
         "extract method class interface record async await cancel timeout lock queue worker thread core memory "
         "bounded flat crash rename temp fsync durable idempotent resume duplicate lost namespace workspace").split()
AGENTS = ["coder", "reviewer", "planner", "tester", "doc-writer"]
TOOLS = ["Edit", "Read", "Write", "Bash", "Grep", "Glob", "WebFetch", "Task"]
MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"]
DIRS = ["src/TierStorage.Engine/Packaging", "src/TierStorage.Engine/Backup", "src/TierStorage.Engine/Catalog",
        "src/TierStorage.Cli/Commands", "tests/TierStorage.Tests", "src/TierStorage.Engine/Tiers/S3", "bench/whole"]
COMMANDS = ["dotnet build TierStorage.sln -c Release", "dotnet test tests/TierStorage.Tests -c Release --no-build",
            "git status --short", "git diff --stat", "bash bench/whole/lib.sh", "grep -rn TODO src", "ls -la"]


def zipf_word(rng):
    # rank r with probability ~ 1/r: a few words dominate, as in real text
    return WORDS[min(int(len(WORDS) ** rng.random()) - 1, len(WORDS) - 1)]


def sentence(rng, n):
    return " ".join(zipf_word(rng) for _ in range(n))


def path(rng):
    return f"{rng.choice(DIRS)}/{zipf_word(rng).capitalize()}{zipf_word(rng).capitalize()}.cs"


def stack(rng):
    frames = [f"   at TierStorage.Engine.{zipf_word(rng).capitalize()}.{zipf_word(rng).capitalize()}Async() in /src/{path(rng)}:line {rng.randint(10, 900)}"
              for _ in range(rng.randint(3, 9))]
    return "System.IO.IOException: " + sentence(rng, 8) + "\n" + "\n".join(frames)


def event(rng, i, t0, tasks):
    ts = t0 + i * 1.7 + rng.random()
    h, rem = divmod(int(ts), 3600)
    m, s = divmod(rem, 60)
    stamp = f"2026-11-{1 + (h // 24) % 28:02d}T{h % 24:02d}:{m:02d}:{s:02d}.{int(ts * 1000) % 1000:03d}Z"
    task = tasks[min(int(len(tasks) ** rng.random()) - 1, len(tasks) - 1)]
    kind = rng.random()
    e = {"timestamp": stamp, "agent": rng.choice(AGENTS), "task": task}
    if kind < 0.35:
        e.update(type="llm_call", model=rng.choice(MODELS), duration_ms=rng.randint(400, 40000),
                 tokens={"input": rng.randint(200, 9000), "output": rng.randint(50, 4000),
                         "cache_read": rng.randint(0, 60000), "cache_write": rng.randint(0, 3000)},
                 success=rng.random() > 0.02,
                 data={"request_id": f"req_{rng.getrandbits(64):016x}", "summary": sentence(rng, rng.randint(8, 40))})
    elif kind < 0.75:
        tool = rng.choice(TOOLS)
        e.update(type="tool_call", tool=tool, duration_ms=rng.randint(5, 8000), success=rng.random() > 0.05)
        if tool == "Bash":
            e["data"] = {"command": rng.choice(COMMANDS), "exit_code": 0 if e["success"] else 1,
                         "output": sentence(rng, rng.randint(5, 60))}
        else:
            e["file"] = path(rng)
            e["data"] = {"lines": rng.randint(1, 400), "note": sentence(rng, rng.randint(3, 20))}
    elif kind < 0.88:
        e.update(type="file_operation", file=path(rng), duration_ms=rng.randint(1, 900), success=True,
                 data={"operation": rng.choice(["read", "write", "edit"]), "bytes": rng.randint(100, 90000)})
    elif kind < 0.95:
        e.update(type="decision", data={"decision": sentence(rng, rng.randint(10, 50)), "alternatives": [sentence(rng, 8) for _ in range(2)]})
    else:
        e.update(type="error", error_type=rng.choice(["IOException", "TimeoutException", "ChecksumMismatch"]),
                 success=False, data={"message": sentence(rng, 12), "stack": stack(rng)})
    return json.dumps(e, separators=(",", ":"))


def events(seed, mb):
    rng = random.Random(seed)
    limit = int(mb * 1_000_000)
    tasks = [f"{sentence(rng, 4)} ({n})" for n in range(1, 31)]  # a session works on a few dozen tasks
    written, i = 0, 0
    out = sys.stdout
    while written < limit:
        line = event(rng, i, seed % 1000 * 86400.0, tasks) + "\n"
        out.write(line)
        written += len(line)
        i += 1


def snapshot(seed, kb):
    rng = random.Random(seed)
    doc = {"session_state": {"phase": seed % 7, "active_task": sentence(rng, 6)}, "tasks": [], "files": {}, "notes": []}
    limit = kb * 1000
    size = 0
    while size < limit:
        n = len(doc["tasks"])
        doc["tasks"].append({"id": n, "title": sentence(rng, 6), "status": rng.choice(["todo", "doing", "done"]),
                             "agent": rng.choice(AGENTS), "detail": sentence(rng, rng.randint(10, 40))})
        doc["files"][path(rng) + f"#{n}"] = {"lines": rng.randint(10, 2000), "summary": sentence(rng, 12)}
        if n % 5 == 0:
            doc["notes"].append(sentence(rng, 30))
        size += 410
    json.dump(doc, sys.stdout, indent=1)


if __name__ == "__main__":
    what, seed, amount = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if what == "events":
        events(seed, amount)
    else:
        snapshot(seed, int(amount))
