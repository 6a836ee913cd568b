using System.CommandLine;
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

        var command = new Command("init", "Create the workspace layout and its policy; refuses to overwrite a policy without --force") { path, template, force, encrypt };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var workspacePath = parseResult.GetValue(path) ?? parseResult.GetValue(context.Workspace);
            if (parseResult.GetValue(encrypt))
            {
                var (created, key) = await EncryptionOperations.InitializeEncryptedAsync(workspacePath, parseResult.GetValue(template), parseResult.GetValue(force), null, cancellationToken).ConfigureAwait(false);
                if (context.IsJson(parseResult))
                {
                    if (created is not null) context.WriteJson(created);
                    context.WriteJson(key);
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
                context.WriteJson(info);
                return ExitCodes.Success;
            }

            WriteWorkspace(context, info);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteWorkspace(CliContext context, WorkspaceInfo info)
    {
        context.Stdout.WriteLine($"Initialized workspace {info.Path}");
        context.Stdout.WriteLine($"  policy:  {info.PolicyPath} ({(info.PolicyWritten ? "written" : "kept")})");
        context.Stdout.WriteLine($"  catalog: {info.CatalogPath}");
        foreach (var directory in info.CreatedDirectories) context.Stdout.WriteLine($"  created: {directory}");
    }
}
