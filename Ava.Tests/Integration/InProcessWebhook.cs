using Ava.WebhookApi.WhatsApp.Receiving;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.Integration;

/// <summary>
/// The webhook in this process, in the environment and with the settings a test needs (say, a limit of one), on the
/// stack's Postgres and Redis. Its background workers are left out, so that it never takes work from the stack's
/// instances: it receives and answers, nothing more.
/// </summary>
internal sealed class InProcessWebhook : IAsyncDisposable
{
    public const string AppSecret = "in-process-app-secret";

    /// <summary>The JWT secret of its admin endpoints' service-role tokens.</summary>
    public const string AdminSecret = "in-process-admin-secret-of-at-least-32-characters";

    private readonly WebApplicationFactory<WebhookSignatureVerifier> _factory;
    private readonly string _spoolDirectory;

    private InProcessWebhook(WebApplicationFactory<WebhookSignatureVerifier> factory, string spoolDirectory)
    {
        _factory = factory;
        _spoolDirectory = spoolDirectory;
    }

    /// <summary>Configures the webhook; it starts with the first client, or with <see cref="Start"/>.</summary>
    public static async Task<InProcessWebhook> CreateAsync(
        AvaStackFixture stack, string environment, IReadOnlyDictionary<string, string>? settings = null)
    {
        var database = await stack.GetConnectionStringAsync("ava");
        var cache = await stack.GetConnectionStringAsync("cache");
        return Create(database, cache, environment, settings);
    }

    /// <summary>Configures the webhook on these databases (which need not answer until it uses them).</summary>
    public static InProcessWebhook Create(
        string database, string cache, string environment, IReadOnlyDictionary<string, string>? settings = null)
    {
        var spoolDirectory = Directory.CreateTempSubdirectory("ava-in-process-spool-").FullName;

        var factory = new WebApplicationFactory<WebhookSignatureVerifier>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment(environment)
                .UseSetting("ConnectionStrings:ava", database)
                .UseSetting("ConnectionStrings:cache", cache)
                .UseSetting("WHATSAPP_ACCESS_TOKEN", "in-process-access-token")
                .UseSetting("WHATSAPP_PHONE_NUMBER_ID", WhatsAppDriver.PhoneNumberId)
                .UseSetting("WHATSAPP_VERIFY_TOKEN", "in-process-verify-token")
                .UseSetting("WHATSAPP_APP_SECRET", AppSecret)
                .UseSetting("Admin:Secret", AdminSecret)
                .UseSetting("WhatsApp:SpoolDirectory", spoolDirectory);
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                web.UseSetting(key, value);
            }

            web.ConfigureTestServices(services =>
            {
                foreach (var worker in services.Where(IsWebhookWorker).ToList())
                {
                    services.Remove(worker);
                }
            });
        });

        return new InProcessWebhook(factory, spoolDirectory);
    }

    /// <summary>Without following redirects, which would buffer each request body before sending it.</summary>
    public HttpClient CreateClient() => _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>Starts the webhook; throws what stopped it if it refuses to start.</summary>
    public void Start() => _ = _factory.Server;

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        Directory.Delete(_spoolDirectory, recursive: true);
    }

    private static bool IsWebhookWorker(ServiceDescriptor service) =>
        service.ServiceType == typeof(IHostedService)
        && !service.IsKeyedService
        && (service.ImplementationType ?? service.ImplementationFactory?.Method.DeclaringType)?.Assembly == typeof(WebhookSignatureVerifier).Assembly;
}
