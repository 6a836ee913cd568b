using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit;

namespace TierStorage.Tests.Catalog.Postgres;

/// <summary>
/// A real PostgreSQL 15 server for the catalog tests, private to one test run: <c>initdb</c> into a temporary data
/// directory, <c>pg_ctl start</c> on 127.0.0.1 with a free port and the Unix socket inside that directory, one
/// superuser role (<see cref="Role"/>) with a random password over TCP (scram-sha-256, the path a shared catalog takes)
/// and trust on the socket only; stopped and deleted when the tests are done.
/// The binaries come from <c>TIERSTORAGE_PG_BIN</c>, else Debian's <c>/usr/lib/postgresql/15/bin</c> (postgresql-15,
/// which .ci/run installs where missing), else <c>initdb</c> on PATH; without them the tests fail with a message that
/// says what to install, never pass unseen.
/// PostgreSQL refuses to run as root: when the tests do (CI, containers), every server command runs as the unprivileged
/// <c>postgres</c> account (<c>TIERSTORAGE_PG_USER</c> overrides it) through <c>runuser</c>, or <c>setpriv</c> where
/// runuser is missing, and that account creates the temporary directory so it owns everything inside.
/// A test process killed before its clean-up leaves a server behind: the next fixture stops and deletes the servers
/// of runs whose process is gone (each directory records its owner's pid).
/// </summary>
public sealed partial class PostgresServerFixture : IAsyncLifetime
{
    /// <summary>The superuser role the tests connect as.</summary>
    public const string Role = "tierstorage";

    private const string DirectoryPrefix = "tierstorage-pg-";
    private const string OwnerPidFile = "owner.pid";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private ServerCommands _commands = null!;
    private bool _started;

