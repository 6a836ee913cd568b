using TierStorage.Contracts;
using TierStorage.Engine.Tiers.Folder;
using TierStorage.Engine.Workspace;
using Xunit;
using static TierStorage.Tests.Backup.BackupTestBed;

namespace TierStorage.Tests.Backup;

/// <summary>Issue 10: a folder tier whose disk or share is not connected is Unavailable, is never re-created empty on the
/// bare mount point, and queues backups; file-system failures come out as engine errors with ids.</summary>
public sealed class MissingTierRootTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_tier_root_that_held_backups_and_is_gone_is_Unavailable_and_Test_connection_does_not_recreate_it()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var first = await bed.CompletedSessionAsync(ws);
        await BackupAsync(ws, first);
        Directory.Delete(bed.TierRoot, recursive: true); // the share is unmounted; its mount point (the parent) stays

        var usage = (await ToListAsync(ws.Backups.GetUsageAsync(BackupTier, refresh: false, None))).Single();
        var steps = await ToListAsync(ws.Backups.TestConnectionAsync(BackupTier, None));
        var second = await bed.CompletedSessionAsync(ws, seed: 2);
        var backup = Assert.Single(await BackupAsync(ws, second));

        Assert.Equal(TierHealth.Unavailable, usage.Status);
        Assert.Contains("not connected", usage.Message);
        var reach = Assert.Single(steps);
        Assert.Equal(("Reach", false), (reach.Step, reach.Succeeded));
        Assert.StartsWith(ErrorIds.TierUnreachable, reach.Message);
        Assert.Equal(BackupStatus.Queued, backup.Status);
        Assert.False(Directory.Exists(bed.TierRoot));
    }

    [Fact]
    public async Task A_tier_root_under_a_parent_that_is_not_a_folder_is_Unavailable_and_queues_the_backup_without_creating_anything()
    {
        var parentFile = Path.Combine(Path.GetTempPath(), "ts-not-a-folder-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(parentFile, "a file where the mount point should be");
        try
        {
            var tierRoot = Path.Combine(parentFile, "tier");
            await using var bed = await CreateAsync(tierYaml: $"""
                  - name: {BackupTier}
                    level: 2
                    kind: folder
                    path: {tierRoot}
                """);
            var ws = await bed.OpenAsync();
            var id = await bed.CompletedSessionAsync(ws);

            var usage = (await ToListAsync(ws.Backups.GetUsageAsync(BackupTier, refresh: false, None))).Single();
            var backup = Assert.Single(await BackupAsync(ws, id));

            Assert.Equal(TierHealth.Unavailable, usage.Status);
            Assert.Equal(BackupStatus.Queued, backup.Status);
            Assert.Contains("cannot be reached", backup.Message);
            Assert.Single(await QueueAsync(ws));
            Assert.True(File.Exists(parentFile));
        }
        finally
        {
            File.Delete(parentFile);
        }
    }

    [Fact]
    public async Task A_tier_root_not_created_yet_under_an_existing_parent_is_Healthy_and_the_first_backup_creates_it()
    {
        await using var bed = await CreateAsync();
        var ws = await bed.OpenAsync();
        var id = await bed.CompletedSessionAsync(ws);

        var usage = (await ToListAsync(ws.Backups.GetUsageAsync(BackupTier, refresh: false, None))).Single();
        var backup = Assert.Single(await BackupAsync(ws, id));

        Assert.Equal(TierHealth.Healthy, usage.Status);
        Assert.Contains("first backup", usage.Message);
        Assert.Equal(BackupStatus.Succeeded, backup.Status);
        Assert.True(Directory.Exists(bed.TierRoot));
    }

    [Fact]
    public async Task A_file_where_a_tier_folder_belongs_is_an_IOError_naming_the_key_not_a_raw_IOException()
    {
        var root = Path.Combine(Path.GetTempPath(), "ts-folder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "Phase_0"), "in the way");
            var store = new FolderObjectStore("backup", root);

            var error = await Assert.ThrowsAsync<TierStorageException>(() => store.PutAsync("Phase_0/sessions/s/a.bin", new MemoryStream([1, 2, 3]), null, None));

            Assert.Equal((ErrorIds.IOError, TierErrorKind.WriteError, (object?)"Phase_0/sessions/s/a.bin"), (error.ErrorId, error.Kind, error.Target));
            Assert.IsAssignableFrom<IOException>(error.InnerException);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_guarded_write_into_a_path_blocked_by_a_file_is_an_IOError_with_the_path()
    {
        var blocker = Path.Combine(Path.GetTempPath(), "ts-blocker-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(blocker, "x");
        try
        {
            var target = Path.Combine(blocker, "reviews", "report.md");

            var error = Assert.Throws<TierStorageException>(() => IoErrors.Guard("writing", target, () => File.WriteAllText(target, "r")));

            Assert.Equal((ErrorIds.IOError, TierErrorKind.WriteError, (object?)target), (error.ErrorId, error.Kind, error.Target));
            Assert.Contains("run the command again", error.Message);
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Theory]
    [InlineData(typeof(IOException), ErrorIds.IOError, TierErrorKind.WriteError)]
    [InlineData(typeof(DirectoryNotFoundException), ErrorIds.IOError, TierErrorKind.ObjectNotFound)]
    [InlineData(typeof(UnauthorizedAccessException), ErrorIds.AccessDenied, TierErrorKind.PermissionDenied)]
    public void The_fronts_safety_net_gives_escaped_file_system_failures_an_id_a_kind_and_the_item(Type type, string errorId, TierErrorKind kind)
    {
        var inner = (Exception)Activator.CreateInstance(type, "boom")!;

        var error = IoErrors.Unexpected(inner, "session_x");

        Assert.NotNull(error);
        Assert.Equal((errorId, kind, (object?)"session_x", inner), (error.ErrorId, error.Kind, error.Target, error.InnerException));
        Assert.Null(IoErrors.Unexpected(new InvalidOperationException("a bug"), "session_x"));
    }

    [Fact]
    public void A_full_disk_under_the_catalog_is_DiskFull_exit_5_not_an_unexpected_failure()
    {
        // Issue 11 #9: "Unexpected: SqliteException 13", exit 1; the documented code for a full disk is 5 (DiskFull).
        var full = new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13);

        var error = IoErrors.Unexpected(full, "session_x");

        Assert.Equal((ErrorIds.DiskFull, TierErrorKind.WriteError), (error!.ErrorId, error.Kind));
        Assert.Equal(TierStorage.Cli.ExitCodes.Unavailable, TierStorage.Cli.ExitCodes.FromErrorKind(error.Kind));
        Assert.Equal(ErrorIds.CatalogError, IoErrors.Unexpected(new Microsoft.Data.Sqlite.SqliteException("locked", 5), null)!.ErrorId);
    }
}
