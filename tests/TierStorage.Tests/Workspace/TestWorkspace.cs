using TierStorage.Engine.Workspace;

namespace TierStorage.Tests.Workspace;

/// <summary>A clock the test moves by hand, so session ids and durations are exact.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>An initialized workspace in a temp directory, deleted afterwards.</summary>
public sealed class TestWorkspace : IAsyncDisposable
{
    private readonly List<TierWorkspace> _opened = [];

    private TestWorkspace(string root) => Root = root;

    public string Root { get; }
    public ManualTime Time { get; } = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    public List<string> Warnings { get; } = [];
    public WorkspaceLayout Layout => new(Root);

    public static async Task<TestWorkspace> CreateAsync(string? policyTemplate = null) => await CreateAsync(policyTemplate, null);

    /// <param name="postgres">When given, the embedded default policy with a catalog section naming a new PostgreSQL database
    /// on that server: the same test with the catalog on the other provider.</param>
    public static async Task<TestWorkspace> CreateAsync(string? policyTemplate, Catalog.Postgres.PostgresServerFixture? postgres)
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-ws-" + Guid.NewGuid().ToString("N"));
        string? written = null;
        if (postgres is not null)
        {
            if (policyTemplate is not null) throw new ArgumentException("A PostgreSQL catalog is added to the embedded default only.", nameof(policyTemplate));
            var catalog = await postgres.CreateCatalogAsync("ws");
            written = Path.Combine(Path.GetTempPath(), "ts-ws-policy-" + Guid.NewGuid().ToString("N") + ".yaml");
            await File.WriteAllTextAsync(written, TierStorage.Engine.Policy.PolicyLoader.EmbeddedDefaultYaml.TrimEnd() + $"""


                catalog:
                  provider: postgres
                  connection: "{catalog.Target}"
                  password_env: {Catalog.Postgres.PostgresServerFixture.PasswordVariable}

                """);
            policyTemplate = written;
        }
        try
        {
            await TierWorkspace.InitializeAsync(root, policyTemplate, force: false, CancellationToken.None);
        }
        finally
        {
            if (written is not null) File.Delete(written);
        }
        return new TestWorkspace(root);
    }

    public async Task<TierWorkspace> OpenAsync()
    {
        var workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions { WorkspacePath = Root, Time = Time, Warning = w => { lock (Warnings) Warnings.Add(w); } }, CancellationToken.None);
        _opened.Add(workspace);
        return workspace;
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
        }
    }
}
