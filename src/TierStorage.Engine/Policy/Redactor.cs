using TierStorage.Contracts;

namespace TierStorage.Engine.Policy;

/// <summary>Replaces secrets in text with [REDACTED:&lt;pattern name&gt;]. Thread-safe; compile once per policy.</summary>
public sealed class Redactor
{
    public Redactor(RedactionPolicy policy) => throw new NotImplementedException();

    /// <summary>Built-in patterns: AWS access key ids and secret keys, Google OAuth access/refresh tokens,
    /// bearer tokens, password=/secret=/token=/api_key= pairs, PEM private keys.</summary>
    public static IReadOnlyList<RedactionPattern> DefaultPatterns => throw new NotImplementedException();

    /// <summary>The text with every match replaced; returns the same instance when nothing matched.</summary>
    public string Redact(string text) => throw new NotImplementedException();

    /// <summary>True for keys whose values are secrets whatever they look like (password, secret, token, api_key, authorization, ...).</summary>
    public bool IsSensitiveKey(string key) => throw new NotImplementedException();
}
