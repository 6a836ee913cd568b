using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace TierStorage.Tests.Packaging;

/// <summary>A temp directory deleted when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ts-pkg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Deterministic inputs and independent checks shared by the packaging tests.</summary>
public static class PackagingTestData
{
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>JSONL shaped like an activity log: repetitive keys, varied values.</summary>
    public static byte[] JsonLines(int approximateLength, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        string[] tools = ["Read", "Edit", "Bash", "Grep", "Write"];
        for (var i = 0; text.Length < approximateLength; i++)
            text.Append("{\"ts\":\"2026-11-22T09:").Append((i / 60 % 60).ToString("00")).Append(':').Append((i % 60).ToString("00"))
                .Append("Z\",\"type\":\"tool_call\",\"tool\":\"").Append(tools[random.Next(tools.Length)])
                .Append("\",\"file\":\"src/module").Append(random.Next(300)).Append(".cs\",\"duration_ms\":").Append(random.Next(5000))
                .Append(",\"note\":\"").Append(Guid.NewGuid()).Append("\"}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static string Md5(byte[] data) => Convert.ToHexString(MD5.HashData(data)).ToLowerInvariant();
    public static string Sha256(byte[] data) => Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    /// <summary>Runs a system tool; null when it is not installed (the caller then skips that check).</summary>
    public static (int ExitCode, byte[] Stdout)? Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        using (process)
        {
            using var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            _ = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            copy.Wait();
            Assert.True(process.ExitCode >= 0);
            return (process.ExitCode, stdout.ToArray());
        }
    }
}
