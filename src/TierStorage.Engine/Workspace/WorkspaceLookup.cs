using Microsoft.Data.Sqlite;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Workspace;

/// <summary>
/// Quick read-only answers for tab completion. A lookup opens nothing for writing: it never creates a workspace, a
/// catalog or a directory, never migrates, and waits for a busy catalog only briefly. It never throws either, because
/// a completer that fails must offer nothing rather than an error in the middle of typing.
/// </summary>
public static class WorkspaceLookup
{
    /// <summary>The event types in their log spelling (tool_call, llm_call, ...).</summary>
    public static IReadOnlyList<string> EventTypes => EventJson.TypeNames;

    /// <summary>Session ids of the catalog in <paramref name="workspaceRoot"/> (a full path), newest first.</summary>
    public static IReadOnlyList<string> SessionIds(string workspaceRoot) =>
        Query(workspaceRoot, "SELECT session_id FROM sessions ORDER BY started_at DESC, session_id DESC;", r => r.GetString(0));

    /// <summary>Phase numbers the catalog knows, started or holding sessions, in order.</summary>
    public static IReadOnlyList<int> Phases(string workspaceRoot) =>
        Query(workspaceRoot, "SELECT number FROM phases UNION SELECT phase FROM sessions ORDER BY 1;", r => r.GetInt32(0));

    /// <summary>Tier names of the policy the workspace would use (<paramref name="policyPath"/> a full path or null);
    /// the embedded default's when there is no policy file.</summary>
    public static IReadOnlyList<string> TierNames(string workspaceRoot, string? policyPath) =>
        FromPolicy(workspaceRoot, policyPath, policy => policy.Tiers.Select(t => t.Name));

    /// <summary>The collections of the policy the command would use; none when it does not load.</summary>
    public static IReadOnlyList<string> CollectionNames(string workspaceRoot, string? policyPath) =>
        FromPolicy(workspaceRoot, policyPath, policy => policy.Collections.Select(c => c.Name));

    /// <summary>The alert channels of the policy the command would use; none when it does not load.</summary>
    public static IReadOnlyList<string> AlertChannelNames(string workspaceRoot, string? policyPath) =>
        FromPolicy(workspaceRoot, policyPath, policy => policy.Alerts.Channels.Select(c => c.Name));

    private static IReadOnlyList<string> FromPolicy(string workspaceRoot, string? policyPath, Func<TierPolicy, IEnumerable<string>> names)
    {
        try
        {
            return names(PolicyLoader.Load(TierWorkspace.ResolvePolicyPath(workspaceRoot, policyPath))).ToList();
        }
        catch (Exception)
        {
            // An invalid or unreadable policy: Test-TierPolicy says why; completion offers nothing.
            return [];
        }
    }

    /// <summary>The keys of the workspace's open and recently resolved alerts (logs/alerts.json); none when there is no state.</summary>
    public static IReadOnlyList<string> AlertKeys(string workspaceRoot) =>
        Alerts.AlertStateFile.TryRead(Alerts.AlertStateFile.PathIn(new WorkspaceLayout(workspaceRoot))) is { } state
            ? state.Open.Concat(state.Resolved).Select(e => e.Key).Distinct(StringComparer.Ordinal).ToList()
            : [];

    private static List<T> Query<T>(string workspaceRoot, string sql, Func<SqliteDataReader, T> read)
    {
        var catalogPath = new WorkspaceLayout(workspaceRoot).CatalogPath;
        if (!File.Exists(catalogPath))
        {
            return [];
        }

        try
        {
            SqliteNative.EnsureInitialized();
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = catalogPath,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
                // Seconds Microsoft.Data.Sqlite retries a busy catalog: a completer must not hang the prompt.
                DefaultTimeout = 1,
            }.ToString();
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            var values = new List<T>();
            while (reader.Read())
            {
                values.Add(read(reader));
            }

            return values;
        }
        catch (Exception)
        {
            // Busy, locked, corrupt, from a newer version, not a catalog at all: nothing to offer.
            return [];
        }
    }
}
