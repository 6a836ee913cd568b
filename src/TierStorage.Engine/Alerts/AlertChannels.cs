using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Engine.Alerts;

/// <summary>A delivery that did not happen. <see cref="Retry"/>: worth another attempt within this run (a 5xx, a 429, a
/// reset connection); otherwise the notification waits for the next run. <see cref="RetryAfter"/>: what the server asked.</summary>
internal sealed class AlertDeliveryException(string message, bool retry, TimeSpan? retryAfter = null) : Exception(message)
{
    public bool Retry { get; } = retry;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>One place a notification goes. Throws <see cref="AlertDeliveryException"/> when it could not deliver; never
/// puts a secret (the webhook's URL) in its message.</summary>
internal interface IAlertChannel
{
    Task SendAsync(AlertNotification notification, CancellationToken cancellationToken);
}

internal static class AlertChannelFactory
{
    public static IAlertChannel Create(AlertChannelDefinition channel, WorkspaceLayout layout, AlertDeliverySettings settings) => channel.Kind switch
    {
        AlertChannelKind.Webhook => new WebhookAlertChannel(channel, layout.CredentialsDirectory, settings),
        AlertChannelKind.File => new FileAlertChannel(FilePath(channel, layout)),
        _ when OperatingSystem.IsWindows() => new EventLogAlertChannel(),
        _ => new SyslogAlertChannel(channel.Socket ?? SyslogAlertChannel.DefaultSocket),
    };

    public static string FilePath(AlertChannelDefinition channel, WorkspaceLayout layout) =>
        Path.GetFullPath(channel.Path ?? Path.Combine("logs", "alerts.jsonl"), layout.Root);
}

/// <summary>
/// A JSON POST that Slack and Microsoft Teams incoming webhooks read by its <c>text</c> and Discord by its <c>content</c>
/// (each ignores the other's field and the structured <c>tierstorage</c> object beside them, which other receivers read).
/// The URL comes from an environment variable or a file in credentials/, read at send time, and appears in no message.
/// </summary>
internal sealed class WebhookAlertChannel(AlertChannelDefinition channel, string credentialsDirectory, AlertDeliverySettings settings) : IAlertChannel
{
    private const int MaxUrlFileBytes = 4096;

    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        MaxResponseContentBufferSize = 64 * 1024,
    };

    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var url = ResolveUrl();
        var summary = notification.Summary();
        var body = JsonSerializer.SerializeToUtf8Bytes(new WebhookBody(summary, summary, notification), AlertStateFile.Json.Info<WebhookBody>());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HttpTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd("TierStorage-Alerts/1");
        HttpResponseMessage response;
        try
        {
            response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"no answer from the webhook within {settings.HttpTimeout.TotalSeconds:0} s", retry: true);
        }
        catch (HttpRequestException ex)
        {
            // The exception's text can name the host; the URL's path (the secret part) never appears, but say less anyway.
            throw new AlertDeliveryException($"the webhook could not be reached ({ex.HttpRequestError})", retry: true);
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) return;
            var retryAfter = response.Headers.RetryAfter is { } after
                ? after.Delta ?? (after.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null;
            var transient = status is 408 or 425 or 429 or >= 500;
            throw new AlertDeliveryException(
                string.Create(CultureInfo.InvariantCulture, $"the webhook answered HTTP {status} {response.ReasonPhrase}") + (transient ? "" : " (check the URL the channel uses)"),
                transient, retryAfter is { } wait && wait > TimeSpan.Zero ? wait : null);
        }
    }

    private Uri ResolveUrl()
    {
        string? url;
        string from;
        if (channel.UrlVariable is { } variable)
        {
            url = Environment.GetEnvironmentVariable(variable);
            from = $"environment variable {variable}";
        }
        else
        {
            var path = Path.GetFullPath(Path.Combine(credentialsDirectory, channel.UrlFile ?? ""));
            from = $"credentials file '{path}'";
            if (!path.StartsWith(Path.GetFullPath(credentialsDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
                throw new AlertDeliveryException($"the {from} does not exist", retry: false);
            if (new FileInfo(path).Length > MaxUrlFileBytes) throw new AlertDeliveryException($"the {from} is over {MaxUrlFileBytes} bytes; it should hold one URL", retry: false);
            url = File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0);
        }
        if (string.IsNullOrWhiteSpace(url)) throw new AlertDeliveryException($"the {from} is not set", retry: false);
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            throw new AlertDeliveryException($"the {from} does not hold an http(s) URL", retry: false);
        return uri;
    }
}

/// <summary>JSON lines appended to a file, one per notification, flushed to disk before the delivery counts.</summary>
internal sealed class FileAlertChannel(string path) : IAlertChannel
{
    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(notification, AlertStateFile.Json.Info<AlertNotification>());
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (File.Exists(path) && new FileInfo(path).Length > AlertBounds.AlertFileBytes) File.Move(path, path + ".1", overwrite: true);
            await using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.None);
            // A line torn by a crash mid-write is ended first, so the next line reads whole.
            if (stream.Length > 0)
            {
                stream.Seek(-1, SeekOrigin.End);
                var last = stream.ReadByte();
                if (last != '\n') stream.WriteByte((byte)'\n');
            }
            stream.Seek(0, SeekOrigin.End);
            await stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AlertDeliveryException($"'{path}' could not be written: {ex.Message}", retry: false);
        }
    }
}

