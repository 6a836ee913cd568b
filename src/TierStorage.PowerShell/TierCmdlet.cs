using System.Collections.Concurrent;
using System.Management.Automation;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.PowerShell;

/// <summary>
/// What every TierStorage cmdlet shares: cancellation on Ctrl+C, running engine calls on the pipeline thread,
/// provider-relative paths, and engine exceptions turned into ErrorRecords.
/// </summary>
public abstract class TierCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly ConcurrentQueue<Action> _pipelineWrites = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private bool _disposed;

    /// <summary>Cancelled by StopProcessing; passed to every engine call.</summary>
    protected CancellationToken CancellationToken => _cancellation.Token;

    protected override void StopProcessing() => _cancellation.Cancel();

    /// <summary>Blocks the pipeline thread until the engine call ends, writing the warnings and progress it posts from any
    /// thread as they come (engine code uses ConfigureAwait(false), so this cannot deadlock).</summary>
    protected T Await<T>(Task<T> task)
    {
        Pump(task);
        return task.GetAwaiter().GetResult();
    }

    protected void Await(Task task)
    {
        Pump(task);
        task.GetAwaiter().GetResult();
    }

    /// <summary>Avoids a Task allocation when the engine completed synchronously (the common case for buffered appends);
    /// what the engine posted meanwhile (warnings, verbose text) is still written before the result.</summary>
    protected T Await<T>(ValueTask<T> task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            return Await(task.AsTask());
        }

        DrainPipelineWrites();
        return task.Result;
    }

    protected void Await(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            Await(task.AsTask());
            return;
        }

        DrainPipelineWrites();
    }

    private void Pump(Task task)
    {
        if (!task.IsCompleted)
        {
            task.ContinueWith(static (_, wake) => ((ManualResetEventSlim)wake!).Set(), _wake, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            while (!task.IsCompleted)
            {
                _wake.Wait();
                _wake.Reset();
                DrainPipelineWrites();
            }
        }

        DrainPipelineWrites();
    }

    /// <summary>Queues a write for the pipeline thread (cmdlets may only write from it); safe from any thread.</summary>
    private void Post(Action write)
    {
        _pipelineWrites.Enqueue(write);
        _wake.Set();
    }

    private void DrainPipelineWrites()
    {
        while (_pipelineWrites.TryDequeue(out var write))
        {
            write();
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

    /// <summary>A callback the engine may call from any thread; the text is written as a warning on the pipeline thread.</summary>
    protected Action<string> DeferredWarning => message => Post(() => WriteWarning(message));

    /// <summary>A callback the engine may call from any thread; the text is written with WriteVerbose on the pipeline thread.</summary>
    protected Action<string> DeferredVerbose => message => Post(() => WriteVerbose(message));

    /// <summary>A callback the engine may call from any thread; the text is written with WriteDebug on the pipeline thread.</summary>
    protected Action<string> DeferredDebug => message => Post(() => WriteDebug(message));

    /// <summary>Engine progress as Write-Progress records, at most ten a second (plus the last one), written on the pipeline thread.</summary>
    protected IProgress<T> PipelineProgress<T>(Func<T, ProgressRecord> toRecord) => new ThrottledProgress<T>(this, toRecord);

    /// <summary>Ends a progress bar started through <see cref="PipelineProgress{T}"/>.</summary>
    protected void CompleteProgress(int activityId, string activity)
    {
        WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
    }

    private sealed class ThrottledProgress<T>(TierCmdlet cmdlet, Func<T, ProgressRecord> toRecord) : IProgress<T>
    {
        private static readonly long Interval = System.Diagnostics.Stopwatch.Frequency / 10;
        private long _last;

        public void Report(T value)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now - Interlocked.Read(ref _last) < Interval)
            {
                return;
            }

            Interlocked.Exchange(ref _last, now);
            var record = toRecord(value);
            cmdlet.Post(() => cmdlet.WriteProgress(record));
        }
    }

    /// <summary>The PowerShell location's file-system directory (the last one visited when the location is in another provider):
    /// what the engine resolves relative defaults and environment values against instead of the process directory.</summary>
    protected string CurrentDirectory => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    /// <summary>Relative paths are relative to the PowerShell location, not the process directory.</summary>
    protected string? ResolvePath(string? path) =>
        path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>
    /// Runs one item's work. Engine failures become a non-terminating error targeted at the item,
    /// except a bad policy, which no later item could get past. I/O, access and catalog failures that escaped the
    /// engine become the same kind of error with a stable id (never a bare .NET exception).
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
        catch (Exception exception) when (IoErrors.Unexpected(exception, target) is { } error)
        {
            WriteError(CreateErrorRecord(error, target));
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
        catch (Exception exception) when (IoErrors.Unexpected(exception, target) is { } error)
        {
            ThrowTerminatingError(CreateErrorRecord(error, target));
            throw;
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
        _wake.Dispose();
        GC.SuppressFinalize(this);
    }
}
