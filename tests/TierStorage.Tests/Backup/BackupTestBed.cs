using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using TierStorage.Contracts;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Workspace;
using TierStorage.Tests.Workspace;
using Xunit;

namespace TierStorage.Tests.Backup;

/// <summary>
/// A workspace whose policy backs up to a folder tier in the same temp directory, opened with a store factory that
/// wraps the folder store in <see cref="FaultyStore"/> (switches in <see cref="Faults"/>), or with any other factory.
/// Everything lives under one temp directory, deleted afterwards.
/// </summary>
internal sealed class BackupTestBed : IAsyncDisposable
{
    public const string BackupTier = "backup";
    private readonly List<TierWorkspace> _opened = [];

    private BackupTestBed(string root) => Root = root;

    public string Root { get; }
    public string WorkspaceRoot => Path.Combine(Root, "ws");
    /// <summary>The tier's folder as the policy names it; projects' namespaces are folders in it.</summary>
    public string TierBase => Path.Combine(Root, "tier");
    /// <summary>This workspace's namespace on the tiers (workspace.json, written by InitializeAsync).</summary>
    public string Namespace => WorkspaceIdentity.Parse(File.ReadAllBytes(WorkspaceIdentity.PathIn(WorkspaceRoot)), "test").Namespace;
    /// <summary>The workspace's own folder on the tier: where its keys live (the sealed namespace when the policy encrypts).</summary>
    public string TierRoot => Path.Combine(TierBase, Encrypted ? WorkspaceIdentity.SealedNamespace(Namespace) : Namespace);
    /// <summary>The policy has an encryption section (extraYaml).</summary>
    public bool Encrypted { get; private set; }
    public WorkspaceLayout Layout => new(WorkspaceRoot);
    public ManualTime Time { get; } = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    /// <summary>The machine and user the workspace records its sessions as (a shared catalog); null: this process's.</summary>
    public TierStorage.Engine.Catalog.CatalogOrigin? Origin { get; set; }
    public StoreFaults Faults { get; } = new();
    /// <summary>Replaces the faulty folder store (e.g. a Drive store against the fake).</summary>
    public Func<TierDefinition, TierStoreContext, CancellationToken, Task<IObjectStore>>? StoreFactory { get; set; }

    /// <param name="tierYaml">The level-2 tier's YAML (list item); default a folder tier at <see cref="TierBase"/>.</param>
    /// <param name="extraYaml">More root sections of the policy (e.g. encryption:).</param>
    /// <param name="postgres">When given, the workspace's catalog is a new PostgreSQL database on that server (the policy's
    /// catalog section), as a team's machine has it: the same test, on the other provider.</param>
    public static async Task<BackupTestBed> CreateAsync(int localSessions = 2, string? tierYaml = null, string extraYaml = "", int? backupPhases = null,
        Catalog.Postgres.PostgresServerFixture? postgres = null)
    {
        if (postgres is not null)
        {
            var catalog = await postgres.CreateCatalogAsync("bed");
            extraYaml += $"""

                catalog:
                  provider: postgres
                  connection: "{catalog.Target}"
                  password_env: {Catalog.Postgres.PostgresServerFixture.PasswordVariable}
                """;
        }
        var bed = new BackupTestBed(Path.Combine(Path.GetTempPath(), "ts-backup-" + Guid.NewGuid().ToString("N"))) { Encrypted = extraYaml.Contains("encryption:", StringComparison.Ordinal) };
        Directory.CreateDirectory(bed.Root);
        var policy = Path.Combine(bed.Root, "policy.yaml");
        tierYaml ??= $"""
              - name: {BackupTier}
                level: 2
                kind: folder
                path: {bed.TierBase}
                capacity: unlimited
                price_per_gb_month: 0
            """;
        await File.WriteAllTextAsync(policy, $"""
            version: 1
            tiers:
              - name: local
                level: 1
                kind: folder
                capacity: 20MB
                price_per_gb_month: 0
            {tierYaml}
            retention:
              local_sessions: {localSessions.ToString(CultureInfo.InvariantCulture)}{(backupPhases is { } phases ? $"\n  backup_phases: {phases.ToString(CultureInfo.InvariantCulture)}" : "")}
            backup:
              on_session_complete: false
              compression_level: 1
            {extraYaml}

            """);
        await TierWorkspace.InitializeAsync(bed.WorkspaceRoot, policy, force: false, CancellationToken.None);
        return bed;
    }

