using System.Xml.Linq;

namespace TierStorage.HelpGen;

/// <summary>Writes cmdlet help in the MAML dialect Get-Help reads (the one platyPS produces for binary modules).</summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly ParameterHelp WhatIf = RiskParameter("WhatIf", ["wi"],
        "Shows what would happen if the cmdlet runs. The cmdlet is not run.");

    private static readonly ParameterHelp Confirm = RiskParameter("Confirm", ["cf"],
        "Prompts you for confirmation before running the cmdlet.");

    public static XDocument Write(IEnumerable<CmdletHelp> cmdlets) => new(
        new XDeclaration("1.0", "utf-8", null),
        new XElement(Msh + "helpItems",
            new XAttribute("schema", "maml"),
            cmdlets.Select(CommandElement)));

    private static XElement CommandElement(CmdletHelp cmdlet)
    {
        var parameters = cmdlet.SupportsShouldProcess ? [.. cmdlet.Parameters, WhatIf, Confirm] : cmdlet.Parameters;
        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(Command + "details",
                new XElement(Command + "name", cmdlet.Name),
                new XElement(Command + "verb", cmdlet.Verb),
                new XElement(Command + "noun", cmdlet.Noun),
                Description(cmdlet.Synopsis)),
            Description(cmdlet.Description),
            new XElement(Command + "syntax",
                cmdlet.ParameterSets.Select(set => new XElement(Command + "syntaxItem",
                    new XElement(Maml + "name", cmdlet.Name),
                    SyntaxOrder(parameters, set).Select(p => ParameterElement(p, p.Sets.FirstOrDefault(s => s.SetName == set) ?? p.Sets[0], syntax: true))))),
            new XElement(Command + "parameters",
                parameters.Select(p => ParameterElement(p, p.Sets[0], syntax: false))),
            new XElement(Command + "inputTypes", InputTypes(cmdlet.Parameters)),
            new XElement(Command + "returnValues",
                (cmdlet.OutputTypes.Count > 0 ? cmdlet.OutputTypes : ["None"]).Select(type => new XElement(Command + "returnValue",
                    TypeElement(type),
                    Description(cmdlet.Outputs)))),
            new XElement(Command + "examples",
                cmdlet.Examples.Select((example, index) => new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- Example {index + 1} --------------------------"),
                    new XElement(Dev + "code", example.Code),
                    // The trailing empty paragraph is the blank line Get-Help otherwise leaves out before the next example.
                    new XElement(Dev + "remarks", example.Remarks.Select(Para), new XElement(Maml + "para"))))),
            new XElement(Command + "relatedLinks",
                new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", "about_TierStorage"),
                    new XElement(Maml + "uri"))));
    }

    /// <summary>The parameters of one set: positional ones by position, then mandatory ones, then the rest as declared.</summary>
    private static IEnumerable<ParameterHelp> SyntaxOrder(IEnumerable<ParameterHelp> parameters, string set) =>
        parameters
            .Select(p => (Parameter: p, Entry: p.Sets.FirstOrDefault(s => s.SetName == set || s.SetName == CmdletReader.AllSets)))
            .Where(x => x.Entry is not null)
            .OrderBy(x => x.Entry!.Position ?? int.MaxValue)
            .ThenBy(x => x.Entry!.Mandatory ? 0 : 1)
            .Select(x => x.Parameter);

    private static XElement ParameterElement(ParameterHelp parameter, ParameterSetEntry entry, bool syntax)
    {
        var element = new XElement(Command + "parameter",
            new XAttribute("required", entry.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", "true"),
            new XAttribute("globbing", parameter.Globbing ? "true" : "false"),
            new XAttribute("pipelineInput", parameter.PipelineInput),
            new XAttribute("position", entry.Position?.ToString() ?? "named"),
            new XAttribute("aliases", parameter.Aliases.Count > 0 ? string.Join(", ", parameter.Aliases) : "none"),
            new XElement(Maml + "name", parameter.Name),
            Description(parameter.Description));

        if (parameter.AcceptedValues.Count > 0)
        {
            element.Add(new XElement(Command + "parameterValueGroup",
                parameter.AcceptedValues.Select(v => new XElement(Command + "parameterValue",
                    new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))));
        }

        if (!(syntax && parameter.IsSwitch))
        {
            element.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", parameter.IsSwitch ? "false" : "true"),
                new XAttribute("variableLength", "false"),
                parameter.TypeName));
        }

        element.Add(TypeElement(parameter.TypeFullName), new XElement(Dev + "defaultValue", parameter.DefaultValue));
        return element;
    }

    private static IEnumerable<XElement> InputTypes(IReadOnlyList<ParameterHelp> parameters)
    {
        var byValue = parameters.Where(p => p.ByValue).ToList();
        var byName = parameters.Where(p => p.ByPropertyName).Select(p => p.Name).ToList();
        foreach (var group in byValue.GroupBy(p => p.TypeFullName))
        {
            yield return InputType(group.Key, $"You can pipe {group.First().TypeName} objects to -{string.Join(", -", group.Select(p => p.Name))}.");
        }

        if (byName.Count > 0)
        {
            yield return InputType("System.Management.Automation.PSObject",
                $"You can pipe objects with properties named {string.Join(", ", byName)}; they bind to the parameters of the same names.");
        }

        if (byValue.Count == 0 && byName.Count == 0)
        {
            yield return InputType("None", "This cmdlet takes no pipeline input.");
        }
    }

    private static XElement InputType(string type, string description) =>
        new(Command + "inputType", TypeElement(type), Description(description));

    private static XElement TypeElement(string fullName) =>
        new(Dev + "type", new XElement(Maml + "name", fullName), new XElement(Maml + "uri"));

    private static XElement Description(string text) => Description([text]);

    private static XElement Description(IEnumerable<string> paragraphs) =>
        new(Maml + "description", paragraphs.Select(Para));

    private static XElement Para(string text) => new(Maml + "para", text);

    private static ParameterHelp RiskParameter(string name, string[] aliases, string description) => new(
        name, "SwitchParameter", "System.Management.Automation.SwitchParameter", IsSwitch: true, aliases, [],
        [new ParameterSetEntry(CmdletReader.AllSets, false, null, false, false)], [description], "False", false);
}
