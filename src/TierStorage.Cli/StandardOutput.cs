using System.Runtime.InteropServices;
using System.Text;

namespace TierStorage.Cli;

/// <summary>
/// Standard output for the answers given before anything else is set up (<see cref="CliApp.TryRunWithoutParser"/>).
/// On Unix the bytes go to file descriptor 1 with write(2): System.Console's own set-up (its streams, the terminal,
/// the culture data it loads) costs more CPU than the whole rest of such a process (bench/whole/startup.sh). Windows,
/// and any failure before a byte went out, take System.Console.
/// </summary>
internal static class StandardOutput
{
    public static void Write(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var written = 0;
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                written = WriteToDescriptor(bytes);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                written = 0;
            }
        }
        if (written == bytes.Length) return;
        using var stream = Console.OpenStandardOutput();
        stream.Write(bytes, written, bytes.Length - written);
    }

    /// <summary>Writes until done or write(2) fails (then the rest is left to the caller); returns the bytes written.</summary>
    private static unsafe int WriteToDescriptor(byte[] bytes)
    {
        var written = 0;
        fixed (byte* start = bytes)
        {
            while (written < bytes.Length)
            {
                var n = write(1, start + written, bytes.Length - written);
                if (n <= 0) break;
                written += (int)n;
            }
        }
        return written;
    }

#pragma warning disable SYSLIB1054 // LibraryImport would generate the same blittable call; DllImport needs no generator.
    [DllImport("libc", EntryPoint = "write")]
    private static extern unsafe nint write(int fd, byte* buffer, nint count);
#pragma warning restore SYSLIB1054
}
