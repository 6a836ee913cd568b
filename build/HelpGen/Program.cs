using System.Reflection;
using System.Runtime.InteropServices;
using TierStorage.HelpGen;

// HelpGen <cmdlet assembly> <its XML doc file> <output MAML file> [<directory with its dependencies>...]
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: HelpGen <cmdlet assembly> <xml doc file> <output maml file> [dependency directory...]");
    return 2;
}

var (assemblyPath, docPath, outputPath) = (Path.GetFullPath(args[0]), Path.GetFullPath(args[1]), Path.GetFullPath(args[2]));

// First match by file name wins: the cmdlet's own folder, then the dependency folders, then PowerShell's reference
// assembly shipped beside this tool, then the running framework.
var candidates = new[] { Path.GetDirectoryName(assemblyPath)! }
    .Concat(args.Skip(3))
    .Append(Path.Combine(AppContext.BaseDirectory, "reference"))
    .Append(RuntimeEnvironment.GetRuntimeDirectory())
    .Where(Directory.Exists)
    .SelectMany(d => Directory.GetFiles(d, "*.dll"))
    .Prepend(assemblyPath)
    .DistinctBy(p => Path.GetFileName(p), StringComparer.OrdinalIgnoreCase)
    .ToList();

using var context = new MetadataLoadContext(new PathAssemblyResolver(candidates));
var cmdlets = CmdletReader.Read(context.LoadFromAssemblyPath(assemblyPath), DocComments.Load(docPath));
if (cmdlets.Count == 0)
{
    Console.Error.WriteLine($"HelpGen: no cmdlets in {assemblyPath}");
    return 1;
}

Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
MamlWriter.Write(cmdlets).Save(outputPath);
Console.WriteLine($"HelpGen: {cmdlets.Count} cmdlets -> {outputPath}");
return 0;
