using TierStorage.Engine.Collections;
using Xunit;

namespace TierStorage.Tests.Collections;

public sealed class CollectionGlobAndScheduleTests
{
    [Theory]
    [InlineData("*.log", "app.log", true)]
    [InlineData("*.log", "logs/deep/app.log", true)]
    [InlineData("*.log", "app.log.txt", false)]
    [InlineData("node_modules", "web/node_modules/pkg/index.js", true)]
    [InlineData("src/*.cs", "src/a.cs", true)]
    [InlineData("src/*.cs", "src/sub/a.cs", false)]
    [InlineData("src/**/*.cs", "src/sub/deeper/a.cs", true)]
    [InlineData("src/**/*.cs", "src/a.cs", true)]
    [InlineData("/build", "build/out.dll", true)]
    [InlineData("/build", "lib/build/out.dll", false)]
    [InlineData("**/.git/objects", ".git/objects/ab/cdef", true)]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "file10.txt", false)]
    [InlineData("[ab]*.md", "beta.md", true)]
    [InlineData("[!ab]*.md", "beta.md", false)]
    [InlineData("my notes/*.md", "my notes/todo (1).md", true)]
    [InlineData("docs/**", "docs/a/b/c.txt", true)]
    public void Globs_match_like_gitignore(string glob, string path, bool matches)
    {
        Assert.Equal(matches, CollectionGlob.Parse(glob, ignoreCase: false).IsMatch(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\\b")]
    [InlineData("../etc")]
    [InlineData("a//b")]
    [InlineData("a**b")]
    [InlineData("[abc")]
    [InlineData("[]")]
    public void Bad_globs_are_refused_with_a_reason(string glob)
    {
        Assert.Null(CollectionGlob.TryParse(glob, ignoreCase: false, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("daily")]
    [InlineData("weekly")]
    [InlineData("monthly")]
    [InlineData("30 2 * * *")]
    [InlineData("*/15 8-18 * * 1-5")]
    [InlineData("0 0 1,15 * *")]
    public void Schedules_parse(string text) => Assert.True(CollectionSchedule.TryParse(text, out _, out _));

    [Theory]
    [InlineData("hourly")]
    [InlineData("* * * *")]
    [InlineData("60 * * * *")]
    [InlineData("0 24 * * *")]
    [InlineData("0 0 0 * *")]
    [InlineData("*/0 * * * *")]
    [InlineData("a b c d e")]
    public void Bad_schedules_are_refused(string text)
    {
        Assert.False(CollectionSchedule.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void A_daily_collection_is_due_once_midnight_has_passed_since_its_last_version()
    {
        var daily = CollectionSchedule.Parse("daily");
        var now = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeZoneInfo.Local.GetUtcOffset(new DateTime(2026, 12, 3, 10, 0, 0)));

        Assert.True(daily.IsDue(null, now));
        Assert.False(daily.IsDue(now.AddHours(-1), now));
        Assert.True(daily.IsDue(now.AddDays(-1), now));
    }

    [Fact]
    public void A_weekday_cron_finds_the_previous_friday_from_a_sunday()
    {
        var schedule = CollectionSchedule.Parse("30 18 * * 1-5");
        var sunday = new DateTime(2026, 12, 6, 12, 0, 0);
        var previous = schedule.PreviousOccurrence(new DateTimeOffset(sunday, TimeZoneInfo.Local.GetUtcOffset(sunday)))!.Value.LocalDateTime;

        Assert.Equal(new DateTime(2026, 12, 4, 18, 30, 0), previous);
    }
}

public sealed class CollectionUsageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ts-usage-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string relative, int bytes)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
    }

    [Fact]
    public void Usage_sums_kept_files_per_folder_to_the_depth_and_lists_what_the_excludes_leave_out()
    {
        Write("a/one.txt", 100);
        Write("a/b/two.txt", 200);
        Write("a/b/c/three.txt", 300);
        Write("top.log", 50);
        Write("web/node_modules/pkg/index.js", 1000);
        Write("web/app.js", 10);
        var collection = new TierStorage.Contracts.CollectionDefinition { Name = "c", Path = _root, Exclude = ["*.log"] };

        var rows = CollectionUsage.Analyse(collection, _root, depth: 2, largest: 2, CancellationToken.None);

        string Row(TierStorage.Contracts.CollectionUsageItem r) => $"{r.Kind} {r.Path} {r.Bytes} {r.FileCount}";
        Assert.Equal(
            ["Folder . 610 4", "Folder a 600 3", "Folder a/b 500 2", "Folder web 10 1", "LargestFile a/b/c/three.txt 300 1", "LargestFile a/b/two.txt 200 1",
             "Excluded web/node_modules 1000 1", "Excluded ./(excluded files) 50 1"],
            rows.Select(Row));
    }
}
