using TierStorage.Engine.Policy;
using TierStorage.Engine.Review;
using Xunit;
using static TierStorage.Tests.Policy.PolicyTestFiles;

namespace TierStorage.Tests.Policy;

/// <summary>Issue 12: the shipped price list (Policy/ModelPrices.json) prices every Claude model Claude Code has used.</summary>
public sealed class ShippedModelPricesTests : IDisposable
{
    private readonly PolicyTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    // model id as Claude Code writes it: input, output, 5-minute write, 1-hour write, cache read (USD per million tokens)
    [InlineData("claude-3-5-haiku-20241022", 0.80, 4, 1, 1.6, 0.08)]
    [InlineData("claude-3-haiku-20240307", 0.25, 1.25, 0.30, 0.50, 0.03)]
    [InlineData("claude-3-5-sonnet-20241022", 3, 15, 3.75, 6, 0.30)]
    [InlineData("claude-3-7-sonnet-20250219", 3, 15, 3.75, 6, 0.30)]
    [InlineData("claude-3-opus-20240229", 15, 75, 18.75, 30, 1.50)]
    [InlineData("claude-sonnet-4-20250514", 3, 15, 3.75, 6, 0.30)]
    [InlineData("claude-sonnet-4-5-20250929", 3, 15, 3.75, 6, 0.30)]
    [InlineData("claude-opus-4-1-20250805", 15, 75, 18.75, 30, 1.50)]
    [InlineData("claude-opus-4-5-20251101", 5, 25, 6.25, 10, 0.50)]
    [InlineData("claude-haiku-4-5-20251001", 1, 5, 1.25, 2, 0.10)]
    public void Every_model_claude_code_has_used_has_its_published_prices(string model, decimal input, decimal output, decimal write5m, decimal write1h, decimal read)
    {
        var price = PhaseReviewer.FindPrice(PolicyDefaults.ModelPrices(), model);

        Assert.NotNull(price);
        Assert.Equal((input, output, write5m, write1h, read), (price.Input, price.Output, price.CacheWrite5m, price.CacheWrite1h, price.CacheRead));
    }

    [Fact]
    public void Each_call_gets_its_own_copy_of_the_shipped_list()
    {
        var first = PolicyDefaults.ModelPrices();
        first["claude-3-5-haiku"].Input = 99m;

        Assert.Equal(0.80m, PolicyDefaults.ModelPrices()["claude-3-5-haiku"].Input);
    }

    [Fact]
    public void The_policy_overrides_a_shipped_price_by_its_key_and_keeps_the_others()
    {
        var policy = PolicyLoader.Load(_files.Write(ValidTiers + """
            pricing:
              models:
                claude-3-5-haiku: { input: 1, output: 5, cache_write_1h: 1.5 }
            """));

        var haiku = PhaseReviewer.FindPrice(policy.Pricing.Models, "claude-3-5-haiku-20241022")!;
        Assert.Equal((1m, 5m, 1.25m, 1.5m, 0.1m), (haiku.Input, haiku.Output, haiku.CacheWrite5m, haiku.CacheWrite1h, haiku.CacheRead));
        Assert.Equal(3m, PhaseReviewer.FindPrice(policy.Pricing.Models, "claude-3-7-sonnet-20250219")!.Input);
    }

    [Fact]
    public void An_unknown_model_stays_unpriced()
    {
        Assert.Null(PhaseReviewer.FindPrice(PolicyDefaults.ModelPrices(), "claude-instant-1.2"));
    }

    [Fact]
    public void The_shipped_file_is_read_strictly_so_a_typo_fails_here_instead_of_pricing_at_zero()
    {
        var good = PolicyDefaults.ParseShippedPrices("""
            { "description": "d", "models": { "m-1": { "input": 1.5, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 0.25,
              "long_context": { "threshold": 200000, "input": 6, "output": 22.5 } } } }
            """u8);
        var (model, price) = Assert.Single(good);
        Assert.Equal("m-1", model);
        Assert.Equal((1.5m, 2m, 3m, 4m, 0.25m), (price.Input, price.Output, price.CacheWrite5m, price.CacheWrite1h, price.CacheRead));
        Assert.Equal((200000L, 6m, 22.5m), (price.LongContext!.Threshold, price.LongContext.Input, price.LongContext.Output));

        foreach (var bad in new[]
        {
            """{ "models": { "m": { "input": 1, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 5, "cache_raed": 6 } } }""",
            """{ "models": { "m": { "input": 1, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4 } } }""",
            """{ "models": { "m": { "input": "1", "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 5 } } }""",
            """{ "models": { "m": { "input": 1, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 5, "long_context": { "input": 1, "output": 2 } } } }""",
            """{ "modles": {} }""",
            """{ "models": { "m": { "input": 1 """,
        })
            Assert.ThrowsAny<System.Text.Json.JsonException>(() => PolicyDefaults.ParseShippedPrices(System.Text.Encoding.UTF8.GetBytes(bad)));
    }
}
