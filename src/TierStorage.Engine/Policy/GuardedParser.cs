using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TierStorage.Engine.Policy;

/// <summary>
/// Sits between YamlDotNet's parser and <see cref="YamlDotNet.RepresentationModel.YamlStream"/> so hostile or
/// sloppy YAML becomes findings instead of a crash or a single exception: aliases are refused (no billion-laughs
/// expansion), nesting is bounded (the representation model recurses), and duplicate keys are reported and
/// dropped (YamlMappingNode would throw on the first one and hide every other problem).
/// </summary>
internal sealed class GuardedParser(IParser inner, Action<Mark, string, string?, string> report) : IParser
{
    /// <summary>A policy needs five levels; anything far deeper is an attack or an accident.</summary>
    internal const int MaxDepth = 32;

    /// <summary>Tag of the placeholder scalar that stands in for a refused node; the reader skips it silently.</summary>
    internal const string RejectedTag = "!tierstorage-rejected";

    private readonly Stack<Frame> _frames = new();
    private int _documents;
    private bool _finished;

    public ParsingEvent? Current { get; private set; }

    /// <summary>End of the last event read: the best position available when YamlDotNet fails without a mark.</summary>
    public Mark LastEnd { get; private set; } = Mark.Empty;

    public bool MoveNext()
    {
        while (!_finished && inner.MoveNext())
        {
            var parsingEvent = inner.Current!;
            LastEnd = parsingEvent.End;
            switch (parsingEvent)
            {
                case DocumentStart when ++_documents > 1:
                    report(parsingEvent.Start, PolicyFindingCodes.MultipleDocuments, null,
                        "The policy must be a single YAML document; remove the second '---' document.");
                    // End the stream here, so YamlStream closes normally with the first document alone and the
                    // rest of the file is never scanned.
                    _finished = true;
                    Current = new StreamEnd(parsingEvent.Start, parsingEvent.Start);
                    return true;
                case AnchorAlias alias:
                    report(alias.Start, PolicyFindingCodes.AliasNotAllowed, CurrentPath(),
                        $"Aliases (*{alias.Value}) are not allowed in a policy; write the value out.");
                    Current = Rejected(alias);
                    CompleteNode();
                    return true;
                case NodeEvent { } start when start is MappingStart or SequenceStart && _frames.Count >= MaxDepth:
                    report(start.Start, PolicyFindingCodes.TooDeep, CurrentPath(),
                        $"Nesting deeper than {MaxDepth} levels is not allowed in a policy; reading stopped here.");
                    // Stop rather than skip: YamlDotNet's scanner slows down quadratically with flow depth,
                    // so even skipping a megabyte of '[' would take minutes.
                    throw new TooDeepException();
                case Scalar key when _frames.TryPeek(out var frame) && frame.IsMapping && frame.ExpectKey && !frame.Keys.Add(key.Value):
                    report(key.Start, PolicyFindingCodes.DuplicateKey, Child(frame.Path, key.Value),
                        $"Duplicate key '{key.Value}'; only the first one is used.");
                    if (inner.MoveNext()) SkipRestOfNode(inner.Current!);
                    continue;
                case MappingStart or SequenceStart:
                    _frames.Push(new Frame(parsingEvent is MappingStart, CurrentPath() ?? ""));
                    break;
                case MappingEnd or SequenceEnd:
                    _frames.Pop();
                    CompleteNode();
                    break;
                case Scalar scalar:
                    CompleteNode(scalar.Value);
                    break;
            }
            Current = parsingEvent;
            return true;
        }
        Current = null;
        return false;
    }

    private static Scalar Rejected(ParsingEvent original) =>
        new(AnchorName.Empty, new TagName(RejectedTag), "", ScalarStyle.Plain, false, false, original.Start, original.End);

    private void CompleteNode(string? scalarValue = null)
    {
        if (!_frames.TryPeek(out var frame)) return;
        if (!frame.IsMapping) frame.Index++;
        else if (frame.ExpectKey)
        {
            frame.CurrentKey = scalarValue ?? "?";
            frame.ExpectKey = false;
        }
        else frame.ExpectKey = true;
    }

    /// <summary>Key path of the node about to be read, in the reader's notation (tiers[1].path), so guard findings
    /// point at the same place as the reader's.</summary>
    private string? CurrentPath()
    {
        if (!_frames.TryPeek(out var frame)) return null;
        if (!frame.IsMapping) return $"{frame.Path}[{frame.Index}]";
        return frame.ExpectKey ? NullIfEmpty(frame.Path) : Child(frame.Path, frame.CurrentKey);
    }

    private static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string? NullIfEmpty(string path) => path.Length == 0 ? null : path;

    /// <summary>Consumes the node that <paramref name="first"/> opens, without building or expanding anything.</summary>
    private void SkipRestOfNode(ParsingEvent first)
    {
        if (first is not (MappingStart or SequenceStart)) return;
        var depth = 1;
        while (depth > 0 && inner.MoveNext())
        {
            if (inner.Current is MappingStart or SequenceStart && ++depth + _frames.Count > MaxDepth)
            {
                report(inner.Current.Start, PolicyFindingCodes.TooDeep, null,
                    $"Nesting deeper than {MaxDepth} levels is not allowed in a policy; reading stopped here.");
                throw new TooDeepException();
            }
            if (inner.Current is MappingEnd or SequenceEnd) depth--;
        }
    }

    /// <summary>Ends reading after a <see cref="PolicyFindingCodes.TooDeep"/> finding has been reported.</summary>
    internal sealed class TooDeepException() : Exception("Policy nesting too deep.");

    private sealed class Frame(bool isMapping, string path)
    {
        public bool IsMapping { get; } = isMapping;
        public string Path { get; } = path;
        public int Index { get; set; }
        public string CurrentKey { get; set; } = "";
        public bool ExpectKey { get; set; } = true;
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
