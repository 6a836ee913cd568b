using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TierStorage.Engine.Policy;

/// <summary>
/// Sits between YamlDotNet's parser and <see cref="YamlDotNet.RepresentationModel.YamlStream"/> so hostile or
/// sloppy YAML becomes findings instead of a crash or a single exception: aliases are refused (no billion-laughs
/// expansion), nesting is bounded (the representation model recurses), and duplicate keys are reported and
/// dropped (YamlMappingNode would throw on the first one and hide every other problem).
/// </summary>
internal sealed class GuardedParser(IParser inner, Action<Mark, string, string, string> report) : IParser
{
    /// <summary>A policy needs five levels; anything far deeper is an attack or an accident.</summary>
    internal const int MaxDepth = 32;

    /// <summary>Tag of the placeholder scalar that stands in for a refused node; the reader skips it silently.</summary>
    internal const string RejectedTag = "!tierstorage-rejected";

    private readonly Stack<Frame> _frames = new();
    private int _documents;

    public ParsingEvent? Current { get; private set; }

    public bool MoveNext()
    {
        while (inner.MoveNext())
        {
            var parsingEvent = inner.Current!;
            switch (parsingEvent)
            {
                case DocumentStart when ++_documents > 1:
                    report(parsingEvent.Start, PolicyFindingCodes.MultipleDocuments, "",
                        "The policy must be a single YAML document; remove the second '---' document.");
                    // Hand on only the stream end, so YamlStream closes normally with the first document alone.
                    SkipToStreamEnd();
                    Current = inner.Current;
                    return Current is not null;
                case AnchorAlias alias:
                    report(alias.Start, PolicyFindingCodes.AliasNotAllowed, "",
                        $"Aliases (*{alias.Value}) are not allowed in a policy; write the value out.");
                    Current = Rejected(alias);
                    CompleteNode();
                    return true;
                case NodeEvent { } start when start is MappingStart or SequenceStart && _frames.Count >= MaxDepth:
                    report(start.Start, PolicyFindingCodes.TooDeep, "",
                        $"Nesting deeper than {MaxDepth} levels is not allowed in a policy.");
                    SkipRestOfNode(start);
                    Current = Rejected(start);
                    CompleteNode();
                    return true;
                case Scalar key when _frames.TryPeek(out var frame) && frame.IsMapping && frame.ExpectKey && !frame.Keys.Add(key.Value):
                    report(key.Start, PolicyFindingCodes.DuplicateKey, key.Value,
                        $"Duplicate key '{key.Value}'; only the first one is used.");
                    if (inner.MoveNext()) SkipRestOfNode(inner.Current!);
                    continue;
                case MappingStart or SequenceStart:
                    _frames.Push(new Frame(parsingEvent is MappingStart));
                    break;
                case MappingEnd or SequenceEnd:
                    _frames.Pop();
                    CompleteNode();
                    break;
                case Scalar:
                    CompleteNode();
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

    private void CompleteNode()
    {
        if (_frames.TryPeek(out var frame) && frame.IsMapping) frame.ExpectKey = !frame.ExpectKey;
    }

    /// <summary>Consumes the node that <paramref name="first"/> opens, without building or expanding anything.</summary>
    private void SkipRestOfNode(ParsingEvent first)
    {
        if (first is not (MappingStart or SequenceStart)) return;
        var depth = 1;
        while (depth > 0 && inner.MoveNext())
        {
            if (inner.Current is MappingStart or SequenceStart) depth++;
            else if (inner.Current is MappingEnd or SequenceEnd) depth--;
        }
    }

    private void SkipToStreamEnd()
    {
        while (inner.MoveNext() && inner.Current is not StreamEnd)
        {
        }
    }

    private sealed class Frame(bool isMapping)
    {
        public bool IsMapping { get; } = isMapping;
        public bool ExpectKey { get; set; } = true;
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
