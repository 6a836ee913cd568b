namespace TierStorage.Engine.Workspace;

/// <summary>IProgress that reports on the calling thread: Progress&lt;T&gt; would post to a captured context and reorder reports.</summary>
internal sealed class ForwardedProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