    /// <summary>A new TierWorkspace (own catalog connection, own stores), as a new process would open it.</summary>
    public async Task<TierWorkspace> OpenAsync(Action<string>? warning = null)
    {
        var workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions
        {
            WorkspacePath = WorkspaceRoot,
            Warning = warning,
            Time = Time,
            Origin = Origin,
            StoreFactory = (tier, context, ct) => StoreFactory is { } factory
                ? factory(tier, context, ct)
                : Task.FromResult<IObjectStore>(new FaultyStore(TierStoreFactory.FolderStore(tier, context), Faults)),
        }, CancellationToken.None);
        _opened.Add(workspace);
        return workspace;
    }

    public async Task CloseAsync(TierWorkspace workspace)
    {
        _opened.Remove(workspace);
        await workspace.DisposeAsync();
    }

    /// <summary>Starts, fills (events, snapshots) and completes a session one minute after the last; returns its id.</summary>
    public async Task<string> CompletedSessionAsync(TierWorkspace workspace, int events = 20, int snapshots = 2, int randomBytesPerEvent = 0, int seed = 1)
    {
        Time.Advance(TimeSpan.FromMinutes(1));
        var session = await workspace.StartSessionAsync(new StartSessionRequest { Phase = 1 }, CancellationToken.None);
        var random = new Random(seed);
        var batch = new List<SessionEvent>();
        for (var i = 0; i < events; i++)
        {
            var data = new Dictionary<string, object?> { ["step"] = (long)i };
            if (randomBytesPerEvent > 0)
            {
                var bytes = new byte[randomBytesPerEvent];
                random.NextBytes(bytes);
                data["blob"] = Convert.ToBase64String(bytes);
            }
            batch.Add(new SessionEvent { Timestamp = Time.Now, Type = SessionEventType.ToolCall, Tool = "bash", DurationMs = 10 + i, Success = true, Data = data });
        }
        await workspace.AppendEventsAsync(batch, null, CancellationToken.None);
        for (var i = 0; i < snapshots; i++)
            await workspace.SaveSnapshotAsync(null, $$"""{"step":{{i}},"note":"snapshot {{i}} of {{session.SessionId}}"}""", CancellationToken.None);
        await workspace.CompleteSessionAsync(null, CancellationToken.None);
        return session.SessionId;
    }

    /// <summary>The session's local files (log, snapshots, handoff) with their bytes.</summary>
    public async Task<Dictionary<string, byte[]>> LocalFilesAsync(TierWorkspace workspace, string sessionId)
    {
        var info = await SessionAsync(workspace, sessionId);
        var paths = Layout.EnumerateSnapshots(sessionId).Select(s => s.Path).Append(info.LogPath).Append(info.HandoffPath)
            .Where(p => p is not null && File.Exists(p)).Cast<string>();
        return paths.ToDictionary(p => p, File.ReadAllBytes);
    }

    public static async Task<SessionInfo> SessionAsync(TierWorkspace workspace, string sessionId)
    {
        await foreach (var s in workspace.GetSessionsAsync(new SessionFilter { SessionId = sessionId }, CancellationToken.None))
            return s;
        throw new InvalidOperationException($"No session {sessionId}.");
    }

    public static async Task<List<BackupResult>> BackupAsync(TierWorkspace workspace, params string[] sessionIds) =>
        await ToListAsync(workspace.Backups.BackupAsync(new BackupRequest { SessionIds = sessionIds }, null, CancellationToken.None));

    public static async Task<List<BackupCheck>> CheckAsync(TierWorkspace workspace, bool readData = false) =>
        await ToListAsync(workspace.Backups.CheckAsync(new BackupCheckRequest { ReadData = readData }, CancellationToken.None));

    public static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    /// <summary>Every file under the tier folder (keys), the store's .tsmeta sidecars excluded.</summary>
    public List<string> TierKeys() => !Directory.Exists(TierRoot) ? [] :
        Directory.EnumerateFiles(TierRoot, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(TierRoot, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => !k.StartsWith(FolderObjectStore.MetadataDirectoryName + "/", StringComparison.Ordinal))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();

    public string TierPath(string key) => Path.Combine(TierRoot, key.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Every file under the workspace with its bytes (the catalog and its journal files excluded: reads touch them).</summary>
    public Dictionary<string, string> WorkspaceSnapshot() =>
        Directory.EnumerateFiles(WorkspaceRoot, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(Layout.AnalyticsDirectory, StringComparison.Ordinal) && !p.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(p => p, p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));

    public static async Task<List<StoredObject>> ObjectsAsync(TierWorkspace workspace, string sessionId) =>
        await ToListAsync(workspace.Catalog.ListObjectsAsync(null, sessionId, CancellationToken.None));

    public static async Task<List<QueuedBackup>> QueueAsync(TierWorkspace workspace) =>
        await ToListAsync(workspace.Catalog.ListQueuedBackupsAsync(CancellationToken.None));

    public static async Task<long> EventCountAsync(TierWorkspace workspace, string sessionId) =>
        (await ToListAsync(workspace.GetEventsAsync(new SessionEventQuery { SessionId = sessionId }, CancellationToken.None))).Count;

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    public static byte[] Gunzip(byte[] gzip)
    {
        using var input = new System.IO.Compression.GZipStream(new MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress);
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var workspace in _opened) await workspace.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test over it would hide the real result.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Fault switches shared by every <see cref="FaultyStore"/> a bed opens (like a network that goes down).</summary>
internal sealed class StoreFaults
{
    /// <summary>Every call fails with TierUnreachable (ConnectionError).</summary>
    public bool Offline { get; set; }
    /// <summary>Puts fail with TierQuotaExceeded.</summary>
    public bool QuotaExceeded { get; set; }
    /// <summary>Puts and stats report a wrong MD5 for keys ending so (a tier that stored other bytes).</summary>
    public string? WrongMd5ForSuffix { get; set; }
    /// <summary>Puts that reached the tier.</summary>
    public int Puts;
    /// <summary>Once <see cref="Puts"/> reaches it, further puts fail with TierUnreachable (a connection lost part way).</summary>
    public int? PutsBeforeOffline { get; set; }
}

/// <summary>Wraps a store and injects the faults switched on in <see cref="StoreFaults"/> (Duplicati's DeterministicErrorBackend).</summary>
internal sealed class FaultyStore(IObjectStore inner, StoreFaults faults) : IObjectStore
{
    public string TierName => inner.TierName;
    public TierKind Kind => inner.Kind;
    public string Location => inner.Location;

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, CancellationToken cancellationToken)
    {
        ThrowIfOffline(key);
        if (faults.PutsBeforeOffline is { } limit && faults.Puts >= limit)
            throw new TierStorageException(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError, $"Tier '{TierName}' cannot be reached (test: lost after {limit} puts).", key);
        if (faults.QuotaExceeded)
            throw new TierStorageException(ErrorIds.TierQuotaExceeded, TierErrorKind.ResourceUnavailable, $"Tier '{TierName}' refuses more data today.", key);
        // The tier's own check against ExpectedMd5 is left out, so the engine's verification is what must catch a bad copy.
        var info = await inner.PutAsync(key, content, options is null ? null : options with { ExpectedMd5 = null }, cancellationToken);
        Interlocked.Increment(ref faults.Puts);
        return Tamper(info);
    }

    public Task GetAsync(string key, Stream destination, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ThrowIfOffline(key);
        return inner.GetAsync(key, destination, offset, progress, cancellationToken);
    }

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        ThrowIfOffline(key);
        return await inner.StatAsync(key, cancellationToken) is { } info ? Tamper(info) : null;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfOffline(prefix);
        await foreach (var info in inner.ListAsync(prefix, cancellationToken)) yield return Tamper(info);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        ThrowIfOffline(key);
        return inner.DeleteAsync(key, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private ObjectInfo Tamper(ObjectInfo info) =>
        faults.WrongMd5ForSuffix is { } suffix && info.Key.EndsWith(suffix, StringComparison.Ordinal) ? info with { Md5 = new string('0', 32) } : info;

    private void ThrowIfOffline(string key)
    {
        if (faults.Offline)
            throw new TierStorageException(ErrorIds.TierUnreachable, TierErrorKind.ConnectionError, $"Tier '{TierName}' cannot be reached (test: offline).", key);
    }
}
