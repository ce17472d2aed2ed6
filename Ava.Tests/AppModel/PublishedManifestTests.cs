using System.Text.Json.Nodes;
using Ava.AppHost.WhatsApp;
using Ava.Data.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.AppModel;

/// <summary>
/// <c>--publisher manifest</c> on this machine, which has no container engine: the manifest describes the system a
/// deployment runs — Postgres and Redis as containers, every secret a parameter, the webhook's replicas and spool
/// volume, each API's own login — and nothing of the machine that published it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PublishedManifestTests : IDisposable
{
    /// <summary>The directory above the AppHost's (its metadata names the project's directory, or its file).</summary>
    private static readonly string s_solutionDirectory = Path.GetDirectoryName(
        Projects.Ava_AppHost.ProjectPath.EndsWith(".csproj", StringComparison.Ordinal)
            ? Path.GetDirectoryName(Projects.Ava_AppHost.ProjectPath)
            : Projects.Ava_AppHost.ProjectPath.TrimEnd(Path.DirectorySeparatorChar))!;

    private readonly StandInContainerEngine _docker = new();

    /// <summary>Inside the checkout, as the deploy guide writes it, so that projects are named by relative paths.</summary>
    private readonly string _manifestPath = Path.Combine(s_solutionDirectory, "artifacts", $"manifest-{Guid.NewGuid():N}.json");

    [Theory]
    [InlineData("auto")]
    [InlineData("containers")]
    [InlineData("local")]
    public async Task Postgres_and_redis_are_published_as_containers_with_volumes_and_no_engine_is_asked(string infrastructure)
    {
        var manifest = await PublishAsync($"--Ava:Infrastructure={infrastructure}");

        Assert.False(_docker.WasAsked);
        Assert.Equal(("container.v0", "ava-postgres-data"), (Type(manifest, "postgres"), Volume(manifest, "postgres")));
        Assert.Equal(("container.v0", "ava-redis-data"), (Type(manifest, "cache"), Volume(manifest, "cache")));
        Assert.DoesNotContain(Resources(manifest), resource => Type(manifest, resource) == "executable.v0");
        Assert.DoesNotContain("postgres-init", Resources(manifest));
    }

    [Fact]
    public async Task The_simulator_is_never_published_and_metas_settings_are_required_parameters()
    {
        // As on a build machine with no access token configured, where a run would play Meta with the simulator.
        var manifest = await PublishAsync();

        Assert.DoesNotContain(WhatsAppCloudApiExtensions.SimulatorName, Resources(manifest));
        foreach (var (parameter, secret) in new[]
        {
            (WhatsAppCloudApiExtensions.AccessTokenParameter, true),
            (WhatsAppCloudApiExtensions.PhoneNumberIdParameter, false),
            (WhatsAppCloudApiExtensions.VerifyTokenParameter, true),
            (WhatsAppCloudApiExtensions.AppSecretParameter, true),
        })
        {
            var input = manifest["resources"]![parameter]!["inputs"]!["value"]!;
            Assert.Equal("parameter.v0", Type(manifest, parameter));
            Assert.Null(input["default"]);
            Assert.Equal(secret, input["secret"]?.GetValue<bool>() ?? false);
        }

        var webhook = Environment(manifest, "webhookapi");
        Assert.False(webhook.ContainsKey("WHATSAPP_GRAPH_BASE_URL"));
        Assert.False(webhook.ContainsKey("WhatsApp__AllowLoopbackHttpGraphApi"));
    }

    [Fact]
    public async Task Every_secret_is_a_parameter_the_deployment_fills()
    {
        var manifest = await PublishAsync();

        foreach (var name in new[] { "postgres-password", "cache-password", "jwt-secret", "admin-jwt-secret", "webhook-db-password", "messages-db-password" })
        {
            Assert.Equal("parameter.v0", Type(manifest, name));
            Assert.True(manifest["resources"]![name]!["inputs"]!["value"]!["secret"]!.GetValue<bool>(), name);
        }

        // Every setting that carries a secret is made of references, never of a value written at publishing.
        foreach (var resource in Resources(manifest))
        {
            foreach (var (name, value) in Environment(manifest, resource))
            {
                if (name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase) || name.Contains("SECRET", StringComparison.OrdinalIgnoreCase)
                    || name.Contains("TOKEN", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
                {
                    Assert.Matches(@"^(\{[^}]+\})+$", value);
                }
            }
        }

        foreach (var connectionString in Resources(manifest).Select(resource => manifest["resources"]![resource]!["connectionString"]?.GetValue<string>()).OfType<string>())
        {
            Assert.DoesNotMatch(@"(?i)password=(?!\{)", connectionString);
        }
    }

    [Fact]
    public async Task The_webhook_holds_the_admin_key_and_never_the_key_that_signs_users_tokens()
    {
        var manifest = await PublishAsync();

        var webhook = Environment(manifest, "webhookapi");
        Assert.Equal("{admin-jwt-secret.value}", webhook["Admin__Secret"]);
        Assert.DoesNotContain(webhook.Values, value => value.Contains("{jwt-secret.", StringComparison.Ordinal));
        Assert.Equal("{jwt-secret.value}", Environment(manifest, "messagesapi")["Auth__Secret"]);
        Assert.DoesNotContain(Environment(manifest, "messagesapi").Values, value => value.Contains("{admin-jwt-secret.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_webhook_runs_two_replicas_sharing_a_named_spool_volume_and_each_api_logs_in_as_its_own_role()
    {
        var manifest = await PublishAsync();

        var webhook = manifest["resources"]!["webhookapi"]!;
        Assert.Equal(2, webhook["replicas"]!.GetValue<int>());
        var spool = Assert.Single(webhook["volumes"]!.AsArray())!;
        Assert.Equal("webhook-spool", spool["name"]!.GetValue<string>());
        Assert.Equal(spool["target"]!.GetValue<string>(), Environment(manifest, "webhookapi")["WhatsApp__SpoolDirectory"]);

        Assert.Equal("{webhook-db.connectionString}", Environment(manifest, "webhookapi")["ConnectionStrings__ava"]);
        Assert.Equal("{messages-db.connectionString}", Environment(manifest, "messagesapi")["ConnectionStrings__ava"]);
        Assert.Contains($"Username={UserDataAccess.LoginRole};Password={{messages-db-password.value}}", manifest["resources"]!["messages-db"]!["connectionString"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("{ava.connectionString}", Environment(manifest, "migrations")["ConnectionStrings__ava"]);
    }

    [Fact]
    public async Task Nothing_of_the_machine_that_published_is_in_the_manifest()
    {
        var manifest = await PublishAsync();
        var text = manifest.ToJsonString();

        Assert.DoesNotContain(s_solutionDirectory, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), text, StringComparison.Ordinal);
        Assert.DoesNotContain("setpriv", text, StringComparison.Ordinal);
        Assert.All(
            Resources(manifest).Select(resource => manifest["resources"]![resource]!["path"]?.GetValue<string>()).OfType<string>(),
            path => Assert.Matches(@"^\.\./Ava\.[A-Za-z]+/Ava\.[A-Za-z]+\.csproj$", path));
    }

    public void Dispose()
    {
        File.Delete(_manifestPath);
        _docker.Dispose();
    }

    /// <summary>Runs the AppHost's manifest publisher in this process and reads what it wrote.</summary>
    private async Task<JsonNode> PublishAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
            ["--publisher", "manifest", "--output-path", _manifestPath, _docker.Argument, "--ASPIRE_VERSION_CHECK_DISABLED=true", .. args],
            TestContext.Current.CancellationToken);
        await using var app = await builder.BuildAsync(TestContext.Current.CancellationToken);
        var published = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await app.StartAsync(TestContext.Current.CancellationToken);
        await Task.Delay(Timeout.Infinite, published).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return JsonNode.Parse(await File.ReadAllTextAsync(_manifestPath, TestContext.Current.CancellationToken))!;
    }

    private static IEnumerable<string> Resources(JsonNode manifest) => manifest["resources"]!.AsObject().Select(resource => resource.Key);

    private static string? Type(JsonNode manifest, string resource) => manifest["resources"]![resource]!["type"]?.GetValue<string>();

    private static string Volume(JsonNode manifest, string resource) =>
        Assert.Single(manifest["resources"]![resource]!["volumes"]!.AsArray())!["name"]!.GetValue<string>();

    private static Dictionary<string, string> Environment(JsonNode manifest, string resource) =>
        manifest["resources"]![resource]!["env"]?.AsObject().ToDictionary(variable => variable.Key, variable => variable.Value!.GetValue<string>()) ?? [];
}
