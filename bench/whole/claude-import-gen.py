#!/usr/bin/env python3
"""Deterministic (seeded) Claude Code transcripts for bench/whole/claude-import.sh (issue 12).

Usage: claude-import-gen.py CONFIG_DIR [--messages N] [--files N] [--seed N]

Writes CONFIG_DIR/projects/-home-me-bench/<session>.jsonl (main transcripts) and <session>/subagents/agent-<id>.jsonl
(subagent transcripts, isSidechain lines) as Claude Code 2.x writes them: a user prompt, then turns of an assistant
response written one line per content block (text, tool_use; every line repeating the response's message id, request id
and usage, incl. cache_creation.ephemeral_5m/1h_input_tokens) and the user line with the tool_result (bodies of a few
hundred bytes to tens of KB, as file reads and command output are), Task calls whose result names the subagent's agent
id, a few summary/system lines, and a few bad lines (a truncated line, a line that is not an object). N messages
(user and assistant lines) in all, over N files. Prints the expected totals (distinct message id + request id) as JSON.
"""
import json
import os
import random
import sys

MODELS = [("claude-sonnet-4-5-20250929", 0.62), ("claude-opus-4-1-20250805", 0.13), ("claude-haiku-4-5-20251001", 0.25)]
TOOLS = ["Read", "Edit", "Bash", "Grep", "Glob", "Write", "TodoWrite", "WebFetch"]
WORDS = ("the of to and a in is it you that he was for on are with as his they be at one have this from or had by word "
         "but what some we can out other were all there when up use your how said an each she which do their time if will "
         "way about many then them write would like so these her long make thing see him two has look more day could go "
         "come did number sound no most people my over know water than call first who may down side been now find").split()


