using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Replaces secrets in text with [REDACTED:&lt;pattern name&gt;]. Thread-safe; compile once per policy.</summary>
/// <remarks>A pattern with a group named <c>value</c> replaces only that group, so <c>password=hunter2</c> becomes
/// <c>password=[REDACTED:password_pair]</c> and the reader still sees which key was there.</remarks>
public sealed class Redactor
{
    /// <summary>Generous for one activity-log line or snapshot; a pattern that needs longer is being attacked.</summary>
    public TimeSpan MatchTimeout { get; }

    internal static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromSeconds(1);

    private const string ValueGroup = "value";

    // Quoted values are redacted inside their quotes so a JSON line stays valid JSON after redaction;
    // the lookahead keeps a later pattern from redacting an earlier pattern's marker.
    private const string PairValue = """(?:"(?!\[REDACTED:)(?<value>(?:[^"\\\r\n]|\\.)+)"|'(?!\[REDACTED:)(?<value>[^'\r\n]+)'|(?!\[REDACTED:)(?<value>[^\s"',;&}\]]+))""";

    /// <summary>A built-in pattern and the literal texts one of which every match contains: a text without any of them
    /// skips the regex (a vectorised search of a 5 MB snapshot costs about a millisecond; the regex many more).</summary>
    private sealed record BuiltInPattern
    {
        public required string Name { get; init; }
        public required string Pattern { get; init; }
        public required string[] Triggers { get; init; }
        public bool IgnoreCase { get; init; }
    }

