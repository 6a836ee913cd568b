using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;

namespace TierStorage.Engine.Review;

/// <summary>
/// Everything a phase review needs from one session's events, folded in one pass over them in time order (ts, event_id):
/// counters, token and cost totals per model and per day, per-agent, per-tool and per-error-type totals, the distinct
/// tasks, and every timed operation's duration (4 bytes each in memory, about 1-2 bytes stored: sorted, delta-coded), so
/// that percentiles and bottlenecks stay exact. Rollups of several sessions merge (<see cref="MergeFrom"/>) into the same
/// figures one pass over all their events gives; the one figure that crosses sessions, the fix rate (an error fixed by a
/// later success on the same file, with the same task or tool, in any session), is kept exact by carrying the errors
/// still unfixed at the session's end and, per (file, task) and (file, tool), the position of the session's last success.
/// Stored in the catalog's session_rollups (migration 13) when a session completes; see
/// <see cref="Catalog.CatalogDatabase.ReadRollupAsync"/> for when a stored one is used.
/// </summary>
internal sealed class SessionRollup
{
    /// <summary>The stored body's layout; a stored rollup of another format is rebuilt from the events. Format 2 added the
    /// per-name totals (<see cref="Names"/>) that a phase archive's manifest carries.</summary>
    public const int Format = 2;

    internal const int MaxUnknownTypes = 10;
    internal const int MaxFilesPerError = 10;

    public long Events, Known, Succeeded, Skewed, Unknown, ErrorCount;
    public long? First, Last;
    /// <summary>The alphabetically first unknown type names (at most <see cref="MaxUnknownTypes"/>).</summary>
    public readonly SortedSet<string> UnknownTypes = new(StringComparer.Ordinal);
    public readonly HashSet<string> Tasks = new(StringComparer.Ordinal);
    public readonly Dictionary<(string Type, string? Tool), DurationColumn> Durations = [];
    public readonly Dictionary<string, ModelTotals> Models = new(StringComparer.Ordinal);
    public readonly SortedDictionary<DateOnly, DayTotals> Daily = [];
    public readonly Dictionary<string, AgentTotals> Agents = new(StringComparer.Ordinal);
    public readonly Dictionary<string, ToolTotals> Tools = new(StringComparer.Ordinal);
    public readonly Dictionary<string, ErrorTotals> Errors = new(StringComparer.Ordinal);
    /// <summary>Errors with a file and a task or tool that no later success of this session fixed.</summary>
    public readonly List<PendingError> Pending = [];
    /// <summary>Per (file, task) and (file, tool) of a successful event: the position (ts, event_id) of the last one.</summary>
    public readonly Dictionary<(string File, string Key), Position> TaskFixes = [];
    public readonly Dictionary<(string File, string Key), Position> ToolFixes = [];

