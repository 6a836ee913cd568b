using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace TierStorage.Tests.PowerShell;

public sealed class CmdletMetadataFixture : IDisposable
{
    internal CmdletMetadata Metadata { get; } = new();

    public void Dispose() => Metadata.Dispose();
}

/// <summary>
/// The cmdlet development guidelines and our pipeline promises, checked on the built assembly without a PowerShell runtime.
/// Each test collects every violation so one run lists them all.
/// </summary>
public sealed class CmdletContractTests(CmdletMetadataFixture fixture) : IClassFixture<CmdletMetadataFixture>
{
    // Get-Verb on PowerShell 7.4.
    private static readonly HashSet<string> ApprovedVerbs = new(StringComparer.Ordinal)
    {
        "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New",
        "Open", "Optimize", "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set", "Show",
        "Skip", "Split", "Step", "Switch", "Undo", "Unlock", "Watch",
        "Connect", "Disconnect", "Read", "Receive", "Send", "Write",
        "Backup", "Checkpoint", "Compare", "Compress", "Convert", "ConvertFrom", "ConvertTo", "Dismount", "Edit", "Expand",
        "Export", "Group", "Import", "Initialize", "Limit", "Merge", "Mount", "Out", "Publish", "Restore", "Save", "Sync",
        "Unpublish", "Update",
        "Debug", "Measure", "Ping", "Repair", "Resolve", "Test", "Trace",
        "Approve", "Assert", "Build", "Complete", "Confirm", "Deny", "Deploy", "Disable", "Enable", "Install", "Invoke",
        "Register", "Request", "Restart", "Resume", "Start", "Stop", "Submit", "Suspend", "Uninstall", "Unregister", "Wait",
        "Use",
        "Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect",
    };

    private static readonly HashSet<string> StateChangingVerbs = new(StringComparer.Ordinal)
    {
        "New", "Set", "Remove", "Add", "Clear", "Start", "Stop", "Complete", "Initialize", "Save", "Update", "Move",
        "Backup", "Restore", "Invoke", "Sync", "Register", "Unregister", "Connect", "Disconnect", "Reset", "Rename",
        "Copy", "Install", "Uninstall", "Publish", "Unpublish", "Import", "Export", "Enable", "Disable", "Restart",
        "Resume", "Suspend", "Submit", "Deploy", "Grant", "Revoke", "Protect", "Unprotect", "Block", "Unblock",
        "Lock", "Unlock", "Merge", "Mount", "Dismount", "Compress", "Expand", "Repair", "Write", "Send", "Push", "Pop",
    };

    // Words that end in s without being plurals.
    private static readonly HashSet<string> SingularWordsEndingInS = new(StringComparer.OrdinalIgnoreCase)
    {
        "Analytics", "Status", "Alias", "Process", "Access", "Address", "Class", "Progress", "Bus", "Canvas",
    };

    /// <summary>Pipelines users write. CommandLine = parameters the user types on the consumer; Keys = properties
    /// that must flow by name from producer to consumer.</summary>
    public static TheoryData<string, string, string[], string[]> Pipelines => new()
    {
        { "Get-Session", "Complete-Session", [], ["SessionId"] },
        { "Get-Session", "Get-SessionEvent", [], ["SessionId"] },
        { "Get-Session", "Get-SessionSnapshot", [], ["SessionId"] },
        { "Start-Session", "Complete-Session", [], ["SessionId"] },
        { "Start-Session", "Add-SessionEvent", ["Type"], ["SessionId"] },
        { "Start-Session", "Save-SessionSnapshot", ["Json"], ["SessionId"] },
        { "Get-SessionSnapshot", "Get-SessionSnapshot", [], ["SessionId", "Sequence"] },
        { "Get-SessionSnapshot", "Save-SessionSnapshot", [], ["SessionId", "Json"] },
        { "Get-SessionEvent", "Add-SessionEvent", [], [] },
        { "Get-Session", "Backup-Session", [], ["SessionId"] },
        { "Test-Backup", "Backup-Session", [], ["SessionId"] },
        { "Backup-Session", "Restore-Session", [], ["SessionId"] },
        { "Backup-Session", "Test-Backup", [], ["SessionId"] },
        { "Get-Session", "Restore-Session", [], ["SessionId"] },
        { "Test-TierConnection", "Sync-BackupQueue", [], ["Tier"] },
        { "Connect-TierDrive", "Test-TierConnection", [], ["Tier"] },
        { "Backup-Session", "Update-TierCatalog", [], ["Tier"] },
        { "Get-TierUsage", "Test-TierConnection", [], ["Tier"] },
        { "Get-TierUsage", "Sync-BackupQueue", [], ["Tier"] },
        { "Get-Session", "Restore-Phase", [], ["Phase"] },
        { "Get-Phase", "Restore-Phase", [], ["Phase"] },
        { "Start-Phase", "Get-Phase", [], ["Phase"] },
        { "Get-Phase", "Invoke-PhaseReview", [], ["Phase"] },
        { "Import-ClaudeSession", "Backup-Session", [], ["SessionId"] },
    };

