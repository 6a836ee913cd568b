using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Tiers;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Tests.Packaging;
using Xunit;
using static TierStorage.Tests.Packaging.PackagingTestData;

namespace TierStorage.Tests.Tiers.Folder;

public sealed class FolderObjectStoreTests : IAsyncDisposable
{
    private const string Key = "Phase_1_setup/sessions/session_20261122_090000/activity.jsonl.gz";
    private readonly TempDirectory _dir = new();
    private readonly FolderObjectStore _store;

    public FolderObjectStoreTests() => _store = new FolderObjectStore("nas", _dir.Combine("tier"));

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private string FileOf(string key) => Path.Combine(_dir.Combine("tier"), key.Replace('/', Path.DirectorySeparatorChar));

    private Task<ObjectInfo> PutAsync(string key, byte[] data, string? expectedMd5 = null) =>
        _store.PutAsync(key, new MemoryStream(data), new PutOptions { ExpectedMd5 = expectedMd5 }, CancellationToken.None);

    private async Task<byte[]> GetAsync(string key, long offset = 0)
    {
        using var output = new MemoryStream();
        await _store.GetAsync(key, output, offset, null, CancellationToken.None);
        return output.ToArray();
    }

    private async Task<List<ObjectInfo>> ListAsync(string prefix)
    {
        var list = new List<ObjectInfo>();
        await foreach (var item in _store.ListAsync(prefix, CancellationToken.None)) list.Add(item);
        return list;
    }

