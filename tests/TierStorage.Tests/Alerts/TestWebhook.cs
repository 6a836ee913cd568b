using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TierStorage.Tests.Alerts;

/// <summary>What the test webhook does with one request.</summary>
public enum WebhookReply
{
    Ok,
    ServerError,
    /// <summary>429 with Retry-After: 1.</summary>
    TooManyRequests,
    /// <summary>The connection is reset (RST) without an answer.</summary>
    Reset,
    /// <summary>No answer until the test ends.</summary>
    Hang,
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and an ephemeral port (no Kestrel): answers each POST by the next reply of its
/// script (Ok once the script runs out), and keeps every request that arrived, answered or not.
/// </summary>
public sealed class TestWebhook : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Queue<WebhookReply> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly List<(WebhookReply Reply, string Path, JsonElement Body)> _requests = [];

    public TestWebhook(params WebhookReply[] script)
    {
        _script = new Queue<WebhookReply>(script);
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hooks/T000/B000/secret-token";

    /// <summary>Every request in arrival order with the reply it got.</summary>
    public IReadOnlyList<(WebhookReply Reply, string Path, JsonElement Body)> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    /// <summary>The bodies of the requests answered 2xx: what was delivered.</summary>
    public IReadOnlyList<JsonElement> Delivered => Requests.Where(r => r.Reply == WebhookReply.Ok).Select(r => r.Body).ToList();

    /// <summary>Replies for the next requests (before the Ok default).</summary>
    public void Then(params WebhookReply[] replies)
    {
        lock (_script) foreach (var reply in replies) _script.Enqueue(reply);
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, _stop.Token) == 0) return;
                head.Append((char)one[0]);
            }
            var lines = head.ToString().Split("\r\n");
            var path = lines[0].Split(' ')[1];
            var length = lines.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(l => int.Parse(l[15..].Trim())).FirstOrDefault();
            var body = new byte[length];
            await stream.ReadExactlyAsync(body, _stop.Token);
            WebhookReply reply;
            lock (_script) reply = _script.Count > 0 ? _script.Dequeue() : WebhookReply.Ok;
            lock (_requests) _requests.Add((reply, path, JsonDocument.Parse(body).RootElement.Clone()));
            switch (reply)
            {
                case WebhookReply.Reset:
                    client.Client.LingerState = new LingerOption(true, 0);
                    return;
                case WebhookReply.Hang:
                    await Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { });
                    return;
            }
            var status = reply switch { WebhookReply.ServerError => "500 Internal Server Error", WebhookReply.TooManyRequests => "429 Too Many Requests", _ => "200 OK" };
            var extra = reply == WebhookReply.TooManyRequests ? "Retry-After: 1\r\n" : "";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n{extra}Content-Length: 2\r\nConnection: close\r\n\r\nok"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
