using System.Collections.ObjectModel;
using System.Reflection;
using System.Xml.Linq;

namespace TierStorage.HelpGen;

internal sealed record ParameterSetEntry(string SetName, bool Mandatory, int? Position, bool ByValue, bool ByPropertyName);

internal sealed record ParameterHelp(
    string Name,
    string TypeName,
    string TypeFullName,
    bool IsSwitch,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> AcceptedValues,
    IReadOnlyList<ParameterSetEntry> Sets,
    IReadOnlyList<string> Description,
    string DefaultValue,
    bool Globbing)
{
    public bool ByValue => Sets.Any(s => s.ByValue);
    public bool ByPropertyName => Sets.Any(s => s.ByPropertyName);

    public string PipelineInput => (ByValue, ByPropertyName) switch
    {
        (true, true) => "True (ByPropertyName, ByValue)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };
}

internal sealed record ExampleHelp(string Code, IReadOnlyList<string> Remarks);

internal sealed record CmdletHelp(
    string Verb,
    string Noun,
    string Synopsis,
    IReadOnlyList<string> Description,
    IReadOnlyList<string> ParameterSets,
    IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<string> OutputTypes,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<ExampleHelp> Examples,
    bool SupportsShouldProcess)
{
    public string Name => Verb + "-" + Noun;
}

/// <summary>Reads every cmdlet of an assembly loaded for inspection only: its [Cmdlet], [OutputType] and [Parameter]
/// attributes, and the doc comments of the class and of each parameter property (inherited ones included).</summary>
internal static class CmdletReader
{
    private const string Automation = "System.Management.Automation.";
    public const string AllSets = "__AllParameterSets";

    public static IReadOnlyList<CmdletHelp> Read(Assembly assembly, DocComments docs) =>
        assembly.GetTypes()
            .Where(t => t is { IsPublic: true, IsAbstract: false } && Attribute(t.GetCustomAttributesData(), "CmdletAttribute") is not null)
            .Select(t => ReadCmdlet(t, docs))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

    private static CmdletHelp ReadCmdlet(Type type, DocComments docs)
    {
        var cmdlet = Attribute(type.GetCustomAttributesData(), "CmdletAttribute")!;
        var verb = (string)cmdlet.ConstructorArguments[0].Value!;
        var noun = (string)cmdlet.ConstructorArguments[1].Value!;
        var defaultSet = Named<string>(cmdlet, "DefaultParameterSetName");
        // A missing doc comment leaves that help empty rather than failing the build: ModuleHelpTests and
        // Help.Tests.ps1 name what is missing.
        var doc = docs.Find("T:" + type.FullName) ?? new XElement("member");

        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => ReadParameter(p, docs))
            .OfType<ParameterHelp>()
            .ToList();

        var sets = parameters.SelectMany(p => p.Sets).Select(s => s.SetName).Where(s => s != AllSets).Distinct().ToList();
        if (sets.Count == 0) sets.Add(AllSets);
        if (defaultSet is not null && sets.Remove(defaultSet)) sets.Insert(0, defaultSet);

        var outputTypes = type.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Automation + "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [arg.Value])
            .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "")
            .Where(n => n.Length > 0)
            .Distinct()
            .ToList();

        return new CmdletHelp(
            verb,
            noun,
            DocComments.Text(doc.Element("summary")),
            DocComments.Paragraphs(doc.Element("remarks") ?? doc.Element("summary")),
            sets,
            parameters,
            outputTypes,
            DocComments.Paragraphs(doc.Element("returns")),
            doc.Elements("example").Select(ReadExample).ToList(),
            Named<bool>(cmdlet, "SupportsShouldProcess"));
    }

    private static ExampleHelp ReadExample(XElement example)
    {
        var code = example.Element("code") is { } block ? DocComments.Code(block) : "";
        var remarks = new XElement(example.Name, example.Nodes().Where(n => n is not XElement { Name.LocalName: "code" }));
        return new ExampleHelp(code, DocComments.Paragraphs(remarks));
    }

    private static ParameterHelp? ReadParameter(PropertyInfo property, DocComments docs)
    {
        var attributes = property.GetCustomAttributesData();
        var parameterAttributes = attributes.Where(a => a.AttributeType.FullName == Automation + "ParameterAttribute").ToList();
        if (parameterAttributes.Count == 0)
        {
            return null;
        }

        var sets = parameterAttributes.Select(a => new ParameterSetEntry(
            Named<string>(a, "ParameterSetName") ?? AllSets,
            Named<bool>(a, "Mandatory"),
            Named<int?>(a, "Position") is int position and >= 0 ? position : null,
            Named<bool>(a, "ValueFromPipeline"),
            Named<bool>(a, "ValueFromPipelineByPropertyName"))).ToList();

        // Nullable.GetUnderlyingType compares with the running framework's Nullable<>, not this load context's.
        var type = property.PropertyType is { IsGenericType: true } generic && generic.GetGenericTypeDefinition().FullName == "System.Nullable`1"
            ? generic.GetGenericArguments()[0]
            : property.PropertyType;
        var isSwitch = type.FullName == Automation + "SwitchParameter";
        var acceptedValues = StringList(Attribute(attributes, "ValidateSetAttribute"));
        if (acceptedValues.Count == 0 && type.IsEnum)
        {
            acceptedValues = type.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name).ToList();
        }

        var doc = docs.Find($"P:{property.DeclaringType!.FullName}.{property.Name}");
        var defaultValue = DocComments.Text(doc?.Element("value"));
        return new ParameterHelp(
            property.Name,
            DisplayName(type),
            type.FullName ?? type.Name,
            isSwitch,
            StringList(Attribute(attributes, "AliasAttribute")),
            acceptedValues,
            sets,
            DocComments.Paragraphs(doc?.Element("summary")),
            defaultValue.Length > 0 ? defaultValue : isSwitch ? "False" : "None",
            Attribute(attributes, "SupportsWildcardsAttribute") is not null);
    }

    private static string DisplayName(Type type) =>
        type.IsArray ? DisplayName(type.GetElementType()!) + "[]" : type.Name;

    private static CustomAttributeData? Attribute(IEnumerable<CustomAttributeData> attributes, string name) =>
        attributes.FirstOrDefault(a => a.AttributeType.FullName == Automation + name);

    private static T? Named<T>(CustomAttributeData attribute, string name)
    {
        var argument = attribute.NamedArguments.FirstOrDefault(a => a.MemberName == name);
        return argument.MemberInfo is null ? default : (T?)argument.TypedValue.Value;
    }

    private static List<string> StringList(CustomAttributeData? attribute) =>
        attribute is null ? [] : attribute.ConstructorArguments
            .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [arg.Value])
            .OfType<string>()
            .ToList();
}
