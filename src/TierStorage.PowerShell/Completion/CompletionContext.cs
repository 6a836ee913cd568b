using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Completion;

/// <summary>What the completers share: the workspace and policy the command being typed would use, and results
/// filtered by what was typed so far.</summary>
internal static class CompletionContext
{
    /// <summary>The workspace of the command line: its -WorkspacePath (or -Workspace) if typed, else
    /// $env:TIERSTORAGE_WORKSPACE, else ./.tierstorage, relative to the current PowerShell location.</summary>
    public static string WorkspaceRoot(IDictionary fakeBoundParameters)
    {
        var typed = BoundString(fakeBoundParameters, "WorkspacePath") ?? BoundString(fakeBoundParameters, "Workspace");
        var fromEnvironment = Environment.GetEnvironmentVariable(TierWorkspace.WorkspaceVariable);
        return ResolvePath(typed ?? (string.IsNullOrEmpty(fromEnvironment) ? TierWorkspace.DefaultDirectoryName : fromEnvironment));
    }

    /// <summary>The -PolicyPath of the command line as a full path, or null (the workspace decides).</summary>
    public static string? PolicyPath(IDictionary fakeBoundParameters) =>
        BoundString(fakeBoundParameters, "PolicyPath") is { } policyPath ? ResolvePath(policyPath) : null;

    /// <summary>The values that start with what was typed (ignoring case and an opening quote), each quoted when it
    /// needs to be.</summary>
    public static IEnumerable<CompletionResult> Matching(IEnumerable<string> values, string? wordToComplete, string toolTipPrefix = "")
    {
        var typed = (wordToComplete ?? "").Trim('\'', '"');
        return values
            .Where(v => v.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(v => new CompletionResult(Quote(v), v, CompletionResultType.ParameterValue, toolTipPrefix + v));
    }

    private static string? BoundString(IDictionary fakeBoundParameters, string name)
    {
        var value = fakeBoundParameters?.Contains(name) == true ? fakeBoundParameters[name] : null;
        if (value is PSObject wrapped) value = wrapped.BaseObject;
        return value is string { Length: > 0 } text ? text : null;
    }

    /// <summary>Resolved against the PowerShell location, which is what a relative path means on the command line. A
    /// script block runs in the runspace that is completing; its SessionStateProxy refuses calls while it is busy.</summary>
    private static string ResolvePath(string path) =>
        Runspace.DefaultRunspace is null
            ? System.IO.Path.GetFullPath(path)
            : ScriptBlock.Create("param($path) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($path)")
                .Invoke(path).Select(o => o?.BaseObject).OfType<string>().Single();

    private static string Quote(string value) =>
        value.Any(c => char.IsWhiteSpace(c) || "'\"`$&|;,(){}<>@#".Contains(c)) ? "'" + value.Replace("'", "''") + "'" : value;
}