    [Fact]
    public async Task Put_get_stat_list_delete_round_trip_with_the_md5_of_the_bytes()
    {
        var data = RandomBytes(700_000, 1);
        var progress = new List<long>();
        var put = await _store.PutAsync(Key, new MemoryStream(data), new PutOptions { Progress = new SyncProgress(progress) }, CancellationToken.None);

        Assert.Equal(Md5(data), put.Md5);
        Assert.Equal(data.Length, put.Size);
        Assert.Equal(data.Length, progress[^1]);
        Assert.Equal(data, await File.ReadAllBytesAsync(FileOf(Key)));
        Assert.Equal(data, await GetAsync(Key));
        var stat = await _store.StatAsync(Key, CancellationToken.None);
        Assert.Equal((Key, data.Length, Md5(data)), (stat!.Key, stat.Size, stat.Md5));
        Assert.Equal(Key, Assert.Single(await ListAsync("")).Key);

        Assert.True(await _store.DeleteAsync(Key, CancellationToken.None));
        Assert.False(await _store.DeleteAsync(Key, CancellationToken.None));
        Assert.Null(await _store.StatAsync(Key, CancellationToken.None));
        Assert.Empty(await ListAsync(""));
        // Emptied folders go with the last object, sidecars included.
        Assert.Equal([FolderObjectStore.MetadataDirectoryName], Directory.GetFileSystemEntries(_dir.Combine("tier")).Select(p => Path.GetFileName(p)).ToArray());
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("tier", FolderObjectStore.MetadataDirectoryName)));
    }

    [Fact]
    public async Task Put_replaces_atomically_and_a_wrong_expected_md5_keeps_the_old_object()
    {
        var first = Encoding.UTF8.GetBytes("first version");
        var second = Encoding.UTF8.GetBytes("second, longer version");
        await PutAsync(Key, first);
        var replaced = await PutAsync(Key, second, Md5(second));
        Assert.Equal(Md5(second), replaced.Md5);
        Assert.Equal(second, await GetAsync(Key));

        var ex = await Assert.ThrowsAsync<TierStorageException>(() => PutAsync(Key, first, Md5(second)));
        Assert.Equal(ErrorIds.ChecksumMismatch, ex.ErrorId);
        Assert.Equal(second, await GetAsync(Key));
        Assert.Equal(Md5(second), (await _store.StatAsync(Key, CancellationToken.None))!.Md5);
        Assert.Equal([Path.GetFileName(FileOf(Key))], Directory.GetFiles(Path.GetDirectoryName(FileOf(Key))!).Select(p => Path.GetFileName(p)).ToArray());
    }

    [Fact]
    public async Task Md5_is_recomputed_when_the_file_was_changed_behind_the_store()
    {
        var data = RandomBytes(10_000, 2);
        await PutAsync(Key, data);
        var tampered = (byte[])data.Clone();
        tampered[5000] ^= 1;
        await File.WriteAllBytesAsync(FileOf(Key), tampered);
        File.SetLastWriteTimeUtc(FileOf(Key), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var stat = await _store.StatAsync(Key, CancellationToken.None);
        Assert.Equal(Md5(tampered), stat!.Md5);
        Assert.NotEqual(Md5(data), stat.Md5);
        Assert.Equal(Md5(tampered), Assert.Single(await ListAsync("Phase_1_setup/")).Md5);
    }

    [Fact]
    public async Task A_lost_sidecar_is_rebuilt_from_the_bytes()
    {
        var data = RandomBytes(5_000, 3);
        await PutAsync(Key, data);
        Directory.Delete(_dir.Combine("tier", FolderObjectStore.MetadataDirectoryName), recursive: true);
        Assert.Equal(Md5(data), (await _store.StatAsync(Key, CancellationToken.None))!.Md5);
        Assert.True(Directory.Exists(_dir.Combine("tier", FolderObjectStore.MetadataDirectoryName)));
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("cut")]
    [InlineData("zeros")]
    public async Task A_sidecar_torn_by_a_crash_is_ignored_and_the_md5_hashed_again(string damage)
    {
        // Issue 12: sidecars are no longer fsynced, so after a crash one may be empty, cut short or zeros.
        var data = RandomBytes(5_000, 5);
        await PutAsync(Key, data);
        var sidecar = Path.Combine(_dir.Combine("tier", FolderObjectStore.MetadataDirectoryName), Key.Replace('/', Path.DirectorySeparatorChar) + ".md5");
        var line = File.ReadAllText(sidecar);
        File.WriteAllText(sidecar, damage switch { "empty" => "", "cut" => line[..(line.Length - 4)], _ => new string('\0', line.Length) });

        Assert.Equal(Md5(data), (await _store.StatAsync(Key, CancellationToken.None))!.Md5);
        Assert.Equal(line, File.ReadAllText(sidecar));
    }

    [Fact]
    public async Task Get_copies_from_an_offset_and_refuses_offsets_past_the_end_or_missing_objects()
    {
        var data = RandomBytes(300_000, 4);
        await PutAsync(Key, data);
        Assert.Equal(data[123_456..], await GetAsync(Key, 123_456));
        Assert.Empty(await GetAsync(Key, data.Length));
        var past = await Assert.ThrowsAsync<TierStorageException>(() => GetAsync(Key, data.Length + 1));
        Assert.Equal(ErrorIds.InvalidArgument, past.ErrorId);
        var missing = await Assert.ThrowsAsync<TierStorageException>(() => GetAsync("Phase_1_setup/nothing.gz"));
        Assert.Equal(ErrorIds.ObjectNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task List_filters_by_prefix_and_skips_temp_and_metadata_files()
    {
        await PutAsync("Phase_1_setup/sessions/s1/manifest.json", [1]);
        await PutAsync("Phase_1_setup/sessions/s2/manifest.json", [2]);
        await PutAsync("Phase_2_build/sessions/s3/manifest.json", [3]);
        await PutAsync("current_phase.json", [4]);
        await File.WriteAllTextAsync(FileOf("Phase_1_setup/sessions/s1/.manifest.json.1234abcd.tsput"), "half written");

        Assert.Equal(4, (await ListAsync("")).Count);
        Assert.Equal(["Phase_1_setup/sessions/s1/manifest.json", "Phase_1_setup/sessions/s2/manifest.json"],
            (await ListAsync("Phase_1")).Select(o => o.Key).Order().ToArray());
        Assert.Equal(["Phase_1_setup/sessions/s2/manifest.json"], (await ListAsync("Phase_1_setup/sessions/s2/")).Select(o => o.Key).ToArray());
        Assert.Empty(await ListAsync("Phase_9"));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("C:/Windows/x")]
    [InlineData("a\\..\\..\\x")]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData(".tsmeta/a.md5")]
    [InlineData("a/b.tsput")]
    public async Task Keys_that_escape_the_root_or_hit_the_stores_own_files_are_refused(string key)
    {
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => PutAsync(key, [1]));
        Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
        Assert.Equal(TierErrorKind.InvalidArgument, ex.Kind);
        Assert.False(File.Exists(_dir.Combine("outside")));
        await Assert.ThrowsAsync<TierStorageException>(() => _store.StatAsync(key, CancellationToken.None));
        await Assert.ThrowsAsync<TierStorageException>(() => _store.DeleteAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_root_is_created_when_its_parent_exists()
    {
        Assert.False(Directory.Exists(_dir.Combine("tier")));
        Assert.Empty(await ListAsync(""));
        Assert.True(Directory.Exists(_dir.Combine("tier")));
    }

    [Fact]
    public async Task A_root_whose_drive_or_share_is_missing_is_unreachable()
    {
        await using var store = new FolderObjectStore("nas", _dir.Combine("unmounted-share", "backups", "tier"));
        var ex = await Assert.ThrowsAsync<TierStorageException>(() => store.PutAsync(Key, new MemoryStream([1]), null, CancellationToken.None));
        Assert.Equal(ErrorIds.TierUnreachable, ex.ErrorId);
        Assert.Equal(TierErrorKind.ConnectionError, ex.Kind);
        var stat = await Assert.ThrowsAsync<TierStorageException>(() => store.StatAsync(Key, CancellationToken.None));
        Assert.Equal(ErrorIds.TierUnreachable, stat.ErrorId);
        Assert.False(Directory.Exists(_dir.Combine("unmounted-share")));
    }

    [Fact]
    public async Task Quota_comes_from_the_drive_of_the_root()
    {
        var quota = await _store.GetQuotaAsync(CancellationToken.None);
        Assert.NotNull(quota.LimitBytes);
        Assert.InRange(quota.UsedBytes, 1, quota.LimitBytes!.Value);
        Assert.Equal(TierKind.Folder, _store.Kind);
        Assert.Equal(_dir.Combine("tier"), _store.Location);
    }

    private sealed class SyncProgress(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }
}
