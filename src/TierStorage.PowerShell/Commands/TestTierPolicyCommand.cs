using System.Collections.ObjectModel;
using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.PowerShell.Commands;

/// <summary>Validates policy files and writes every finding.</summary>
/// <remarks>
/// <para>Test-TierPolicy reads each policy file and writes one PolicyFinding per problem, naming the file, line and key, with its severity (Error, Warning, Information). A bad file yields findings, never an exception; a valid file yields none. Without -Path it tests the workspace's effective policy. -Path takes wildcards; -LiteralPath takes names as written and binds the files Get-ChildItem pipes in.</para>
/// </remarks>
/// <example>
/// <code>Test-TierPolicy ./tierstorage.yaml | Where-Object Severity -eq Error</code>
/// <para>Lists the errors of the policy in the current directory.</para>
/// </example>
/// <example>
/// <code>Get-ChildItem ./policies/*.yaml | Test-TierPolicy</code>
/// <para>Tests every policy file of a folder.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "TierPolicy", DefaultParameterSetName = PathSet)]
[OutputType(typeof(PolicyFinding))]
public sealed class TestTierPolicyCommand : WorkspaceCmdlet
{
    public const string PathSet = "Path";
    public const string LiteralPathSet = "LiteralPath";

    /// <summary>Policy files to test, wildcards allowed; default the workspace's effective policy.</summary>
    [Parameter(ParameterSetName = PathSet, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.PolicyPathCompleter))]
    public string[]? Path { get; set; }

    /// <summary>Policy files to test, taken as written (no wildcards); binds Get-ChildItem output by PSPath.</summary>
    [Parameter(ParameterSetName = LiteralPathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (var path in LiteralPath!)
            {
                WriteObject(PolicyLoader.Test(ResolvePath(path)), enumerateCollection: true);
            }

            return;
        }

        if (Path is null)
        {
            WriteObject(PolicyLoader.Test(ResolveEffectivePolicyPath()), enumerateCollection: true);
            return;
        }

        foreach (var path in Path)
        {
            foreach (var file in ResolveFiles(path))
            {
                WriteObject(PolicyLoader.Test(file), enumerateCollection: true);
            }
        }
    }

    /// <summary>The files a -Path (wildcards expanded by PowerShell's provider) names; none, with an ObjectNotFound error, when it matches nothing.</summary>
    private IEnumerable<string> ResolveFiles(string path)
    {
        Collection<string> files;
        try
        {
            files = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.Name != "FileSystem")
            {
                WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a file-system path."), ErrorIds.InvalidArgument,
                    ErrorCategory.InvalidArgument, path));
                return [];
            }
        }
        catch (ItemNotFoundException)
        {
            files = [];
        }

        if (files.Count == 0)
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"No policy file matches '{path}'."), ErrorIds.PolicyNotFound,
                ErrorCategory.ObjectNotFound, path));
        }

        return files;
    }
}
