using System.Collections.ObjectModel;
using System.Reflection;

namespace TierStorage.Tests.PowerShell;

internal sealed record ParameterSetUse(string SetName, bool Mandatory, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);

internal sealed record CmdletParameter(string Name, Type Type, IReadOnlyList<string> Aliases, IReadOnlyList<ParameterSetUse> Sets)
{
    public bool Answers(string name) =>
        string.Equals(Name, name, StringComparison.OrdinalIgnoreCase) || Aliases.Contains(name, StringComparer.OrdinalIgnoreCase);
}

internal sealed record CmdletShape(
    Type Type, string Verb, string Noun, bool SupportsShouldProcess, string? DefaultParameterSet,
    IReadOnlyList<Type> OutputTypes, IReadOnlyList<CmdletParameter> Parameters)
{
    public const string AllSets = "__AllParameterSets";

    public string Name => $"{Verb}-{Noun}";

    /// <summary>Named sets, or the single implicit one.</summary>
    public IReadOnlyList<string> ParameterSets
    {
        get
        {
            var named = Parameters.SelectMany(p => p.Sets).Select(s => s.SetName).Where(s => s != AllSets).Distinct().ToList();
            return named.Count > 0 ? named : [AllSets];
        }
    }

    /// <summary>A parameter's use in a set (parameters without a set name belong to every set).</summary>
    public ParameterSetUse? UseIn(CmdletParameter parameter, string set) =>
        parameter.Sets.FirstOrDefault(s => s.SetName == set) ?? parameter.Sets.FirstOrDefault(s => s.SetName == AllSets);

    public IReadOnlySet<string> OutputPropertyNames => OutputTypes
        .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        .Select(p => p.Name)
        .ToHashSet(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// The built cmdlet assembly read through MetadataLoadContext: nothing is executed, so no PowerShell runtime is needed.
/// </summary>
internal sealed class CmdletMetadata : IDisposable
{
    private const string Sma = "System.Management.Automation.";

    private readonly MetadataLoadContext _context;

    public CmdletMetadata()
    {
        var candidates = Directory.GetFiles(ModulePaths.RuntimeDirectory, "*.dll")
            .Concat(Directory.GetFiles(ModulePaths.ModuleDir, "*.dll"))
            .Concat(Directory.GetFiles(ModulePaths.DependenciesDir, "*.dll"))
            .Append(ModulePaths.PowerShellReferenceAssembly);
        _context = new MetadataLoadContext(new PathAssemblyResolver(candidates), coreAssemblyName: "System.Private.CoreLib");
        var assembly = _context.LoadFromAssemblyPath(Path.Combine(ModulePaths.ModuleDir, "TierStorage.PowerShell.dll"));
        Cmdlets = assembly.GetTypes().Select(Read).OfType<CmdletShape>().OrderBy(c => c.Name).ToList();
    }

    public IReadOnlyList<CmdletShape> Cmdlets { get; }

    public CmdletShape this[string name] => Cmdlets.SingleOrDefault(c => c.Name == name)
        ?? throw new InvalidOperationException($"Cmdlet {name} is not in the assembly.");

    public void Dispose() => _context.Dispose();

    private static CmdletShape? Read(Type type)
    {
        var cmdlet = Attribute(type.GetCustomAttributesData(), "CmdletAttribute");
        if (cmdlet is null)
        {
            return null;
        }

        var outputTypes = type.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == Sma + "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [arg.Value])
            .OfType<Type>()
            .ToList();
        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(ReadParameter)
            .OfType<CmdletParameter>()
            .ToList();
        return new CmdletShape(
            type,
            (string)cmdlet.ConstructorArguments[0].Value!,
            (string)cmdlet.ConstructorArguments[1].Value!,
            Named(cmdlet, "SupportsShouldProcess") is true,
            Named(cmdlet, "DefaultParameterSetName") as string,
            outputTypes,
            parameters);
    }

    private static CmdletParameter? ReadParameter(PropertyInfo property)
    {
        var attributes = property.GetCustomAttributesData();
        var sets = attributes.Where(a => a.AttributeType.FullName == Sma + "ParameterAttribute")
            .Select(a => new ParameterSetUse(
                Named(a, "ParameterSetName") as string ?? CmdletShape.AllSets,
                Named(a, "Mandatory") is true,
                Named(a, "ValueFromPipeline") is true,
                Named(a, "ValueFromPipelineByPropertyName") is true))
            .ToList();
        if (sets.Count == 0)
        {
            return null;
        }

        var aliases = attributes.Where(a => a.AttributeType.FullName == Sma + "AliasAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [arg.Value])
            .OfType<string>()
            .ToList();
        return new CmdletParameter(property.Name, property.PropertyType, aliases, sets);
    }

    private static CustomAttributeData? Attribute(IEnumerable<CustomAttributeData> attributes, string name) =>
        attributes.FirstOrDefault(a => a.AttributeType.FullName == Sma + name);

    private static object? Named(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(n => n.MemberName == name).Select(n => n.TypedValue.Value).FirstOrDefault();
}
