using System.Collections.Concurrent;
using System.Management.Automation;
using TierStorage.Contracts;

namespace TierStorage.PowerShell;

/// <summary>
/// What every TierStorage cmdlet shares: cancellation on Ctrl+C, running engine calls on the pipeline thread,
/// provider-relative paths, and engine exceptions turned into ErrorRecords.
/// </summary>
public abstract class TierCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly ConcurrentQueue<string> _pendingWarnings = new();
    private bool _disposed;

    /// <summary>Cancelled by StopProcessing; passed to every engine call.</summary>
    protected CancellationToken CancellationToken => _cancellation.Token;

    protected override void StopProcessing() => _cancellation.Cancel();

    /// <summary>Engine code uses ConfigureAwait(false), so blocking the pipeline thread cannot deadlock.</summary>
    protected T Await<T>(Task<T> task)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            DrainWarnings();
        }
    }

    protected void Await(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        finally
        {
            DrainWarnings();
        }
    }

    /// <summary>Avoids a Task allocation when the engine completed synchronously (the common case for buffered appends).</summary>
    protected T Await<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : Await(task.AsTask());

    protected void Await(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            Await(task.AsTask());
        }
    }

    /// <summary>Writes each record as soon as the engine yields it.</summary>
    protected void WriteStream<T>(IAsyncEnumerable<T> source)
    {
        var enumerator = source.GetAsyncEnumerator(CancellationToken);
        try
        {
            while (Await(enumerator.MoveNextAsync()))
            {
                WriteObject(enumerator.Current);
            }
        }
        finally
        {
            Await(enumerator.DisposeAsync());
        }
    }

    /// <summary>A callback the engine may call from any thread; the text is written on the pipeline thread
    /// when the current engine call returns.</summary>
    protected Action<string> DeferredWarning => _pendingWarnings.Enqueue;

    private void DrainWarnings()
    {
        while (_pendingWarnings.TryDequeue(out var warning))
        {
            WriteWarning(warning);
        }
    }

    /// <summary>Relative paths are relative to the PowerShell location, not the process directory.</summary>
    protected string? ResolvePath(string? path) =>
        path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>
    /// Runs one item's work. Engine failures become a non-terminating error targeted at the item,
    /// except a bad policy, which no later item could get past.
    /// </summary>
    protected void ProcessItem(object? target, Action action)
    {
        try
        {
            action();
        }
        catch (TierStorageException exception) when (exception.ErrorId != ErrorIds.PolicyInvalid)
        {
            WriteError(CreateErrorRecord(exception, target));
        }
        catch (TierStorageException exception)
        {
            ThrowTerminatingError(CreateErrorRecord(exception, target));
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Runs work whose failure ends the command (opening the workspace, loading the policy).</summary>
    protected T RunTerminating<T>(object? target, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (TierStorageException exception)
        {
            ThrowTerminatingError(CreateErrorRecord(exception, target));
            throw; // ThrowTerminatingError never returns.
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected static ErrorRecord CreateErrorRecord(TierStorageException exception, object? target)
    {
        var record = new ErrorRecord(exception, exception.ErrorId, MapCategory(exception.Kind), target ?? exception.Target);
        if (exception.Findings.Count > 0)
        {
            // The exception message summarises; the details list every finding with its file, line and key.
            record.ErrorDetails = new ErrorDetails(
                exception.Message + Environment.NewLine + string.Join(Environment.NewLine, exception.Findings));
        }

        return record;
    }

    private static ErrorCategory MapCategory(TierErrorKind kind) => kind switch
    {
        TierErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        TierErrorKind.InvalidData => ErrorCategory.InvalidData,
        TierErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        TierErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        TierErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        TierErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        TierErrorKind.WriteError => ErrorCategory.WriteError,
        TierErrorKind.ReadError => ErrorCategory.ReadError,
        TierErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        TierErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        TierErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>Releases what the command still holds when the pipeline ends early.</summary>
    protected virtual void ReleaseResources()
    {
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseResources();
        _cancellation.Dispose();
        GC.SuppressFinalize(this);
    }
}
