namespace TierStorage.Tests.Ingest.Fixtures;

/// <summary>Claude Code transcripts as written by Claude Code 2.x (fields trimmed to what the importer reads, plus
/// the usual neighbours), with the hand-computed events each should give.</summary>
public static class ClaudeFixtures
{
    public const string SessionId = "4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00";

    /// <summary>Line numbers (1-based) that are malformed in <see cref="Main"/>.</summary>
    public static readonly long[] MalformedLines = [8, 14, 15];

    public static readonly string[] Main =
    [
        """{"type":"summary","summary":"Fix the failing build","leafUuid":"u-16"}""",
        """{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/me/my_app","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","version":"2.0.49","gitBranch":"main","type":"user","message":{"role":"user","content":"The build fails, please fix it"},"uuid":"u-2","timestamp":"2026-11-20T10:00:00.000Z"}""",
        """{"parentUuid":"u-2","isSidechain":false,"userType":"external","cwd":"/home/me/my_app","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","version":"2.0.49","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me look."}],"stop_reason":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":1000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},"output_tokens":5,"service_tier":"standard"}},"costUSD":0.0123,"requestId":"req_01","type":"assistant","uuid":"u-3","timestamp":"2026-11-20T10:00:01.000Z"}""",
        """{"parentUuid":"u-3","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_A","name":"Read","input":{"file_path":"/home/me/my_app/src/a.cs"}}],"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":3000,"output_tokens":40}},"requestId":"req_02","type":"assistant","uuid":"u-4","timestamp":"2026-11-20T10:00:02.000Z"}""",
        """{"parentUuid":"u-4","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_B","name":"Bash","input":{"command":"dotnet build","description":"Build"}}],"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":3000,"output_tokens":40}},"requestId":"req_02","type":"assistant","uuid":"u-5","timestamp":"2026-11-20T10:00:02.100Z"}""",
        """{"parentUuid":"u-5","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_A","type":"tool_result","content":"     1→class A {}"}]},"uuid":"u-6","timestamp":"2026-11-20T10:00:02.500Z","toolUseResult":{"type":"text","file":{"filePath":"/home/me/my_app/src/a.cs","numLines":1}}}""",
        """{"parentUuid":"u-6","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"Exit code 1\nerror CS1002: ; expected","is_error":true,"tool_use_id":"toolu_B"}]},"uuid":"u-7","timestamp":"2026-11-20T10:00:04.100Z","toolUseResult":"Error: Exit code 1\nerror CS1002: ; expected"}""",
        """{"type":"assistant","message":{"id":"msg_broken" """,
        """{"parentUuid":"u-7","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_03","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_T","name":"Task","input":{"description":"Review diff","prompt":"Review the change for bugs","subagent_type":"code-reviewer"}}],"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":7}},"requestId":"req_03","type":"assistant","uuid":"u-9","timestamp":"2026-11-20T10:00:05.000Z"}""",
        """{"parentUuid":null,"isSidechain":true,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_04","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"tool_use","id":"toolu_G","name":"Grep","input":{"pattern":"TODO","path":"/home/me/my_app/src"}}],"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":20}},"requestId":"req_04","type":"assistant","uuid":"s-10","timestamp":"2026-11-20T10:00:06.000Z"}""",
        """{"parentUuid":"s-10","isSidechain":true,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_G","type":"tool_result","content":"No matches found"}]},"uuid":"s-11","timestamp":"2026-11-20T10:00:06.250Z"}""",
        """{"parentUuid":"u-9","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_T","type":"tool_result","content":[{"type":"text","text":"No issues found."}]}]},"uuid":"u-12","timestamp":"2026-11-20T10:00:09.000Z"}""",
        """{"parentUuid":"u-12","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_05","type":"message","role":"assistant","model":"<synthetic>","content":[{"type":"text","text":"API Error: Request was aborted."}],"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}},"type":"assistant","uuid":"u-13","timestamp":"2026-11-20T10:00:10.000Z","isApiErrorMessage":true}""",
        """[1,2]""",
        """{"parentUuid":"u-13","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":"no timestamp here"},"uuid":"u-15"}""",
        """{"parentUuid":"u-2","isSidechain":false,"userType":"external","cwd":"/home/me/my_app","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","version":"2.0.49","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me look."}],"stop_reason":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":1000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},"output_tokens":5,"service_tier":"standard"}},"costUSD":0.0123,"requestId":"req_01","type":"assistant","uuid":"u-3","timestamp":"2026-11-20T10:00:01.000Z"}""",
    ];

    /// <summary>A subagent's own file (&lt;sessionId&gt;/subagents/agent-7c1d.jsonl): every line a sidechain.</summary>
    public static readonly string[] Subagent =
    [
        """{"parentUuid":null,"isSidechain":true,"agentId":"7c1d","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":"Find the TODOs"},"uuid":"a-1","timestamp":"2026-11-20T10:00:05.100Z"}""",
        """{"parentUuid":"a-1","isSidechain":true,"agentId":"7c1d","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_a1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"tool_use","id":"toolu_S","name":"Edit","input":{"file_path":"/home/me/my_app/src/b.cs","old_string":"x","new_string":"y"}}],"usage":{"input_tokens":50,"cache_creation_input_tokens":10,"cache_read_input_tokens":20,"output_tokens":30}},"requestId":"req_a1","type":"assistant","uuid":"a-2","timestamp":"2026-11-20T10:00:06.000Z"}""",
        """{"parentUuid":"a-2","isSidechain":true,"agentId":"7c1d","sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_S","type":"tool_result","content":"<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>","is_error":true}]},"uuid":"a-3","timestamp":"2026-11-20T10:00:06.040Z"}""",
    ];

    /// <summary>Lines Claude Code appends after <see cref="Main"/> when the session goes on: one new call and one replay.</summary>
    public static readonly string[] Continuation =
    [
        """{"parentUuid":"u-13","isSidechain":false,"sessionId":"4f1c2a9e-0b7d-4c55-9e21-7a3b8d6c1f00","message":{"id":"msg_06","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","content":[{"type":"text","text":"Done."}],"usage":{"input_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":9,"output_tokens":11}},"requestId":"req_06","type":"assistant","uuid":"u-17","timestamp":"2026-11-20T10:01:00.000Z"}""",
        Main[3],
    ];

    public static string Text(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));
}