    private IReadOnlyList<CmdletShape> Cmdlets => fixture.Metadata.Cmdlets;

    [Fact]
    public void Assembly_defines_the_foundation_and_backup_cmdlets()
    {
        var expected = new[]
        {
            "Add-SessionEvent", "Complete-Session", "Get-Session", "Get-SessionEvent", "Get-SessionSnapshot", "Get-TierPolicy",
            "Initialize-TierWorkspace", "Save-SessionSnapshot", "Start-Session", "Test-TierPolicy",
            "Backup-Session", "Sync-BackupQueue", "Restore-Session", "Test-Backup", "Test-TierConnection", "Update-TierCatalog",
            "Connect-TierDrive", "Disconnect-TierDrive", "Get-TierUsage", "Move-DataTier", "Invoke-TierPolicy", "Restore-Phase", "Start-Phase", "Get-Phase", "Invoke-PhaseReview", "Import-ClaudeSession",
        };
        Assert.Empty(expected.Except(Cmdlets.Select(c => c.Name)));
    }

    [Fact]
    public void Every_verb_is_approved() =>
        Assert.Empty(Cmdlets.Where(c => !ApprovedVerbs.Contains(c.Verb)).Select(c => $"{c.Name}: '{c.Verb}' is not an approved verb"));

    [Fact]
    public void Every_noun_is_singular() =>
        Assert.Empty(Cmdlets.Where(c => LooksPlural(c.Noun)).Select(c => $"{c.Name}: noun '{c.Noun}' looks plural"));

    [Fact]
    public void Every_cmdlet_class_is_sealed_and_named_verb_noun_command() =>
        Assert.Empty(Cmdlets
            .Where(c => !c.Type.IsSealed || c.Type.Name != $"{c.Verb}{c.Noun}Command")
            .Select(c => $"{c.Name}: class {c.Type.FullName} should be sealed and named {c.Verb}{c.Noun}Command"));

    [Fact]
    public void Manifest_exports_exactly_the_cmdlets_of_the_assembly()
    {
        var manifest = File.ReadAllText(Path.Combine(ModulePaths.RepoRoot, "TierStorage.psd1"));
        var block = Regex.Match(manifest, @"CmdletsToExport\s*=\s*@\((?<list>[^)]*)\)");
        Assert.True(block.Success, "TierStorage.psd1 has no explicit CmdletsToExport = @(...) list");
        var exported = Regex.Matches(block.Groups["list"].Value, "'(?<name>[^']+)'").Select(m => m.Groups["name"].Value).ToHashSet();
        var defined = Cmdlets.Select(c => c.Name).ToHashSet();

        Assert.Empty(defined.Except(exported).Select(n => $"{n} is not in CmdletsToExport")
            .Concat(exported.Except(defined).Select(n => $"{n} is exported but no class defines it")));
        foreach (var list in new[] { "FunctionsToExport", "AliasesToExport", "VariablesToExport" })
        {
            Assert.Matches(list + @"\s*=\s*@\(\s*\)", manifest);
        }
    }

    [Fact]
    public void Every_cmdlet_declares_its_output_type() =>
        Assert.Empty(Cmdlets.Where(c => c.OutputTypes.Count == 0).Select(c => $"{c.Name} has no [OutputType]"));

