namespace TierStorage.Engine.Review;

/// <summary>
/// The one per-event memory cost of a review: a growable array of durations (4 bytes each, clamped to int.MaxValue ms),
/// kept so that percentiles are exact rather than sketched. A 1,000,000-operation phase costs about 4 MB here.
/// </summary>
internal sealed class DurationColumn
{
    private int[] _items = new int[16];
    private bool _sorted = true;

    public int Count { get; private set; }
    public long Sum { get; private set; }

    public void Add(long durationMs)
    {
        var value = (int)Math.Min(durationMs, int.MaxValue);
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        if (Count > 0 && value < _items[Count - 1]) _sorted = false;
        _items[Count++] = value;
        Sum += value;
    }

    public void AddRange(DurationColumn other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0) return;
        if (Count + other.Count > _items.Length) Array.Resize(ref _items, Math.Max(_items.Length * 2, Count + other.Count));
        if (!other._sorted || (Count > 0 && other._items[0] < _items[Count - 1])) _sorted = false;
        Array.Copy(other._items, 0, _items, Count, other.Count);
        Count += other.Count;
        Sum += other.Sum;
    }

    public ReadOnlySpan<int> Values => _items.AsSpan(0, Count);

    public double Average => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Nearest-rank percentile: the smallest value with at least p% of the values at or below it,
    /// i.e. sorted[ceil(p/100 * n) - 1].</summary>
    public long Percentile(double p)
    {
        if (Count == 0) return 0;
        Sort();
        var rank = (int)Math.Ceiling(p / 100.0 * Count);
        return _items[Math.Clamp(rank, 1, Count) - 1];
    }

    public void Sort()
    {
        if (_sorted) return;
        Array.Sort(_items, 0, Count);
        _sorted = true;
    }
}