    /// <summary>The temporary directory holding the data directory (data/), the socket (socket/) and the server log.</summary>
    public string RootDirectory { get; } = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);

    public string DataDirectory => Path.Combine(RootDirectory, "data");
    public string SocketDirectory => Path.Combine(RootDirectory, "socket");
    public string LogFile => Path.Combine(RootDirectory, "server.log");

    /// <summary>The folder of initdb, pg_ctl, psql and pgbench in use.</summary>
    public string BinDirectory { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>The random password of <see cref="Role"/> for this run.</summary>
    public string Password { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Connection string to the <c>postgres</c> database as <see cref="Role"/> over TCP.</summary>
    public string ConnectionString => Builder("postgres").ConnectionString;

    public async Task InitializeAsync()
    {
        BinDirectory = FindBinDirectory();
        _commands = ServerCommands.ForCurrentProcess(BinDirectory);
        await StopAbandonedServersAsync().ConfigureAwait(false);

        await _commands.RunAsync("mkdir", ["-m", "700", RootDirectory], "create the temporary directory").ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(RootDirectory, OwnerPidFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        await _commands.RunAsync("mkdir", ["-m", "700", SocketDirectory], "create the socket directory").ConfigureAwait(false);

        var passwordFile = Path.Combine(RootDirectory, "password");
        await File.WriteAllTextAsync(passwordFile, Password + "\n").ConfigureAwait(false);
        try
        {
            // C collation: text sorts by bytes, as SQLite's BINARY does, so both providers order names alike.
            await _commands.RunAsync(Path.Combine(BinDirectory, "initdb"),
                ["-D", DataDirectory, "-U", Role, "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                 "-E", "UTF8", "--locale=C", "--no-sync"], "initdb").ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        // The port is found free and then handed over, so another process can take it in between: try another.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            await WriteServerSettingsAsync().ConfigureAwait(false);
            try
            {
                await _commands.RunAsync(Path.Combine(BinDirectory, "pg_ctl"),
                    ["start", "-w", "-t", "120", "-D", DataDirectory, "-l", LogFile], "pg_ctl start").ConfigureAwait(false);
                _started = true;
                break;
            }
            catch (InvalidOperationException) when (attempt < 3 && ServerLog().Contains("could not bind", StringComparison.Ordinal))
            {
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}\nServer log ({LogFile}):\n{ServerLog()}", e);
            }
        }

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (_started)
                await _commands.RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["stop", "-m", "fast", "-w", "-t", "60", "-D", DataDirectory], "pg_ctl stop").ConfigureAwait(false);
        }
        finally
        {
            DeleteDirectory(RootDirectory);
        }
    }

    /// <summary>The environment variable the tests' catalog locations name as password_env (set to <see cref="Password"/>).</summary>
    public const string PasswordVariable = "TIERSTORAGE_TEST_PG_PASSWORD";

    /// <summary>A new empty database as a catalog location would name it: no password in the connection string, the password in
    /// <see cref="PasswordVariable"/> (password_env), as a user's policy does.</summary>
    public async Task<TierStorage.Engine.Catalog.CatalogLocation> CreateCatalogAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Environment.SetEnvironmentVariable(PasswordVariable, Password);
        var builder = new NpgsqlConnectionStringBuilder(await CreateDatabaseAsync(prefix, cancellationToken).ConfigureAwait(false)) { Password = null };
        builder.Remove("Password");
        return TierStorage.Engine.Catalog.CatalogLocation.Postgres(builder.ConnectionString, PasswordVariable);
    }

    /// <summary>A new empty database of its own for one test (names are a prefix and a random suffix); its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (!DatabasePrefix().IsMatch(prefix)) throw new ArgumentException("Lower-case letters, digits and '_' only, starting with a letter.", nameof(prefix));
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return Builder(name).ConnectionString;
    }

    private NpgsqlConnectionStringBuilder Builder(string database) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Role,
        Password = Password,
        Database = database,
        // The tests open many connections at once; the server allows 200 (see WriteServerSettingsAsync).
        MaxPoolSize = 100,
        // Each test's database has a pool of its own, whose idle connections Npgsql keeps for 5 minutes by default: the whole
        // run's would stay open together and the server refused the later tests ("53300: sorry, too many clients already").
        ConnectionIdleLifetime = 2,
        ConnectionPruningInterval = 1,
    };

    /// <summary>
    /// Settings in the data directory's postgresql.conf (the last value of a key wins), so a person looking into a kept
    /// directory sees how it ran. fsync off: the tests kill clients, never the server, and a test server need not survive a
    /// power cut.
    /// </summary>
    private async Task WriteServerSettingsAsync()
    {
        if (SocketDirectory.Contains('\'', StringComparison.Ordinal)) throw new InvalidOperationException($"The temporary directory {SocketDirectory} contains a quote.");
        var settings = new StringBuilder()
            .AppendLine()
            .AppendLine("# TierStorage test server (PostgresServerFixture)")
            .AppendLine("listen_addresses = '127.0.0.1'")
            .AppendLine(CultureInfo.InvariantCulture, $"port = {Port}")
            .AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = '{SocketDirectory}'")
            .AppendLine("max_connections = 200")
            .AppendLine("fsync = off")
            .AppendLine("synchronous_commit = off")
            .AppendLine("full_page_writes = off")
            .ToString();
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings).ConfigureAwait(false);
    }

    private string ServerLog()
    {
        try
        {
            return File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>The PostgreSQL bin folder, or a failure that says what to install.</summary>
    private static string FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("TIERSTORAGE_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            if (HasServerTools(configured)) return configured;
            throw new InvalidOperationException($"TIERSTORAGE_PG_BIN is '{configured}', which has no initdb and pg_ctl.");
        }
        const string debian = "/usr/lib/postgresql/15/bin";
        if (HasServerTools(debian)) return debian;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (HasServerTools(directory)) return directory;
        throw new InvalidOperationException(
            "The PostgreSQL catalog tests need a PostgreSQL 15 server's initdb and pg_ctl: none in " + debian +
            " nor on PATH. Install them (Debian/Ubuntu: apt-get install postgresql-15; .ci/run does this) " +
            "or point TIERSTORAGE_PG_BIN at the folder that holds them, and run the tests again.");
    }

    private static bool HasServerTools(string directory)
    {
        var suffix = OperatingSystem.IsWindows() ? ".exe" : "";
        return File.Exists(Path.Combine(directory, "initdb" + suffix)) && File.Exists(Path.Combine(directory, "pg_ctl" + suffix));
    }

    /// <summary>Stops and deletes the servers of earlier test runs whose process is gone (killed before its clean-up).</summary>
    private async Task StopAbandonedServersAsync()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            if (!int.TryParse(ReadOrEmpty(Path.Combine(directory, OwnerPidFile)), NumberStyles.None, CultureInfo.InvariantCulture, out var owner) || IsRunning(owner))
                continue;
            var data = Path.Combine(directory, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                try
                {
                    await _commands.RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["stop", "-m", "immediate", "-w", "-t", "30", "-D", data], "pg_ctl stop (abandoned server)").ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    // Already stopped (a stale postmaster.pid): deleting the directory is all that is left.
                }
            }
            DeleteDirectory(directory);
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is harmless; failing the run over it would hide the real result.
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,40}$")]
    private static partial Regex DatabasePrefix();

    /// <summary>
    /// How server commands run: as this process's user, or (as root, which initdb and postgres refuse) as the unprivileged
    /// service account through runuser or setpriv.
    /// </summary>
    private sealed class ServerCommands(string binDirectory, string[] prefix)
    {
        public static ServerCommands ForCurrentProcess(string binDirectory)
        {
            if (OperatingSystem.IsWindows() || !Environment.IsPrivilegedProcess) return new ServerCommands(binDirectory, []);
            var user = Environment.GetEnvironmentVariable("TIERSTORAGE_PG_USER") is { Length: > 0 } configured ? configured : "postgres";
            if (Tool("runuser") is { } runuser) return new ServerCommands(binDirectory, [runuser, "-u", user, "--"]);
            if (Tool("setpriv") is { } setpriv) return new ServerCommands(binDirectory, [setpriv, $"--reuid={user}", $"--regid={user}", "--init-groups", "--"]);
            throw new InvalidOperationException(
                "The tests run as root, which PostgreSQL refuses, and neither runuser nor setpriv (util-linux) is on PATH to run the server as " +
                $"'{user}'. Install util-linux or run the tests as an unprivileged user.");
        }

        public async Task RunAsync(string tool, IReadOnlyList<string> arguments, string what)
        {
            var start = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : tool)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                // The service account may not be able to enter this process's current directory.
                WorkingDirectory = Path.GetTempPath(),
            };
            foreach (var argument in prefix.Skip(1)) start.ArgumentList.Add(argument);
            if (prefix.Length > 0) start.ArgumentList.Add(tool);
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            // Messages in English whatever the machine's locale, so failures read the same in every log.
            start.Environment["LC_ALL"] = "C";

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{what}: {start.FileName} did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(CommandTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{what} ({binDirectory}) took longer than {CommandTimeout}.");
            }
            var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{what} failed with exit code {process.ExitCode}: {string.Join(' ', start.ArgumentList)}\n{output}");
        }

        private static string? Tool(string name)
        {
            foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                         .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
                if (File.Exists(Path.Combine(directory, name))) return Path.Combine(directory, name);
            return null;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