    [Fact]
    public void Every_state_changing_cmdlet_supports_should_process() =>
        Assert.Empty(Cmdlets
            .Where(c => StateChangingVerbs.Contains(c.Verb) && !c.SupportsShouldProcess)
            .Select(c => $"{c.Name} changes state but lacks SupportsShouldProcess"));

    [Fact]
    public void No_parameter_is_a_bool_where_a_switch_belongs() =>
        Assert.Empty(Cmdlets
            .SelectMany(c => c.Parameters.Where(p => p.Type.FullName == "System.Boolean").Select(p => $"{c.Name} -{p.Name} is bool; use SwitchParameter")));

    [Fact]
    public void Every_output_type_has_a_default_view()
    {
        var formats = XDocument.Load(Path.Combine(ModulePaths.RepoRoot, "module", "TierStorage.format.ps1xml"));
        var viewed = formats.Descendants("ViewSelectedBy").Elements("TypeName").Select(e => e.Value.Trim()).ToHashSet();
        Assert.Empty(Cmdlets.SelectMany(c => c.OutputTypes.Where(t => !viewed.Contains(t.FullName!))
            .Select(t => $"{c.Name} writes {t.FullName}, which has no view in TierStorage.format.ps1xml")));
    }

    [Fact]
    public void Every_parameter_set_has_a_way_to_be_chosen()
    {
        // A default set must exist among the sets, or PowerShell cannot pick one when only common parameters are given.
        Assert.Empty(Cmdlets
            .Where(c => c.ParameterSets.Count > 1 && (c.DefaultParameterSet is null || !c.ParameterSets.Contains(c.DefaultParameterSet)))
            .Select(c => $"{c.Name} has sets {string.Join(", ", c.ParameterSets)} but no valid DefaultParameterSetName"));
    }

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void Pipeline_binds_by_property_name(string producerName, string consumerName, string[] commandLine, string[] keys)
    {
        var producer = fixture.Metadata[producerName];
        var consumer = fixture.Metadata[consumerName];
        var outputs = producer.OutputPropertyNames;
        var problems = new List<string>();

        foreach (var key in keys)
        {
            if (!outputs.Contains(key))
            {
                problems.Add($"{producerName} output has no property {key}");
            }

            if (!consumer.Parameters.Any(p => p.Answers(key) && p.Sets.Any(s => s.ValueFromPipelineByPropertyName)))
            {
                problems.Add($"{consumerName} has no parameter {key} bound by property name");
            }
        }

        // Some parameter set must accept the object: by value (the typed InputObject), or with every mandatory
        // parameter either typed by the user or found on the object by name or alias.
        var bindable = consumer.ParameterSets.Where(set =>
        {
            var inSet = consumer.Parameters.Select(p => (Parameter: p, Use: consumer.UseIn(p, set))).Where(x => x.Use is not null).ToList();
            var byValue = inSet.Any(x => x.Use!.ValueFromPipeline && producer.OutputTypes.Any(t => t.FullName == x.Parameter.Type.FullName));
            var mandatoryMet = inSet.Where(x => x.Use!.Mandatory).All(x =>
                commandLine.Any(x.Parameter.Answers)
                || (x.Use!.ValueFromPipelineByPropertyName && outputs.Any(x.Parameter.Answers)));
            var byName = inSet.Any(x => x.Use!.ValueFromPipelineByPropertyName && outputs.Any(x.Parameter.Answers));
            return byValue || (mandatoryMet && byName);
        }).ToList();
        if (bindable.Count == 0)
        {
            problems.Add($"no parameter set of {consumerName} accepts the output of {producerName}");
        }

        Assert.Empty(problems);
    }

    private static bool LooksPlural(string noun)
    {
        var lastWord = Regex.Matches(noun, "[A-Z][a-z0-9]*").LastOrDefault()?.Value ?? noun;
        return lastWord.EndsWith('s') && !lastWord.EndsWith("ss", StringComparison.Ordinal)
            && !SingularWordsEndingInS.Contains(lastWord);
    }
}
