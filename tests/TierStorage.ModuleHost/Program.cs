using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

// Usage: TierStorage.ModuleHost <module folder> <scratch directory>
// Prints one JSON object describing where each assembly loaded and whether SQLite works through the engine;
// exit code 0 only when everything checked out.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: TierStorage.ModuleHost <module folder> <scratch directory>");
    return 2;
}

var moduleRoot = Path.GetFullPath(args[0]);
var scratch = Path.GetFullPath(args[1]);
var dependencies = Path.Combine(moduleRoot, "Dependencies") + Path.DirectorySeparatorChar;
var result = new Dictionary<string, object?>();

var cmdletAssembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(moduleRoot, "TierStorage.PowerShell.dll"));
// Only the resolver type is touched: it must not need System.Management.Automation, which this host lacks.
var resolver = cmdletAssembly.GetType("TierStorage.PowerShell.Loading.DependencyResolver", throwOnError: true)!;
resolver.GetMethod("Install")!.Invoke(null, [moduleRoot]);
var moduleContext = (AssemblyLoadContext)resolver.GetProperty("LoadContext")!.GetValue(null)!;

var catalogType = Type.GetType("TierStorage.Engine.Catalog.CatalogDatabase, TierStorage.Engine", throwOnError: true)!;
var engine = catalogType.Assembly;
result["engineContext"] = AssemblyLoadContext.GetLoadContext(engine)?.Name;
result["engineInModuleContext"] = ReferenceEquals(AssemblyLoadContext.GetLoadContext(engine), moduleContext);
result["engineLocation"] = engine.Location;

var contracts = engine.GetReferencedAssemblies().Single(a => a.Name == "TierStorage.Contracts");
var contractsAssembly = moduleContext.LoadFromAssemblyName(contracts);
result["contractsContext"] = AssemblyLoadContext.GetLoadContext(contractsAssembly)?.Name;
result["contractsInDefaultContext"] = ReferenceEquals(AssemblyLoadContext.GetLoadContext(contractsAssembly), AssemblyLoadContext.Default);
result["contractsLocation"] = contractsAssembly.Location;

var sqlite = moduleContext.LoadFromAssemblyName(new AssemblyName("Microsoft.Data.Sqlite"));
result["sqliteContext"] = AssemblyLoadContext.GetLoadContext(sqlite)?.Name;
result["sqliteLocation"] = sqlite.Location;
result["sqliteFromDependencies"] = sqlite.Location.StartsWith(dependencies, StringComparison.Ordinal);

// Opening a connection loads e_sqlite3, which only the module context's LoadUnmanagedDll can find.
result["sqliteNative"] = Attempt(() =>
{
    var connectionType = sqlite.GetType("Microsoft.Data.Sqlite.SqliteConnection", throwOnError: true)!;
    using var connection = (IDisposable)Activator.CreateInstance(connectionType, "Data Source=:memory:")!;
    connectionType.GetMethod("Open", Type.EmptyTypes)!.Invoke(connection, null);
    return connectionType.GetProperty("ServerVersion")!.GetValue(connection);
});

Directory.CreateDirectory(scratch);
result["catalog"] = Attempt(() =>
{
    var open = catalogType.GetMethod("OpenAsync", [typeof(string), typeof(CancellationToken)])!;
    var task = (Task)open.Invoke(null, [Path.Combine(scratch, "agent_metrics.db"), CancellationToken.None])!;
    task.GetAwaiter().GetResult();
    var catalog = (IAsyncDisposable)task.GetType().GetProperty("Result")!.GetValue(task)!;
    var schemaVersion = catalogType.GetProperty("SchemaVersion")!.GetValue(catalog);
    catalog.DisposeAsync().AsTask().GetAwaiter().GetResult();
    return schemaVersion;
});

resolver.GetMethod("Uninstall")!.Invoke(null, null);

Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
var ok = result["engineInModuleContext"] is true && result["contractsInDefaultContext"] is true
    && result["sqliteFromDependencies"] is true
    && ((Dictionary<string, object?>)result["sqliteNative"]!)["ok"] is true
    && ((Dictionary<string, object?>)result["catalog"]!)["ok"] is true;
return ok ? 0 : 1;

// Runs one check, recording its value or the exception (unwrapped from reflection) so the output says what failed.
static Dictionary<string, object?> Attempt(Func<object?> check)
{
    try
    {
        return new() { ["ok"] = true, ["value"] = check()?.ToString() };
    }
    catch (Exception exception)
    {
        var actual = exception is TargetInvocationException { InnerException: { } inner } ? inner : exception;
        return new() { ["ok"] = false, ["error"] = actual.GetType().FullName, ["message"] = actual.Message, ["stack"] = actual.ToString() };
    }
}