/// <summary>
/// Syslog through the local socket (RFC 3164 as the C library's syslog() writes it: facility user, tag TierStorage[pid]),
/// where journald and rsyslog read it. A machine without the socket is told, and the notification waits.
/// </summary>
internal sealed class SyslogAlertChannel(string socketPath) : IAlertChannel
{
    /// <summary>Where the C library's syslog() writes: /dev/log on Linux, /var/run/syslog on macOS.</summary>
    public static string DefaultSocket => OperatingSystem.IsMacOS() ? "/var/run/syslog" : "/dev/log";
    private const int FacilityUser = 1;

    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
            throw new AlertDeliveryException($"there is no syslog socket at '{socketPath}'{(socketPath == DefaultSocket ? " (no syslog daemon or journald on this machine)" : "")}; set the channel's socket, or use a file channel", retry: false);
        var severity = notification.Notice switch { AlertNotice.Test => 6, AlertNotice.Resolved => 5, _ => notification.Severity == AlertSeverity.Critical ? 2 : 4 };
        var stamp = notification.CreatedAt.ToLocalTime().ToString("MMM d HH:mm:ss", CultureInfo.InvariantCulture);
        // RFC 3164 pads the day to two characters with a space.
        if (stamp[5] == ' ') stamp = stamp.Insert(4, " ");
        var text = string.Create(CultureInfo.InvariantCulture,
            $"<{FacilityUser * 8 + severity}>{stamp} TierStorage[{Environment.ProcessId}]: {notification.Summary()} [id={notification.Id}]");
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > AlertBounds.SyslogBytes) bytes = Encoding.UTF8.GetBytes(Utf8Prefix(text, AlertBounds.SyslogBytes));
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            await socket.SendToAsync(bytes, SocketFlags.None, new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new AlertDeliveryException($"syslog at '{socketPath}' refused the message ({ex.SocketErrorCode})", retry: true);
        }
    }

    private static string Utf8Prefix(string text, int maxBytes)
    {
        var length = text.Length;
        while (Encoding.UTF8.GetByteCount(text.AsSpan(0, length)) > maxBytes) length -= Math.Max(1, length / 16);
        if (length > 0 && char.IsHighSurrogate(text[length - 1])) length--;
        return text[..length];
    }
}

/// <summary>The Windows Event Log, log Application, source TierStorage. An unregistered source still writes (Windows says
/// the description is not found, then prints the text); register it once, as administrator, with
/// <c>New-EventLog -LogName Application -Source TierStorage</c> in Windows PowerShell.</summary>
internal sealed class EventLogAlertChannel : IAlertChannel
{
    private const ushort ErrorType = 0x0001;
    private const ushort WarningType = 0x0002;
    private const ushort InformationType = 0x0004;

    public Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var (type, eventId) = notification.Notice == AlertNotice.Test ? (InformationType, 1003u)
            : notification.Notice == AlertNotice.Resolved ? (InformationType, 1002u)
            : notification.Severity == AlertSeverity.Critical ? (ErrorType, 1001u) : (WarningType, 1000u);
        var handle = RegisterEventSourceW(null, "TierStorage");
        if (handle == IntPtr.Zero)
            throw new AlertDeliveryException($"the event log could not be opened (Win32 error {Marshal.GetLastPInvokeError()})", retry: false);
        try
        {
            var text = notification.Summary() + Environment.NewLine + "id=" + notification.Id;
            if (!ReportEventW(handle, type, 0, eventId, IntPtr.Zero, 1, 0, [text], IntPtr.Zero))
                throw new AlertDeliveryException($"the event log refused the event (Win32 error {Marshal.GetLastPInvokeError()})", retry: true);
        }
        finally
        {
            DeregisterEventSource(handle);
        }
        return Task.CompletedTask;
    }

#pragma warning disable SYSLIB1054 // A string array parameter needs marshalling LibraryImport would generate code for; DllImport needs no generator.
    [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern IntPtr RegisterEventSourceW(string? uncServerName, string sourceName);

    [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool ReportEventW(IntPtr eventLog, ushort type, ushort category, uint eventId, IntPtr userSid, ushort numStrings, uint dataSize,
        string[] strings, IntPtr rawData);

    [DllImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool DeregisterEventSource(IntPtr eventLog);
#pragma warning restore SYSLIB1054
}
