using System.Runtime.CompilerServices;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Backup;
using TierStorage.Engine.Policy;
using TierStorage.Engine.Tiers;

namespace TierStorage.Engine.Workspace;

/// <summary>How to find a workspace and its policy. Every field is optional.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>Workspace directory; default $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage.</summary>
    public string? WorkspacePath { get; init; }
    /// <summary>Policy file; default $env:TIERSTORAGE_POLICY, else &lt;workspace&gt;/tierstorage.yaml, else the embedded default.</summary>
    public string? PolicyPath { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Receives warnings (e.g. a quarantined partial log line). Called on the thread doing the work,
    /// which in async code may be a pool thread: fronts queue them and write them on their own thread.</summary>
    public Action<string>? Warning { get; init; }
    /// <summary>What relative paths (the default ./.tierstorage and relative $env:TIERSTORAGE_WORKSPACE / $env:TIERSTORAGE_POLICY
    /// values) are relative to; default the process directory. PowerShell passes its current location.</summary>
    public string? BaseDirectory { get; init; }
    /// <summary>Receives what the operation decided and why (which workspace and policy, which rule asked for a move,
    /// what was skipped): PowerShell's -Verbose. Called from any thread, like <see cref="Warning"/>. Never holds secrets.</summary>
    public Action<string>? Verbose { get; init; }
    /// <summary>Receives detail for diagnosis (catalog path and schema version, tier roots, timings): PowerShell's -Debug.
    /// Called from any thread. Never holds secrets.</summary>
    public Action<string>? Debug { get; init; }
    /// <summary>Opens the store behind a tier; default <see cref="TierStoreFactory.Create"/>. Tests inject fault-injecting stores here.</summary>
    public Func<TierDefinition, TierStoreContext, CancellationToken, Task<IObjectStore>>? StoreFactory { get; init; }
    /// <summary>A catalog that is not a usable database is moved aside (agent_metrics.db.corrupt-&lt;UTC time&gt;, with a warning
    /// naming it) and a new one started, instead of failing with ErrorIds.CatalogCorrupt: what Update-TierCatalog asks for,
    /// since it rebuilds the catalog anyway.</summary>
    public bool SetAsideCorruptCatalog { get; init; }
    /// <summary>Called with the policy as soon as it is loaded and checked, before the catalog opens: a front that knows
    /// it will talk to a tier starts that tier's client here (<see cref="Tiers.S3.S3ObjectStore.Prepare"/>), so its start-up
    /// runs beside the catalog's.</summary>
    public Action<TierPolicy>? PolicyLoaded { get; init; }
    /// <summary>The machine and user this workspace's sessions are recorded as in a shared catalog; null: <see cref="CatalogOrigin.Current"/>
    /// (TIERSTORAGE_MACHINE / TIERSTORAGE_USER, else the host and login names).</summary>
    public CatalogOrigin? Origin { get; init; }
}

public sealed record StartSessionRequest
{
    /// <summary>Phase number; default the current phase (Start-Phase), else the phase of the most recent session, else 0.</summary>
    public int? Phase { get; init; }
    /// <summary>Explicit id (session_YYYYMMDD_HHMMSS form); default generated from the clock.</summary>
    public string? SessionId { get; init; }
    /// <summary>Complete a session that is still active instead of refusing.</summary>
    public bool CompleteActive { get; init; }
}

public sealed record SessionFilter
{
    /// <summary>A literal id (ErrorIds.SessionNotFound when the catalog has no such session) or a wildcard pattern
    /// (<see cref="SessionIdPattern"/>; matching nothing is not an error).</summary>
    public string? SessionId { get; init; }
    public int? Phase { get; init; }
    public SessionState? State { get; init; }
    /// <summary>Only sessions that have ended: Completed, BackedUp or Archived (every state but Active), so a filter
    /// for "done" keeps matching a session after its backup or archive moves it on.</summary>
    public bool Finished { get; init; }
    /// <summary>A shared catalog: the machine the sessions were recorded on, a name or a wildcard pattern (* and ?, without
    /// case); null means this machine. Ignored on the workspace's own SQLite catalog, whose sessions are all its own.</summary>
    public string? Machine { get; init; }
    /// <summary>As <see cref="Machine"/>, for the user that recorded them; null means this user (when Machine is null too).</summary>
    public string? User { get; init; }
}

/// <summary>
/// The local tier: one workspace directory with its policy and catalog.
/// Every operation of the foundation is a method here; the cmdlets and the CLI only call them.
/// </summary>
public sealed partial class TierWorkspace : IAsyncDisposable
{
    public const string DefaultDirectoryName = ".tierstorage";
    public const string WorkspaceVariable = "TIERSTORAGE_WORKSPACE";
    public const string PolicyVariable = "TIERSTORAGE_POLICY";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly CatalogDatabase _catalog;
    private readonly TimeProvider _time;
    private readonly Action<string>? _warning;
    private readonly Action<string>? _verbose;
    private readonly Action<string>? _debug;
    private readonly EventRedaction _redaction;

    private TierWorkspace(WorkspaceLayout layout, TierPolicy policy, CatalogDatabase catalog, WorkspaceOptions options)
    {
        Layout = layout;
        Policy = policy;
        _catalog = catalog;
        _time = options.Time;
        _warning = options.Warning;
        _verbose = options.Verbose;
        _debug = options.Debug;
        _redaction = new EventRedaction(new Redactor(policy.Redaction));
        _storeFactory = options.StoreFactory ?? TierStoreFactory.CreateAsync;
        Backups = new BackupOperations(this);
        Lifecycle = new LifecycleOperations(this);
        Alerts = new Engine.Alerts.AlertOperations(this);
    }

    /// <summary>The policy run's alerts: their state in logs/alerts.json and their delivery to the policy's channels (issue 13).</summary>
    public Engine.Alerts.AlertOperations Alerts { get; }

    /// <summary>Move-DataTier: the lifecycle plan over the catalog and disk, and its checked execution.</summary>
    public LifecycleOperations Lifecycle { get; }

    private readonly Func<TierDefinition, TierStoreContext, CancellationToken, Task<IObjectStore>> _storeFactory;

    /// <summary>Backup, restore, verification and catalog rebuild against the policy's tiers.</summary>
    public BackupOperations Backups { get; }

    /// <summary>Client-side encryption of the tiers: their key, and its rotation (Update-TierEncryptionKey).</summary>
    public Packaging.EncryptionOperations Encryption => new(this);

