using System.Text;
using TierStorage.Cli;

// `--version` is answered before anything else is set up (no async state machine, no streams, no parser).
if (CliApp.TryRunWithoutParser(args, StandardOutput.Write) is { } answered) return answered;
return RunAsync(args).GetAwaiter().GetResult();

static async Task<int> RunAsync(string[] args)
{
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        // Let the engine stop at its next await and clean up (temp files, the catalog transaction) instead of dying mid-write.
        e.Cancel = true;
        cancellation.Cancel();
    };

    // Console.Out flushes on every write; bulk event listings would spend their time in syscalls.
    var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    await using var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8, bufferSize: 64 * 1024);
    using var stdin = new StreamReader(Console.OpenStandardInput(), utf8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
    return await CliApp.RunAsync(args, stdin, stdout, Console.Error, cancellation.Token);
}
