using System.Diagnostics;
using TierStorage.Cli;
using TierStorage.Tests.Catalog.Postgres;
using TierStorage.Tests.Cli;
using Xunit;

namespace TierStorage.Tests.Catalog.Transfer;

/// <summary>
/// The migration's copy killed for real (issue 14): `tierstorage catalog copy` into PostgreSQL is killed with SIGKILL once
/// part of the events have arrived, at a point the process does not choose; the rerun completes the copy without a row
/// twice, and `tierstorage catalog test` then finds every table equal.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KilledCatalogCopyTests(PostgresServerFixture server) : IDisposable
{
    private const int Sessions = 30;
    private const int EventsPerSession = 1_000;
    private readonly TempWorkspace _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(2_000)]
    [InlineData(12_000)]
    public async Task A_copy_killed_part_way_is_completed_by_the_rerun_without_a_row_twice_and_tests_clean(int killAfterEvents)
    {
        CliRunner.AssertExit(ExitCodes.Success, await CliRunner.RunAsync("init", "--workspace", _temp.Workspace));
        var source = Engine.Catalog.CatalogLocation.Sqlite(Path.Combine(_temp.Workspace, "analytics", "agent_metrics.db"));
        // The catalog of a workspace that has been used for a while: the fill brings its own identity in place of init's.
        await using (var fresh = await TransferCatalogs.OpenAsync(source, create: false))
            await TransferCatalogs.ExecuteAsync(fresh, "DELETE FROM workspace_identity");
        await TransferCatalogs.FillAsync(source, "killed", Sessions, EventsPerSession);
        long sourceEvents;
        await using (var sqlite = await TransferCatalogs.OpenAsync(source, create: false))
            sourceEvents = await TransferCatalogs.ScalarAsync(sqlite, "SELECT count(*) FROM events");
        var target = await TransferCatalogs.PostgresAsync(server, "killed");
        await using (var created = await TransferCatalogs.OpenAsync(target)) { }
        Assert.True(sourceEvents > killAfterEvents);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { CliDll(), "catalog", "copy", "--to", target.Target,
                     "--password-env", TransferCatalogs.PasswordVariable, "--workspace", _temp.Workspace })
            start.ArgumentList.Add(arg);
        long arrived;
        await using (var pg = await TransferCatalogs.OpenAsync(target))
        {
            using (var process = Process.Start(start)!)
            {
                _ = process.StandardOutput.ReadToEndAsync();
                var errors = process.StandardError.ReadToEndAsync();
                var deadline = Stopwatch.StartNew();
                while (await TransferCatalogs.ScalarAsync(pg, "SELECT count(*) FROM events") < killAfterEvents && !process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(180))
                    await Task.Delay(5);
                if (process.HasExited) Assert.Fail($"the copy ended (exit {process.ExitCode}) before it could be killed: {await errors}");
                process.Kill();
                await process.WaitForExitAsync();
            }
            arrived = await TransferCatalogs.ScalarAsync(pg, "SELECT count(*) FROM events");
            Assert.InRange(arrived, killAfterEvents, sourceEvents - 1);
        }

        var rerun = await CliRunner.RunAsync("catalog", "copy", "--to", target.Target, "--password-env", TransferCatalogs.PasswordVariable, "--workspace", _temp.Workspace);
        CliRunner.AssertExit(ExitCodes.Success, rerun);
        var test = await CliRunner.RunAsync("catalog", "test", "--against", target.Target, "--password-env", TransferCatalogs.PasswordVariable, "--workspace", _temp.Workspace);
        CliRunner.AssertExit(ExitCodes.Success, test);

        // Every session holds exactly the events it has in the source: none lost, none twice.
        await using var after = await TransferCatalogs.OpenAsync(target);
        await using var original = await TransferCatalogs.OpenAsync(source, create: false);
        const string perSession = "SELECT session_id || ':' || count(*) FROM events GROUP BY session_id ORDER BY session_id";
        Assert.Equal(await RowsAsync(original, perSession), await RowsAsync(after, perSession));
        Assert.Equal(sourceEvents, await TransferCatalogs.ScalarAsync(after, "SELECT count(*) FROM events"));
    }

    /// <summary>The CLI as its own build left it (with the dependencies its deps.json names), not the copy in the test output,
    /// which lacks the ones the test project's framework already has (Npgsql's logging abstractions).</summary>
    private static string CliDll()
    {
        var test = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (test.Name, test.Parent!.Name);
        for (var dir = test; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "TierStorage.Cli", "bin", configuration, framework, "tierstorage.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("The CLI's build output (src/TierStorage.Cli/bin/...) is not there: build the solution first.");
    }

    private static async Task<List<string>> RowsAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
