using System.IO.Hashing;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Policy;

/// <summary>
/// The policy's redaction section as JSON in the workspace, for a process that must start fast (a hook call): reading it
/// needs no YAML parser, which alone cost a hook about 100 ms. It is keyed by the policy's full path, length and 128-bit hash
/// (of the embedded default's text when there is no file) and by the engine build, so an edit of the policy or a new
/// release makes the next call do the full, validated load and write the cache again. A cache that is missing,
/// unreadable, foreign or holds a pattern that does not compile is never an error, only a reason for that full load.
/// </summary>
public static class RedactionCache
{
    /// <summary>2: the policy's bytes are keyed by XXH128, not SHA-256 (see <see cref="KeyOf"/>).</summary>
    private const int FormatVersion = 2;

    /// <summary>The redactor of the policy at <paramref name="policyPath"/> (null: the embedded default), from the cache at
    /// <paramref name="cachePath"/> when it matches, else from a full load that then refreshes the cache. Its patterns are
    /// interpreted (<see cref="Redactor.ForOneEvent"/>). A policy that does not load throws as <see cref="PolicyLoader.Load"/> does.</summary>
    public static Redactor LoadForOneEvent(string cachePath, string? policyPath)
    {
        var key = KeyOf(policyPath);
        if (key is not null && FromCache(cachePath, key) is { } cached) return cached;
        var redaction = PolicyLoader.Load(policyPath).Redaction;
        var redactor = Redactor.ForOneEvent(redaction);
        // Only what was loaded from the bytes the key describes is cached: an edit during the load waits for the next call.
        if (key is not null && key == KeyOf(policyPath)) TryWrite(cachePath, key, redaction);
        return redactor;
    }

    /// <summary>The redactor from the cache alone, or null when the cache does not match the policy (missing, stale, damaged):
    /// for the native hook (src/TierStorage.Hook), which has no YAML parser and leaves that full load, and the cache's
    /// rewrite, to the managed command it hands the call to. Its key names this engine build, so a native hook built from
    /// other sources than the command that wrote the cache hands every call over rather than redact by another rule.</summary>
    public static Redactor? TryLoadCachedForOneEvent(string cachePath, string? policyPath) =>
        KeyOf(policyPath) is { } key ? FromCache(cachePath, key) : null;

    private static Redactor? FromCache(string cachePath, string key)
    {
        if (TryRead(cachePath, key) is not { } cached) return null;
        try
        {
            return Redactor.ForOneEvent(cached);
        }
        catch (ArgumentException)
        {
            // A pattern that does not compile never came from a validated policy: the file was damaged. Load afresh.
            return null;
        }
    }

    /// <summary>What the cache must have been built from; null when the policy file cannot be read (the full load reports why).</summary>
    private static string? KeyOf(string? policyPath)
    {
        byte[] content;
        string source;
        if (policyPath is null)
        {
            content = System.Text.Encoding.UTF8.GetBytes(PolicyLoader.EmbeddedDefaultYaml);
            source = PolicyLoader.EmbeddedSource;
        }
        else
        {
            try
            {
                source = Path.GetFullPath(policyPath);
                if (new FileInfo(source).Length > PolicyLoader.MaxPolicyBytes) return null;
                content = File.ReadAllBytes(source);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return null;
            }
        }
        var build = typeof(RedactionCache).Assembly.ManifestModule.ModuleVersionId;
        // XXH128, not SHA-256: the key only tells an edited policy from the one the cache was built from (whoever could
        // forge a collision can write the cache itself), and on Linux SHA-256 means loading and initialising OpenSSL, which
        // cost the native hook more than the rest of its call together.
        return $"{FormatVersion}|{build:N}|{source}|{content.Length}|{Convert.ToHexString(XxHash128.Hash(content))}";
    }

    private static RedactionPolicy? TryRead(string cachePath, string key)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(cachePath));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("key", out var cachedKey) || cachedKey.ValueKind != JsonValueKind.String || cachedKey.GetString() != key
                || !root.TryGetProperty("use_defaults", out var useDefaults) || useDefaults.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
                || !root.TryGetProperty("patterns", out var patterns) || patterns.ValueKind != JsonValueKind.Array)
                return null;
            var redaction = new RedactionPolicy { UseDefaults = useDefaults.GetBoolean() };
            foreach (var p in patterns.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.Object
                    || !p.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 } nameText
                    || !p.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.String || pattern.GetString() is not { Length: > 0 } patternText)
                    return null;
                redaction.Patterns.Add(new RedactionPattern { Name = nameText, Pattern = patternText });
            }
            return redaction;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static void TryWrite(string cachePath, string key, RedactionPolicy redaction)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("key", key);
            writer.WriteBoolean("use_defaults", redaction.UseDefaults);
            writer.WriteStartArray("patterns");
            foreach (var p in redaction.Patterns)
            {
                writer.WriteStartObject();
                writer.WriteString("name", p.Name);
                writer.WriteString("pattern", p.Pattern);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        // A temp name of its own: parallel hooks may rebuild at the same moment, and each rename is whole.
        var temp = $"{cachePath}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temp, buffer.ToArray());
            File.Move(temp, cachePath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: without a cache the next call loads the policy in full again.
            AtomicFile.TryDelete(temp);
        }
    }
}
