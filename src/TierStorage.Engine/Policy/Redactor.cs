using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Replaces secrets in text with [REDACTED:&lt;pattern name&gt;]. Thread-safe; compile once per policy.</summary>
/// <remarks>A pattern with a group named <c>value</c> replaces only that group, so <c>password=hunter2</c> becomes
/// <c>password=[REDACTED:password_pair]</c> and the reader still sees which key was there.</remarks>
public sealed partial class Redactor
{
    /// <summary>Generous for one activity-log line or snapshot; a pattern that needs longer is being attacked.</summary>
    public TimeSpan MatchTimeout { get; }

    internal static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(DefaultMatchTimeoutMilliseconds);

    private const int DefaultMatchTimeoutMilliseconds = 1000;

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
        /// <summary>The pattern with the default time limit, compiled into this assembly by the regex source generator.</summary>
        public required Func<Regex> Generated { get; init; }
        public required string[] Triggers { get; init; }
        public bool IgnoreCase { get; init; }
    }

    private const string AwsAccessKeyIdPattern = @"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b";
    private const string AwsSecretAccessKeyPattern = """(?i)(?<![A-Za-z0-9])(?:aws[_\-]?)?secret[_\-]?(?:access[_\-]?)?key["']?\s*[=:]\s*["']?(?<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])""";
    private const string GoogleOauthAccessTokenPattern = @"\bya29\.[0-9A-Za-z_\-]+";
    private const string GoogleRefreshTokenPattern = @"(?<![0-9A-Za-z])1//[0-9A-Za-z_\-]{20,}";
    private const string GoogleApiKeyPattern = @"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])";
    private const string BearerTokenPattern = @"\bBearer\s+(?<value>(?=[A-Za-z\-._~+/]*[0-9])[A-Za-z0-9\-._~+/]{8,}=*)";
    private const string PasswordPairPattern = """(?i)(?<![A-Za-z0-9])[A-Za-z0-9_\-]*?(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|client[_\-]?secret)["']?\s*[=:]\s*""" + PairValue;
    private const string PrivateKeyPattern = @"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)";
    private const string GithubTokenPattern = @"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])";
    private const string GitlabTokenPattern = @"\bgl(?:pat|ptt|dt|rt)-[A-Za-z0-9_\-]{20,}";
    private const string SlackTokenPattern = @"\bxox[abposr]-[A-Za-z0-9\-]{10,}";
    private const string SlackWebhookPattern = @"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}";
    private const string AnthropicApiKeyPattern = @"\bsk-ant-[A-Za-z0-9_\-]{20,}";
    private const string OpenaiApiKeyPattern = @"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}";
    private const string StripeKeyPattern = @"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}";
    private const string NpmTokenPattern = @"\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])";
    private const string HuggingfaceTokenPattern = @"\bhf_[A-Za-z0-9]{34,}";
    private const string JwtPattern = @"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}";
    private const string UrlPasswordPattern = @"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@""']{1,256}:(?!\[REDACTED:)(?<value>[^\s@/""']{1,256})@";

    [GeneratedRegex(AwsAccessKeyIdPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex AwsAccessKeyId();
    [GeneratedRegex(AwsSecretAccessKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex AwsSecretAccessKey();
    [GeneratedRegex(GoogleOauthAccessTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex GoogleOauthAccessToken();
    [GeneratedRegex(GoogleRefreshTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex GoogleRefreshToken();
    [GeneratedRegex(GoogleApiKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex GoogleApiKey();
    [GeneratedRegex(BearerTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex BearerToken();
    [GeneratedRegex(PasswordPairPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex PasswordPair();
    [GeneratedRegex(PrivateKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex PrivateKey();
    [GeneratedRegex(GithubTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex GithubToken();
    [GeneratedRegex(GitlabTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex GitlabToken();
    [GeneratedRegex(SlackTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex SlackToken();
    [GeneratedRegex(SlackWebhookPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex SlackWebhook();
    [GeneratedRegex(AnthropicApiKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex AnthropicApiKey();
    [GeneratedRegex(OpenaiApiKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex OpenaiApiKey();
    [GeneratedRegex(StripeKeyPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex StripeKey();
    [GeneratedRegex(NpmTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex NpmToken();
    [GeneratedRegex(HuggingfaceTokenPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex HuggingfaceToken();
    [GeneratedRegex(JwtPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex Jwt();
    [GeneratedRegex(UrlPasswordPattern, RegexOptions.CultureInvariant, DefaultMatchTimeoutMilliseconds)]
    private static partial Regex UrlPassword();

    private static readonly BuiltInPattern[] BuiltIn =
    [
        new() { Name = "aws_access_key_id", Pattern = AwsAccessKeyIdPattern, Generated = AwsAccessKeyId, Triggers = ["AKIA", "ASIA"] },
        new() { Name = "aws_secret_access_key", Pattern = AwsSecretAccessKeyPattern, Generated = AwsSecretAccessKey, Triggers = ["secret"], IgnoreCase = true },
        new() { Name = "google_oauth_access_token", Pattern = GoogleOauthAccessTokenPattern, Generated = GoogleOauthAccessToken, Triggers = ["ya29."] },
        new() { Name = "google_refresh_token", Pattern = GoogleRefreshTokenPattern, Generated = GoogleRefreshToken, Triggers = ["1//"] },
        new() { Name = "google_api_key", Pattern = GoogleApiKeyPattern, Generated = GoogleApiKey, Triggers = ["AIza"] },
        // A digit is required so prose such as "Bearer authentication" is left alone; real tokens always carry one.
        new() { Name = "bearer_token", Pattern = BearerTokenPattern, Generated = BearerToken, Triggers = ["Bearer"] },
        new() { Name = "password_pair", Pattern = PasswordPairPattern, Generated = PasswordPair, Triggers = ["pass", "pwd", "secret", "token", "key"], IgnoreCase = true },
        // A truncated key (no END line) is still redacted, to the end of the text.
        new() { Name = "private_key", Pattern = PrivateKeyPattern, Generated = PrivateKey, Triggers = ["PRIVATE KEY-----"] },
        // Token formats with a fixed prefix, after the secret scanners' rule sets (gitleaks, GitHub secret scanning):
        // the prefix is what makes them safe to match anywhere, so each keeps its full length requirement.
        new() { Name = "github_token", Pattern = GithubTokenPattern, Generated = GithubToken, Triggers = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] },
        new() { Name = "gitlab_token", Pattern = GitlabTokenPattern, Generated = GitlabToken, Triggers = ["glpat-", "glptt-", "gldt-", "glrt-"] },
        new() { Name = "slack_token", Pattern = SlackTokenPattern, Generated = SlackToken, Triggers = ["xox"] },
        new() { Name = "slack_webhook", Pattern = SlackWebhookPattern, Generated = SlackWebhook, Triggers = ["hooks.slack.com/"] },
        // Before openai_api_key, which would otherwise claim sk-ant- keys under its own name.
        new() { Name = "anthropic_api_key", Pattern = AnthropicApiKeyPattern, Generated = AnthropicApiKey, Triggers = ["sk-ant-"] },
        new() { Name = "openai_api_key", Pattern = OpenaiApiKeyPattern, Generated = OpenaiApiKey, Triggers = ["sk-"] },
        new() { Name = "stripe_key", Pattern = StripeKeyPattern, Generated = StripeKey, Triggers = ["_live_", "_test_"] },
        new() { Name = "npm_token", Pattern = NpmTokenPattern, Generated = NpmToken, Triggers = ["npm_"] },
        new() { Name = "huggingface_token", Pattern = HuggingfaceTokenPattern, Generated = HuggingfaceToken, Triggers = ["hf_"] },
        // Three base64url parts, the first two JSON objects ({" encodes as eyJ).
        new() { Name = "jwt", Pattern = JwtPattern, Generated = Jwt, Triggers = ["eyJ"] },
        // scheme://user:password@host: only the password goes, the reader still sees where it pointed.
        new() { Name = "url_password", Pattern = UrlPasswordPattern, Generated = UrlPassword, Triggers = ["://"] },
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
    /// <remarks>The built-ins are ours and need lookarounds, so they run on the backtracking engine, each written to scan
    /// in linear time. With the default time limit they are the source-generated regexes, compiled with the assembly
    /// (and precompiled by ReadyToRun or NativeAOT): <see cref="RegexOptions.Compiled"/> built them with Reflection.Emit
    /// and JIT-compiled them in every process that opened a workspace, ~0.1 s of CPU before any work, on every command
    /// (issue 12). Another time limit (tests) interprets the same patterns. The user's patterns run on the linear-time
    /// engine (<see cref="RegexOptions.NonBacktracking"/>): a pattern such as <c>(a+)+$</c> costs microseconds per field
    /// instead of a timeout per field.</remarks>
    internal Redactor(RedactionPolicy policy, TimeSpan matchTimeout)
    {
        ArgumentNullException.ThrowIfNull(policy);
        MatchTimeout = matchTimeout;
        var generated = matchTimeout == DefaultMatchTimeout;
        var builtIn = policy.UseDefaults
            ? BuiltIn.Select(p => (p.Name, generated ? p.Generated() : new Regex(p.Pattern, RegexOptions.CultureInvariant, matchTimeout), p.Triggers, p.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            : [];
        var user = policy.Patterns.Select(p => (p.Name, CreateUserRegex(p.Pattern, matchTimeout), Array.Empty<string>(), StringComparison.Ordinal));
        _patterns = builtIn.Concat(user).ToArray();
    }

    /// <summary>A user's pattern on the linear-time engine; throws <see cref="NotSupportedException"/> for what that
    /// engine cannot run (lookarounds, backreferences, atomic groups, conditionals), which policy validation reports.</summary>
    internal static Regex CreateUserRegex(string pattern, TimeSpan matchTimeout) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, matchTimeout);

    /// <summary>For a process that redacts one event and exits (a hook call). The built-ins being source-generated, this is
    /// the same redactor: building it parses and compiles nothing (it used to interpret the patterns, because compiling
    /// them at run time cost a hook call more than it could save on one event).</summary>
    public static Redactor ForOneEvent(RedactionPolicy policy) => new(policy);

    /// <summary>Each built-in's declared pattern beside its source-generated regex (tests hold the two to each other).</summary>
    internal static IEnumerable<(string Name, string Pattern, Regex Generated)> BuiltInRegexes => BuiltIn.Select(p => (p.Name, p.Pattern, p.Generated()));

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
        // Loops, not LINQ over chars, and no string built for a short key: every event's keys come through here, in processes as
        // short as one hook call and in imports of a million events.
        Span<char> buffer = key.Length <= 128 ? stackalloc char[key.Length] : new char[key.Length];
        var length = 0;
        foreach (var c in key)
            if (c is not ('-' or '_' or '.' or ' ')) buffer[length++] = char.ToLowerInvariant(c);
        ReadOnlySpan<char> name = buffer[..length];
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
