namespace TierStorage.Engine.Catalog;

/// <summary>How far a transcript was imported: bytes of complete lines, a hash of its first line, and the session it feeds.</summary>
public sealed record IngestOffset(string Path, long Offset, string HeadHash, string SessionId, DateTimeOffset ImportedAt);

/// <summary>Import progress of external transcripts (migration 7).</summary>
public sealed partial class CatalogDatabase
{
    public async Task<IngestOffset?> GetIngestOffsetAsync(string path, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT offset, head_hash, session_id, imported_at FROM ingest_offsets WHERE path = $path", ("$path", path));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new IngestOffset(path, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), FromUnixMs(reader.GetInt64(3)));
    }

    public async Task SaveIngestOffsetAsync(IngestOffset offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(offset);
        await using var command = Command("""
            INSERT INTO ingest_offsets(path, offset, head_hash, session_id, imported_at) VALUES ($path, $offset, $head, $session, $at)
            ON CONFLICT(path) DO UPDATE SET offset = excluded.offset, head_hash = excluded.head_hash,
                session_id = excluded.session_id, imported_at = excluded.imported_at
            """, ("$path", offset.Path), ("$offset", offset.Offset), ("$head", offset.HeadHash), ("$session", offset.SessionId),
            ("$at", ToUnixMs(offset.ImportedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
