using TierStorage.Cli;
using TierStorage.Contracts;
using Xunit;

namespace TierStorage.Tests.Cli;

/// <summary>Command-line mistakes are caught by the parser, before the engine is touched: exit 2, a message, nothing on stdout.</summary>
public class CliUsageTests
{
    [Theory]
    [InlineData("no command given", new string[0])]
    [InlineData("Unrecognized command", new[] { "frobnicate" })]
    [InlineData("Required command", new[] { "session" })]
    [InlineData("'abc' is not a whole number", new[] { "session", "start", "--phase", "abc" })]
    [InlineData("--phase: '-1'", new[] { "session", "list", "--phase", "-1" })]
    [InlineData("'nope' is not one of active, completed, backed_up, archived", new[] { "session", "list", "--state", "nope" })]
    [InlineData("--type is required", new[] { "event", "add", "--tool", "Read" })]
    [InlineData("--type: 'toolcall!'", new[] { "event", "add", "--type", "toolcall!" })]
    [InlineData("--stdin reads whole events; --tool", new[] { "event", "add", "--stdin", "--tool", "Read" })]
    [InlineData("--duration-ms: 'fast'", new[] { "event", "add", "--type", "tool_call", "--duration-ms", "fast" })]
    [InlineData("'yesterday' is not an ISO-8601 time", new[] { "event", "list", "--since", "yesterday" })]
    [InlineData("--last and --first cannot be used together", new[] { "event", "list", "--last", "3", "--first", "2" })]
    [InlineData("--first: '0'", new[] { "event", "list", "--first", "0" })]
    [InlineData("--success", new[] { "event", "list", "--success", "maybe" })]
    [InlineData("--latest and --list cannot be used together", new[] { "snapshot", "get", "--latest", "--list" })]
    [InlineData("--sequence: '0'", new[] { "snapshot", "get", "--sequence", "0" })]
    [InlineData("Unrecognized command or argument 'extra'", new[] { "session", "complete", "a", "extra" })]
    public async Task A_usage_error_exits_2_with_a_message_and_nothing_on_stdout(string expectedMessage, string[] args)
    {
        var run = await CliRunner.RunAsync(args);

        CliRunner.AssertExit(ExitCodes.Usage, run);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith("tierstorage: Usage: ", run.Stderr);
        if (expectedMessage != "no command given") Assert.Contains(expectedMessage, run.Stderr);
        Assert.Contains("--help' for usage.", run.Stderr);
    }

    [Fact]
    public async Task Help_lists_every_command_and_documents_the_exit_codes()
    {
        var run = await CliRunner.RunAsync("--help");

        CliRunner.AssertExit(ExitCodes.Success, run);
        foreach (var command in new[] { "init", "policy", "session", "event", "snapshot", "--workspace", "--policy", "--json" })
            Assert.Contains(command, run.Stdout);
        Assert.Contains(ExitCodes.HelpText, run.Stdout.ReplaceLineEndings(" ").Replace("  ", " "));
    }

    [Theory]
    [InlineData("session", "start")]
    [InlineData("event", "add")]
    [InlineData("event", "list")]
    [InlineData("snapshot", "get")]
    [InlineData("policy", "test")]
    public async Task Every_command_has_help_that_includes_the_global_options(string noun, string verb)
    {
        var run = await CliRunner.RunAsync(noun, verb, "--help");

        CliRunner.AssertExit(ExitCodes.Success, run);
        Assert.Contains("--workspace", run.Stdout);
        Assert.Contains("--json", run.Stdout);
    }

    [Theory]
    [InlineData(TierErrorKind.InvalidArgument, ExitCodes.Usage)]
    [InlineData(TierErrorKind.ObjectNotFound, ExitCodes.NotFound)]
    [InlineData(TierErrorKind.InvalidData, ExitCodes.InvalidData)]
    [InlineData(TierErrorKind.ResourceExists, ExitCodes.Failed)]
    [InlineData(TierErrorKind.InvalidOperation, ExitCodes.Failed)]
    [InlineData(TierErrorKind.ResourceUnavailable, ExitCodes.Unavailable)]
    [InlineData(TierErrorKind.PermissionDenied, ExitCodes.Unavailable)]
    [InlineData(TierErrorKind.WriteError, ExitCodes.Unavailable)]
    [InlineData(TierErrorKind.ReadError, ExitCodes.Unavailable)]
    [InlineData(TierErrorKind.ConnectionError, ExitCodes.Unavailable)]
    [InlineData(TierErrorKind.OperationStopped, ExitCodes.Cancelled)]
    public void Every_engine_error_kind_has_an_exit_code(TierErrorKind kind, int expected) =>
        Assert.Equal(expected, ExitCodes.FromErrorKind(kind));

    [Fact]
    public void Every_error_kind_is_mapped_on_purpose()
    {
        var mapped = Enum.GetValues<TierErrorKind>().Select(ExitCodes.FromErrorKind).ToList();

        Assert.DoesNotContain(ExitCodes.Success, mapped);
    }
}
