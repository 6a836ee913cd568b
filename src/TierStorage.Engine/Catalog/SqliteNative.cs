namespace TierStorage.Engine.Catalog;

/// <summary>Binds Microsoft.Data.Sqlite to the bundled e_sqlite3 exactly once per process, whichever thread opens first.</summary>
internal static class SqliteNative
{
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        SQLitePCL.Batteries_V2.Init();
        return true;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureInitialized() => _ = Initialized.Value;
}
