using System.CommandLine;
using System.Text.Json.Serialization.Metadata;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli;

/// <summary>What every command shares: the three streams and the global options.</summary>
internal sealed class CliContext(TextReader stdin, TextWriter stdout, TextWriter stderr)
{
    public TextReader Stdin { get; } = stdin;
    public TextWriter Stdout { get; } = stdout;
    public TextWriter Stderr { get; } = stderr;

    public Option<string?> Workspace { get; } = NotEmpty(new("--workspace")
    {
        Description = "Workspace directory (default: $TIERSTORAGE_WORKSPACE, else ./.tierstorage)",
        HelpName = "DIR",
        Recursive = true,
    });

    public Option<string?> Policy { get; } = NotEmpty(new("--policy")
    {
        Description = "Policy file (default: $TIERSTORAGE_POLICY, else <workspace>/tierstorage.yaml, else the embedded default)",
        HelpName = "FILE",
        Recursive = true,
    });

    /// <summary>An empty value would silently mean "the default" (for a hook: another project's workspace): refuse it.</summary>
    private static Option<string?> NotEmpty(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
                result.AddError($"{option.Name} needs a value; leave the option out to use the default.");
        });
        return option;
    }

    /// <summary>The workspace directory this command line names, as the engine resolves it.</summary>
    public string ResolveWorkspacePath(ParseResult parseResult) => TierWorkspace.ResolveWorkspacePath(parseResult.GetValue(Workspace));

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine output: one JSON document or JSON lines (camelCase, enums as names); nothing else on stdout",
        Recursive = true,
    };

    public bool IsJson(ParseResult parseResult) => parseResult.GetValue(Json);

    public Task<TierWorkspace> OpenWorkspaceAsync(ParseResult parseResult, CancellationToken cancellationToken) =>
        OpenWorkspaceAsync(parseResult, setAsideCorruptCatalog: false, cancellationToken);

    /// <param name="setAsideCorruptCatalog">See <see cref="WorkspaceOptions.SetAsideCorruptCatalog"/> (catalog rebuild).</param>
    public Task<TierWorkspace> OpenWorkspaceAsync(ParseResult parseResult, bool setAsideCorruptCatalog, CancellationToken cancellationToken) =>
        OpenWorkspaceAsync(parseResult, setAsideCorruptCatalog, null, cancellationToken);

    /// <param name="policyLoaded">See <see cref="WorkspaceOptions.PolicyLoaded"/>.</param>
    public Task<TierWorkspace> OpenWorkspaceAsync(ParseResult parseResult, bool setAsideCorruptCatalog, Action<TierPolicy>? policyLoaded, CancellationToken cancellationToken) =>
        TierWorkspace.OpenAsync(
            new WorkspaceOptions
            {
                WorkspacePath = parseResult.GetValue(Workspace), PolicyPath = parseResult.GetValue(Policy), Warning = Warn,
                SetAsideCorruptCatalog = setAsideCorruptCatalog, PolicyLoaded = policyLoaded,
            },
            cancellationToken);

    public void WriteJson<T>(T value, JsonTypeInfo<T> type) => Stdout.WriteLine(CliJson.Serialize(value, type));

    public void Warn(string message) => Warn(Stderr, message);

    /// <summary>Safe from any thread: the engine also warns from background batches, and a TextWriter is not.</summary>
    public static void Warn(TextWriter stderr, string message)
    {
        lock (stderr) stderr.WriteLine($"tierstorage: warning: {message}");
    }

    public void WriteError(string errorId, string message) => WriteError(Stderr, errorId, message);

    public static void WriteError(TextWriter stderr, string errorId, string message) => stderr.WriteLine($"tierstorage: {errorId}: {message}");

    /// <summary>The compiler-style line editors and CI annotators understand: file:line:col: severity code key: message.</summary>
    public static string FormatFinding(PolicyFinding finding)
    {
        var where = finding.File ?? "<policy>";
        if (finding.Line is { } line) where += $":{line}:{finding.Column ?? 1}";
        var key = finding.KeyPath is null ? "" : $" {finding.KeyPath}";
        return $"{where}: {finding.Severity.ToString().ToLowerInvariant()} {finding.Code}{key}: {finding.Message}";
    }
}
