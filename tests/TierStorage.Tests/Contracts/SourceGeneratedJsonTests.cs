using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using TierStorage.Cli.Output;
using TierStorage.Engine.Alerts;
using TierStorage.Engine.Ingest;
using TierStorage.Engine.Lifecycle;
using TierStorage.Engine.Packaging;
using TierStorage.Engine.Review;
using TierStorage.Engine.Tiers.Encrypted;
using TierStorage.Engine.Tiers.GoogleDrive;
using TierStorage.Engine.Workspace;
using Xunit;

namespace TierStorage.Tests.Contracts;

/// <summary>
/// Every JSON the engine and the CLI read or write goes through a source-generated context (the CLI and the hook are
/// NativeAOT). A source-generated reader of a type with <c>required</c> members builds it in one object initializer that
/// sets every init-only property, the missing ones to null or 0: an initializer such as <c>Totals = new()</c> is lost, where
/// the reflection reader kept it. So no init-only property of a type these contexts read may start other than at its default
/// (such a property is settable instead: the reader then sets only what the document holds).
/// </summary>
public sealed class SourceGeneratedJsonTests
{
    public static TheoryData<string> Contexts => new(ContextsByName.Keys);

    private static readonly Dictionary<string, JsonSerializerContext> ContextsByName = new()
    {
        ["phase archive manifest"] = PhaseArchiveManifestJson.Default,
        ["alert state"] = AlertJson.Default,
        ["encryption envelopes"] = EncryptedObjectStore.Json.Default,
        ["current phase"] = TierWorkspace.PhaseJson.Default,
        ["drive"] = DriveJsonContext.Default,
        ["claude pending items"] = PendingJson.Default,
    };

    /// <summary>Written, never read back by TierStorage (the lease is read as a document, --json by scripts): their records
    /// may keep init-only properties.</summary>
    private static readonly JsonSerializerContext[] WriteOnly = [PolicyRunLeaseJson.Default, PhaseMetadataJson.Default, CliJsonContext.Default];

    [Theory]
    [MemberData(nameof(Contexts))]
    public void No_type_a_context_reads_has_an_init_only_property_that_starts_other_than_at_its_default(string context)
    {
        var resolver = ContextsByName[context];
        var offenders = new List<string>();
        foreach (var type in Reachable(resolver))
        {
            if (type.IsAbstract || type.IsInterface || type.GetConstructor(Type.EmptyTypes) is null) continue;
            var fresh = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is not { } setter || !setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit))) continue;
                if (property.GetIndexParameters().Length > 0 || property.GetCustomAttribute<RequiredMemberAttribute>() is not null) continue;
                var value = property.GetValue(fresh);
                var zero = property.PropertyType.IsValueType ? Activator.CreateInstance(property.PropertyType) : null;
                if (!Equals(value, zero)) offenders.Add($"{type.Name}.{property.Name} starts at {value ?? "null"}");
            }
        }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void The_walk_reaches_the_nested_records_of_the_manifest_and_the_write_only_contexts_are_all_the_others()
    {
        var reached = Reachable(PhaseArchiveManifestJson.Default).ToList();
        Assert.Contains(typeof(PhaseArchiveTotals), reached);
        Assert.Contains(typeof(TierStorage.Contracts.ModelCostRow), reached);
        // Every context in the engine and the CLI is in one list or the other, so a new one is checked or said to be write-only.
        var contexts = new[] { typeof(PhaseArchiveManifestJson).Assembly, typeof(CliJsonContext).Assembly }
            .SelectMany(a => a.GetTypes()).Where(t => t.IsSubclassOf(typeof(JsonSerializerContext))).ToHashSet();
        Assert.Equal(contexts.OrderBy(t => t.FullName), ContextsByName.Values.Concat(WriteOnly).Select(c => c.GetType()).OrderBy(t => t.FullName));
    }

    [Fact]
    public void A_manifest_without_totals_reads_as_empty_totals_not_null()
    {
        var json = """
            {"format":1,"phase":1,"createdAt":"2026-01-01T00:00:00Z","archiveKey":"Phase_1.tar.gz","archiveSize":10,
             "archiveMd5":"00000000000000000000000000000000","archiveSha256":"0000000000000000000000000000000000000000000000000000000000000000",
             "sessions":[],"files":[]}
            """;
        var manifest = PhaseArchiveManifest.Parse(System.Text.Encoding.UTF8.GetBytes(json), "test");
        Assert.Equal(0, manifest.Totals.Events);
        Assert.Empty(manifest.Totals.Tools);
    }

    /// <summary>Every object type the context's metadata reaches from its roots: properties, elements, dictionary values.</summary>
    private static IEnumerable<Type> Reachable(JsonSerializerContext context)
    {
        var roots = context.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(JsonTypeInfo<>))
            .Select(p => p.PropertyType.GetGenericArguments()[0]);
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(roots);
        while (pending.TryDequeue(out var type))
        {
            if (!seen.Add(type)) continue;
            JsonTypeInfo info;
            try
            {
                info = context.Options.GetTypeInfo(type);
            }
            catch (NotSupportedException)
            {
                continue;
            }
            if (info.ElementType is { } element) pending.Enqueue(element);
            if (info.KeyType is { } key) pending.Enqueue(key);
            if (info.Kind != JsonTypeInfoKind.Object) continue;
            yield return type;
            foreach (var property in info.Properties) pending.Enqueue(property.PropertyType);
        }
    }
}
