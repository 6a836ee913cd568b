using Npgsql;
using Xunit;

namespace TierStorage.Tests.Catalog.Postgres;

/// <summary>
/// The test server itself, before any catalog code runs on it: it is a PostgreSQL 15 or later on 127.0.0.1, it asks for
/// the password over TCP, and it takes 50 writers at once without losing or doubling a row.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresServerFixtureTests(PostgresServerFixture server)
{
    [Fact]
    public async Task Server_is_PostgreSQL_15_or_later_on_loopback_tcp()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int, inet_server_addr()::text, current_user", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetInt32(0) >= 150000, $"server_version_num {reader.GetInt32(0)}");
        Assert.Equal("127.0.0.1/32", reader.GetString(1));
        Assert.Equal(PostgresServerFixture.Role, reader.GetString(2));
    }

    [Fact]
    public async Task Wrong_password_over_tcp_is_refused()
    {
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Password = "not-the-password", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
    }

    [Fact]
    public async Task Fifty_concurrent_connections_insert_every_row_exactly_once()
    {
        const int writers = 50, rowsPerWriter = 200;
        var database = await server.CreateDatabaseAsync("concurrency");
        await using (var setup = new NpgsqlConnection(database))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE events (writer int NOT NULL, seq int NOT NULL, backend int NOT NULL, PRIMARY KEY (writer, seq))", setup);
            await create.ExecuteNonQueryAsync();
        }

        // Every writer holds its own server session before any of them inserts, so the inserts really overlap.
        var connections = new NpgsqlConnection[writers];
        try
        {
            for (var i = 0; i < writers; i++)
            {
                connections[i] = new NpgsqlConnection(database);
                await connections[i].OpenAsync();
            }
            Assert.Equal(writers, connections.Select(c => c.ProcessID).Distinct().Count());

            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var inserts = connections.Select((connection, writer) => Task.Run(async () =>
            {
                await go.Task;
                await using var insert = new NpgsqlCommand("INSERT INTO events (writer, seq, backend) VALUES ($1, $2, pg_backend_pid())", connection);
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = writer });
                var seqParameter = new NpgsqlParameter<int>();
                insert.Parameters.Add(seqParameter);
                for (var seq = 0; seq < rowsPerWriter; seq++)
                {
                    seqParameter.TypedValue = seq;
                    Assert.Equal(1, await insert.ExecuteNonQueryAsync());
                }
            })).ToArray();
            go.SetResult();
            await Task.WhenAll(inserts);
        }
        finally
        {
            foreach (var connection in connections)
                if (connection is not null) await connection.DisposeAsync();
        }

        await using var check = new NpgsqlConnection(database);
        await check.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT count(*), count(DISTINCT writer), count(DISTINCT backend), min(n), max(n) " +
            "FROM events JOIN (SELECT writer, count(*) AS n FROM events GROUP BY writer) per USING (writer)", check);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((long)writers * rowsPerWriter, reader.GetInt64(0));
        Assert.Equal(writers, reader.GetInt64(1));
        Assert.Equal(writers, reader.GetInt64(2));
        Assert.Equal(rowsPerWriter, reader.GetInt64(3));
        Assert.Equal(rowsPerWriter, reader.GetInt64(4));
    }
}
