using System.CommandLine;
using TierStorage.Cli.Output;
using TierStorage.Contracts;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Workspace;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage init</c>: Initialize-TierWorkspace.</summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var path = new Option<string?>("--path") { Description = "Directory to initialize (default: --workspace, $TIERSTORAGE_WORKSPACE, else ./.tierstorage)", HelpName = "DIR" };
        var template = new Option<string?>("--policy-template") { Description = "Policy file to copy in (default: the embedded default policy)", HelpName = "FILE" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing policy" };
        var encrypt = new Option<bool>("--encrypt") { Description = "Create the key file that encrypts every object sent to the backup and archive tiers, and turn encryption on in the policy" };
        var newIdentity = new Option<bool>("--new-identity")
        {
            Description = "Give a copied workspace its own id and namespace on the tiers (it forgets the original's tier copies; nothing on a tier changes)",
        };

        var command = new Command("init", "Create the workspace layout and its policy; refuses to overwrite a policy without --force") { path, template, force, newIdentity, encrypt };
        command.Validators.Add(result =>
        {
            if (ValueParsers.IsGiven(result, newIdentity) && (ValueParsers.IsGiven(result, template) || ValueParsers.IsGiven(result, force) || ValueParsers.IsGiven(result, encrypt)))
                result.AddError("--new-identity cannot be combined with --policy-template, --force or --encrypt.");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(newIdentity)) return await NewIdentityAsync(context, parseResult, parseResult.GetValue(path), cancellationToken).ConfigureAwait(false);
            var workspacePath = parseResult.GetValue(path) ?? parseResult.GetValue(context.Workspace);
            if (parseResult.GetValue(encrypt))
            {
                var (created, key) = await EncryptionOperations.InitializeEncryptedAsync(workspacePath, parseResult.GetValue(template), parseResult.GetValue(force), null, cancellationToken).ConfigureAwait(false);
                if (context.IsJson(parseResult))
                {
                    if (created is not null) context.WriteJson(created, CliJson.Context.WorkspaceInfo);
                    context.WriteJson(key, CliJson.Context.EncryptionKeyInfo);
                    return ExitCodes.Success;
                }
                if (created is not null) WriteWorkspace(context, created);
                context.Stdout.WriteLine($"  key:     {key.KeyFile} (id {key.KeyId}, {key.Protection}){(key.PolicyUpdated ? "; encryption turned on in the policy" : "")}");
                context.Warn($"Keep a copy of {key.KeyFile} somewhere safe: without it nothing on the encrypted tiers can be read.");
                return ExitCodes.Success;
            }

            var info = await TierWorkspace.InitializeAsync(
                workspacePath,
                parseResult.GetValue(template),
                parseResult.GetValue(force),
                cancellationToken).ConfigureAwait(false);

            if (context.IsJson(parseResult))
            {
                context.WriteJson(info, CliJson.Context.WorkspaceInfo);
                return ExitCodes.Success;
            }

            WriteWorkspace(context, info);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<int> NewIdentityAsync(CliContext context, ParseResult parseResult, string? path, CancellationToken cancellationToken)
    {
        await using var workspace = await TierWorkspace.OpenAsync(new WorkspaceOptions
        {
            WorkspacePath = path ?? parseResult.GetValue(context.Workspace),
            PolicyPath = parseResult.GetValue(context.Policy),
            // The warning that this is a copy is what the user is acting on: not repeated.
            Warning = message => { if (!message.Contains("is a copy of", StringComparison.Ordinal)) context.Warn(message); },
        }, cancellationToken).ConfigureAwait(false);
        var change = await workspace.NewIdentityAsync(cancellationToken).ConfigureAwait(false);
        if (context.IsJson(parseResult))
        {
            context.WriteJson(change, CliJson.Context.WorkspaceIdentityChange);
            return ExitCodes.Success;
        }
        context.Stdout.WriteLine($"Workspace {change.Path} has a new identity: namespace {change.Namespace} (was {(change.PreviousNamespace.Length == 0 ? "the tier root" : change.PreviousNamespace)}).");
        if (change.SessionsToBackUp.Count > 0)
            context.Stdout.WriteLine($"  {change.SessionsToBackUp.Count} session(s) held here go back to Completed; the next backup stores them in the new namespace.");
        if (change.SessionsLeftToOriginal.Count > 0)
            context.Stdout.WriteLine($"  {change.SessionsLeftToOriginal.Count} session(s) only the original's tiers held are left to the original: {string.Join(", ", change.SessionsLeftToOriginal)}");
        return ExitCodes.Success;
    }

    private static void WriteWorkspace(CliContext context, WorkspaceInfo info)
    {
        context.Stdout.WriteLine($"Initialized workspace {info.Path}");
        context.Stdout.WriteLine($"  policy:  {info.PolicyPath} ({(info.PolicyWritten ? "written" : "kept")})");
        context.Stdout.WriteLine($"  catalog: {info.CatalogPath}");
        context.Stdout.WriteLine($"  namespace on the tiers: {(info.Namespace.Length == 0 ? "(the tier root)" : info.Namespace)}");
        foreach (var directory in info.CreatedDirectories) context.Stdout.WriteLine($"  created: {directory}");
    }
}
