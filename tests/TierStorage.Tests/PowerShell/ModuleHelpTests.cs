using System.Xml.Linq;
using Xunit;

namespace TierStorage.Tests.PowerShell;

/// <summary>
/// The MAML that build/HelpGen writes from the doc comments covers every cmdlet and parameter. The doc comments are
/// not compiler-checked (CS1591 is off for the cmdlet project), so this is where a missing one is caught; Help.Tests.ps1
/// checks that Get-Help really reads the file.
/// </summary>
public sealed class ModuleHelpTests(CmdletMetadataFixture fixture) : IClassFixture<CmdletMetadataFixture>
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly Lazy<XDocument> Help = new(() =>
        XDocument.Load(Path.Combine(ModulePaths.ModuleDir, "en-US", "TierStorage.PowerShell.dll-Help.xml")));

    public static TheoryData<string> CmdletNames
    {
        get
        {
            using var metadata = new CmdletMetadata();
            return new(metadata.Cmdlets.Select(c => c.Name));
        }
    }

    [Fact]
    public void Help_file_has_one_command_per_cmdlet()
    {
        var documented = Help.Value.Root!.Elements(Command + "command").Select(NameOf).Order().ToList();

        Assert.Equal(fixture.Metadata.Cmdlets.Select(c => c.Name).Order(), documented);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Cmdlet_has_synopsis_description_and_examples(string name)
    {
        var command = CommandElement(name);

        Assert.False(string.IsNullOrWhiteSpace(Text(command.Element(Command + "details")!.Element(Maml + "description"))), $"{name}: no synopsis");
        Assert.False(string.IsNullOrWhiteSpace(Text(command.Element(Maml + "description"))), $"{name}: no description");
        var examples = command.Element(Command + "examples")!.Elements(Command + "example").ToList();
        Assert.NotEmpty(examples);
        Assert.All(examples, example =>
        {
            Assert.False(string.IsNullOrWhiteSpace(example.Element(Dev + "code")?.Value), $"{name}: an example without code");
            Assert.False(string.IsNullOrWhiteSpace(Text(example.Element(Dev + "remarks"))), $"{name}: an example without an explanation");
        });
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Every_parameter_is_described(string name)
    {
        var shape = fixture.Metadata.Cmdlets.Single(c => c.Name == name);
        var described = CommandElement(name).Element(Command + "parameters")!.Elements(Command + "parameter")
            .Where(p => !string.IsNullOrWhiteSpace(Text(p.Element(Maml + "description"))))
            .Select(p => p.Element(Maml + "name")!.Value)
            .ToHashSet();

        var undescribed = shape.Parameters.Select(p => p.Name).Where(p => !described.Contains(p)).ToList();

        Assert.True(undescribed.Count == 0, $"{name}: no <summary> for -{string.Join(", -", undescribed)}");
    }

    private static XElement CommandElement(string name) =>
        Help.Value.Root!.Elements(Command + "command").Single(c => NameOf(c) == name);

    private static string NameOf(XElement command) => command.Element(Command + "details")!.Element(Command + "name")!.Value;

    private static string Text(XElement? element) =>
        element is null ? "" : string.Concat(element.Elements(Maml + "para").Select(p => p.Value));
}
