using System.Globalization;

namespace TierStorage.Contracts;

/// <summary>The effective lifecycle policy (tierstorage.yaml with every default filled in).</summary>
public sealed class TierPolicy
{
    public int Version { get; set; } = 1;
    /// <summary>File the policy came from, or "(embedded default)".</summary>
    public string Source { get; set; } = "";
    public List<TierDefinition> Tiers { get; set => field = PolicyList<TierDefinition>.Of(value); } = new PolicyList<TierDefinition>();
    public RetentionPolicy Retention { get; set; } = new();
    public List<LifecycleRule> Lifecycle { get; set => field = PolicyList<LifecycleRule>.Of(value); } = new PolicyList<LifecycleRule>();
    public BackupPolicy Backup { get; set; } = new();
    public RedactionPolicy Redaction { get; set; } = new();
    public PricingPolicy Pricing { get; set; } = new();
    public ReviewPolicy Review { get; set; } = new();
    public EncryptionPolicy Encryption { get; set; } = new();
    /// <summary>The user's own folders kept as versioned, tiered data (issue 13): <c>collections:</c> in the policy.</summary>
    public List<CollectionDefinition> Collections { get; set => field = PolicyList<CollectionDefinition>.Of(value); } = new PolicyList<CollectionDefinition>();

    /// <summary>Where each run's alerts go, and their thresholds (issue 13): <c>alerts:</c> in the policy.</summary>
    public AlertPolicy Alerts { get; set; } = new();

    /// <summary>Where the catalog lives (issue 14): <c>catalog:</c> in the policy; the workspace's SQLite file by default.</summary>
    public CatalogPolicy Catalog { get; set; } = new();

    public CollectionDefinition? GetCollection(string name) => Collections.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    public TierDefinition? GetTier(TierLevel level) => Tiers.FirstOrDefault(t => t.Level == level);
    public TierDefinition? GetTier(string name) => Tiers.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}

public sealed class TierDefinition
{
    public string Name { get; set; } = "";
    public TierLevel Level { get; set; }
    public TierKind Kind { get; set; }
    /// <summary>Bytes; null for unbounded.</summary>
    public long? CapacityBytes { get; set; }
    public double WarnPercent { get; set; } = 80;
    public double CriticalPercent { get; set; } = 90;
    /// <summary>When the tier reaches CriticalPercent, the policy run moves data off it early (the seed's auto-migration):
    /// level 1 keeps only the newest session, level 2 only the current phase; always copy first, delete after.</summary>
    public bool MigrateOnCritical { get; set; }
    public decimal PricePerGbMonth { get; set; }
    /// <summary>folder: directory (environment variables and ~ expanded; relative to the workspace).</summary>
    public string? Path { get; set; }
    /// <summary>google-drive: name of the root folder under My Drive.</summary>
    public string? RootFolder { get; set; }
    /// <summary>google-drive: OAuth client secrets file (relative to the workspace's credentials/).</summary>
    public string? ClientSecrets { get; set; }
    /// <summary>google-drive: base URL of the Drive API (tests and self-hosted setups); null for Google's.</summary>
    public string? ApiEndpoint { get; set; }
    /// <summary>google-drive: OAuth authorization URL; null for Google's.</summary>
    public string? AuthEndpoint { get; set; }
    /// <summary>google-drive: OAuth token URL; null for Google's.</summary>
    public string? TokenEndpoint { get; set; }
    public string? Bucket { get; set; }
    public string? Region { get; set; }
    public string? Prefix { get; set; }
    public string? StorageClass { get; set; }
    public string? Endpoint { get; set; }
    public bool ForcePathStyle { get; set; }
    public string? ServerSideEncryption { get; set; }
    /// <summary>s3: AWS profile name for the SDK's credential chain (never keys).</summary>
    public string? Profile { get; set; }

    public override string ToString() => $"{Name} ({Level}, {Kind})";
}

public sealed class RetentionPolicy
{
    /// <summary>Sessions kept on the local tier (current + previous).</summary>
    public int LocalSessions { get; set; } = 2;
    /// <summary>Phases kept on the backup tier before they are archived.</summary>
    public int BackupPhases { get; set; } = 2;
    /// <summary>Days an archive is kept; null = forever.</summary>
    public int? ArchiveDays { get; set; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"local {LocalSessions} sessions, backup {BackupPhases} phases, archive ") +
        (ArchiveDays is { } days ? string.Create(CultureInfo.InvariantCulture, $"{days} days") : "forever");
}