    /// <summary>The policy's collections: the user's folders kept as versions on a tier (issue 13). One per workspace, so a
    /// setting made on it (the bundle size of an archive) holds for the next call.</summary>
    public Collections.CollectionOperations Collections => field ??= new(this);

    /// <summary>What the store behind <paramref name="tier"/> needs: every tier but the workspace itself gets the workspace's
    /// namespace (sealed on a tier that encrypts, so its folder does not name the project).</summary>
    internal TierStoreContext StoreContextFor(TierDefinition tier) => new()
    {
        WorkspaceRoot = Root,
        CredentialsDirectory = Layout.CredentialsDirectory,
        Namespace = tier.Level == TierLevel.Local ? ""
            : Policy.Encryption.Covers(tier) ? WorkspaceIdentity.SealedNamespace(Identity.Namespace) : Identity.Namespace,
    };

    /// <summary>Opens the store behind a policy tier to store or delete objects there: refused in a copied workspace
    /// (<see cref="EnsureOwnsTiers"/>). A folder tier the catalog says holds data is not re-created when its root is gone.</summary>
    internal async Task<IObjectStore> OpenStoreAsync(TierDefinition tier, CancellationToken cancellationToken)
    {
        if (tier.Level != TierLevel.Local) EnsureOwnsTiers(tier.Name);
        return await OpenStoreForReadingAsync(tier, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the store behind a policy tier only to read it (checks, restores, usage, catalog rebuilds).</summary>
    internal async Task<IObjectStore> OpenStoreForReadingAsync(TierDefinition tier, CancellationToken cancellationToken)
    {
        var context = StoreContextFor(tier) with { TierHoldsData = await TierHoldsDataAsync(tier, cancellationToken).ConfigureAwait(false) };
        var store = await _storeFactory(tier, context, cancellationToken).ConfigureAwait(false);
        // Outermost, so the keyring and envelopes live inside the workspace's namespace too.
        return Policy.Encryption.Covers(tier) ? Encryption.Wrap(store) : store;
    }

    /// <summary>The catalog records objects stored on the tier (it was reachable and used before).</summary>
    internal Task<bool> TierHoldsDataAsync(TierDefinition tier, CancellationToken cancellationToken) =>
        _catalog.HasObjectsAsync(tier.Name, cancellationToken);

    public string Root => Layout.Root;
    public TierPolicy Policy { get; }
    public WorkspaceLayout Layout { get; }
    internal CatalogDatabase Catalog => _catalog;
    internal EventRedaction Redaction => _redaction;
    internal string LocalTierName => Policy.GetTier(TierLevel.Local)?.Name ?? "local";
    internal DateTimeOffset Now => _time.GetUtcNow();
    internal TimeProvider Time => _time;

    /// <summary>Workspace directory to use: the argument, else $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage (full path).
    /// Relative paths are relative to <paramref name="baseDirectory"/>, default the process directory.</summary>
    public static string ResolveWorkspacePath(string? workspacePath, string? baseDirectory = null)
    {
        var chosen = !string.IsNullOrWhiteSpace(workspacePath) ? workspacePath
            : Environment.GetEnvironmentVariable(WorkspaceVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : DefaultDirectoryName;
        return Path.GetFullPath(PathExpander.Expand(chosen, baseDirectory ?? Environment.CurrentDirectory));
    }

    /// <summary>Policy file to use for a workspace, or null for the embedded default. Relative paths are relative to
    /// <paramref name="baseDirectory"/>, default the process directory.</summary>
    public static string? ResolvePolicyPath(string workspaceRoot, string? policyPath, string? baseDirectory = null)
    {
        baseDirectory ??= Environment.CurrentDirectory;
        if (!string.IsNullOrWhiteSpace(policyPath)) return Path.GetFullPath(PathExpander.Expand(policyPath, baseDirectory));
        if (Environment.GetEnvironmentVariable(PolicyVariable) is { Length: > 0 } fromEnvironment)
            return Path.GetFullPath(PathExpander.Expand(fromEnvironment, baseDirectory));
        var inWorkspace = new WorkspaceLayout(workspaceRoot).PolicyPath;
        return File.Exists(inWorkspace) ? inWorkspace : null;
    }

    /// <summary>Creates the layout and writes a policy (the embedded default, or a copy of <paramref name="policyTemplatePath"/>).
    /// Refuses (ErrorIds.PolicyExists) to overwrite an existing policy unless <paramref name="force"/>.</summary>
    public static Task<WorkspaceInfo> InitializeAsync(string? workspacePath, string? policyTemplatePath, bool force, CancellationToken cancellationToken) =>
        InitializeAsync(workspacePath, policyTemplatePath, force, baseDirectory: null, cancellationToken);

    /// <inheritdoc cref="InitializeAsync(string?, string?, bool, CancellationToken)"/>
    /// <param name="baseDirectory">What relative paths are relative to; null = the process directory.</param>
    public static async Task<WorkspaceInfo> InitializeAsync(string? workspacePath, string? policyTemplatePath, bool force, string? baseDirectory, CancellationToken cancellationToken)
    {
        var layout = new WorkspaceLayout(ResolveWorkspacePath(workspacePath, baseDirectory));
        if (File.Exists(layout.PolicyPath) && !force)
            throw new TierStorageException(ErrorIds.PolicyExists, TierErrorKind.ResourceExists,
                $"'{layout.PolicyPath}' already exists; nothing was changed. Use -Force (--force) to replace it with {(policyTemplatePath is null ? "the default policy" : $"'{policyTemplatePath}'")}.",
                layout.PolicyPath);

        // Validate the template before touching the disk: a bad policy changes nothing.
        string yaml;
        if (policyTemplatePath is null)
        {
            yaml = PolicyLoader.EmbeddedDefaultYaml;
        }
        else
        {
            var templatePath = Path.GetFullPath(policyTemplatePath, baseDirectory ?? Environment.CurrentDirectory);
            PolicyLoader.Load(templatePath);
            yaml = await File.ReadAllTextAsync(templatePath, cancellationToken).ConfigureAwait(false);
        }

        return await IoErrors.GuardAsync("initializing", layout.Root, async () =>
        {
            var created = new List<string>();
            foreach (var directory in new[] { layout.Root }.Concat(layout.Directories))
            {
                if (Directory.Exists(directory)) continue;
                Directory.CreateDirectory(directory);
                created.Add(directory);
            }
            // Logs, snapshots, handoffs and the catalog hold what agents saw: the workspace is the user's alone (0700), so
            // every file in it is too, whatever mode it was written with.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(layout.Root, Tiers.Folder.FolderObjectStore.PrivateFolder);
                File.SetUnixFileMode(layout.CredentialsDirectory, Tiers.Folder.FolderObjectStore.PrivateFolder);
            }
            var gitignore = Path.Combine(layout.Root, ".gitignore");
            if (!File.Exists(gitignore))
                await AtomicFile.WriteAllTextAsync(gitignore, "# Never commit OAuth tokens or keys.\ncredentials/\n", overwrite: false, cancellationToken).ConfigureAwait(false);
            await AtomicFile.WriteAllTextAsync(layout.PolicyPath, yaml, overwrite: true, cancellationToken).ConfigureAwait(false);
            // Opening it gives a new workspace its identity (and keeps an existing one's): its namespace on the tiers; the
            // catalog the policy names (the workspace's SQLite file, or a shared one it joins) is created or migrated then.
            string space, catalogPath;
            await using (var opened = await OpenAsync(new WorkspaceOptions { WorkspacePath = layout.Root, PolicyPath = layout.PolicyPath }, cancellationToken).ConfigureAwait(false))
                (space, catalogPath) = (opened.Identity.Namespace, opened.Catalog.Path);
            return new WorkspaceInfo
            {
                Namespace = space,
                Path = layout.Root,
                PolicyPath = layout.PolicyPath,
                CatalogPath = catalogPath,
                PolicyWritten = true,
                CreatedDirectories = created,
            };
        }).ConfigureAwait(false);
    }

    /// <summary>Opens an initialized workspace (ErrorIds.WorkspaceNotFound otherwise), loads its policy and catalog.</summary>
    public static async Task<TierWorkspace> OpenAsync(WorkspaceOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var layout = new WorkspaceLayout(ResolveWorkspacePath(options.WorkspacePath, options.BaseDirectory));
        options.Verbose?.Invoke($"Workspace '{layout.Root}' ({WorkspaceOrigin(options.WorkspacePath, options.BaseDirectory)}).");
        if (!Directory.Exists(layout.LogsDirectory) || !Directory.Exists(layout.AnalyticsDirectory))
            throw new TierStorageException(ErrorIds.WorkspaceNotFound, TierErrorKind.ObjectNotFound,
                $"No TierStorage workspace at '{layout.Root}'. Create one with Initialize-TierWorkspace (tierstorage init), or point to one with -WorkspacePath or ${WorkspaceVariable}.",
                layout.Root);
        var policyPath = ResolvePolicyPath(layout.Root, options.PolicyPath, options.BaseDirectory);
        options.Verbose?.Invoke(policyPath is null
            ? $"Policy: the embedded default (no -PolicyPath, no ${PolicyVariable}, no {Path.GetFileName(layout.PolicyPath)} in the workspace)."
            : $"Policy '{policyPath}' ({PolicyOrigin(options.PolicyPath, policyPath, layout)}).");
        var policy = PolicyLoader.Load(policyPath);
        // A policy kept elsewhere (-PolicyPath) cannot know which workspace it will serve: checked here as well.
        foreach (var tier in policy.Tiers.Where(t => t.Kind == TierKind.Folder && t.Level != TierLevel.Local && t.Path is not null))
            if (TierPathRules.Refusal(tier.Path!, layout.Root) is { } refusal)
                throw new TierStorageException(ErrorIds.PolicyInvalid, TierErrorKind.InvalidData,
                    $"Invalid policy '{policy.Source ?? "(embedded default)"}': tier '{tier.Name}': {refusal}", policyPath);
        options.PolicyLoaded?.Invoke(policy);
        var catalogWasMissing = !policy.Catalog.IsPostgres && !File.Exists(layout.CatalogPath);
        string? setAside = null;
        CatalogDatabase catalog;
        try
        {
            catalog = await CatalogDatabase.OpenAsync(CatalogLocationOf(policy, layout), layout.Root, cancellationToken).ConfigureAwait(false);
        }
        catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.CatalogCorrupt && options.SetAsideCorruptCatalog && !policy.Catalog.IsPostgres)
        {
            setAside = SetAsideCatalog(layout.CatalogPath, options.Time.GetUtcNow());
            catalog = await CatalogDatabase.OpenAsync(layout.CatalogPath, cancellationToken).ConfigureAwait(false);
        }
        if (options.Origin is { } origin) catalog.Origin = origin;
        var workspace = new TierWorkspace(layout, policy, catalog, options);
        if (setAside is not null)
            workspace.Warn($"The catalog '{layout.CatalogPath}' was not a usable database; it was moved to '{setAside}' and a new catalog started, which the rebuild fills from the logs in '{layout.LogsDirectory}' and the tier's manifests.");
        // A lost catalog must not read as "no sessions" while their logs sit in logs/ (issue 11 #7).
        else if (catalogWasMissing && Directory.EnumerateFiles(layout.LogsDirectory, "*.jsonl").Any())
            workspace.Warn($"The catalog '{layout.CatalogPath}' was missing and has been created empty, but '{layout.LogsDirectory}' holds session logs: " +
                "nothing is lost, but no command sees those sessions until the catalog is rebuilt. Run Update-TierCatalog (tierstorage catalog rebuild) to index the local logs again, " +
                "with -FromTier <tier> (--from-tier <tier>) to bring back what the tiers hold as well.");
        try
        {
            await workspace.EstablishIdentityAsync(cancellationToken).ConfigureAwait(false);
            await workspace.CatchUpActiveLogsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await workspace.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (options.Debug is { } debug)
        {
            debug($"Catalog '{catalog.Path}', schema version {catalog.SchemaVersion}{(catalog.IsShared ? $", shared (PostgreSQL): this machine records as {catalog.Origin.Machine}/{catalog.Origin.User}" : "")}.");
            foreach (var tier in policy.Tiers.OrderBy(t => t.Level))
                debug($"Tier '{tier.Name}': level {(int)tier.Level} ({tier.Level}), {tier.Kind}{(tier.Kind == TierKind.Folder ? $", root '{TierStoreFactory.FolderPath(tier, workspace.StoreContextFor(tier))}'" : "")}.");
            debug($"Workspace opened in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms.");
        }
        return workspace;
    }

    /// <summary>The catalog the policy names: the workspace's SQLite file, or the shared PostgreSQL database.</summary>
    internal static CatalogLocation CatalogLocationOf(TierPolicy policy, WorkspaceLayout layout) =>
        policy.Catalog.IsPostgres ? CatalogLocation.Postgres(policy.Catalog.Connection!, policy.Catalog.PasswordEnv) : CatalogLocation.Sqlite(layout.CatalogPath);

    private static string WorkspaceOrigin(string? workspacePath, string? baseDirectory) =>
        !string.IsNullOrWhiteSpace(workspacePath) ? "given with -WorkspacePath (--workspace)"
        : Environment.GetEnvironmentVariable(WorkspaceVariable) is { Length: > 0 } ? $"from ${WorkspaceVariable}"
        : $"the default: {DefaultDirectoryName} in the current directory '{baseDirectory ?? Environment.CurrentDirectory}'";

    private static string PolicyOrigin(string? policyPath, string resolved, WorkspaceLayout layout) =>
        !string.IsNullOrWhiteSpace(policyPath) ? "given with -PolicyPath (--policy)"
        : string.Equals(resolved, layout.PolicyPath, StringComparison.Ordinal) ? "the workspace's policy"
        : $"from ${PolicyVariable}";

    /// <summary>Says what an operation decided and why (-Verbose); safe from any thread.</summary>
    internal void Inform(string message) => _verbose?.Invoke(message);

    /// <summary>Detail for diagnosis (-Debug); safe from any thread.</summary>
    internal void Detail(string message) => _debug?.Invoke(message);

    internal Task<FileLock> LockAsync(CancellationToken cancellationToken) =>
        IoErrors.GuardAsync("locking", Layout.WriteLockPath, () => FileLock.AcquireAsync(Layout.WriteLockPath, LockTimeout, cancellationToken));

    internal void Warn(string message) => _warning?.Invoke(message);

    /// <summary>Starts a session: the current log rotates to previous; an active session is completed first
    /// (CompleteActive) or refused (ErrorIds.SessionStillActive).</summary>
    public async Task<SessionInfo> StartSessionAsync(StartSessionRequest request, CancellationToken cancellationToken)
    {
        var now = Now;
        if (request.SessionId is not null) SessionIds.Validate(request.SessionId);
        if (request.Phase is < 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"Phase must be 0 or more, not {request.Phase}.", request.Phase);

        string sessionId;
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var sessions = await ListRecordsAsync(cancellationToken).ConfigureAwait(false);
            // Chosen under the lock: two processes starting sessions in the same second get different ids. On a shared
            // catalog the ids of every machine's sessions are taken too (and a machine that takes one between this read and
            // the insert is answered below).
            var taken = (_catalog.IsShared ? await ListAllRecordsAsync(cancellationToken).ConfigureAwait(false) : sessions)
                .Select(s => s.SessionId).ToHashSet(StringComparer.Ordinal);
            sessionId = request.SessionId ?? SessionIds.NewId(now, taken.Contains)
                ?? throw new TierStorageException(ErrorIds.SessionExists, TierErrorKind.ResourceExists,
                    $"{SessionIds.MaxPerSecond} sessions were already started in the second of {SessionIds.NewId(now)}; pass -SessionId.", SessionIds.NewId(now));
            if (taken.Contains(sessionId))
                throw new TierStorageException(ErrorIds.SessionExists, TierErrorKind.ResourceExists, $"Session '{sessionId}' already exists.", sessionId);

            if (sessions.FirstOrDefault(s => s.State == SessionState.Active) is { } active)
            {
                if (!request.CompleteActive)
                    throw new TierStorageException(ErrorIds.SessionStillActive, TierErrorKind.InvalidOperation,
                        $"Session '{active.SessionId}' is still active. Complete it first (Complete-Session), or pass -CompleteActive to complete it and start the new one.",
                        active.SessionId);
                await CompleteLockedAsync(active, now, cancellationToken).ConfigureAwait(false);
            }

            var phase = request.Phase ?? CurrentPhaseNumber() ?? sessions.LastOrDefault()?.Phase ?? 0;
            await IoErrors.GuardAsync("rotating the logs in", Layout.LogsDirectory, () => RotateLogsAsync(cancellationToken)).ConfigureAwait(false);
            await _catalog.EnsurePhaseAsync(phase, null, now, cancellationToken).ConfigureAwait(false);
            var record = new SessionRecord
            {
                SessionId = sessionId,
                Phase = phase,
                StartedAt = now,
                State = SessionState.Active,
                LogPath = Layout.CurrentLogPath,
            };
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await _catalog.InsertSessionAsync(record, cancellationToken).ConfigureAwait(false);
                    break;
                }
                // Another machine of a shared catalog took the id since it was chosen: the next free one of the same second.
                catch (TierStorageException ex) when (ex.ErrorId == ErrorIds.SessionExists && _catalog.IsShared && request.SessionId is null && attempt < SessionIds.MaxPerSecond)
                {
                    taken.Add(record.SessionId);
                    if (SessionIds.NewId(now, taken.Contains) is not { } next) throw;
                    record = record with { SessionId = next };
                    sessionId = next;
                }
            }
            await AppendLockedAsync(record, [new SessionEvent { Timestamp = now, SessionId = sessionId, Type = SessionEventType.SessionStart, Data = new Dictionary<string, object?> { ["phase"] = (long)phase } }], cancellationToken).ConfigureAwait(false);
            await PruneLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        return await GetSessionInfoAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the handoff note, appends session_end and marks the session Completed. Null = the active session.
    /// Completing a session that is already completed changes nothing.</summary>
    public async Task<SessionInfo> CompleteSessionAsync(string? sessionId, CancellationToken cancellationToken)
    {
        string id;
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
        {
            var record = await ResolveSessionAsync(sessionId, requireActive: false, cancellationToken).ConfigureAwait(false);
            id = record.SessionId;
            if (record.State == SessionState.Active)
                await CompleteLockedAsync(record, Now, cancellationToken).ConfigureAwait(false);
        }
        return await GetSessionInfoAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="endedAt">When the session ended: now for a native session, the last transcript line for an imported one.</param>
    /// <param name="rollUp">Fold and store the session's review rollup now; false when the caller does (an import folds it on
    /// another thread while it stores the next session: <see cref="Review.PhaseReviewer.FoldRollupAsync"/>).</param>
    private async Task CompleteLockedAsync(SessionRecord record, DateTimeOffset endedAt, CancellationToken cancellationToken, bool rollUp = true)
    {
        if (LocateLog(record) is { } logPath)
            record = await CatchUpIndexLockedAsync(record, logPath, cancellationToken).ConfigureAwait(false);
        // A rerun after a crash between session_end and the state change must not log a second end.
        var hasEnd = false;
        await foreach (var _ in _catalog.QueryEventsAsync(new SessionEventQuery { SessionId = record.SessionId, Type = SessionEventType.SessionEnd, Limit = 1 }, cancellationToken).ConfigureAwait(false))
            hasEnd = true;
        if (!hasEnd)
        {
            var duration = (long)Math.Max(0, (endedAt - record.StartedAt).TotalMilliseconds);
            record = await AppendLockedAsync(record, [new SessionEvent { Timestamp = endedAt, SessionId = record.SessionId, Type = SessionEventType.SessionEnd, DurationMs = duration, Success = true }], cancellationToken).ConfigureAwait(false);
        }

        var summary = await _catalog.SummarizeSessionAsync(record.SessionId, cancellationToken).ConfigureAwait(false);
        var completed = record with { State = SessionState.Completed, EndedAt = endedAt, HandoffPath = Layout.HandoffPath(record.SessionId) };
        await IoErrors.GuardAsync("writing", completed.HandoffPath!,
            () => AtomicFile.WriteAllTextAsync(completed.HandoffPath!, _redaction.Document(HandoffWriter.Render(completed, summary), $"The handoff note of session '{completed.SessionId}'", Warn), overwrite: true, cancellationToken)).ConfigureAwait(false);
        await _catalog.UpdateSessionAsync(completed, cancellationToken).ConfigureAwait(false);
        if (!rollUp) return;
        // The session's figures folded once, so that a phase review reads them instead of its events (issue 12). Only a cache:
        // the review folds a session again when its rollup is missing or no longer stands for its events.
        try
        {
            await Review.PhaseReviewer.RollUpSessionAsync(_catalog, Policy, record.SessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException ex)
        {
            Warn($"Session '{record.SessionId}' is completed, but its review rollup was not stored ({ex.Message}): the phase review will read its events instead.");
        }
    }

    public async IAsyncEnumerable<SessionInfo> GetSessionsAsync(SessionFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var all = !_catalog.IsShared || (filter.Machine is null && filter.User is null)
            ? await ListRecordsAsync(cancellationToken).ConfigureAwait(false)
            : (await ListAllRecordsAsync(cancellationToken).ConfigureAwait(false))
                .Where(r => OriginPattern.Matches(filter.Machine, r.Machine) && OriginPattern.Matches(filter.User, r.User)).ToList();
        var pattern = filter.SessionId is { } text ? SessionIdPattern.Parse(text) : null;
        if (pattern is { IsWildcard: false } literal && !all.Any(r => literal.Matches(r.SessionId))) throw SessionNotFound(literal.Text);
        var newestFirst = all.OrderByDescending(s => s.StartedAt).Select(s => s.SessionId).ToList();
        foreach (var record in all)
        {
            if (pattern is not null && !pattern.Matches(record.SessionId)) continue;
            if (filter.Phase is { } phase && record.Phase != phase) continue;
            if (filter.State is { } state && record.State != state) continue;
            if (filter.Finished && record.State == SessionState.Active) continue;
            yield return await ToInfoAsync(record, newestFirst.IndexOf(record.SessionId), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<SessionInfo> GetSessionInfoAsync(string sessionId, CancellationToken cancellationToken)
    {
        await foreach (var info in GetSessionsAsync(new SessionFilter { SessionId = sessionId }, cancellationToken).ConfigureAwait(false))
            return info;
        throw SessionNotFound(sessionId);
    }

    private async Task<SessionInfo> ToInfoAsync(SessionRecord record, int recency, CancellationToken cancellationToken)
    {
        if (_catalog.IsShared && !IsOwnSession(record))
        {
            // Another machine's session: its files are there, not here; what the catalog knows is all this machine can say.
            var elsewhere = await _catalog.HasVerifiedCopyAsync(record.SessionId, LocalTierName, cancellationToken).ConfigureAwait(false);
            return new SessionInfo
            {
                SessionId = record.SessionId,
                Phase = record.Phase,
                StartedAt = record.StartedAt,
                EndedAt = record.EndedAt,
                State = record.State,
                Tier = "",
                Verified = elsewhere,
                EventCount = record.EventCount,
                Machine = record.Machine,
                User = record.User,
                Note = $"Recorded on {record.Machine ?? "an unknown machine"} by {record.User ?? "an unknown user"}: its files are on that machine{(elsewhere ? "; a verified copy is on the backup tier" : "")}.",
            };
        }
        var verified = await _catalog.HasVerifiedCopyAsync(record.SessionId, LocalTierName, cancellationToken).ConfigureAwait(false);
        var logPath = LocateLog(record);
        var snapshots = Layout.EnumerateSnapshots(record.SessionId).ToList();
        var handoff = record.HandoffPath is { } h && File.Exists(h) ? h : null;
        long size = 0;
        foreach (var file in snapshots.Select(s => s.Path).Append(logPath).Append(handoff))
            if (file is not null && File.Exists(file)) size += new FileInfo(file).Length;

        var keep = Policy.Retention.LocalSessions;
        var note = record.State == SessionState.Active ? $"Active: events are appended to {Path.GetFileName(logPath ?? Layout.CurrentLogPath)}."
            : logPath is null && verified ? "Pruned from the local tier; a verified copy exists on another tier."
            : logPath is null ? "The local activity log is missing and no verified copy exists: restore it or check the workspace."
            : recency < keep ? $"Kept locally: one of the {keep} most recent sessions (retention.local_sessions)."
            : verified ? "Beyond local retention with a verified copy elsewhere: pruned at the next Start-Session."
            : $"Kept locally although beyond retention ({keep} sessions): it has no verified backup, and the local tier never deletes an unverified session.";
        return new SessionInfo
        {
            SessionId = record.SessionId,
            Phase = record.Phase,
            StartedAt = record.StartedAt,
            EndedAt = record.EndedAt,
            State = record.State,
            Tier = logPath is null && verified ? "" : LocalTierName,
            LogPath = logPath,
            HandoffPath = handoff,
            Verified = verified,
            EventCount = record.EventCount,
            SnapshotCount = snapshots.Count,
            SizeBytes = size,
            Machine = record.Machine,
            User = record.User,
            Note = note,
        };
    }

    /// <summary>Buffers events for a session (null = the active one) and writes them in batches:
    /// log lines under the session's lock, then one catalog transaction per batch.</summary>
    public EventAppender OpenEventAppender(string? sessionId) => OpenEventAppender(sessionId, keepWritten: false);

    /// <param name="keepWritten">Keep each written event, with its catalog id, for <see cref="EventAppender.TakeWritten"/>.</param>
    public EventAppender OpenEventAppender(string? sessionId, bool keepWritten) => OpenEventAppender(sessionId, keepWritten, deriveIds: true);

    /// <param name="deriveIds">Give each event that has its own timestamp but no Id one derived from its content, so that
    /// sending the same input again stores nothing twice (see <see cref="EventAppender"/>); false when the caller stamps
    /// events itself (a hook's "now"), where two identical events are two events.</param>
    public EventAppender OpenEventAppender(string? sessionId, bool keepWritten, bool deriveIds)
    {
        if (sessionId is not null) SessionIds.Validate(sessionId);
        return new EventAppender(this, sessionId, keepWritten, deriveIds);
    }

    /// <summary>Appends events and returns them as stored (redacted, session filled in, with their catalog ids). Ids are
    /// not derived (events the session already holds by their own Id are still left out).</summary>
    public async Task<IReadOnlyList<SessionEvent>> AppendEventsAsync(IEnumerable<SessionEvent> events, string? sessionId, CancellationToken cancellationToken)
    {
        await using var appender = OpenEventAppender(sessionId, keepWritten: true, deriveIds: false);
        foreach (var e in events)
            await appender.AppendAsync(e, cancellationToken).ConfigureAwait(false);
        await appender.FlushAsync(cancellationToken).ConfigureAwait(false);
        return appender.TakeWritten();
    }

    /// <summary>Get-SessionEvent: ErrorIds.SessionNotFound for a session the catalog does not know (a typo must not look
    /// like a session without events).</summary>
    public IAsyncEnumerable<SessionEvent> GetEventsAsync(SessionEventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.SessionId is { } id) SessionIds.Validate(id);
        if (query.Limit is <= 0)
            throw new TierStorageException(ErrorIds.InvalidArgument, TierErrorKind.InvalidArgument, $"Limit must be positive, not {query.Limit}.", query.Limit);
        return QueryEventsOfKnownSessionAsync(query, cancellationToken);
    }

    private async IAsyncEnumerable<SessionEvent> QueryEventsOfKnownSessionAsync(SessionEventQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (query.SessionId is { } id && await _catalog.GetSessionAsync(id, cancellationToken).ConfigureAwait(false) is null) throw SessionNotFound(id);
        await foreach (var e in _catalog.QueryEventsAsync(query, cancellationToken).ConfigureAwait(false)) yield return e;
    }

    /// <summary>Writes a batch to the session's log and the catalog. Caller holds the lock and has validated the events.</summary>
    internal async Task<SessionRecord> AppendLockedAsync(SessionRecord record, IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken) =>
        (await AppendNewLockedAsync(record, events, cancellationToken).ConfigureAwait(false)).Record;

    /// <summary>As <see cref="AppendLockedAsync(SessionRecord, IReadOnlyList{SessionEvent}, CancellationToken)"/>, leaving out
    /// events whose <see cref="SessionEvent.Id"/> the session already holds (or an earlier event of the batch has): nothing
    /// sent again reaches the log or the catalog twice. Returns the events stored, each with its catalog EventId.</summary>
    /// <remarks>The catalog decides what is new (its unique index, inside the batch's transaction), the stored events' lines
    /// are appended before that transaction commits, and the log is indexed up to its end first, so lines a killed writer
    /// left in the log but not in the catalog count as held. With the lock and the id travelling in each line, a writer
    /// killed at any point leaves log and catalog agreeing and free of duplicates.</remarks>
    internal Task<(SessionRecord Record, IReadOnlyList<SessionEvent> Stored)> AppendNewLockedAsync(SessionRecord record, IReadOnlyList<SessionEvent> events,
        CancellationToken cancellationToken) =>
        AppendNewLockedAsync(record, events.Select(EncodedEvent.ForCatalog).ToList(), cancellationToken);

    /// <summary>As <see cref="AppendNewLockedAsync(SessionRecord, IReadOnlyList{SessionEvent}, CancellationToken)"/>, for events
    /// encoded already (the lines of those encoded with theirs are written as they are).</summary>
    internal async Task<(SessionRecord Record, IReadOnlyList<SessionEvent> Stored)> AppendNewLockedAsync(SessionRecord record, IReadOnlyList<EncodedEvent> events,
        CancellationToken cancellationToken)
    {
        var logPath = LocateLog(record) ?? record.LogPath ?? Layout.CurrentLogPath;
        record = await CatchUpIndexLockedAsync(record with { LogPath = logPath }, logPath, cancellationToken).ConfigureAwait(false);
        var before = record.LogIndexedBytes;
        var stored = new List<SessionEvent>(events.Count);
        long after = before;
        try
        {
            await _catalog.AddEventsAsync(record.SessionId, events, ids =>
            {
                var storedEncoded = new List<EncodedEvent>(events.Count);
                for (var i = 0; i < ids.Length; i++)
                {
                    if (ids[i] == 0) continue;
                    stored.Add(events[i].Event with { EventId = ids[i] });
                    storedEncoded.Add(events[i]);
                }
                if (stored.Count == 0) return before;
                var lines = EncodedEvent.Lines(storedEncoded);
                after = IoErrors.Guard("appending to", logPath, () => ActivityLog.Append(logPath, lines.Span, Layout.QuarantineDirectory, _warning));
                return after;
            }, 0, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Keep the log and the catalog saying the same thing: the caller sees a failure, so the lines must go too.
            if (after != before)
                using (var stream = new FileStream(logPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) stream.SetLength(before);
            throw;
        }
        return (record with { LogIndexedBytes = after, EventCount = record.EventCount + stored.Count }, stored);
    }

    /// <summary>Update-TierCatalog without a tier: brings back into the catalog the sessions whose logs lie in logs/ (those
    /// it lost, and those it knows without any event), each with its events (see <see cref="LocalLogIndexer"/>).</summary>
    public async IAsyncEnumerable<CatalogRebuildResult> RebuildCatalogFromLogsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var result in await new LocalLogIndexer(this).IndexAsync(cancellationToken).ConfigureAwait(false)) yield return result;
    }

    /// <summary>Moves a damaged catalog and its WAL and shared-memory files aside, named after the time; returns the new name.</summary>
    private static string SetAsideCatalog(string catalogPath, DateTimeOffset now)
    {
        var aside = $"{catalogPath}.corrupt-{now.UtcDateTime:yyyyMMddTHHmmssfffZ}";
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            if (File.Exists(catalogPath + suffix))
                IoErrors.Guard("moving aside", catalogPath + suffix, () => File.Move(catalogPath + suffix, aside + suffix));
        return aside;
    }

    /// <summary>Indexes a session's log found outside the workspace (a backed-up copy, unpacked) from where the catalog left off.</summary>
    internal async Task<SessionRecord> IndexLogAsync(SessionRecord record, string logPath, CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
            return await CatchUpIndexLockedAsync(record, logPath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Indexes log lines that reached the file but not the catalog: a hook's catalog-free append
    /// (<see cref="TryAppendWithoutCatalog"/>), or a writer that died between the two.</summary>
    private async Task<SessionRecord> CatchUpIndexLockedAsync(SessionRecord record, string logPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(logPath)) return record;
        var complete = IoErrors.Guard("repairing", logPath, () => ActivityLog.RepairTail(logPath, Layout.QuarantineDirectory, _warning));
        if (complete <= record.LogIndexedBytes) return record with { LogPath = logPath };

        var batch = new List<SessionEvent>();
        long offset = record.LogIndexedBytes, count = record.EventCount, rejected = 0;
        foreach (var (line, end) in ActivityLog.ReadLines(logPath, record.LogIndexedBytes, complete))
        {
            offset = end;
            if (line.Length == 0) continue;
            try
            {
                batch.Add(EventJson.Parse(line, record.SessionId));
            }
            catch (TierStorageException ex)
            {
                rejected++;
                Warn($"'{logPath}' at byte {end - line.Length - 1}: a line that is not a valid event was left out of the catalog: {ex.Message}");
            }
            if (batch.Count < EventAppender.BatchSize) continue;
            await _catalog.AddEventsAsync(record.SessionId, batch, offset, rejected, cancellationToken).ConfigureAwait(false);
            count += batch.Count;
            batch.Clear();
            rejected = 0;
        }
        await _catalog.AddEventsAsync(record.SessionId, batch, offset, rejected, cancellationToken).ConfigureAwait(false);
        count += batch.Count;
        return record with { LogPath = logPath, LogIndexedBytes = offset, EventCount = count };
    }

    /// <summary>The session's log on disk: where the catalog says, or (after a crash mid-rotation) wherever its first line says it is.</summary>
    internal string? LocateLog(SessionRecord record)
    {
        // Another machine's session of a shared catalog: its log is on that machine, whatever this one holds at the same path.
        if (!IsOwnSession(record)) return null;
        // current/previous are shared slots: after a crash mid-rotation the recorded slot may hold another session's log.
        if (record.LogPath is { } recorded && File.Exists(recorded)
            && (recorded == Layout.RetainedLogPath(record.SessionId) || LogOwner(recorded) == record.SessionId))
            return recorded;
        if (record.LogPath is null && record.State != SessionState.Active) return null;
        foreach (var candidate in new[] { Layout.CurrentLogPath, Layout.PreviousLogPath, Layout.RetainedLogPath(record.SessionId) })
            if (File.Exists(candidate) && LogOwner(candidate) == record.SessionId)
                return candidate;
        return null;
    }

    /// <summary>Session id of a log, from its first line (session_start).</summary>
    private static string? LogOwner(string path)
    {
        foreach (var (line, _) in ActivityLog.ReadLines(path, 0))
        {
            try
            {
                return EventJson.Parse(line, null).SessionId;
            }
            catch (TierStorageException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>current → previous → retained. Each rename is followed by its catalog update, and LocateLog finds a log
    /// whose update was lost, so a crash at any point loses nothing.</summary>
    private async Task RotateLogsAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(Layout.PreviousLogPath))
            await MoveLogAsync(Layout.PreviousLogPath, owner => Layout.RetainedLogPath(owner), cancellationToken).ConfigureAwait(false);
        if (File.Exists(Layout.CurrentLogPath))
            await MoveLogAsync(Layout.CurrentLogPath, _ => Layout.PreviousLogPath, cancellationToken).ConfigureAwait(false);
    }

    private async Task MoveLogAsync(string from, Func<string, string> target, CancellationToken cancellationToken)
    {
        var owner = LogOwner(from);
        var destination = target(owner ?? $"orphan_{Now:yyyyMMdd_HHmmss}");
        for (var n = 2; File.Exists(destination); n++)
            destination = Path.Combine(Path.GetDirectoryName(destination)!, $"{Path.GetFileNameWithoutExtension(target(owner ?? "orphan"))}.{n}.jsonl");
        File.Move(from, destination);
        if (owner is null)
        {
            Warn($"'{from}' did not start with a session_start event; it was kept as '{destination}'.");
            return;
        }
        if (await _catalog.GetSessionAsync(owner, cancellationToken).ConfigureAwait(false) is { } session)
            await _catalog.UpdateSessionAsync(session with { LogPath = destination }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Prunes under the write lock; returns the sessions whose local copies were removed.</summary>
    internal async Task<IReadOnlyList<string>> PruneAsync(CancellationToken cancellationToken)
    {
        using (await LockAsync(cancellationToken).ConfigureAwait(false))
            return await PruneLockedAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes local copies of sessions beyond retention, only those with a verified copy on another tier.</summary>
    private async Task<IReadOnlyList<string>> PruneLockedAsync(CancellationToken cancellationToken)
    {
        var pruned = new List<string>();
        var sessions = (await ListRecordsAsync(cancellationToken).ConfigureAwait(false)).OrderByDescending(s => s.StartedAt).ToList();
        foreach (var session in sessions.Skip(Policy.Retention.LocalSessions))
        {
            if (session.State == SessionState.Active) continue;
            var logPath = LocateLog(session);
            if (logPath is null && session.HandoffPath is null) continue;
            if (!await _catalog.HasVerifiedCopyAsync(session.SessionId, LocalTierName, cancellationToken).ConfigureAwait(false)) continue;
            foreach (var file in Layout.EnumerateSnapshots(session.SessionId).Select(s => s.Path).Append(logPath).Append(session.HandoffPath))
                if (file is not null && IsOwnFile(file)) File.Delete(file);
            await _catalog.UpdateSessionAsync(session with { LogPath = null, HandoffPath = null }, cancellationToken).ConfigureAwait(false);
            pruned.Add(session.SessionId);
        }
        return pruned;
    }

    /// <summary>A workspace deletes only files inside itself (ARCHITECTURE invariant 7): a path recorded by the workspace
    /// this one was copied from is left alone, and said so.</summary>
    internal bool IsOwnFile(string path)
    {
        if (TierStorage.Engine.Catalog.WorkspacePaths.IsInside(Root, path)) return true;
        Warn($"'{path}' is outside this workspace ('{Root}'), so it is left alone: was the workspace copied or moved? Update-TierCatalog, or completing the session again here, records its files in this workspace.");
        return false;
    }

    /// <summary>This workspace's sessions: every session of its own SQLite catalog; of a shared catalog, those recorded on this
    /// machine by this user (<see cref="CatalogDatabase.Origin"/>): their logs, snapshots and staging are here, and only this machine
    /// backs them up, moves them or prunes them.</summary>
    internal async Task<List<SessionRecord>> ListRecordsAsync(CancellationToken cancellationToken) =>
        await ListRecordsAsync(null, cancellationToken).ConfigureAwait(false);

    internal async Task<List<SessionRecord>> ListRecordsAsync(SessionState? state, CancellationToken cancellationToken)
    {
        var list = new List<SessionRecord>();
        var (machine, user) = _catalog.IsShared ? (_catalog.Origin.Machine, _catalog.Origin.User) : (null, null);
        await foreach (var s in _catalog.ListSessionsAsync(null, state, machine, user, cancellationToken).ConfigureAwait(false)) list.Add(s);
        return list;
    }

    /// <summary>Every session of the catalog, whichever machine recorded it (the same as <see cref="ListRecordsAsync(CancellationToken)"/> on SQLite).</summary>
    /// <summary>True for a session this workspace recorded (every session of an SQLite catalog).</summary>
    internal bool IsOwnSession(SessionRecord record) =>
        !_catalog.IsShared || (string.Equals(record.Machine, _catalog.Origin.Machine, StringComparison.OrdinalIgnoreCase)
                               && string.Equals(record.User, _catalog.Origin.User, StringComparison.OrdinalIgnoreCase));

    internal async Task<List<SessionRecord>> ListAllRecordsAsync(CancellationToken cancellationToken)
    {
        var list = new List<SessionRecord>();
        await foreach (var s in _catalog.ListSessionsAsync(null, null, cancellationToken).ConfigureAwait(false)) list.Add(s);
        return list;
    }

    /// <summary>The named session, or the active one when null.</summary>
    internal async Task<SessionRecord> ResolveSessionAsync(string? sessionId, bool requireActive, CancellationToken cancellationToken)
    {
        SessionRecord? record;
        if (sessionId is null)
        {
            record = (await ListRecordsAsync(SessionState.Active, cancellationToken).ConfigureAwait(false)).LastOrDefault();
            if (record is null)
                throw new TierStorageException(ErrorIds.NoActiveSession, TierErrorKind.InvalidOperation,
                    "No session is active. Start one with Start-Session (tierstorage session start), or name a session.", null);
            return record;
        }
        SessionIds.Validate(sessionId);
        record = await _catalog.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) ?? throw SessionNotFound(sessionId);
        if (requireActive && record.State != SessionState.Active)
            throw new TierStorageException(ErrorIds.SessionNotActive, TierErrorKind.InvalidOperation,
                $"Session '{sessionId}' is {record.State}; only an active session accepts new events and snapshots.", sessionId);
        return record;
    }

    internal static TierStorageException SessionNotFound(string sessionId) =>
        new(ErrorIds.SessionNotFound, TierErrorKind.ObjectNotFound,
            $"No session '{sessionId}' in the catalog. Get-Session (tierstorage session list) lists the sessions; Update-TierCatalog rebuilds the catalog from the tiers.", sessionId);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await MirrorCatalogAsync().ConfigureAwait(false);
        }
        finally
        {
            await _catalog.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// catalog.dual_write (the migration's middle stage, Copy-TierCatalog -DualWrite): a command that changed the SQLite
    /// catalog copies the change into the PostgreSQL one as it ends (CatalogCopier.SyncAsync: rows that differ, events past
    /// what each session has there). The SQLite catalog stays the one that counts: when PostgreSQL cannot be reached the
    /// command still succeeds with a warning, and the next command that changes something, or Copy-TierCatalog, catches up.
    /// </summary>
    private async Task MirrorCatalogAsync()
    {
        if (!Policy.Catalog.DualWrite || _catalog.IsShared || Policy.Catalog.Connection is not { } connection) return;
        if (!await _catalog.HasChangedAsync(CancellationToken.None).ConfigureAwait(false)) return;
        var target = CatalogLocation.Postgres(connection, Policy.Catalog.PasswordEnv);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await using var mirror = await TierStorage.Engine.Catalog.Transfer.CatalogConnections.OpenAsync(target, create: false, timeout.Token).ConfigureAwait(false);
            var result = await TierStorage.Engine.Catalog.Transfer.CatalogCopier.SyncAsync(_catalog.DbConnection, _catalog.Path, mirror, target.Describe(), new() { Origin = _catalog.Origin, LocalTier = LocalTierName }, timeout.Token).ConfigureAwait(false);
            Detail($"dual_write: {result.RowsWritten:N0} rows copied into {target.Describe()} in {result.Duration.TotalMilliseconds:0} ms.");
            foreach (var conflict in result.Conflicts)
                Warn($"dual_write: {conflict.Table} {conflict.Key}: {conflict.Reason} Test-TierCatalog shows what differs.");
        }
        catch (Exception ex) when (ex is TierStorageException or System.Data.Common.DbException or OperationCanceledException or IOException or TimeoutException)
        {
            Warn($"dual_write: this command's change was not copied into {target.Describe()} ({ex.Message}). The SQLite catalog has it; the next command that changes the catalog, or Copy-TierCatalog -To, copies it.");
        }
    }
}
