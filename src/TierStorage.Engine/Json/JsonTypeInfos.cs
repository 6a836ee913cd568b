using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TierStorage.Engine;

/// <summary>The typed metadata of <typeparamref name="T"/> from options whose resolver is a source-generated context: what
/// every serializer call here passes instead of the options, so none uses reflection (the CLI and the hook are NativeAOT).
/// A type the context does not list fails with NotSupportedException on every build, managed or native, so the managed
/// tests catch it.</summary>
internal static class JsonTypeInfos
{
    public static JsonTypeInfo<T> Info<T>(this JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
}
