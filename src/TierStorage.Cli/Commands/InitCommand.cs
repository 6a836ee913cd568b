using System.CommandLine;
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

        var command = new Command("init", "Create the workspace layout and its policy; refuses to overwrite a policy without --force") { path, template, force };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var info = await TierWorkspace.InitializeAsync(
                parseResult.GetValue(path) ?? parseResult.GetValue(context.Workspace),
                parseResult.GetValue(template),
                parseResult.GetValue(force),
                cancellationToken).ConfigureAwait(false);

            if (context.IsJson(parseResult))
            {
                context.WriteJson(info);
                return ExitCodes.Success;
            }

            context.Stdout.WriteLine($"Initialized workspace {info.Path}");
            context.Stdout.WriteLine($"  policy:  {info.PolicyPath} ({(info.PolicyWritten ? "written" : "kept")})");
            context.Stdout.WriteLine($"  catalog: {info.CatalogPath}");
            foreach (var directory in info.CreatedDirectories) context.Stdout.WriteLine($"  created: {directory}");
            return ExitCodes.Success;
        });
        return command;
    }
}
