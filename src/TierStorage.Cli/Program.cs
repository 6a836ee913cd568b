using System.Text;
using TierStorage.Cli;

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
