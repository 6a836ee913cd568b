using Xunit;
using System.IO.Compression;
using TierStorage.Contracts;
using TierStorage.Engine.Workspace;

namespace TierStorage.Tests.Workspace;

public sealed class SnapshotTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Save_writes_numbered_gzip_json_and_Latest_reads_it_back()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest(), None);
        var first = await ws.SaveSnapshotAsync(null, "{\"step\":1}", None);
        var second = await ws.SaveSnapshotAsync(null, "{\"step\":2,\"todo\":[\"a\",\"b\"]}", None);

        Assert.Equal(1, first.Sequence);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(Path.Combine(t.Layout.StateDirectory, session.SessionId + "_snap002.json.gz"), second.Path);
        await using (var gz = new GZipStream(File.OpenRead(second.Path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
            Assert.Equal("{\"step\":2,\"todo\":[\"a\",\"b\"]}", await reader.ReadToEndAsync());
        Assert.Empty(Directory.GetFiles(t.Layout.StateDirectory, ".*"));

        var latest = await ws.ReadSnapshotAsync(null, null, null, None);
        Assert.Equal(2, latest.Sequence);
        Assert.Equal("{\"step\":2,\"todo\":[\"a\",\"b\"]}", latest.Json);
        Assert.Equal("{\"step\":1}", (await ws.ReadSnapshotAsync(null, 1, null, None)).Json);

        var listed = new List<SnapshotInfo>();
        await foreach (var s in ws.GetSnapshotsAsync(session.SessionId, None)) listed.Add(s);
        Assert.Equal([1, 2], listed.Select(s => s.Sequence));
        var snapshotEvents = 0;
        await foreach (var _ in ws.GetEventsAsync(new SessionEventQuery { Type = SessionEventType.Snapshot }, None)) snapshotEvents++;
        Assert.Equal(2, snapshotEvents);
    }

    [Fact]
    public async Task Secrets_in_a_snapshot_are_redacted_before_it_is_written_and_the_json_stays_valid()
    {
        // Issue 11 #19: snapshots were stored as given, tokens included, and travelled to every tier.
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var github = "ghp_" + new string('x', 36);
        var json = $$"""{"env":{"GITHUB_TOKEN":"{{github}}","db":"postgres://app:hunter22@db/x"},"password":"s3cret!","step":3}""";

        var saved = await ws.SaveSnapshotAsync(null, json, None);

        string stored;
        await using (var gz = new GZipStream(File.OpenRead(saved.Path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
            stored = await reader.ReadToEndAsync();
        Assert.DoesNotContain(github, stored);
        Assert.DoesNotContain("hunter22", stored);
        Assert.DoesNotContain("s3cret!", stored);
        using var document = System.Text.Json.JsonDocument.Parse(stored);
        Assert.Equal(3, document.RootElement.GetProperty("step").GetInt32());
        Assert.Equal("[REDACTED:password_pair]", document.RootElement.GetProperty("password").GetString());
        Assert.Equal(stored, (await ws.ReadSnapshotAsync(null, null, null, None)).Json);
    }

    [Fact]
    public async Task A_snapshot_that_is_not_json_is_refused_and_nothing_is_written()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.SaveSnapshotAsync(null, "{\"step\": 1,", None));
        Assert.Equal(ErrorIds.InvalidSnapshot, ex.ErrorId);
        Assert.Empty(Directory.GetFiles(t.Layout.StateDirectory));
    }

    [Fact]
    public async Task Latest_skips_a_corrupt_newest_snapshot_with_a_warning()
    {
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        await ws.StartSessionAsync(new StartSessionRequest(), None);
        await ws.SaveSnapshotAsync(null, "{\"step\":1}", None);
        var bad = await ws.SaveSnapshotAsync(null, "{\"step\":2}", None);
        var bytes = await File.ReadAllBytesAsync(bad.Path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(bad.Path, bytes);

        var warnings = new List<string>();
        var recovered = await ws.ReadSnapshotAsync(null, null, warnings.Add, None);

        Assert.Equal(1, recovered.Sequence);
        Assert.Equal("{\"step\":1}", recovered.Json);
        Assert.Contains(warnings, w => w.Contains("Snapshot 2"));
        var exact = await Assert.ThrowsAsync<TierStorageException>(() => ws.ReadSnapshotAsync(null, 2, null, None));
        Assert.Equal(ErrorIds.SnapshotCorrupt, exact.ErrorId);
    }

    [Fact]
    public async Task A_full_disk_while_writing_a_snapshot_leaves_no_file_and_no_record()
    {
        if (!OperatingSystem.IsLinux()) return; // /dev/full is the kernel's always-full device
        await using var t = await TestWorkspace.CreateAsync();
        var ws = await t.OpenAsync();
        var session = await ws.StartSessionAsync(new StartSessionRequest(), None);
        var target = t.Layout.SnapshotPath(session.SessionId, 1);
        File.CreateSymbolicLink(AtomicFile.TempPathFor(target), "/dev/full");

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => ws.SaveSnapshotAsync(null, "{\"big\":\"" + new string('x', 200_000) + "\"}", None));

        Assert.Equal(ErrorIds.DiskFull, ex.ErrorId);
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFileSystemEntries(t.Layout.StateDirectory));
        var listed = 0;
        await foreach (var _ in ws.GetSnapshotsAsync(session.SessionId, None)) listed++;
        Assert.Equal(0, listed);
    }
}