/// <summary>Age-based rule for one data class, evaluated by Move-DataTier.</summary>
public sealed class LifecycleRule
{
    /// <summary>activity_logs, snapshots, handoffs, analytics, insights.</summary>
    public string DataClass { get; set; } = "";
    public int? CoreDays { get; set; }
    public int? MainDays { get; set; }
    public int? ArchiveAfterDays { get; set; }
    public int? DeleteAfterDays { get; set; }

    public override string ToString()
    {
        var ages = new[] { ("core", CoreDays), ("main", MainDays), ("archive after", ArchiveAfterDays), ("delete after", DeleteAfterDays) }
            .Where(a => a.Item2 is not null)
            .Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Item1} {a.Item2}d"));
        return $"{DataClass}: {string.Join(", ", ages)}";
    }
}

public sealed class BackupPolicy
{
    public bool OnSessionComplete { get; set; } = true;
    /// <summary>gzip level 1 (fastest) .. 9 (smallest).</summary>
    public int CompressionLevel { get; set; } = 6;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(OnSessionComplete ? "on session complete" : "on demand")}, gzip level {CompressionLevel}");
}

public sealed class RedactionPolicy
{
    /// <summary>Apply the built-in patterns (AWS keys, Google OAuth tokens, bearer tokens, password= pairs, private keys).</summary>
    public bool UseDefaults { get; set; } = true;
    public List<RedactionPattern> Patterns { get; set => field = PolicyList<RedactionPattern>.Of(value); } = new PolicyList<RedactionPattern>();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(UseDefaults ? "built-in patterns" : "no built-in patterns")} + {Patterns.Count} custom");
}

public sealed class RedactionPattern
{
    public string Name { get; set; } = "";
    /// <summary>.NET regular expression.</summary>
    public string Pattern { get; set; } = "";

    public override string ToString() => Name;
}

public sealed class PricingPolicy
{
    public string Currency { get; set; } = "USD";
    /// <summary>Per model id (or prefix), USD per million tokens.</summary>
    public Dictionary<string, ModelPrice> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Deep Archive retrieval, USD per GB.</summary>
    public decimal ArchiveStandardRetrievalPerGb { get; set; } = 0.02m;
    public decimal ArchiveBulkRetrievalPerGb { get; set; } = 0.0025m;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Models.Count} models ({Currency})");
}

public sealed class ModelPrice
{
    public decimal Input { get; set; }
    public decimal Output { get; set; }
    public decimal CacheWrite5m { get; set; }
    public decimal CacheWrite1h { get; set; }
    public decimal CacheRead { get; set; }
    /// <summary>Input tokens per request above which the long-context rates apply; null when the model has none.</summary>
    public long? LongContextThreshold { get; set; }
    public decimal? LongContextInput { get; set; }
    public decimal? LongContextOutput { get; set; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"in {Input} / out {Output} / cache r {CacheRead} per million tokens");
}

/// <summary>Where the key-encryption key of client-side encryption comes from.</summary>
public enum EncryptionKeySource
{
    /// <summary>A random 256-bit key in the workspace's credentials/ (Initialize-TierWorkspace -Encrypt).</summary>
    KeyFile,
    /// <summary>A passphrase in an environment variable, stretched by PBKDF2-SHA256 with a salt kept on the tier.</summary>
    Passphrase,
}

/// <summary>Client-side encryption of everything sent to the backup and archive tiers (the policy's encryption section).</summary>
public sealed class EncryptionPolicy
{
    public const int MinimumKdfIterations = 600_000;

    public bool Enabled { get; set; }
    public EncryptionKeySource KeySource { get; set; } = EncryptionKeySource.KeyFile;
    /// <summary>passphrase: the environment variable that holds it (never the passphrase itself).</summary>
    public string? PassphraseVariable { get; set; }
    /// <summary>passphrase: PBKDF2-SHA256 iterations for a new key (an existing tier keeps the count it was written with).</summary>
    public int KdfIterations { get; set; } = MinimumKdfIterations;
    /// <summary>Plaintext bytes per authenticated chunk.</summary>
    public int ChunkSizeBytes { get; set; } = 1 << 20;
    /// <summary>Tiers to encrypt; empty for every tier but the local one.</summary>
    public List<string> Tiers { get; set => field = PolicyList<string>.Of(value); } = new PolicyList<string>();

