using TierStorage.Contracts;
using TierStorage.Engine.Catalog;
using YamlDotNet.RepresentationModel;

namespace TierStorage.Engine.Policy;

/// <summary><c>catalog:</c> (issue 14): the workspace's SQLite file, or a PostgreSQL catalog shared by a team.</summary>
internal sealed partial class PolicyReader
{
    private static readonly string[] CatalogKeys = ["provider", "connection", "password_env", "dual_write"];
    private static readonly string[] CatalogProviders = ["sqlite", "postgres"];

    private void ReadCatalog(YamlNode? node, string path, TierPolicy policy)
    {
        if (OpenMap(node, path, CatalogKeys) is not { } map) return;
        var catalog = policy.Catalog;
        var providerPath = Child(path, "provider");
        if (map.Get("provider") is { } providerNode && Text(providerNode, providerPath) is { } provider)
        {
            if (CatalogProviders.Contains(provider, StringComparer.Ordinal)) catalog.Provider = provider;
            else Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, providerNode, providerPath,
                $"Unknown catalog provider '{Shorten(provider)}'{Suggest(provider, CatalogProviders)}; expected sqlite (the workspace's own file, the default) or postgres (a catalog shared by a team).");
        }

        var connectionPath = Child(path, "connection");
        if (map.Get("connection") is { } connectionNode && Text(connectionNode, connectionPath) is { } connection)
        {
            // The string is never repeated in a finding: it may hold the very password the finding is about.
            if (CatalogLocation.Problem(connection) is { } problem)
                Add(FindingSeverity.Error, problem.Contains("never goes in a policy", StringComparison.Ordinal) ? PolicyFindingCodes.SecretInPolicy : PolicyFindingCodes.InvalidValue,
                    connectionNode, connectionPath, $"The PostgreSQL connection is not usable: {problem}.");
            else catalog.Connection = connection;
        }
        else if (catalog.IsPostgres && !map.Contains("connection"))
            Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, map.Node, connectionPath,
                "A postgres catalog needs 'connection': the Npgsql connection string without the password, e.g. Host=db.example;Port=5432;Database=tierstorage;Username=alice.");

        var variablePath = Child(path, "password_env");
        if (map.Get("password_env") is { } variableNode && Text(variableNode, variablePath) is { } variable)
        {
            if (!EnvironmentVariableName().IsMatch(variable))
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, variableNode, variablePath,
                    "password_env must be the name of the environment variable that holds the password (letters, digits and '_', not starting with a digit), never the password itself.");
            else catalog.PasswordEnv = variable;
        }

        var dualPath = Child(path, "dual_write");
        if (Bool(map.Get("dual_write"), dualPath) is { } dual)
        {
            if (dual && catalog.IsPostgres)
                Add(FindingSeverity.Error, PolicyFindingCodes.InvalidValue, map.KeyNode("dual_write"), dualPath,
                    "dual_write keeps the workspace's SQLite catalog primary while it copies each change into PostgreSQL: it goes with provider sqlite. After Copy-TierCatalog -Cutover the PostgreSQL catalog is the only one; remove dual_write.");
            else if (dual && !map.Contains("connection"))
                Add(FindingSeverity.Error, PolicyFindingCodes.MissingKey, map.KeyNode("dual_write"), connectionPath,
                    "dual_write needs 'connection': the PostgreSQL catalog the changes are copied into.");
            else catalog.DualWrite = dual;
        }
    }
}
