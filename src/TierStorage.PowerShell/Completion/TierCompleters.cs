using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using TierStorage.Contracts;
using TierStorage.Engine.Catalog.Transfer;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell.Completion;

/// <summary>Base of the completers: whatever goes wrong while looking values up, completion offers nothing.</summary>
public abstract class TierCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            return Complete(wordToComplete, fakeBoundParameters).ToList();
        }
        catch (Exception)
        {
            // A completer runs while the user types: an error here would be printed into the prompt.
            return [];
        }
    }

    private protected abstract IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters);
}

/// <summary>-SessionId: the ids in the catalog of the workspace named on the command line (or the default), newest first.</summary>
public sealed class SessionIdCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(WorkspaceLookup.SessionIds(CompletionContext.WorkspaceRoot(fakeBoundParameters)), wordToComplete);
}

/// <summary>-Phase: the phase numbers the workspace's catalog knows.</summary>
public sealed class PhaseCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(
            WorkspaceLookup.Phases(CompletionContext.WorkspaceRoot(fakeBoundParameters)).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            wordToComplete, "Phase ");
}

/// <summary>-Tier: the tier names of the policy the command would use.</summary>
public sealed class TierNameCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(
            WorkspaceLookup.TierNames(CompletionContext.WorkspaceRoot(fakeBoundParameters), CompletionContext.PolicyPath(fakeBoundParameters)),
            wordToComplete, "Tier ");
}

/// <summary>-Collection: the collections of the policy the command would use.</summary>
public sealed class CollectionNameCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(
            WorkspaceLookup.CollectionNames(CompletionContext.WorkspaceRoot(fakeBoundParameters), CompletionContext.PolicyPath(fakeBoundParameters)),
            wordToComplete, "Collection ");
}

/// <summary>Get-TierAlert -Channel: the alert channels of the policy the command would use.</summary>
public sealed class AlertChannelCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(
            WorkspaceLookup.AlertChannelNames(CompletionContext.WorkspaceRoot(fakeBoundParameters), CompletionContext.PolicyPath(fakeBoundParameters)),
            wordToComplete, "Channel ");
}

/// <summary>Get-TierAlert -Key: the keys of the workspace's open and recently resolved alerts.</summary>
public sealed class AlertKeyCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(WorkspaceLookup.AlertKeys(CompletionContext.WorkspaceRoot(fakeBoundParameters)), wordToComplete);
}

/// <summary>Event -Type: the event types in their log spelling (tool_call, llm_call, ...).</summary>
public sealed class EventTypeCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(WorkspaceLookup.EventTypes, wordToComplete);
}

/// <summary>Policy files: PowerShell's own file-name completion, kept to folders and *.yaml / *.yml files.</summary>
public sealed class PolicyPathCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionCompleters.CompleteFilename(wordToComplete ?? "")
            .Where(r => r.ResultType == CompletionResultType.ProviderContainer || IsPolicyFile(r.ListItemText));

    private static bool IsPolicyFile(string name) =>
        name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
}

/// <summary>-To / -Against of the catalog cmdlets: the policy's catalog connection (the usual target), then folders and
/// SQLite catalog files (.db).</summary>
public sealed class CatalogTargetCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters)
    {
        var connections = new List<string>();
        try
        {
            var root = CompletionContext.WorkspaceRoot(fakeBoundParameters);
            var policy = TierWorkspace.ResolvePolicyPath(root, CompletionContext.PolicyPath(fakeBoundParameters));
            if (policy is not null && File.Exists(policy) && CatalogPolicyFile.Read(File.ReadAllText(policy), policy)?.Connection is { Length: > 0 } connection)
                connections.Add(connection);
        }
        catch (TierStorageException)
        {
            // A policy that does not parse completes no connection; the files still complete.
        }
        return CompletionContext.Matching(connections, wordToComplete, "the policy's catalog connection: ")
            .Concat(CompletionCompleters.CompleteFilename(wordToComplete ?? "")
                .Where(r => r.ResultType == CompletionResultType.ProviderContainer || r.ListItemText.EndsWith(".db", StringComparison.OrdinalIgnoreCase)));
    }
}

/// <summary>-PasswordEnv: the names of the environment variables set now (never their values).</summary>
public sealed class EnvironmentVariableCompleter : TierCompleter
{
    private protected override IEnumerable<CompletionResult> Complete(string wordToComplete, IDictionary fakeBoundParameters) =>
        CompletionContext.Matching(Environment.GetEnvironmentVariables().Keys.Cast<string>().Order(StringComparer.OrdinalIgnoreCase), wordToComplete, "environment variable ");
}