    /// <summary>True when objects sent to <paramref name="tier"/> are encrypted.</summary>
    public bool Covers(TierDefinition tier) =>
        Enabled && tier.Level != TierLevel.Local && (Tiers.Count == 0 || Tiers.Contains(tier.Name, StringComparer.OrdinalIgnoreCase));

    public override string ToString() => !Enabled ? "off" :
        string.Create(CultureInfo.InvariantCulture, $"AES-256-GCM, {(KeySource == EncryptionKeySource.KeyFile ? "key file" : $"passphrase from ${PassphraseVariable}")}, {(Tiers.Count == 0 ? "every non-local tier" : string.Join(", ", Tiers))}");
}

/// <summary>What the end-of-phase review measures the phase against.</summary>
public sealed class ReviewPolicy
{
    /// <summary>Target on p95 per event type (tool_call, llm_call, or any custom type), in milliseconds. The loader
    /// merges the policy's entries over the built-in targets; empty means the built-in targets.</summary>
    public Dictionary<string, long> LatencyTargetsMs { get; set; } = new(StringComparer.Ordinal);
    public BudgetPolicy Budget { get; set; } = new();

    public override string ToString() =>
        string.Join(", ", LatencyTargetsMs.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} p95 <= {t.Value} ms")))
        + (Budget.ToString() is { Length: > 0 } budget ? "; " + budget : "");
}

/// <summary>Spending limits, in the currency of the prices; null means no limit (and no row in the review).</summary>
public sealed class BudgetPolicy
{
    /// <summary>Spend of the whole phase.</summary>
    public decimal? PhaseUsd { get; set; }
    /// <summary>Average cost per task (the phase's spend over its distinct tasks).</summary>
    public decimal? TaskUsd { get; set; }
    /// <summary>Spend of any one day (UTC).</summary>
    public decimal? DailyUsd { get; set; }

    public override string ToString() => string.Join(", ", new[] { ("phase", PhaseUsd), ("task", TaskUsd), ("day", DailyUsd) }
        .Where(b => b.Item2 is not null).Select(b => $"{b.Item1} {Readable.Usd(b.Item2!.Value)}"));
}

/// <summary>A policy's list that reads as its items ("local (Local, Folder); backup (Backup, GoogleDrive)") in Export-Csv and
/// string conversion, where a plain List shows its type name. Still a List: the loader builds and edits it as one.</summary>
public sealed class PolicyList<T> : List<T>
{
    public PolicyList()
    {
    }

    public PolicyList(IEnumerable<T> items) : base(items)
    {
    }

    internal static PolicyList<T> Of(List<T>? items) => items as PolicyList<T> ?? new PolicyList<T>(items ?? []);

    public override string ToString() => string.Join("; ", this);
}

/// <summary>The policy's <c>catalog:</c> section: the workspace's own SQLite file (the default), or a PostgreSQL database that a
/// team's machines share, named by a connection string that never holds the password.</summary>
public sealed class CatalogPolicy
{
    /// <summary>"sqlite" (default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";
    /// <summary>The PostgreSQL connection string (Host=...;Port=...;Database=...;Username=...), without a password.</summary>
    public string? Connection { get; set; }
    /// <summary>The environment variable holding the PostgreSQL password; without it Npgsql reads PGPASSWORD or the user's pgpass file.</summary>
    public string? PasswordEnv { get; set; }
    /// <summary>With provider sqlite and a connection: every command that changed the SQLite catalog also copies the change into the
    /// PostgreSQL one (the migration's dual-write stage, set by Copy-TierCatalog -DualWrite).</summary>
    public bool DualWrite { get; set; }

    public bool IsPostgres => string.Equals(Provider, "postgres", StringComparison.Ordinal);

    /// <summary>One line for Format-List and Export-Csv; the connection holds no password (the policy refuses one).</summary>
    public override string ToString() =>
        IsPostgres ? $"postgres: {Connection}{(PasswordEnv is null ? "" : $" (password from ${PasswordEnv})")}"
        : DualWrite ? $"sqlite, mirrored into postgres: {Connection}"
        : "sqlite (the workspace's analytics/agent_metrics.db)";
}
