using System.Diagnostics;
using System.Text;
using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>Malformed and hostile files give findings, never a crash, a hang or a memory blow-up.</summary>
public sealed class HostileYamlTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Billion_laughs_is_refused_without_expanding()
    {
        var yaml = new StringBuilder("version: 1\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
            yaml.Append($"lol{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]\n");

        var watch = Stopwatch.StartNew();
        var findings = _files.Test(yaml.ToString());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        var aliases = findings.Where(f => f.Code == PolicyFindingCodes.AliasNotAllowed).ToList();
        Assert.Equal(81, aliases.Count);
        AssertAt(aliases[0], 3, 12, "lol1[0]");
    }

    [Fact]
    public void Alias_used_as_a_value_is_refused_at_its_key()
    {
        var yaml = ValidTiers + "backup: { compression_level: &six 6 }\nretention: { local_sessions: *six }\n";

        var findings = _files.Test(yaml);

        AssertAt(Only(findings, PolicyFindingCodes.AliasNotAllowed), 18, 30, "retention.local_sessions");
        Assert.Single(Errors(findings));
    }

    [Fact]
    public void Deep_flow_nesting_is_bounded_and_fast()
    {
        var depth = (PolicyLoader.MaxPolicyBytes - 100) / 2;
        var watch = Stopwatch.StartNew();

        var findings = _files.Test("version: 1\ntiers: " + new string('[', depth) + new string(']', depth) + "\n");

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        var finding = Assert.Single(findings);
        Assert.Equal(PolicyFindingCodes.TooDeep, finding.Code);
        AssertAt(finding, 2, 8 + GuardedParser.MaxDepth - 1, "tiers" + string.Concat(Enumerable.Repeat("[0]", GuardedParser.MaxDepth - 1)));
    }

    [Fact]
    public void Deep_block_nesting_is_bounded()
    {
        var yaml = new StringBuilder("version: 1\n");
        for (var depth = 0; depth < 200; depth++) yaml.Append(new string(' ', depth * 2)).Append($"k{depth}:\n");

        var findings = _files.Test(yaml.ToString());

        var finding = Assert.Single(findings);
        Assert.Equal(PolicyFindingCodes.TooDeep, finding.Code);
        Assert.Equal(GuardedParser.MaxDepth + 2, finding.Line);
    }

    [Fact]
    public void Oversize_file_is_refused_without_parsing()
    {
        var path = _files.Write("version: 1\n# " + new string('x', PolicyLoader.MaxPolicyBytes) + "\n");

        var finding = Assert.Single(PolicyLoader.Test(path));

        Assert.Equal(PolicyFindingCodes.FileTooLarge, finding.Code);
        Assert.Contains("1024 KiB", finding.Message);
        Assert.Equal(ErrorIds.PolicyInvalid, Assert.Throws<TierStorageException>(() => PolicyLoader.Load(path)).ErrorId);
    }

    [Fact]
    public void Oversize_text_is_refused_by_Parse()
    {
        var ex = Assert.Throws<TierStorageException>(() => PolicyLoader.Parse(new string('#', PolicyLoader.MaxPolicyBytes + 1), "big.yaml"));

        Assert.Equal(PolicyFindingCodes.FileTooLarge, Assert.Single(ex.Findings).Code);
    }

    [Fact]
    public void Binary_junk_is_a_finding()
    {
        var junk = new byte[4096];
        new Random(42).NextBytes(junk);

        Assert.Equal(PolicyFindingCodes.BinaryContent, Assert.Single(PolicyLoader.Test(_files.WriteBytes(junk))).Code);
    }

    [Fact]
    public void Invalid_utf8_without_nul_bytes_is_a_finding()
    {
        Assert.Equal(PolicyFindingCodes.BinaryContent, Assert.Single(PolicyLoader.Test(_files.WriteBytes([0x76, 0x3A, 0x20, 0xC3, 0x28, 0xFF, 0x0A]))).Code);
    }

    [Theory]
    [InlineData("- version: 1\n- tiers: []\n", "a list")]
    [InlineData("just a scalar\n", "the value 'just a scalar'")]
    public void Document_that_is_not_a_mapping_is_a_finding(string yaml, string described)
    {
        var finding = Assert.Single(_files.Test(yaml));

        Assert.Equal(PolicyFindingCodes.WrongType, finding.Code);
        AssertAt(finding, 1, 1, null);
        Assert.Contains(described, finding.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("~\n")]
    public void Empty_document_is_a_finding(string yaml)
    {
        Assert.Equal(PolicyFindingCodes.EmptyDocument, Assert.Single(_files.Test(yaml)).Code);
    }

    [Fact]
    public void Tab_indentation_is_a_syntax_error_that_says_so()
    {
        var finding = Assert.Single(_files.Test("version: 1\nbackup:\n\tcompression_level: 6\n"));

        Assert.Equal(PolicyFindingCodes.YamlSyntax, finding.Code);
        Assert.Equal((3, 1), (finding.Line, finding.Column));
        Assert.Contains("Tabs are not allowed", finding.Message);
    }

    [Fact]
    public void Syntax_error_has_line_and_column()
    {
        var finding = Assert.Single(_files.Test("version: 1\ntiers: [unclosed\nbackup: {}\n"));

        Assert.Equal(PolicyFindingCodes.YamlSyntax, finding.Code);
        Assert.NotNull(finding.Line);
        Assert.NotNull(finding.Column);
        Assert.DoesNotContain("Idx:", finding.Message);
    }

    [Fact]
    public void Second_document_is_a_finding()
    {
        AssertAt(Only(_files.Test("version: 1\n---\nversion: 2\n"), PolicyFindingCodes.MultipleDocuments), 2, 1, null);
    }

    [Fact]
    public void Duplicate_key_hiding_deep_nesting_is_bounded_and_fast()
    {
        var watch = Stopwatch.StartNew();

        var findings = _files.Test("version: 1\nversion: " + new string('[', 400_000) + "\n");

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal([PolicyFindingCodes.DuplicateKey, PolicyFindingCodes.TooDeep], findings.Select(f => f.Code));
    }

    [Fact]
    public void Document_after_the_first_is_never_scanned()
    {
        var findings = _files.Test("version: 1\n---\n" + new string('[', 400_000) + "\n");

        Assert.Equal(PolicyFindingCodes.MultipleDocuments, Assert.Single(findings).Code);
    }

    [Fact]
    public void Complex_keys_are_a_finding()
    {
        Assert.Equal(PolicyFindingCodes.WrongType, Only(_files.Test("version: 1\n? [a, b]\n: c\n"), PolicyFindingCodes.WrongType).Code);
    }

    [Theory]
    [InlineData("version: 1\ntiers: 5\n")]
    [InlineData("version: 1\ntiers: [1, [2], {a: b}]\n")]
    [InlineData("version: 1\npricing: { models: [1] }\n")]
    [InlineData("version: 1\npricing: { models: { m: 5 } }\n")]
    [InlineData("version: 1\nredaction: { patterns: { a: b } }\n")]
    [InlineData("version: 1\nlifecycle: [~, 3, {data_class: [x]}]\n")]
    [InlineData("version: [1]\ntiers: [{name: {a: 1}, level: [1], kind: {x: y}, capacity: [1]}]\n")]
    [InlineData("version: 1\ntiers: [{name: a, level: 1, kind: folder, path: \"\\0\"}]\n")]
    [InlineData("version: 99999999999999999999999\nbackup: { compression_level: 1e400 }\n")]
    [InlineData("{{{{{{{{\n")]
    [InlineData("&a [*a]\n")]
    [InlineData("!!binary AAAA\n")]
    public void Malformed_shapes_give_errors_and_never_throw(string yaml)
    {
        var findings = _files.Test(yaml);

        Assert.NotEmpty(Errors(findings));
        Assert.All(findings, f => Assert.False(string.IsNullOrEmpty(f.Message)));
    }
}
