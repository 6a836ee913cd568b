using TierStorage.Contracts;
using TierStorage.Engine.Policy;
using Xunit;

namespace TierStorage.Tests.Policy;

public sealed class RedactorTests
{
    private static readonly Redactor Defaults = new(new RedactionPolicy());
    private static readonly Redactor Interpreted = new(new RedactionPolicy(), TimeSpan.FromSeconds(2));

    [Theory]
    [InlineData("key AKIAIOSFODNN7EXAMPLE in a log", "key [REDACTED:aws_access_key_id] in a log")]
    [InlineData("temp ASIAY34FZKBOKMUTVV7A.", "temp [REDACTED:aws_access_key_id].")]
    [InlineData("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [REDACTED:aws_secret_access_key]")]
    [InlineData("{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}", "{\"SecretAccessKey\": \"[REDACTED:aws_secret_access_key]\"}")]
    [InlineData("token ya29.a0AfH6SMBx-3kq_Lz9 end", "token [REDACTED:google_oauth_access_token] end")]
    [InlineData("refresh 1//0gLx9Yz3kQwErTyUiOp-AsDfGhJkL end", "refresh [REDACTED:google_refresh_token] end")]
    [InlineData("url?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&x=1", "url?key=[REDACTED:google_api_key]&x=1")]
    [InlineData("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "Authorization: Bearer [REDACTED:bearer_token]")]
    [InlineData("password=hunter2 next", "password=[REDACTED:password_pair] next")]
    [InlineData("db_password: 'c0rrect horse'", "db_password: '[REDACTED:password_pair]'")]
    [InlineData("API_KEY=abc123;user=x", "API_KEY=[REDACTED:password_pair];user=x")]
    [InlineData("{\"client_secret\":\"s3cr\\\"et\",\"n\":1}", "{\"client_secret\":\"[REDACTED:password_pair]\",\"n\":1}")]
    public void Default_patterns_redact(string input, string expected)
    {
        Assert.Equal(expected, Defaults.Redact(input));
        // Another time limit interprets the same patterns instead of the source-generated regexes: the same result.
        Assert.Equal(expected, Interpreted.Redact(input));
    }

    [Fact]
    public void Generated_regexes_are_the_declared_patterns_with_the_default_limit()
    {
        var builtIns = Redactor.BuiltInRegexes.ToList();

        Assert.Equal(Redactor.DefaultPatterns.Select(p => (p.Name, p.Pattern)), builtIns.Select(b => (b.Name, b.Pattern)));
        Assert.All(builtIns, b =>
        {
            Assert.Equal(b.Pattern, b.Generated.ToString());
            Assert.Equal(System.Text.RegularExpressions.RegexOptions.CultureInvariant, b.Generated.Options);
            Assert.Equal(TimeSpan.FromSeconds(1), b.Generated.MatchTimeout);
        });
        Assert.Equal(TimeSpan.FromSeconds(1), Defaults.MatchTimeout);
    }

    [Fact]
    public void Private_key_block_is_redacted_whole()
    {
        var text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc==\n-----END RSA PRIVATE KEY-----\nafter";

        Assert.Equal("before\n[REDACTED:private_key]\nafter", Defaults.Redact(text));
    }

    [Fact]
    public void Truncated_private_key_is_redacted_to_the_end()
    {
        Assert.Equal("x [REDACTED:private_key]", Defaults.Redact("x -----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg"));
    }

    [Fact]
    public void Json_stays_valid_after_pair_redaction()
    {
        var line = "{\"type\":\"tool_call\",\"data\":{\"password\":\"p@ss word\",\"token\":\"t0k\"}}";

        var redacted = Defaults.Redact(line);

        using var document = System.Text.Json.JsonDocument.Parse(redacted);
        var data = document.RootElement.GetProperty("data");
        Assert.Equal("[REDACTED:password_pair]", data.GetProperty("password").GetString());
        Assert.Equal("[REDACTED:password_pair]", data.GetProperty("token").GetString());
    }

    [Theory]
    [InlineData("The session used 1200 input_tokens and max_tokens=4096 for the password policy discussion.")]
    [InlineData("We use Bearer authentication; see the token docs.")]
    [InlineData("Files: AKIA.txt, ya29 notes, 1//short, AIza")]
    [InlineData("{\"input_tokens\": 120, \"cache_read_tokens\": 5, \"tool\": \"Read\"}")]
    public void Ordinary_text_is_returned_as_the_same_instance(string text)
    {
        Assert.Same(text, Defaults.Redact(text));
    }

    [Fact]
    public void Custom_patterns_apply_and_a_value_group_keeps_the_context()
    {
        var redactor = new Redactor(new RedactionPolicy
        {
            Patterns =
            [
                new RedactionPattern { Name = "acme_token", Pattern = @"\bacme_[A-Za-z0-9]{36}\b" },
                new RedactionPattern { Name = "jira_token", Pattern = @"jira_token\s*=\s*(?<value>\S+)" },
            ],
        });

        Assert.Equal("push [REDACTED:acme_token] ok", redactor.Redact("push acme_" + new string('a', 36) + " ok"));
        Assert.Equal("jira_token = [REDACTED:jira_token]", redactor.Redact("jira_token = XyZ"));
    }

    [Fact]
    public void Defaults_can_be_turned_off()
    {
        var redactor = new Redactor(new RedactionPolicy { UseDefaults = false, Patterns = [new RedactionPattern { Name = "x", Pattern = "secret-[0-9]+" }] });

        Assert.Equal("AKIAIOSFODNN7EXAMPLE [REDACTED:x]", redactor.Redact("AKIAIOSFODNN7EXAMPLE secret-42"));
    }

    [Fact]
    public void Catastrophic_user_pattern_runs_in_linear_time_instead_of_timing_out()
    {
        // Issue 11 #15: on the backtracking engine "(a+)+$" timed out on every such field (1 s each, 30 s for one event);
        // the match timeout then replaced the whole text. On the linear-time engine it simply does not match.
        var redactor = new Redactor(new RedactionPolicy { UseDefaults = false, Patterns = [new RedactionPattern { Name = "evil", Pattern = "(a+)+$" }] }, TimeSpan.FromMilliseconds(50));
        var hostile = new string('a', 5_000) + "!";

        for (var field = 0; field < 30; field++)
        {
            Assert.Same(hostile, redactor.Redact(hostile));
        }
        Assert.Equal("x [REDACTED:evil]", redactor.Redact("x aaaa"));
    }

    [Theory]
    [InlineData("ghp_" + "1234567890abcdefghijABCDEFGHIJ123456", "github_token")]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijk", "github_token")]
    [InlineData("glpat-" + "abcdefghijklmnopqrst", "gitlab_token")]
    [InlineData("xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token")]
    [InlineData("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "slack_webhook")]
    [InlineData("sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "anthropic_api_key")]
    [InlineData("sk-proj-" + "abcdefghijklmnopqrstuvwxyz0123456789", "openai_api_key")]
    [InlineData("sk-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCD", "openai_api_key")]
    [InlineData("sk_live_" + "abcdefghijklmnop1234", "stripe_key")]
    [InlineData("npm_" + "abcdefghijklmnopqrstuvwxyz0123456789", "npm_token")]
    [InlineData("hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH", "huggingface_token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt")]
    public void Common_token_formats_are_redacted_by_default(string secret, string name)
    {
        var redacted = Defaults.Redact($"before {secret} after");

        Assert.Equal($"before [REDACTED:{name}] after", redacted);
    }

    [Theory]
    [InlineData("git clone https://alice:s3cretPass@github.com/x/y.git", "git clone https://alice:[REDACTED:url_password]@github.com/x/y.git")]
    [InlineData("{\"url\":\"postgres://app:hunter22@db:5432/x\"}", "{\"url\":\"postgres://app:[REDACTED:url_password]@db:5432/x\"}")]
    public void Password_in_a_url_is_redacted_and_the_rest_of_the_url_kept(string input, string expected)
    {
        Assert.Equal(expected, Defaults.Redact(input));
    }

    [Theory]
    [InlineData("the task-based skeleton was ok")]
    [InlineData("https://example.com/path@v2")]
    [InlineData("see ghp_short and sk-nope")]
    public void Ordinary_text_is_left_alone(string text)
    {
        Assert.Same(text, Defaults.Redact(text));
    }

    [Fact]
    public void Default_patterns_are_named_and_exposed()
    {
        Assert.Equal(
            ["aws_access_key_id", "aws_secret_access_key", "google_oauth_access_token", "google_refresh_token", "google_api_key", "bearer_token", "password_pair", "private_key",
             "github_token", "gitlab_token", "slack_token", "slack_webhook", "anthropic_api_key", "openai_api_key", "stripe_key", "npm_token", "huggingface_token", "jwt", "url_password"],
            Redactor.DefaultPatterns.Select(p => p.Name));
    }

    [Fact]
    public void Default_patterns_stay_fast_on_large_input()
    {
        var text = string.Concat(Enumerable.Repeat("token token=  password: Bearer x -----BEGIN ", 20_000));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Defaults.Redact(text);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("password", true)]
    [InlineData("PASSWORD", true)]
    [InlineData("Passwd", true)]
    [InlineData("api_key", true)]
    [InlineData("api-key", true)]
    [InlineData("ApiKey", true)]
    [InlineData("Authorization", true)]
    [InlineData("secret_access_key", true)]
    [InlineData("client-secret", true)]
    [InlineData("private_key", true)]
    [InlineData("refresh_token", true)]
    [InlineData("access_token", true)]
    [InlineData("github_token", true)]
    [InlineData("input_tokens", false)]
    [InlineData("max_tokens", false)]
    [InlineData("client_secrets", false)]
    [InlineData("session", false)]
    [InlineData("", false)]
    public void Sensitive_keys_are_recognised(string key, bool expected)
    {
        Assert.Equal(expected, Defaults.IsSensitiveKey(key));
    }
}