    /// <summary>
    /// The phase archive manifest's totals (<see cref="Packaging.PhaseArchiveTotals"/>), the figures
    /// <see cref="Catalog.CatalogDatabase.SummarizeSessionAsync"/> gives for the session: per agent, tool, model and task
    /// name (<see cref="NameColumn"/>), over every event that names one, the events, their summed duration_ms and their
    /// failures (success false or type error); and the session's failures and tokens. Sums are taken as SQL's TOTAL() takes
    /// them and truncated once per session. Kept here so archiving a phase reads the rollups instead of every event again
    /// (issue 12: that pass was the largest CPU cost of the archive).
    /// </summary>
    public readonly Dictionary<string, NameTotals>[] Names = [new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
    public long Failures, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens;

    /// <summary>The columns of <see cref="Names"/>, in the manifest's order.</summary>
    public enum NameColumn { Agent, Tool, Model, Task }

    public sealed class NameTotals
    {
        public long Count, DurationMs, Failures;
    }

    public sealed class ModelTotals
    {
        public long Calls, Input, Output, CacheRead, CacheWrite;
        public decimal Cost;
        public bool Priced = true;
    }

    public sealed class DayTotals
    {
        public long Tokens;
        public decimal Cost;
    }

    public sealed class AgentTotals
    {
        /// <summary>agent_invocation events: count, outcomes, durations.</summary>
        public long Count, Known, Succeeded, DurationCount, DurationSum;
        public long Tokens;
        /// <summary>The agent's other events: the tasks they name and their outcomes (for an agent never invoked).</summary>
        public readonly HashSet<string> TaskIds = new(StringComparer.Ordinal);
        public long EventsKnown, EventsSucceeded;
    }

    public sealed class ToolTotals
    {
        public long Count, Known, Succeeded, DurationCount, DurationSum;
    }

    public sealed class ErrorTotals
    {
        public long Count, WithFile, Fixed;
        public readonly Dictionary<string, long> Files = new(StringComparer.Ordinal);
    }

    public readonly record struct Position(long Ts, long EventId) : IComparable<Position>
    {
        public int CompareTo(Position other) => Ts != other.Ts ? Ts.CompareTo(other.Ts) : EventId.CompareTo(other.EventId);
    }

    public sealed record PendingError(string ErrorType, string File, string? Task, string? Tool, Position At);

    /// <summary>One event as the review reads it.</summary>
    internal readonly record struct Row(
        long EventId, long Ts, string Type, string? Agent, string? Tool, string? Task, long? DurationMs,
        long Input, long Output, long CacheRead, long CacheWrite, string? Model, bool? Success, string? ErrorType, string? File, string? Data);

    // ---- folding events --------------------------------------------------------------------------------------------------

    /// <summary>Folds events of one session, oldest first ((ts, event_id) ascending).</summary>
    internal sealed class Builder(IReadOnlyDictionary<string, ModelPrice> prices)
    {
        private readonly Dictionary<string, ModelPrice?> _prices = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<PendingError>> _pendingByFile = new(StringComparer.Ordinal);
        private readonly HashSet<string> _unknownTypes = new(StringComparer.Ordinal);
        // The per-name and token sums in double, as SQL's TOTAL() adds them, truncated once at the end (Finish).
        private readonly Dictionary<string, (long Count, double Duration, long Failures)>[] _names =
            [new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
        private double _input, _output, _cacheRead, _cacheWrite;

        public SessionRollup Rollup { get; } = new();

        public void Add(in Row e)
        {
            var r = Rollup;
            r.Events++;
            r.First ??= e.Ts;
            r.Last = e.Ts;
            if (!PhaseReviewer.IsKnownType(e.Type))
            {
                r.Unknown++;
                _unknownTypes.Add(e.Type);
            }
            if (e.Task is not null) r.Tasks.Add(e.Task);
            if (e.Success is { } ok)
            {
                r.Known++;
                if (ok) r.Succeeded++;
            }

            var validDuration = e.DurationMs is >= 0 ? e.DurationMs : null;
            if (e.DurationMs is < 0) r.Skewed++;
            if (validDuration is { } duration && e.Type != "session_start" && e.Type != "session_end")
            {
                var key = (e.Type, e.Tool);
                if (!r.Durations.TryGetValue(key, out var column)) r.Durations[key] = column = new DurationColumn();
                column.Add(duration);
            }

            var tokens = e.Input + e.Output + e.CacheRead + e.CacheWrite;
            if (tokens > 0 || e.Type == "llm_call") AddTokens(e, tokens);

            if (e.Agent is not null)
            {
                if (!r.Agents.TryGetValue(e.Agent, out var agent)) r.Agents[e.Agent] = agent = new AgentTotals();
                agent.Tokens += tokens;
                if (e.Type == "agent_invocation")
                {
                    agent.Count++;
                    if (e.Success is { } succeeded)
                    {
                        agent.Known++;
                        if (succeeded) agent.Succeeded++;
                    }
                    if (validDuration is { } d)
                    {
                        agent.DurationCount++;
                        agent.DurationSum += Clamp(d);
                    }
                }
                else
                {
                    if (e.Task is not null) agent.TaskIds.Add(e.Task);
                    if (e.Success is { } succeeded)
                    {
                        agent.EventsKnown++;
                        if (succeeded) agent.EventsSucceeded++;
                    }
                }
            }
            if (e.Type == "tool_call" && e.Tool is not null)
            {
                if (!r.Tools.TryGetValue(e.Tool, out var tool)) r.Tools[e.Tool] = tool = new ToolTotals();
                tool.Count++;
                if (e.Success is { } succeeded)
                {
                    tool.Known++;
                    if (succeeded) tool.Succeeded++;
                }
                if (validDuration is { } d)
                {
                    tool.DurationCount++;
                    tool.DurationSum += Clamp(d);
                }
            }

            var failed = e.Type == "error" || e.Success == false;
            AddNameTotals(e, failed);
            if (failed) AddError(e);
            else if (e.Success == true && e.File is not null) Resolve(e);
        }

        private void AddNameTotals(in Row e, bool failed)
        {
            if (failed) Rollup.Failures++;
            _input += e.Input;
            _output += e.Output;
            _cacheRead += e.CacheRead;
            _cacheWrite += e.CacheWrite;
            // Every event's duration, negative ones too, as the totals have always summed them.
            double duration = e.DurationMs ?? 0;
            Count(_names[(int)NameColumn.Agent], e.Agent);
            Count(_names[(int)NameColumn.Tool], e.Tool);
            Count(_names[(int)NameColumn.Model], e.Model);
            Count(_names[(int)NameColumn.Task], e.Task);

            void Count(Dictionary<string, (long Count, double Duration, long Failures)> column, string? name)
            {
                if (name is null) return;
                ref var sums = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(column, name, out _);
                sums = (sums.Count + 1, sums.Duration + duration, sums.Failures + (failed ? 1 : 0));
            }
        }

        private void AddTokens(in Row e, long tokens)
        {
            var r = Rollup;
            var name = e.Model ?? "(no model)";
            if (!r.Models.TryGetValue(name, out var totals)) r.Models[name] = totals = new ModelTotals();
            totals.Calls++;
            totals.Input += e.Input;
            totals.Output += e.Output;
            totals.CacheRead += e.CacheRead;
            totals.CacheWrite += e.CacheWrite;
            decimal cost = 0;
            if (e.Model is not null && PriceOf(e.Model) is { } price)
            {
                cost = PhaseReviewer.Cost(price, e.Input, e.Output, e.CacheRead, e.CacheWrite, PhaseReviewer.CacheWrite1hTokens(e.Data, e.CacheWrite));
                totals.Cost += cost;
            }
            else if (PhaseReviewer.RecordedCostUsd(e.Data) is { } recorded)
            {
                // No price in the policy, but the recorder knew one (Claude Code's costUSD): better than leaving it out.
                cost = recorded;
                totals.Cost += cost;
            }
            else if (tokens > 0)
            {
                totals.Priced = false;
            }
            var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(e.Ts).UtcDateTime);
            if (!r.Daily.TryGetValue(day, out var sum)) r.Daily[day] = sum = new DayTotals();
            sum.Tokens += tokens;
            sum.Cost += cost;
        }

        /// <summary><see cref="PhaseReviewer.FindPrice"/> once per model id, not once per call.</summary>
        private ModelPrice? PriceOf(string model)
        {
            if (!_prices.TryGetValue(model, out var price)) _prices[model] = price = PhaseReviewer.FindPrice(prices, model);
            return price;
        }

        private void AddError(in Row e)
        {
            var r = Rollup;
            r.ErrorCount++;
            var type = e.ErrorType ?? (e.Tool is not null ? $"{e.Tool} failed" : "unspecified");
            if (!r.Errors.TryGetValue(type, out var totals)) r.Errors[type] = totals = new ErrorTotals();
            totals.Count++;
            if (e.File is null) return;
            totals.WithFile++;
            totals.Files[e.File] = totals.Files.GetValueOrDefault(e.File) + 1;
            if (e.Task is null && e.Tool is null) return;
            if (!_pendingByFile.TryGetValue(e.File, out var pending)) _pendingByFile[e.File] = pending = [];
            pending.Add(new PendingError(type, e.File, e.Task, e.Tool, new Position(e.Ts, e.EventId)));
        }

        private void Resolve(in Row e)
        {
            var r = Rollup;
            var at = new Position(e.Ts, e.EventId);
            // Positions only grow within a session (events come oldest first): the last success is the latest one.
            if (e.Task is not null) r.TaskFixes[(e.File!, e.Task)] = at;
            if (e.Tool is not null) r.ToolFixes[(e.File!, e.Tool)] = at;
            if (!_pendingByFile.TryGetValue(e.File!, out var pending)) return;
            // A plain loop: a lambda here would capture e and allocate on every successful event with a file.
            var kept = 0;
            for (var i = 0; i < pending.Count; i++)
            {
                var p = pending[i];
                if ((p.Task is not null && p.Task == e.Task) || (p.Tool is not null && p.Tool == e.Tool)) r.Errors[p.ErrorType].Fixed++;
                else pending[kept++] = p;
            }
            pending.RemoveRange(kept, pending.Count - kept);
            if (pending.Count == 0) _pendingByFile.Remove(e.File!);
        }

        /// <summary>The session's rollup: what is still pending joins it, ordered by position.</summary>
        public SessionRollup Finish()
        {
            var r = Rollup;
            foreach (var list in _pendingByFile.Values) r.Pending.AddRange(list);
            r.Pending.Sort((a, b) => a.At.CompareTo(b.At));
            _pendingByFile.Clear();
            foreach (var type in _unknownTypes.Order(StringComparer.Ordinal).Take(MaxUnknownTypes)) r.UnknownTypes.Add(type);
            for (var c = 0; c < _names.Length; c++)
                foreach (var (name, sums) in _names[c])
                    r.Names[c][name] = new NameTotals { Count = sums.Count, DurationMs = (long)sums.Duration, Failures = sums.Failures };
            (r.InputTokens, r.OutputTokens, r.CacheReadTokens, r.CacheWriteTokens) = ((long)_input, (long)_output, (long)_cacheRead, (long)_cacheWrite);
            return r;
        }
    }

    private static long Clamp(long durationMs) => Math.Min(durationMs, int.MaxValue);

    // ---- merging ---------------------------------------------------------------------------------------------------------

    /// <summary>Adds another session's rollup to this one (the phase's running total). Pending errors are only resolved
    /// against every session's successes at the end (<see cref="ResolveAcrossSessions"/>).</summary>
    public void MergeFrom(SessionRollup o)
    {
        Events += o.Events;
        Known += o.Known;
        Succeeded += o.Succeeded;
        Skewed += o.Skewed;
        Unknown += o.Unknown;
        ErrorCount += o.ErrorCount;
        if (o.First is { } f && (First is null || f < First)) First = f;
        if (o.Last is { } l && (Last is null || l > Last)) Last = l;
        foreach (var type in o.UnknownTypes) UnknownTypes.Add(type);
        while (UnknownTypes.Count > MaxUnknownTypes) UnknownTypes.Remove(UnknownTypes.Max!);
        Tasks.UnionWith(o.Tasks);
        foreach (var (key, column) in o.Durations)
        {
            if (!Durations.TryGetValue(key, out var mine)) Durations[key] = mine = new DurationColumn();
            mine.AddRange(column);
        }
        foreach (var (name, m) in o.Models)
        {
            if (!Models.TryGetValue(name, out var mine)) Models[name] = mine = new ModelTotals();
            mine.Calls += m.Calls;
            mine.Input += m.Input;
            mine.Output += m.Output;
            mine.CacheRead += m.CacheRead;
            mine.CacheWrite += m.CacheWrite;
            mine.Cost += m.Cost;
            mine.Priced &= m.Priced;
        }
        foreach (var (day, d) in o.Daily)
        {
            if (!Daily.TryGetValue(day, out var mine)) Daily[day] = mine = new DayTotals();
            mine.Tokens += d.Tokens;
            mine.Cost += d.Cost;
        }
        foreach (var (name, a) in o.Agents)
        {
            if (!Agents.TryGetValue(name, out var mine)) Agents[name] = mine = new AgentTotals();
            mine.Count += a.Count;
            mine.Known += a.Known;
            mine.Succeeded += a.Succeeded;
            mine.DurationCount += a.DurationCount;
            mine.DurationSum += a.DurationSum;
            mine.Tokens += a.Tokens;
            mine.TaskIds.UnionWith(a.TaskIds);
            mine.EventsKnown += a.EventsKnown;
            mine.EventsSucceeded += a.EventsSucceeded;
        }
        foreach (var (name, t) in o.Tools)
        {
            if (!Tools.TryGetValue(name, out var mine)) Tools[name] = mine = new ToolTotals();
            mine.Count += t.Count;
            mine.Known += t.Known;
            mine.Succeeded += t.Succeeded;
            mine.DurationCount += t.DurationCount;
            mine.DurationSum += t.DurationSum;
        }
        foreach (var (type, e) in o.Errors)
        {
            if (!Errors.TryGetValue(type, out var mine)) Errors[type] = mine = new ErrorTotals();
            mine.Count += e.Count;
            mine.WithFile += e.WithFile;
            mine.Fixed += e.Fixed;
            foreach (var (file, count) in e.Files) mine.Files[file] = mine.Files.GetValueOrDefault(file) + count;
        }
        Pending.AddRange(o.Pending);
        MaxInto(TaskFixes, o.TaskFixes);
        MaxInto(ToolFixes, o.ToolFixes);
        Failures += o.Failures;
        InputTokens += o.InputTokens;
        OutputTokens += o.OutputTokens;
        CacheReadTokens += o.CacheReadTokens;
        CacheWriteTokens += o.CacheWriteTokens;
        for (var c = 0; c < Names.Length; c++)
            foreach (var (name, n) in o.Names[c])
            {
                if (!Names[c].TryGetValue(name, out var mine)) Names[c][name] = mine = new NameTotals();
                mine.Count += n.Count;
                mine.DurationMs += n.DurationMs;
                mine.Failures += n.Failures;
            }
    }

    private static void MaxInto(Dictionary<(string, string), Position> into, Dictionary<(string, string), Position> from)
    {
        foreach (var (key, at) in from)
            if (!into.TryGetValue(key, out var mine) || mine.CompareTo(at) < 0) into[key] = at;
    }

    /// <summary>
    /// The errors each session left unfixed that a later success in another session fixed (same file, and the same task or
    /// the same tool). Exactly what one pass over every event in time order finds: an error is fixed when any later success
    /// matches it, and a match in its own session would already have fixed it there, so the latest matching success across
    /// all sessions decides. Call once, on the phase's merged rollup.
    /// </summary>
    public void ResolveAcrossSessions()
    {
        foreach (var p in Pending)
        {
            var fixedLater = (p.Task is not null && TaskFixes.TryGetValue((p.File, p.Task), out var byTask) && byTask.CompareTo(p.At) > 0)
                || (p.Tool is not null && ToolFixes.TryGetValue((p.File, p.Tool), out var byTool) && byTool.CompareTo(p.At) > 0);
            if (fixedLater) Errors[p.ErrorType].Fixed++;
        }
        Pending.Clear();
    }

    // ---- storing ---------------------------------------------------------------------------------------------------------

    /// <summary>What the stored costs depend on: the policy's price table (a rollup priced by another is rebuilt).</summary>
    public static string PriceFingerprint(IReadOnlyDictionary<string, ModelPrice> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        var text = new StringBuilder();
        foreach (var (model, p) in prices.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{model}|{p.Input}|{p.Output}|{p.CacheRead}|{p.CacheWrite5m}|{p.CacheWrite1h}|{p.LongContextThreshold}|{p.LongContextInput}|{p.LongContextOutput}\n");
        return $"v{Format}:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    /// <summary>The body stored in session_rollups: a string table, then every figure by string index. Durations are sorted and
    /// delta-coded as varints (most operations cost one or two bytes).</summary>
    public byte[] Serialize()
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        int S(string? s)
        {
            if (s is null) return 0;
            if (!strings.TryGetValue(s, out var i))
            {
                strings[s] = i = order.Count + 1;
                order.Add(s);
            }
            return i;
        }
        var body = new Writer();
        body.Long(Events); body.Long(Known); body.Long(Succeeded); body.Long(Skewed); body.Long(Unknown); body.Long(ErrorCount);
        body.Long(First is null ? 0 : 1); body.Long(First ?? 0); body.Long(Last ?? 0);
        body.Long(UnknownTypes.Count); foreach (var t in UnknownTypes) body.Long(S(t));
        body.Long(Tasks.Count); foreach (var t in Tasks) body.Long(S(t));
        body.Long(Durations.Count);
        foreach (var ((type, tool), column) in Durations)
        {
            body.Long(S(type)); body.Long(S(tool));
            column.Sort();
            var values = column.Values;
            body.Long(values.Length);
            var previous = 0;
            foreach (var v in values)
            {
                body.Long(v - previous);
                previous = v;
            }
        }
        body.Long(Models.Count);
        foreach (var (name, m) in Models)
        {
            body.Long(S(name)); body.Long(m.Calls); body.Long(m.Input); body.Long(m.Output); body.Long(m.CacheRead); body.Long(m.CacheWrite);
            body.Decimal(m.Cost); body.Long(m.Priced ? 1 : 0);
        }
        body.Long(Daily.Count);
        foreach (var (day, d) in Daily) { body.Long(day.DayNumber); body.Long(d.Tokens); body.Decimal(d.Cost); }
        body.Long(Agents.Count);
        foreach (var (name, a) in Agents)
        {
            body.Long(S(name)); body.Long(a.Count); body.Long(a.Known); body.Long(a.Succeeded); body.Long(a.DurationCount); body.Long(a.DurationSum);
            body.Long(a.Tokens); body.Long(a.EventsKnown); body.Long(a.EventsSucceeded);
            body.Long(a.TaskIds.Count); foreach (var t in a.TaskIds) body.Long(S(t));
        }
        body.Long(Tools.Count);
        foreach (var (name, t) in Tools)
        {
            body.Long(S(name)); body.Long(t.Count); body.Long(t.Known); body.Long(t.Succeeded); body.Long(t.DurationCount); body.Long(t.DurationSum);
        }
        body.Long(Errors.Count);
        foreach (var (type, e) in Errors)
        {
            body.Long(S(type)); body.Long(e.Count); body.Long(e.WithFile); body.Long(e.Fixed);
            body.Long(e.Files.Count); foreach (var (file, count) in e.Files) { body.Long(S(file)); body.Long(count); }
        }
        body.Long(Pending.Count);
        foreach (var p in Pending) { body.Long(S(p.ErrorType)); body.Long(S(p.File)); body.Long(S(p.Task)); body.Long(S(p.Tool)); body.Long(p.At.Ts); body.Long(p.At.EventId); }
        foreach (var fixes in new[] { TaskFixes, ToolFixes })
        {
            body.Long(fixes.Count);
            foreach (var ((file, key), at) in fixes) { body.Long(S(file)); body.Long(S(key)); body.Long(at.Ts); body.Long(at.EventId); }
        }
        body.Long(Failures); body.Long(InputTokens); body.Long(OutputTokens); body.Long(CacheReadTokens); body.Long(CacheWriteTokens);
        foreach (var column in Names)
        {
            body.Long(column.Count);
            foreach (var (name, n) in column) { body.Long(S(name)); body.Long(n.Count); body.Long(n.DurationMs); body.Long(n.Failures); }
        }

        var head = new Writer();
        head.Long(Format);
        head.Long(order.Count);
        foreach (var s in order) head.String(s);
        return [.. head.ToSpan(), .. body.ToSpan()];
    }

    /// <summary>Reads a stored body back. Null for a body of another format or one that does not parse (the catalog is a file
    /// on disk: the caller rebuilds the rollup from the events instead of trusting it). <paramref name="intern"/> shares
    /// one string instance per distinct name across sessions.</summary>
    public static SessionRollup? Deserialize(ReadOnlySpan<byte> data, Dictionary<string, string> intern)
    {
        try
        {
            return Read(data, intern);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static SessionRollup? Read(ReadOnlySpan<byte> data, Dictionary<string, string> intern)
    {
        var r = new Reader(data);
        if (r.Long() != Format) return null;
        var count = r.Count();
        var table = new string?[count + 1];
        for (var i = 1; i <= count; i++)
        {
            var s = r.String();
            if (!intern.TryGetValue(s, out var shared)) intern[s] = shared = s;
            table[i] = shared;
        }
        string? N(long i) => i >= 0 && i < table.Length ? table[i] : throw new FormatException("string index out of range");
        string S(long i) => N(i) ?? throw new FormatException("missing string");

        var x = new SessionRollup
        {
            Events = r.Long(), Known = r.Long(), Succeeded = r.Long(), Skewed = r.Long(), Unknown = r.Long(), ErrorCount = r.Long(),
        };
        var hasTimes = r.Long() != 0;
        var first = r.Long();
        var last = r.Long();
        if (hasTimes) (x.First, x.Last) = (first, last);
        for (var n = r.Count(); n > 0; n--) x.UnknownTypes.Add(S(r.Long()));
        for (var n = r.Count(); n > 0; n--) x.Tasks.Add(S(r.Long()));
        for (var n = r.Count(); n > 0; n--)
        {
            var key = (S(r.Long()), N(r.Long()));
            var column = new DurationColumn();
            long value = 0;
            for (var m = r.Count(); m > 0; m--)
            {
                value += r.Long();
                if (value is < 0 or > int.MaxValue) throw new FormatException("duration out of range");
                column.Add(value);
            }
            x.Durations[key] = column;
        }
        for (var n = r.Count(); n > 0; n--)
            x.Models[S(r.Long())] = new ModelTotals
            {
                Calls = r.Long(), Input = r.Long(), Output = r.Long(), CacheRead = r.Long(), CacheWrite = r.Long(), Cost = r.Decimal(), Priced = r.Long() != 0,
            };
        for (var n = r.Count(); n > 0; n--)
        {
            var day = r.Long();
            if (day < DateOnly.MinValue.DayNumber || day > DateOnly.MaxValue.DayNumber) throw new FormatException("day out of range");
            x.Daily[DateOnly.FromDayNumber((int)day)] = new DayTotals { Tokens = r.Long(), Cost = r.Decimal() };
        }
        for (var n = r.Count(); n > 0; n--)
        {
            var name = S(r.Long());
            var a = new AgentTotals
            {
                Count = r.Long(), Known = r.Long(), Succeeded = r.Long(), DurationCount = r.Long(), DurationSum = r.Long(),
                Tokens = r.Long(), EventsKnown = r.Long(), EventsSucceeded = r.Long(),
            };
            for (var m = r.Count(); m > 0; m--) a.TaskIds.Add(S(r.Long()));
            x.Agents[name] = a;
        }
        for (var n = r.Count(); n > 0; n--)
            x.Tools[S(r.Long())] = new ToolTotals { Count = r.Long(), Known = r.Long(), Succeeded = r.Long(), DurationCount = r.Long(), DurationSum = r.Long() };
        for (var n = r.Count(); n > 0; n--)
        {
            var type = S(r.Long());
            var e = new ErrorTotals { Count = r.Long(), WithFile = r.Long(), Fixed = r.Long() };
            for (var m = r.Count(); m > 0; m--) e.Files[S(r.Long())] = r.Long();
            x.Errors[type] = e;
        }
        for (var n = r.Count(); n > 0; n--)
        {
            var type = S(r.Long());
            if (!x.Errors.ContainsKey(type)) throw new FormatException("pending error of no error type");
            x.Pending.Add(new PendingError(type, S(r.Long()), N(r.Long()), N(r.Long()), new Position(r.Long(), r.Long())));
        }
        foreach (var fixes in new[] { x.TaskFixes, x.ToolFixes })
            for (var n = r.Count(); n > 0; n--) fixes[(S(r.Long()), S(r.Long()))] = new Position(r.Long(), r.Long());
        (x.Failures, x.InputTokens, x.OutputTokens, x.CacheReadTokens, x.CacheWriteTokens) = (r.Long(), r.Long(), r.Long(), r.Long(), r.Long());
        foreach (var column in x.Names)
            for (var n = r.Count(); n > 0; n--) column[S(r.Long())] = new NameTotals { Count = r.Long(), DurationMs = r.Long(), Failures = r.Long() };
        if (!r.AtEnd) throw new FormatException("trailing bytes");
        return x;
    }

    private sealed class Writer
    {
        private byte[] _buffer = new byte[4096];
        private int _length;

        private Span<byte> Reserve(int n)
        {
            if (_length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
            return _buffer.AsSpan(_length, n);
        }

        /// <summary>Zig-zag varint: small magnitudes (counts, deltas) take one or two bytes.</summary>
        public void Long(long value)
        {
            var v = (ulong)((value << 1) ^ (value >> 63));
            var span = Reserve(10);
            var i = 0;
            while (v >= 0x80)
            {
                span[i++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[i++] = (byte)v;
            _length += i;
        }

        public void Decimal(decimal value)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            var span = Reserve(16);
            for (var i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], bits[i]);
            _length += 16;
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Long(bytes.Length);
            bytes.CopyTo(Reserve(bytes.Length));
            _length += bytes.Length;
        }

        public ReadOnlySpan<byte> ToSpan() => _buffer.AsSpan(0, _length);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly bool AtEnd => _at == _data.Length;

        public long Long()
        {
            ulong v = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if (_at >= _data.Length) throw new FormatException("truncated");
                var b = _data[_at++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return (long)(v >> 1) ^ -(long)(v & 1);
            }
            throw new FormatException("varint too long");
        }

        /// <summary>A count of items that follow: never more than the bytes left (each item takes at least one).</summary>
        public int Count()
        {
            var n = Long();
            if (n < 0 || n > _data.Length - _at) throw new FormatException("count out of range");
            return (int)n;
        }

        public decimal Decimal()
        {
            if (_at + 16 > _data.Length) throw new FormatException("truncated");
            Span<int> bits = stackalloc int[4];
            for (var i = 0; i < 4; i++) bits[i] = BinaryPrimitives.ReadInt32LittleEndian(_data[(_at + i * 4)..]);
            _at += 16;
            try
            {
                return new decimal(bits);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException("invalid decimal", ex);
            }
        }

        public string String()
        {
            var n = Count();
            var s = Encoding.UTF8.GetString(_data.Slice(_at, n));
            _at += n;
            return s;
        }
    }
}