    private static readonly BuiltInPattern[] BuiltIn =
    [
        new() { Name = "aws_access_key_id", Pattern = @"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", Triggers = ["AKIA", "ASIA"] },
        new() { Name = "aws_secret_access_key", Pattern = """(?i)(?<![A-Za-z0-9])(?:aws[_\-]?)?secret[_\-]?(?:access[_\-]?)?key["']?\s*[=:]\s*["']?(?<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])""", Triggers = ["secret"], IgnoreCase = true },
        new() { Name = "google_oauth_access_token", Pattern = @"\bya29\.[0-9A-Za-z_\-]+", Triggers = ["ya29."] },
        new() { Name = "google_refresh_token", Pattern = @"(?<![0-9A-Za-z])1//[0-9A-Za-z_\-]{20,}", Triggers = ["1//"] },
        new() { Name = "google_api_key", Pattern = @"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", Triggers = ["AIza"] },
        // A digit is required so prose such as "Bearer authentication" is left alone; real tokens always carry one.
        new() { Name = "bearer_token", Pattern = @"\bBearer\s+(?<value>(?=[A-Za-z\-._~+/]*[0-9])[A-Za-z0-9\-._~+/]{8,}=*)", Triggers = ["Bearer"] },
        new() { Name = "password_pair", Pattern = """(?i)(?<![A-Za-z0-9])[A-Za-z0-9_\-]*?(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|client[_\-]?secret)["']?\s*[=:]\s*""" + PairValue, Triggers = ["pass", "pwd", "secret", "token", "key"], IgnoreCase = true },
        // A truncated key (no END line) is still redacted, to the end of the text.
        new() { Name = "private_key", Pattern = @"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)", Triggers = ["PRIVATE KEY-----"] },
        // Token formats with a fixed prefix, after the secret scanners' rule sets (gitleaks, GitHub secret scanning):
        // the prefix is what makes them safe to match anywhere, so each keeps its full length requirement.
        new() { Name = "github_token", Pattern = @"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])", Triggers = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] },
        new() { Name = "gitlab_token", Pattern = @"\bgl(?:pat|ptt|dt|rt)-[A-Za-z0-9_\-]{20,}", Triggers = ["glpat-", "glptt-", "gldt-", "glrt-"] },
        new() { Name = "slack_token", Pattern = @"\bxox[abposr]-[A-Za-z0-9\-]{10,}", Triggers = ["xox"] },
        new() { Name = "slack_webhook", Pattern = @"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}", Triggers = ["hooks.slack.com/"] },
        // Before openai_api_key, which would otherwise claim sk-ant- keys under its own name.
        new() { Name = "anthropic_api_key", Pattern = @"\bsk-ant-[A-Za-z0-9_\-]{20,}", Triggers = ["sk-ant-"] },
        new() { Name = "openai_api_key", Pattern = @"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", Triggers = ["sk-"] },
        new() { Name = "stripe_key", Pattern = @"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", Triggers = ["_live_", "_test_"] },
        new() { Name = "npm_token", Pattern = @"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", Triggers = ["npm_"] },
        new() { Name = "huggingface_token", Pattern = @"\bhf_[A-Za-z0-9]{34,}", Triggers = ["hf_"] },
        // Three base64url parts, the first two JSON objects ({" encodes as eyJ).
        new() { Name = "jwt", Pattern = @"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", Triggers = ["eyJ"] },
        // scheme://user:password@host: only the password goes, the reader still sees where it pointed.
        new() { Name = "url_password", Pattern = @"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@""']{1,256}:(?!\[REDACTED:)(?<value>[^\s@/""']{1,256})@", Triggers = ["://"] },
    ];

    private static readonly string[] SensitiveKeys =
    [
        "password", "passwd", "secret", "token", "apikey", "authorization", "accesskey", "secretaccesskey",
        "clientsecret", "privatekey", "refreshtoken", "accesstoken", "sessiontoken",
    ];

    // Agent, tool, model, task and file names repeat in almost every event; remembering the short texts that matched
    // nothing saves running every pattern over them again (this was half the cost of a bulk append).
    private const int MaxRememberedLength = 256;
    private const int MaxRemembered = 16_384;

    private readonly (string Name, Regex Regex, string[] Triggers, StringComparison Comparison)[] _patterns;
    private readonly ConcurrentDictionary<string, byte> _clean = new(StringComparer.Ordinal);
    // Counted here: ConcurrentDictionary.Count takes every one of its locks (up to 1,024 once the table has grown), which
    // cost ~40 us per redacted text that was not remembered, more than the patterns themselves.
    private int _cleanCount;

    public Redactor(RedactionPolicy policy) : this(policy, DefaultMatchTimeout)
    {
    }

    /// <summary>Tests pass a short timeout to prove hostile input cannot hang a hook.</summary>
    /// <remarks>The user's patterns run on the linear-time engine (<see cref="RegexOptions.NonBacktracking"/>): a pattern
    /// such as <c>(a+)+$</c> costs microseconds per field instead of a timeout per field. The built-ins are ours and
    /// need lookarounds, so they keep the backtracking engine, each written to scan in linear time.</remarks>
    internal Redactor(RedactionPolicy policy, TimeSpan matchTimeout, bool compiled = true)
    {
        ArgumentNullException.ThrowIfNull(policy);
        MatchTimeout = matchTimeout;
        var options = RegexOptions.CultureInvariant | (compiled ? RegexOptions.Compiled : RegexOptions.None);
        var builtIn = policy.UseDefaults
            ? BuiltIn.Select(p => (p.Name, new Regex(p.Pattern, options, matchTimeout), p.Triggers, p.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            : [];
        var user = policy.Patterns.Select(p => (p.Name, CreateUserRegex(p.Pattern, matchTimeout), Array.Empty<string>(), StringComparison.Ordinal));
        _patterns = builtIn.Concat(user).ToArray();
    }

    /// <summary>A user's pattern on the linear-time engine; throws <see cref="NotSupportedException"/> for what that
    /// engine cannot run (lookarounds, backreferences, atomic groups, conditionals), which policy validation reports.</summary>
    internal static Regex CreateUserRegex(string pattern, TimeSpan matchTimeout) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, matchTimeout);

    /// <summary>For a process that redacts one event and exits (a hook call): the same patterns, interpreted. Compiling
    /// them costs the process more start-up time than it could ever save on one event.</summary>
    public static Redactor ForOneEvent(RedactionPolicy policy) => new(policy, DefaultMatchTimeout, compiled: false);

    /// <summary>Built-in patterns: AWS access key ids and secret keys, Google OAuth access/refresh tokens and API keys,
    /// bearer tokens, password=/secret=/token=/api_key= pairs, PEM private keys, GitHub, GitLab, Slack, Anthropic, OpenAI,
    /// Stripe, npm and Hugging Face tokens, Slack webhooks, JWTs and passwords in URLs.</summary>
    public static IReadOnlyList<RedactionPattern> DefaultPatterns { get; } =
        Array.AsReadOnly(BuiltIn.Select(p => new RedactionPattern { Name = p.Name, Pattern = p.Pattern }).ToArray());

    /// <summary>The text with every match replaced; returns the same instance when nothing matched.</summary>
    public string Redact(string text) => Redact(text, out _);

    /// <summary>As <see cref="Redact(string)"/>; <paramref name="replacedWhole"/> names the pattern when the text could not
    /// be scanned within the time limit and was replaced in full by its marker (the caller says so: it is data lost).</summary>
    public string Redact(string text, out string? replacedWhole)
    {
        ArgumentNullException.ThrowIfNull(text);
        replacedWhole = null;
        var rememberable = text.Length <= MaxRememberedLength;
        if (rememberable && _clean.ContainsKey(text)) return text;
        var result = text;
        foreach (var (name, regex, triggers, comparison) in _patterns)
        {
            if (triggers.Length > 0 && !ContainsAny(result, triggers, comparison)) continue;
            var marker = $"[REDACTED:{name}]";
            try
            {
                result = regex.Replace(result, match => Replace(match, marker));
            }
            catch (RegexMatchTimeoutException)
            {
                // We cannot tell where the secret is, so nothing of the text may survive.
                replacedWhole = name;
                return marker;
            }
        }
        if (rememberable && ReferenceEquals(result, text) && Volatile.Read(ref _cleanCount) < MaxRemembered && _clean.TryAdd(text, 0))
            Interlocked.Increment(ref _cleanCount);
        return result;
    }

    /// <summary>True for keys whose values are secrets whatever they look like (password, secret, token, api_key, authorization, ...).</summary>
    /// <remarks>Case, '-', '_' and '.' are ignored, and a key ending in one of the names (db_password, github_token)
    /// counts too; plurals such as input_tokens do not, so token counts stay readable.</remarks>
    public bool IsSensitiveKey(string key) => IsSensitiveKeyName(key);

    internal static bool IsSensitiveKeyName(string key)
    {
        if (string.IsNullOrEmpty(key)) return false;
        // Loops, not LINQ over chars: every event's keys come through here, in processes as short as one hook call.
        var normalized = new System.Text.StringBuilder(key.Length);
        foreach (var c in key)
            if (c is not ('-' or '_' or '.' or ' ')) normalized.Append(char.ToLowerInvariant(c));
        var name = normalized.ToString();
        foreach (var sensitive in SensitiveKeys)
            if (name.EndsWith(sensitive, StringComparison.Ordinal)) return true;
        return false;
    }

    private static bool ContainsAny(string text, string[] triggers, StringComparison comparison)
    {
        foreach (var trigger in triggers)
            if (text.Contains(trigger, comparison)) return true;
        return false;
    }

    private static string Replace(Match match, string marker)
    {
        var value = match.Groups[ValueGroup];
        if (!value.Success) return marker;
        var start = value.Index - match.Index;
        return string.Concat(match.Value.AsSpan(0, start), marker, match.Value.AsSpan(start + value.Length));
    }
}
