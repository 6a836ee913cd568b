using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TierStorage.DriveFake;
using Xunit;

namespace TierStorage.Tests.Tiers.GoogleDrive;

/// <summary>The fake answers raw HTTP the way Drive v3 documents it, independent of our client.</summary>
public sealed class DriveFakeConformanceTests : IAsyncLifetime
{
    private DriveFakeServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await DriveFakeServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseUri };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _server.IssueTokens().AccessToken);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Multipart_create_reports_the_md5_of_the_media_part_and_only_the_requested_fields()
    {
        var body = Encoding.UTF8.GetBytes("hello drive");
        var content = new MultipartContent("related")
        {
            new StringContent("{\"name\":\"a.txt\"}", Encoding.UTF8, "application/json"),
            new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } },
        };

        using var response = await _http.PostAsync("upload/drive/v3/files?uploadType=multipart&fields=id,size,md5Checksum", content);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(body)), json.GetProperty("md5Checksum").GetString());
        Assert.Equal("11", json.GetProperty("size").GetString());
        Assert.False(json.TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Resumable_session_answers_308_with_the_received_range_and_completes_with_the_file()
    {
        using var start = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "upload/drive/v3/files?uploadType=resumable&fields=id,md5Checksum")
        {
            Content = new StringContent("{\"name\":\"big.bin\"}", Encoding.UTF8, "application/json"),
        });
        var session = start.Headers.Location!;
        var data = new byte[256 * 1024 + 10];
        new Random(1).NextBytes(data);

        using var first = await PutAsync(session, data.AsMemory(0, 256 * 1024).ToArray(), new ContentRangeHeaderValue(0, 256 * 1024 - 1, data.Length));
        using var status = await PutAsync(session, [], new ContentRangeHeaderValue(data.Length));
        using var last = await PutAsync(session, data[(256 * 1024)..], new ContentRangeHeaderValue(256 * 1024, data.Length - 1, data.Length));

        Assert.Equal((308, "bytes=0-262143"), ((int)first.StatusCode, first.Headers.GetValues("Range").Single()));
        Assert.Equal((308, "bytes=0-262143"), ((int)status.StatusCode, status.Headers.GetValues("Range").Single()));
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        var md5 = JsonDocument.Parse(await last.Content.ReadAsStringAsync()).RootElement.GetProperty("md5Checksum").GetString();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(data)), md5);
    }

    [Fact]
    public async Task Errors_use_drives_json_format_and_unknown_tokens_get_401()
    {
        _server.Faults.FailNext(DriveFault.UserRateLimitExceeded);
        using var limited = await _http.GetAsync("drive/v3/files");
        var error = JsonDocument.Parse(await limited.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        using var anonymous = new HttpClient();
        using var unauthorized = await anonymous.GetAsync(new Uri(_server.BaseUri, "drive/v3/files"));

        Assert.Equal(HttpStatusCode.Forbidden, limited.StatusCode);
        Assert.Equal(403, error.GetProperty("code").GetInt32());
        Assert.Equal("userRateLimitExceeded", error.GetProperty("errors")[0].GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    private Task<HttpResponseMessage> PutAsync(Uri session, byte[] bytes, ContentRangeHeaderValue range)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentRange = range;
        return _http.PutAsync(session, content);
    }
}
