using System.CommandLine;
using System.Globalization;
using TierStorage.Cli.Output;
using TierStorage.Engine.Packaging;

namespace TierStorage.Cli.Commands;

/// <summary><c>tierstorage key rotate</c>: Update-TierEncryptionKey.</summary>
internal static class KeyCommand
{
    public static Command Create(CliContext context) => new("key", "The key-encryption key of encrypted tiers") { CreateRotate(context) };

    private static Command CreateRotate(CliContext context)
    {
        var newPassphrase = new Option<string?>("--new-passphrase-env")
        {
            Description = "Passphrase policies: the environment variable holding the new passphrase (the policy's variable keeps the old one until this is done)",
            HelpName = "VAR",
        };
        var whatIf = new Option<bool>("--what-if") { Description = "Name the tiers whose data keys would be re-wrapped; change nothing" };
        var command = new Command("rotate", "Re-wrap every encrypted tier's data keys under a new key (no data is re-uploaded); the old key stops working") { newPassphrase, whatIf };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var workspace = await context.OpenWorkspaceAsync(parseResult, cancellationToken).ConfigureAwait(false);
            var request = new KeyRotationRequest { NewPassphraseVariable = parseResult.GetValue(newPassphrase) };
            var tiers = workspace.Encryption.PlanRotation(request);
            if (parseResult.GetValue(whatIf))
            {
                foreach (var tier in tiers) context.Stdout.WriteLine($"Would re-wrap the data keys of tier '{tier.Name}' under a new key.");
                return ExitCodes.Success;
            }
            var rows = new List<string[]>();
            await foreach (var result in workspace.Encryption.RotateAsync(request, cancellationToken).ConfigureAwait(false))
            {
                if (context.IsJson(parseResult)) context.WriteJson(result, CliJson.Context.KeyRotationResult);
                else rows.Add([result.Tier, result.OldKeyId, result.NewKeyId, result.ObjectsRewrapped.ToString(CultureInfo.InvariantCulture),
                    result.ObjectsAlreadyRewrapped.ToString(CultureInfo.InvariantCulture)]);
            }
            if (!context.IsJson(parseResult))
                new TableFormatter(new TableColumn("TIER"), new TableColumn("OLD KEY"), new TableColumn("NEW KEY"), new TableColumn("REWRAPPED", ColumnAlignment.Right),
                    new TableColumn("ALREADY", ColumnAlignment.Right)).Write(context.Stdout, rows);
            return ExitCodes.Success;
        });
        return command;
    }
}