def text(rng, n_words):
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def body(rng):
    # Tool output sizes: log-normal, median ~600 bytes, a tail of tens of KB (file reads, test output).
    size = int(min(60000, rng.lognormvariate(6.4, 1.3)))
    lines = []
    total = 0
    n = 0
    while total < size:
        n += 1
        line = f"{n:5d}\t" + text(rng, rng.randint(3, 14))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    config = args[0]
    opts = {"--messages": 100000, "--files": 20, "--seed": 12}
    i = 1
    while i < len(args):
        opts[args[i]] = int(args[i + 1])
        i += 2
    rng = random.Random(opts["--seed"])
    n_files = opts["--files"]
    n_messages = opts["--messages"]
    project = os.path.join(config, "projects", "-home-me-bench")
    os.makedirs(project, exist_ok=True)

    # 15 main transcripts and 5 subagent files (of the first sessions) for 20 files.
    n_sub = max(1, n_files // 4) if n_files > 1 else 0
    n_main = n_files - n_sub
    sessions = [f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}" for _ in range(n_main)]
    files = [(s, None) for s in sessions] + [(sessions[k % n_main], f"a{rng.getrandbits(40):010x}") for k in range(n_sub)]
    weights = [rng.uniform(0.6, 1.4) * (0.4 if agent else 1.0) for _, agent in files]
    scale = n_messages / sum(weights)
    quota = [int(w * scale) for w in weights]
    quota[0] += n_messages - sum(quota)

    totals = {"input": 0, "output": 0, "cache_creation": 0, "cache_read": 0, "calls": 0, "lines": 0, "bad_lines": 0,
              "by_model": {}}
    seen = set()
    base = 1_764_000_000  # 2025-11-24, seconds
    msg_counter = 0
    for index, ((session, agent), count) in enumerate(zip(files, quota)):
        if agent is None:
            path = os.path.join(project, session + ".jsonl")
        else:
            folder = os.path.join(project, session, "subagents")
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"agent-{agent}.jsonl")
        t = base + index * 86400 // 3 + rng.randint(0, 3600)
        written = 0
        parent = None
        uid = 0
        out = []

        def common(kind):
            nonlocal uid, parent
            uid += 1
            u = f"{session[:8]}-{index:02d}-{uid:07d}"
            line = {"parentUuid": parent, "isSidechain": agent is not None, "userType": "external",
                    "cwd": "/home/me/bench", "sessionId": session, "version": "2.0.31", "gitBranch": "main"}
            if agent is not None:
                line["agentId"] = agent
            line["type"] = kind
            parent = u
            return line, u

        def stamp():
            nonlocal t
            t += rng.randint(1, 40)
            ms = rng.randint(0, 999)
            import time as _time
            return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(t)) + f".{ms:03d}Z"

        def add(line):
            nonlocal written
            out.append(json.dumps(line, separators=(",", ":")))
            written += 1

        line, u = common("user")
        line["message"] = {"role": "user", "content": "Please " + text(rng, 30)}
        line["uuid"] = u
        line["timestamp"] = stamp()
        add(line)
        pending_tools = []
        while written < count:
            r = rng.random()
            if r < 0.004:
                out.append('{"type":"assistant","message":{"id":"msg_trunc' if rng.random() < 0.5 else "[1,2,3]")
                totals["bad_lines"] += 1
                continue
            if r < 0.012:
                out.append(json.dumps({"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted",
                                       "sessionId": session, "timestamp": stamp(), "uuid": f"sys-{index}-{uid}"}, separators=(",", ":")))
                continue
            if pending_tools:
                # The user line answering the last response's tool uses.
                line, u = common("user")
                content = []
                results = []
                for tool_id, name, sub_agent in pending_tools:
                    failed = rng.random() < 0.06
                    b = body(rng) if name != "Task" else f"Done: {text(rng, 40)}\nagentId: {sub_agent}"
                    if failed:
                        b = rng.choice(["Error: file does not exist", "Exit code 1\n" + b[:400], "The user doesn't want to proceed with this tool use."])
                    content.append({"tool_use_id": tool_id, "type": "tool_result", "content": b, "is_error": failed})
                    results.append({"stdout": b[:2000], "stderr": "", "interrupted": False} if name == "Bash" else
                                   ({"agentId": sub_agent, "status": "completed"} if name == "Task" else {"type": "text", "file": {"numLines": b.count("\n") + 1}}))
                line["message"] = {"role": "user", "content": content}
                line["uuid"] = u
                line["timestamp"] = stamp()
                line["toolUseResult"] = results[0] if len(results) == 1 else results
                add(line)
                pending_tools = []
                continue
            if rng.random() < 0.05:
                line, u = common("user")
                line["message"] = {"role": "user", "content": text(rng, rng.randint(5, 60))}
                line["uuid"] = u
                line["timestamp"] = stamp()
                add(line)
                continue
            # One response: 1-3 content blocks, one line each, all with the same id, request id and usage.
            msg_counter += 1
            message_id = f"msg_01{rng.getrandbits(64):016x}{msg_counter:06d}"
            request_id = f"req_011{rng.getrandbits(64):016x}"
            x = rng.random()
            model = MODELS[0][0] if x < MODELS[0][1] else MODELS[1][0] if x < MODELS[0][1] + MODELS[1][1] else MODELS[2][0]
            w5 = int(rng.lognormvariate(6.5, 1.2)) if rng.random() < 0.5 else 0
            w1 = int(rng.lognormvariate(6.0, 1.2)) if rng.random() < 0.15 else 0
            usage = {"input_tokens": rng.randint(1, 60), "cache_creation_input_tokens": w5 + w1,
                     "cache_read_input_tokens": int(min(150000, rng.lognormvariate(10.0, 0.8))),
                     "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                     "output_tokens": int(rng.lognormvariate(5.0, 1.1)) + 1, "service_tier": "standard"}
            blocks = []
            if rng.random() < 0.3:
                blocks.append({"type": "thinking", "thinking": text(rng, rng.randint(10, 120)), "signature": "Eo" + "x" * 180})
            if rng.random() < 0.7:
                blocks.append({"type": "text", "text": text(rng, rng.randint(5, 80))})
            n_tools = 0 if rng.random() < 0.25 else (1 if rng.random() < 0.85 else 2)
            for _ in range(n_tools):
                name = rng.choice(TOOLS) if agent is not None or rng.random() > 0.02 else "Task"
                tool_id = f"toolu_01{rng.getrandbits(64):016x}{msg_counter:06d}"
                if name == "Task":
                    sub_agent = f"{rng.getrandbits(32):08x}"
                    inp = {"description": text(rng, 4), "prompt": text(rng, 50), "subagent_type": rng.choice(["general-purpose", "Explore", "code-reviewer"])}
                elif name in ("Read", "Edit", "Write"):
                    sub_agent = None
                    inp = {"file_path": f"/home/me/bench/src/{rng.choice(WORDS)}/{rng.choice(WORDS)}.py"}
                    if name == "Edit":
                        inp.update({"old_string": text(rng, 20), "new_string": text(rng, 25)})
                    if name == "Write":
                        inp["content"] = body(rng)
                elif name == "Bash":
                    sub_agent = None
                    inp = {"command": f"pytest tests/{rng.choice(WORDS)} -q", "description": text(rng, 5)}
                else:
                    sub_agent = None
                    inp = {"pattern": rng.choice(WORDS), "path": "/home/me/bench"}
                blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": inp})
                pending_tools.append((tool_id, name, sub_agent))
            if not blocks:
                blocks.append({"type": "text", "text": text(rng, 10)})
            for k, block in enumerate(blocks):
                line, u = common("assistant")
                line["message"] = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": [block],
                                   "stop_reason": None if k < len(blocks) - 1 else ("tool_use" if n_tools else "end_turn"),
                                   "stop_sequence": None, "usage": usage}
                line["requestId"] = request_id
                line["type"] = "assistant"
                line["uuid"] = u
                line["timestamp"] = stamp()
                add(line)
            key = (message_id, request_id)
            if key not in seen:
                seen.add(key)
                totals["calls"] += 1
                totals["input"] += usage["input_tokens"]
                totals["output"] += usage["output_tokens"]
                totals["cache_creation"] += usage["cache_creation_input_tokens"]
                totals["cache_read"] += usage["cache_read_input_tokens"]
                m = totals["by_model"].setdefault(model, {"cache_write_1h": 0})
                m["cache_write_1h"] += w1
        totals["lines"] += written
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
            f.write("\n")
    print(json.dumps(totals, sort_keys=True))


if __name__ == "__main__":
    main()
